"""The report as a workbook (sheet "Actions", one row per action, and an "About" sheet) and as CSV (the Actions
sheet). The header row is the contract's, exactly; the import reads it back."""

from __future__ import annotations

import csv
from datetime import date
from io import BytesIO, StringIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from reports import words
from service.plan_sheet import ABOUT_SHEET, ACTIONS_HEADER, ACTIONS_SHEET
from service.reports import Report

HEADER = ACTIONS_HEADER  # The contract's columns, which the plan import reads back (service/plan_sheet.py).
WIDTHS = (8, 40, 8, 50, 24, 12, 12, 20, 20, 12, 8, 9, 60, 12, 40, 12)
RAG_COLUMN, DATE_COLUMNS = HEADER.index("RAG") + 1, (HEADER.index("Due date") + 1, HEADER.index("Update effective") + 1)
FILLS = {
    r: PatternFill("solid", fgColor=c)
    for r, c in {"red": "F4CDC6", "amber": "FFF7BF", "green": "CCE2D8", "blue": "D2E2F1"}.items()
}
HEADING = PatternFill("solid", fgColor="F3F2F1")
DATE_FORMAT = "dd/mm/yyyy"
FOOTER_MAX = 250  # Excel refuses a header or footer section over 255 characters.


def rows(report: Report) -> list[list[Any]]:
    """One row per action, in HEADER's order; dates as dates (CSV writes them ISO)."""
    return [
        [
            recommendation.number,
            recommendation.text,
            action.number,
            action.description,
            "; ".join(words.by_when(action)) if action.revision else (action.due_label or ""),
            action.due_date,
            action.lead_agency,
            action.lead_person or "",
            ", ".join(action.contributing_agencies),
            words.status(action),
            words.rag(action),
            "Yes" if action.overdue else "No",
            action.update.text if action.update else "",
            action.update.effective_date if action.update else None,
            action.impact or "",
            action.cost or "",
        ]
        for recommendation, action in report.actions
    ]


def render_xlsx(report: Report) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = ACTIONS_SHEET
    sheet.append(HEADER)
    for cell in sheet[1]:
        cell.font, cell.fill = Font(bold=True), HEADING
    wrap = Alignment(wrap_text=True, vertical="top")
    for (_, action), values in zip(report.actions, rows(report), strict=True):
        sheet.append(values)
        row = sheet.max_row
        for column in range(1, len(HEADER) + 1):
            sheet.cell(row, column).alignment = wrap
        for column in DATE_COLUMNS:
            sheet.cell(row, column).number_format = DATE_FORMAT
        if action.rag in FILLS:
            sheet.cell(row, RAG_COLUMN).fill = FILLS[action.rag]
    for n, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(n)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(HEADER))}{sheet.max_row}"
    about(book.create_sheet(ABOUT_SHEET), report)
    for each in book.worksheets:
        proof_footer(each, report)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def about(sheet: Any, report: Report) -> None:
    """What the workbook is: the proof lines, the summary and, with `since`, what changed."""
    proof = report.proof
    lines: list[tuple[Any, ...]] = [
        ("Title", words.title(report)),
        ("Source", report.source),
        ("As at", report.as_at),
        ("As known at", words.exact(proof.known_at)),
        ("Generated", f"{words.exact(proof.generated_at)} by {proof.by_name} ({proof.by_agency})"),
        ("Audit head", proof.head),
        ("Check", f"accord audit verify --expect {proof.head}"),
        ("Proof", words.footer(proof)),
        (),
        ("Actions", report.summary.total),
        *((f"Status: {name}", n) for name, n in words.summary_status(report)),
        *((f"RAG: {name}", n) for name, n in words.summary_rag(report)),
        ("Overdue", report.summary.overdue),
    ]
    if report.since is not None:
        lines += [(), (words.since_line(report),)]
        lines += [(action.number, words.changes(action, report)) for _, action in report.actions if action.changed]
    for line in lines:
        sheet.append(line)
    sheet["B3"].number_format = DATE_FORMAT
    for row in sheet.iter_rows(min_col=1, max_col=1):
        row[0].font = Font(bold=True)
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 110


def proof_footer(sheet: Any, report: Report) -> None:
    """Printed on every page of the sheet: the proof line, and the page number."""
    text = words.footer(report.proof).replace("&", "&&")
    sheet.oddFooter.left.text = text[:FOOTER_MAX]
    sheet.oddFooter.left.size = 7
    sheet.oddFooter.right.text = "Page &P of &N"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.print_title_rows = "1:1" if sheet.title == ACTIONS_SHEET else None


def render_csv(report: Report) -> bytes:
    """The Actions sheet as UTF-8 CSV: dates ISO (YYYY-MM-DD)."""
    out = StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for values in rows(report):
        writer.writerow([v.isoformat() if isinstance(v, date) else ("" if v is None else v) for v in values])
    return out.getvalue().encode("utf-8")
