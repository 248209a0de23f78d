"""From tables of cells to recommendations and action rows: the header row, the mapping, and which
recommendation each row belongs to (a column, the action number's prefix, a heading row, or the paragraph
naming the table's recommendation)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from domain.plan import RECOMMENDATION, STATUTORY_REQUIREMENT
from service.importing.cells import text
from service.importing.files import MERGED, Table
from service.importing.mapping import MANY, MANY_UPDATES, propose

HEADER_SEARCH = 10  # A table's header row is among its first rows (a title or a note may come first).
LEADING_NUMBER = re.compile(
    r"^(?:recommendation|rec|objective|requirement)?\.?\s*(?:no\.?|number)?\s*(\d{1,3}(?:\.\d{1,3})*[a-z]?)"
    r"(?:[).:\-\u2013]+\s*|\s+|$)(.*)$",
    re.IGNORECASE | re.DOTALL,
)
NAMED_RECOMMENDATION = re.compile(
    r"^\s*recommendation\s*(?:no\.?|number)?\s*(\d{1,3}(?:\.\d{1,3})*[a-z]?)\s*[).:\-\u2013]?\s*(.*)$",
    re.IGNORECASE | re.DOTALL,
)
BARE_NUMBER = re.compile(r"\d{1,3}(?:\.\d{1,3})*[a-z]?[.)]?", re.IGNORECASE)
STATUTORY = re.compile(r"statutory\s+requirement", re.IGNORECASE)
ACTION_FIELDS = frozenset(
    {"description", "due_label", "due_date", "lead_agency", "lead_person", "update", "status", "rag", "impact", "cost"}
)


@dataclass
class Problem:
    message: str
    row: int | None = None
    column: str | None = None
    table: str | None = None

    def as_dict(self) -> dict[str, Any]:
        found = {"row": self.row, "column": self.column, "message": self.message}
        return {**found, "table": self.table} if self.table else found


@dataclass
class Rec:
    kind: str
    number: str | None
    text: str | None
    row: int
    reference: list[str] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    measures: list[str] = field(default_factory=list)
    actions: list[ActionRow] = field(default_factory=list)


@dataclass
class ActionRow:
    table: str
    row: int
    rec: Rec
    cells: dict[str, list[tuple[str, Any]]]  # field -> (heading, cell) in column order
    headings: dict[str, str] = field(default_factory=dict)  # field -> its first column's heading

    def first(self, name: str) -> tuple[str | None, Any]:
        found = self.cells.get(name) or []
        return found[0] if found else (None, None)

    def joined(self, name: str, sep: str = "\n") -> str | None:
        parts = [t for _, v in self.cells.get(name, []) if (t := text(v))]
        return sep.join(parts) or None


@dataclass
class Parsed:
    mapping: dict[str, str | None] = field(default_factory=dict)
    recs: list[Rec] = field(default_factory=list)
    rows: list[ActionRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    last_headers: list[str] | None = None  # The previous table's header, and the recommendation it ended in.
    last_current: Rec | None = None


def split_number(cell: str | None) -> tuple[str | None, str | None]:
    """ "7. That an extra ..." -> ("7", "That an extra ..."); "2) SG: Health ..." -> ("2", "SG: Health ...")."""
    if not cell:
        return None, None
    found = LEADING_NUMBER.match(cell)
    if not found:
        return None, cell
    return found[1].rstrip(".)"), found[2].strip() or None


def parse_tables(tables: list[Table], override: dict[str, str | None] | None) -> Parsed:
    parsed = Parsed()
    for table in tables:
        TableParser(table, override, parsed).parse()
    if not parsed.rows and not parsed.problems:
        parsed.problems.append(Problem("the file has a header row but no actions under it"))
    return parsed


class TableParser:
    def __init__(self, table: Table, override: dict[str, str | None] | None, parsed: Parsed) -> None:
        self.table, self.override, self.parsed = table, override, parsed
        self.kind = RECOMMENDATION
        self.current: Rec | None = None  # The recommendation rows without their own belong to.
        self.named: Rec | None = None  # The one the paragraph before a Word table names.
        named = NAMED_RECOMMENDATION.match(table.heading or "")
        if table.heading and STATUTORY.search(table.heading):
            self.kind = STATUTORY_REQUIREMENT
        if named:
            self.named = self.recommendation(named[1], named[2].strip() or None, 0)

    def problem(self, message: str, row: int | None = None, column: str | None = None) -> None:
        self.parsed.problems.append(Problem(message, row, column, self.table.name))

    def parse(self) -> None:
        found = self.header()
        if found is None:
            headings = "What we will do, By when, Lead, Update"
            self.problem(f"no header row found in {self.table.name}: expected headings such as {headings}")
            return
        start, headers, mapping = found
        for key, value in mapping.items():
            self.parsed.mapping.setdefault(key, value)
        columns = [(h, mapping.get(h)) for h in headers]
        self.check_columns(columns)
        if self.named is None and headers == self.parsed.last_headers:
            self.current = self.parsed.last_current  # A table carried on in the next one, under the same header.
        for number, cells in self.table.rows[start + 1 :]:
            if self.headings(cells) == headers:
                continue  # The header repeated (a table broken across pages).
            self.row(number, columns, [None if c == MERGED else c for c in cells])
        self.parsed.last_headers, self.parsed.last_current = headers, self.current

    def header(self) -> tuple[int, list[str], dict[str, str | None]] | None:
        for index, (_, cells) in enumerate(self.table.rows[:HEADER_SEARCH]):
            headers = self.headings(cells)
            mapping = propose(headers, self.override)
            if sum(1 for f in mapping.values() if f) >= 2:
                return index, headers, mapping
            if STATUTORY.search(" ".join(h for h in headers if h)):
                self.kind = STATUTORY_REQUIREMENT  # A title row above the header: "STATUTORY REQUIREMENTS ...".
        return None

    @staticmethod
    def headings(cells: list[Any]) -> list[str]:
        headers: list[str] = []
        for cell in cells:
            merged = cell == MERGED and headers
            headers.append(headers[-1] if merged else " ".join((text(cell) or "").split()))
        return headers

    def check_columns(self, columns: list[tuple[str, str | None]]) -> None:
        seen: dict[str, str] = {}
        for header, name in columns:
            if not name or name in MANY or name == MANY_UPDATES:
                continue
            if name in seen and seen[name] != header:
                self.parsed.warnings.append(
                    f"{self.table.name}: columns {seen[name]!r} and {header!r} both map to {name}; only the first"
                    " is read"
                )
            seen.setdefault(name, header)
        if "description" not in {name for _, name in columns}:
            self.problem("no column maps to description (What we will do): map one with `mapping`")

    def row(self, number: int, columns: list[tuple[str, str | None]], values: list[Any]) -> None:
        cells: dict[str, list[tuple[str, Any]]] = {}
        firsts: dict[str, str] = {}
        for (header, name), value in zip(columns, values, strict=False):
            if not name or text(value) is None:
                continue
            if name not in MANY and name != MANY_UPDATES and firsts.setdefault(name, header) != header:
                continue
            cells.setdefault(name, []).append((header, value))
        filled = [text(v) for v in values if text(v)]
        rec = self.rec_of(number, cells, filled)
        if rec is None:
            return  # A heading row, or a row of recommendation columns only: a recommendation, no action.
        rec.reference += [t for _, v in cells.get("reference", []) if (t := text(v)) and t not in rec.reference]
        rec.outcomes += [t for _, v in cells.get("outcomes", []) if (t := text(v)) and t not in rec.outcomes]
        rec.measures += [t for _, v in cells.get("measures", []) if (t := text(v)) and t not in rec.measures]
        headings: dict[str, str] = {}
        for header, name in columns:
            if name:
                headings.setdefault(name, header)
        action = ActionRow(self.table.name, number, rec, cells, headings)
        rec.actions.append(action)
        self.parsed.rows.append(action)

    def rec_of(  # noqa: PLR0911
        self, number: int, cells: dict[str, list[tuple[str, Any]]], filled: list[Any]
    ) -> Rec | None:
        rec_number = " ".join(text(v) or "" for _, v in cells.get("recommendation_number", [])).strip() or None
        rec_text = " ".join(text(v) or "" for _, v in cells.get("recommendation_text", [])).strip() or None
        kind = self.kind_of(cells)
        if rec_number or rec_text:
            if rec_number and not BARE_NUMBER.fullmatch(rec_number):  # "7. That an extra..." in a number column.
                rec_number, in_number = split_number(rec_number)
                rec_text = rec_text or in_number
            elif not rec_number:
                rec_number, rec_text = split_number(rec_text)
            rec_number = rec_number.rstrip(".)") if rec_number else None
            self.current = self.recommendation(rec_number, rec_text, number, kind)
            if not (set(cells) & ACTION_FIELDS):
                return None
            return self.current
        if self.is_heading_row(cells, filled):
            heading_number, heading_text = split_number(" ".join(filled))
            self.current = self.recommendation(heading_number, heading_text, number, kind)
            return None
        action_number = text(self.first_value(cells, "action_number"))
        if action_number and "." in action_number:
            self.current = self.recommendation(action_number.rsplit(".", 1)[0], None, number, kind)
            return self.current
        if self.current is not None:
            return self.current
        if self.named is not None:
            return self.named
        self.problem(
            "this row belongs to no recommendation: add a Recommendation column, number actions like 2.1, or put a"
            " heading row (a number and its text) above it",
            number,
        )
        return None

    @staticmethod
    def first_value(cells: dict[str, list[tuple[str, Any]]], name: str) -> Any:
        found = cells.get(name)
        return found[0][1] if found else None

    @staticmethod
    def is_heading_row(cells: dict[str, list[tuple[str, Any]]], filled: list[Any]) -> bool:
        """Only a number and a text ("2 | Health capacity ...", or "2. Health capacity ..." alone)."""
        if not filled or len(filled) > 2 or set(cells) - {"action_number", "description", "recommendation_text"}:
            return False
        if len(filled) == 2:
            return bool(BARE_NUMBER.fullmatch(str(filled[0])))
        number, rest = split_number(str(filled[0]))
        return bool(number and rest and "." not in number)

    def kind_of(self, cells: dict[str, list[tuple[str, Any]]]) -> str:
        stated = text(self.first_value(cells, "kind"))
        if stated and STATUTORY.search(stated.replace("_", " ")):
            return STATUTORY_REQUIREMENT
        return self.kind

    def recommendation(self, number: str | None, rec_text: str | None, row: int, kind: str | None = None) -> Rec:
        kind = kind or self.kind
        for rec in self.parsed.recs:
            same = (rec.number == number) if number else (rec.number is None and rec.text == rec_text)
            if rec.kind == kind and same:
                rec.text = rec.text or rec_text
                return rec
        rec = Rec(kind, number, rec_text, row)
        self.parsed.recs.append(rec)
        return rec
