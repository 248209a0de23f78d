"""The report as a Word document in the councils' layout: one table per recommendation, with the columns
What we will do | By when | Lead | Status | Update <Month YYYY>; A4 landscape, the proof and page numbers in
every page's footer, table headers repeated on each page."""

from __future__ import annotations

from io import BytesIO

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table, _Cell

from reports import words
from service.reports import Report, ReportAction, ReportRecommendation

FILLS = {"red": "F4CDC6", "amber": "FFF7BF", "green": "CCE2D8", "blue": "D2E2F1"}
HEADING_FILL = "F3F2F1"
WIDTHS = (Mm(80), Mm(35), Mm(35), Mm(30), Mm(93))  # What we will do | By when | Lead | Status | Update: 273 mm.
GREY = RGBColor(0x50, 0x5A, 0x5F)


def render_docx(report: Report) -> bytes:
    document = Document()
    page(document, report)
    document.add_heading(words.title(report), level=0)
    document.add_paragraph(words.known(report))
    if report.source:
        document.add_paragraph(report.source).runs[0].font.color.rgb = GREY
    summary(document, report)
    for recommendation in report.recommendations:
        section(document, report, recommendation)
    out = BytesIO()
    document.save(out)
    return out.getvalue()


def page(document: object, report: Report) -> None:
    styles = document.styles  # type: ignore[attr-defined]
    styles["Normal"].font.name = "Arial"
    styles["Normal"].font.size = Pt(10)
    page = document.sections[0]  # type: ignore[attr-defined]
    page.orientation = WD_ORIENT.LANDSCAPE
    page.page_width, page.page_height = Mm(297), Mm(210)
    page.left_margin = page.right_margin = Mm(12)
    page.top_margin, page.bottom_margin = Mm(14), Mm(18)
    proof = page.footer.paragraphs[0]
    run = proof.add_run(words.footer(report.proof) + "  Page ")
    run.font.size = Pt(7)
    for name in ("PAGE", " of ", "NUMPAGES"):
        if name.strip() == name:
            field(proof, name)
        else:
            proof.add_run(name).font.size = Pt(7)


def field(paragraph: object, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) that Word fills in as it lays the pages out."""
    simple = OxmlElement("w:fldSimple")
    simple.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    simple.append(run)
    paragraph._p.append(simple)  # type: ignore[attr-defined]


def summary(document: object, report: Report) -> None:
    document.add_heading("Summary", level=1)  # type: ignore[attr-defined]
    status, rag = words.summary_status(report), words.summary_rag(report)
    table = document.add_table(rows=3, cols=1 + max(len(status) + 1, len(rag)))  # type: ignore[attr-defined]
    table.style = "Table Grid"
    rows = [
        [f"Actions ({report.summary.total})", *(name for name, _ in status), "Overdue"],
        ["By status", *(str(n) for _, n in status), str(report.summary.overdue)],
        ["By RAG", *(f"{name}: {n}" for name, n in rag)],
    ]
    for row, values in zip(table.rows, rows, strict=True):
        for cell, value in zip(row.cells, values, strict=False):
            cell.text = value
    if report.since is not None:
        document.add_paragraph(words.since_line(report))  # type: ignore[attr-defined]


def section(document: object, report: Report, recommendation: ReportRecommendation) -> None:
    document.add_heading(f"Recommendation {recommendation.number}", level=1)  # type: ignore[attr-defined]
    document.add_paragraph(recommendation.text)  # type: ignore[attr-defined]
    document.add_paragraph(words.kind(recommendation)).runs[0].font.color.rgb = GREY  # type: ignore[attr-defined]
    for heading, items in (
        ("What difference will these actions make", recommendation.outcomes),
        ("How will we know", recommendation.measures),
    ):
        if items:
            document.add_heading(heading, level=3)  # type: ignore[attr-defined]
            for item in items:
                document.add_paragraph(item, style="List Bullet")  # type: ignore[attr-defined]
    if not recommendation.actions:
        document.add_paragraph("No actions as at this date.")  # type: ignore[attr-defined]
        return
    headings = ("What we will do", "By when", "Lead", "Status", words.update_heading(report))
    table = document.add_table(rows=1, cols=len(headings))  # type: ignore[attr-defined]
    table.style = "Table Grid"
    table.autofit = False
    for cell, text in zip(table.rows[0].cells, headings, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
        shade(cell, HEADING_FILL)
    repeat_header(table)
    for action in recommendation.actions:
        action_row(table, report, action)
    for row in table.rows:
        for cell, width in zip(row.cells, WIDTHS, strict=True):
            cell.width = width


def action_row(table: Table, report: Report, action: ReportAction) -> None:
    what, when, lead, status, update = table.add_row().cells
    paragraph = what.paragraphs[0]
    paragraph.add_run(f"{action.number} ").bold = True
    paragraph.add_run(action.description)
    if action.cost:
        lines(what, [f"Cost: {action.cost}"], grey=True)
    lines(when, words.by_when(action)[:1])
    lines(when, words.by_when(action)[1:], grey=True)
    lines(lead, words.lead(action))
    lines(status, [words.status(action), words.rag(action), words.overdue(action)])
    if action.rag in FILLS:
        shade(status, FILLS[action.rag])
    if action.update:
        lines(update, [action.update.text])
        lines(update, [words.effective(action)], grey=True)
    else:
        lines(update, ["No update"], grey=True)
    if action.impact:
        lines(update, [f"Impact: {action.impact}"])
    if action.changed:
        lines(update, [words.changes(action, report)], bold=True)


def lines(cell: _Cell, texts: list[str], *, grey: bool = False, bold: bool = False) -> None:
    """Each text as a paragraph of the cell (the cell's first, empty paragraph is used first)."""
    for text in texts:
        if not text:
            continue
        first = cell.paragraphs[0]
        paragraph = first if not first.text and len(cell.paragraphs) == 1 else cell.add_paragraph()
        run = paragraph.add_run(text)
        run.bold = bold or None
        if grey:
            run.font.color.rgb = GREY


def shade(cell: _Cell, fill: str) -> None:
    properties = cell._tc.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    properties.append(shading)


def repeat_header(table: Table) -> None:
    """Mark the first row as the table's heading: Word repeats it at the top of each page."""
    properties = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)
