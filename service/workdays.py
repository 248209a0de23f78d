"""Working days in England and Wales: weekends and bank holidays skipped.

The holidays are the `govuk-bank-holidays` package's bundled copy of GOV.UK's list: by default the package
downloads the list on every start, which a server must not do (no network, and a slow start when GOV.UK is
unreachable), so the bundled data is forced. Upgrading the package brings newer years.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

from govuk_bank_holidays.bank_holidays import BankHolidays

DIVISION = BankHolidays.ENGLAND_AND_WALES


@cache
def bank_holidays() -> BankHolidays:
    return BankHolidays(use_cached_holidays=True)


def is_working_day(day: date) -> bool:
    return bool(bank_holidays().is_work_day(day, division=DIVISION))


def working_days_until(start: date, end: date) -> int:
    """How many working days after `start` up to and including `end` (0 when `end` is not after `start`)."""
    return sum(is_working_day(start + timedelta(days=n)) for n in range(1, (end - start).days + 1))
