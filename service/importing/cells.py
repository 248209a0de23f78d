"""Cells as people fill them: dates written the English way, statuses and RAG in words, numbers kept as text.

Each reader returns the value or None for an empty cell, and raises ValueError with a message for the person.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta
from typing import Any

from domain.timeline import RAGS, STATUSES

MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}
MONTHS |= {name.lower(): n for n, name in enumerate(calendar.month_abbr) if name}
MONTHS["sept"] = 9
MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+)?$")
NUMERIC = re.compile(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{4}|\d{2})\b")
DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({MONTH})\.?,?\s+(\d{{4}})\b", re.IGNORECASE)
MONTH_YEAR = re.compile(rf"\b({MONTH})\.?,?\s+(\d{{4}})\b", re.IGNORECASE)
DASHES = "-\u2013\u2014"
STATUS_WORDS = {s.replace("_", " "): s for s in STATUSES} | {"complete": "completed", "done": "completed"}
EXCEL_EPOCH, SERIALS = date(1899, 12, 30), (20_000, 80_000)  # Spreadsheet day numbers, 1954 to 2119.
RAG_WORDS = {r: r for r in RAGS} | {r[0]: r for r in RAGS}


def text(value: Any) -> str | None:
    """A cell as text, stripped; numbers as written ("1.10" stays "1.10" when the cell holds text)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    stripped = str(value).strip()
    return None if stripped.strip(DASHES) == "" else stripped  # "-" or "—": nothing to say.


def words(value: str) -> str:
    """Lower case, punctuation and underscores as single spaces: how headers and words are compared."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", value.lower()).split())


def end_of_month(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def parse_date(value: Any) -> date | None:
    """A whole cell that is a date: a spreadsheet date, 2013-02-28, 28/02/2013, 28 February 2013."""
    if value is None or isinstance(value, date):
        return value.date() if isinstance(value, datetime) else value
    if isinstance(value, int | float) and not isinstance(value, bool) and SERIALS[0] <= value <= SERIALS[1]:
        return EXCEL_EPOCH + timedelta(days=int(value))  # A date cell saved without its date format.
    cell = text(value)
    if cell is None:
        return None
    found = ISO.match(cell)
    if found:
        return _date(int(found[1]), int(found[2]), int(found[3]), cell)
    found = NUMERIC.fullmatch(cell)
    if found:
        return _date(_year(found[3]), int(found[2]), int(found[1]), cell)
    found = DAY_MONTH_YEAR.fullmatch(cell)
    if found:
        return _date(int(found[3]), MONTHS[found[2].lower()], int(found[1]), cell)
    raise ValueError(f"{cell!r} is not a date: write it as 28/02/2013, 28 February 2013 or 2013-02-28")


def date_in_words(value: Any) -> date | None:
    """The date a label such as "End of April 2013", "March 2014" or "By 01/12/2008" names, if it names one.

    A month alone means its last day (a deadline); a label naming no date, or several, names none.
    """
    if isinstance(value, date):
        return parse_date(value)
    cell = text(value)
    if cell is None:
        return None
    try:
        return parse_date(cell)
    except ValueError:
        pass
    found: set[date] = set()
    for match in NUMERIC.finditer(cell):
        found.add(_date(_year(match[3]), int(match[2]), int(match[1]), cell))
    rest = NUMERIC.sub(" ", cell)
    for match in DAY_MONTH_YEAR.finditer(rest):
        found.add(_date(int(match[3]), MONTHS[match[2].lower()], int(match[1]), cell))
    rest = DAY_MONTH_YEAR.sub(" ", rest)
    for match in MONTH_YEAR.finditer(rest):
        found.add(end_of_month(int(match[2]), MONTHS[match[1].lower()]))
    return found.pop() if len(found) == 1 else None


REVISED = re.compile(r"^(.*?);\s*revised from\b.*$", re.IGNORECASE | re.DOTALL)
DATE_THEN_LABEL = re.compile(rf"^\d{{1,2}}\s+(?:{MONTH})\s+\d{{4}}\s+\((.+)\)$", re.IGNORECASE | re.DOTALL)


def own_words(label: str | None) -> str | None:
    """A due label as the plan says it, from a report's "By when" of a revised action: "31 December 2026 (End of
    2026); revised from March 2011 (reason)" is "End of 2026" (the date itself is in the Due date column)."""
    revised = REVISED.match(label or "")
    if not revised:
        return label
    current = revised[1].strip()
    named = DATE_THEN_LABEL.match(current)
    return named[1].strip() if named else current


def month_in_header(header: str) -> date | None:
    """The last day of the month a header such as "Update September 2013" names."""
    found = MONTH_YEAR.search(header)
    return end_of_month(int(found[2]), MONTHS[found[1].lower()]) if found else None


def status(value: Any) -> str | None:
    cell = text(value)
    if cell is None:
        return None
    found = STATUS_WORDS.get(words(cell))
    if found is None:
        raise ValueError(f"{cell!r} is not a status: use Not started, In progress, Completed or Withdrawn")
    return found


def rag(value: Any) -> str | None:
    cell = text(value)
    if cell is None:
        return None
    found = RAG_WORDS.get(words(cell))
    if found is None:
        raise ValueError(f"{cell!r} is not a RAG rating: use Red, Amber, Green or Blue")
    return found


def agency(value: Any, agencies: tuple[str, ...]) -> str | None:
    """An agency by its slug or name, any case ("Health", "LSCB", "health")."""
    cell = text(value)
    if cell is None:
        return None
    known = {words(a): a for a in agencies}
    found = known.get(words(cell))
    if found is None:
        raise ValueError(f"unknown agency {cell!r}; known: {', '.join(agencies)}")
    return found


def agency_list(value: Any, agencies: tuple[str, ...]) -> list[str]:
    cell = text(value)
    if cell is None:
        return []
    names = [part for part in re.split(r"[,;\n]+", cell) if part.strip()]
    return [found for found in (agency(name, agencies) for name in names) if found]


def _year(digits: str) -> int:
    return int(digits) + 2000 if len(digits) == 2 else int(digits)


def _date(year: int, month: int, day: int, cell: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"{cell!r} is not a real date") from None
