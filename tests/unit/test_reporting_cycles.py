"""Working days in England and Wales, the meeting rule, and the outbox's backoff."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest

from domain.errors import NotPermitted, RuleViolated
from domain.plan import Plan
from service.outbox import backoff
from service.workdays import is_working_day, working_days_until
from tests.builders import COORDINATOR, editor


def test_weekends_and_england_and_wales_bank_holidays_are_not_working_days() -> None:
    assert not is_working_day(date(2026, 12, 25))  # Christmas Day, a Friday.
    assert not is_working_day(date(2026, 12, 28))  # Boxing Day's substitute, a Monday.
    assert not is_working_day(date(2026, 12, 26))  # Saturday.
    assert is_working_day(date(2026, 12, 29))
    assert not is_working_day(date(2027, 8, 30))  # Summer bank holiday in England and Wales, not in Scotland.
    assert working_days_until(date(2026, 12, 24), date(2026, 12, 29)) == 1
    assert working_days_until(date(2026, 12, 29), date(2026, 12, 29)) == 0
    assert working_days_until(date(2026, 12, 30), date(2026, 12, 29)) == 0


def test_holidays_come_from_the_packages_bundled_data_never_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    import requests

    from service import workdays

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("fetched bank holidays over the network")

    monkeypatch.setattr(requests, "get", refuse)
    workdays.bank_holidays.cache_clear()
    assert not workdays.is_working_day(date(2028, 12, 26))


def test_updates_are_due_on_or_before_the_meeting_and_only_coordinators_schedule() -> None:
    plan = Plan(title="Plan", source="Review", owner_agency="lscb", actor=COORDINATOR.as_actor())
    day = date(2027, 1, 20)
    with pytest.raises(RuleViolated):
        plan.schedule_meeting(
            actor=COORDINATOR, meeting_id=uuid4(), meeting_date=day, title="Board", updates_due=day + timedelta(1)
        )
    with pytest.raises(NotPermitted):
        plan.schedule_meeting(actor=editor("health"), meeting_id=uuid4(), meeting_date=day, title="B", updates_due=day)
    meeting_id = uuid4()
    plan.schedule_meeting(actor=COORDINATOR, meeting_id=meeting_id, meeting_date=day, title="Board", updates_due=day)
    assert plan.meeting_ids == [meeting_id]
    assert [type(e).__name__ for e in plan.collect_events()] == ["Created", "MeetingScheduled"]


def test_a_failed_message_is_retried_within_a_minute_then_less_often_at_most_hourly() -> None:
    waits = [backoff(n).total_seconds() for n in range(1, 12)]
    assert waits[0] <= 60
    assert waits == sorted(waits)
    assert max(waits) == 3600
