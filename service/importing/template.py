"""The blank import template: the report's "Actions" sheet, a "Plan" sheet, and drop-down lists to fill them."""

from __future__ import annotations

import csv
import io

from domain.timeline import RAGS, STATUSES
from service.plan_sheet import ACTIONS_HEADER, ACTIONS_SHEET, LISTS_SHEET, PLAN_HEADER, PLAN_SHEET

ROWS = 2000  # How far down the drop-down lists reach.
TEXT_COLUMNS = ("Recommendation", "Action")  # Kept as text, so "1.10" is not read as 1.1.
WIDTHS = {"Recommendation text": 40, "What we will do": 50, "Update": 50, "Impact": 30, "Contributing agencies": 24}


def words(value: str) -> str:
    return value.replace("_", " ").capitalize()


def template_xlsx(agencies: tuple[str, ...]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    actions = book.active
    assert actions is not None
    actions.title = ACTIONS_SHEET
    actions.append(list(ACTIONS_HEADER))
    actions.freeze_panes = "A2"
    actions.auto_filter.ref = f"A1:{get_column_letter(len(ACTIONS_HEADER))}1"
    plan = book.create_sheet(PLAN_SHEET)
    plan.append(list(PLAN_HEADER))
    lists = book.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    values = {"A": list(agencies), "B": [words(s) for s in STATUSES], "C": [r.capitalize() for r in RAGS]}
    for column, items in values.items():
        for row, item in enumerate(items, start=1):
            lists[f"{column}{row}"] = item
    column_of = {header: get_column_letter(n) for n, header in enumerate(ACTIONS_HEADER, start=1)}

    def drop_down(sheet: object, list_column: str, count: int, cells: str, prompt: str) -> None:
        check = DataValidation(
            type="list", formula1=f"{LISTS_SHEET}!${list_column}$1:${list_column}${count}", allow_blank=True
        )
        check.error, check.errorTitle, check.prompt = f"Choose one of the list: {prompt}", "Not in the list", prompt
        check.add(cells)
        sheet.add_data_validation(check)  # type: ignore[attr-defined]

    lead = column_of["Lead agency"]
    drop_down(actions, "A", len(agencies), f"{lead}2:{lead}{ROWS}", "the agency that leads the action")
    drop_down(actions, "B", len(STATUSES), f"{column_of['Status']}2:{column_of['Status']}{ROWS}", "the status")
    drop_down(actions, "C", len(RAGS), f"{column_of['RAG']}2:{column_of['RAG']}{ROWS}", "the RAG rating")
    drop_down(plan, "A", len(agencies), "C2", "the agency that owns the plan")
    for header in TEXT_COLUMNS:
        actions.column_dimensions[column_of[header]].number_format = "@"
    for header, column in column_of.items():
        actions.column_dimensions[column].width = WIDTHS.get(header, 16)
    plan.column_dimensions["A"].width = plan.column_dimensions["B"].width = 50
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_csv() -> bytes:
    """The "Actions" header alone, UTF-8 with a byte-order mark so that Excel opens it as UTF-8."""
    out = io.StringIO()
    csv.writer(out).writerow(ACTIONS_HEADER)
    return ("\ufeff" + out.getvalue()).encode()
