# ruff: noqa: E501, RUF001  (the reference plans' text, as written)
"""Plan files as councils keep them, built from the reference plans (../shared/reference-plans), and bad files.

Each builder returns the file's bytes. The Word documents follow each plan's own table layout; the spreadsheets
follow Accord's template or a council's own headings. Nothing here needs pytest: the benchmark uses it too.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from service.importing.template import template_xlsx
from service.plan_sheet import ACTIONS_HEADER, ACTIONS_SHEET, PLAN_SHEET

ROOT = Path(__file__).resolve().parent.parent
AGENCIES = ("council", "health", "police", "education", "lscb")


def portsmouth() -> dict[str, Any]:
    return json.loads((ROOT / "tests" / "fixtures" / "portsmouth-2010.json").read_text())


def shropshire() -> dict[str, Any]:
    return json.loads((ROOT / "service" / "demo" / "shropshire-2011.json").read_text())


# Hartlepool's adoption service inspection, 2009: Appendix 1, two tables (statutory requirements, recommendations).
HARTLEPOOL_REQUIREMENTS = [
    # No, Standard, Regulation, Requirement, Actions, Person Responsible, Timescale for action, Progress Review
    (
        "1",
        "5",
        "Regulation 16(2)",
        "Obtain, so far as is practicable, information about the health of children's birth parents",
        "Amend the department's practice guidance to emphasise the importance of gathering information about birth parents – including their health",
        "Head of Business Unit Placement Team Manager",
        "01/12/2008",
        "Amended and will transfer to the web based system in February 2009",
    ),
    (
        "2",
        "11",
        "Regulation 3",
        "Recruit sufficient numbers of people to the adoption panel to achieve the required constitution",
        "Advert to be placed locally to attract suitable candidates from whom to select new Panel members. Report to Council's Portfolio Holder recommending that only one Councillor is a member of the Panel as required by the Regulations",
        "Placement Team Manager Head of Business Unit",
        "01/12/2008",
        "Two Panel members appointed [subject to clear CRB check] Further advert appearing in mid January for remaining Independent member",
    ),
    (
        "3",
        "1",
        "Regulations 2 & 4",
        "Prepare a Statement of Purpose that includes all required information, review and revise it as appropriate and notify Ofsted of any revisions made",
        "Revision of Statement of Purpose to be completed. Copy of revised Statement to be sent to Ofsted",
        "Placement Team Manager",
        "01/12/2008",
        "Revision completed Copy to be sent to Ofsted when Portfolio Holder has agreed the Action plan",
    ),
    (
        "4",
        "1",
        "Regulation 3",
        "Prepare a children's guide to adoption that includes all required information",
        "An interim supplementary sheet to be produced in advance of a full revision of the published guide",
        "Placement Team Manager",
        "01/12/2008",
        "Supplementary sheet produced. Full revision underway.",
    ),
    (
        "5",
        "17",
        "Regulation 9",
        "Prepare a child protection policy and procedure that addresses the safeguarding of children in adoptive placements and children receiving adoption support services",
        "Prepare a draft policy and procedure for the relevant sub group of the Local Children's Safeguarding Board for them to consider, adopt and include in the published procedures",
        "Safeguarding & Review Manager",
        "01/12/2008",
        "Draft prepared and ready for submission",
    ),
    (
        "6",
        "23",
        "Regulation 12",
        "Develop a training programme that meets the development needs of the service",
        "Liaison with Workforce Development staff to include adoption staff's needs in the Departmental Training plan",
        "Placement Team Manager Workforce Development Officer",
        "01/12/2008",
        "Training needs identified and included in the Departmental Training Plan published on 7 th January 2009",
    ),
    (
        "7",
        "28",
        "Regulation 15",
        "Include all required information in adoption panel members' records",
        "Obtain the required information and copy of documents and attach them to the records already held",
        "Placement Team Manager",
        "01/12/2008",
        "Information has been obtained and is filed appropriately",
    ),
]
HARTLEPOOL_RECOMMENDATIONS = [
    # No, Refer to Standard, Good Practice Recommendations, Actions, Person Responsible, Timescale, Progress Review
    (
        "1",
        "NMS 5",
        "Develop a consistent approach to the writing of Children's Permanence Reports to ensure adopters receive all necessary information about children being considered for a match",
        "Guidance to be developed and issued. Monitoring of reports by the Social Worker's line manager Audit of reports by Placement Team Manager",
        "Placement Team Manager, Field Team Managers",
        "February 2009",
        "Draft guidance in preparation Monitoring now in place Audit tool developed and in use",
    ),
    (
        "2",
        "NMS 12",
        "Ensure panel administrative systems are efficient to ensure all reports are received by panel members in sufficient time",
        "Relocation of Placement team will increase the admin capacity at peak demand times",
        "Head of Business Unit",
        "December 2008",
        "Team relocated – additional admin support now available at peak demand times",
    ),
    (
        "3",
        "NMS 17",
        "Provide the executive with reports on the activity of the service twice every year",
        "Prepare reports for Portfolio Holder in March and September each year",
        "Head of Business Unit",
        "January 2009",
        "Agreement sought from Portfolio Holder in accepting Action Plan - January 2009",
    ),
    (
        "4",
        "NMS 25",
        "Place on all case files of adopters the decisions reached in supervision",
        "Existing Case supervision documents to be used for recording case decisions in respect of adopters",
        "Placement Team Manager",
        "January 2009",
        "In place for supervision sessions since December 2008",
    ),
    (
        "5",
        "NMS 27",
        "Develop a system for auditing case files",
        "Division wide case audit tool to be developed that includes specialist files",
        "Divisional Management Team",
        "February 2009",
        "Preliminary work has started",
    ),
]
HARTLEPOOL_STATUTORY_NOTE = (
    "STATUTORY REQUIREMENTS This section sets out the actions, which must be taken so that the registered person/s"
    " meets the Care Standards Act 2000 ... The Registered Provider(s) must comply with the given timescales."
)
HARTLEPOOL_RECOMMENDATIONS_NOTE = (
    "RECOMMENDATIONS These recommendations relate to National Minimum Standards and are seen as good practice for"
    " the Registered Provider/s to consider carrying out."
)

# Hartlepool LSCB's 2008-09 work plan, as a council keeps it in a spreadsheet of its own: heading rows for each
# outcome, numbered actions, and a dated update column.
LSCB_HEADER = ("No.", "What we will do", "By when", "Lead", "Update January 2009")
LSCB_ROWS = [
    ("1", "Review the use of the Child Protection Procedures, issuing updated Practice Guidance where necessary"),
    (
        "1.1",
        "Review the procedures taking into account new government guidance and legislation",
        "End of April 2009",
        "Practice, Policy and Procedures Group",
        "Looking at new format for updated procedures during 2009/10",
    ),
    (
        "1.2",
        "Issue a series of LSCB Practice Guidance",
        "March 2009",
        "Head of Safeguarding",
        "LSCB considered a revised Procedures and Guidance Manual should be developed simultaneously",
    ),
    ("2", "Ensuring implementation of responsibilities related to management of allegations"),
    (
        "2.1",
        "Link codes of practice to the standards for the management of allegations against staff and volunteers",
        "31/01/2009",
        "Performance and Quality Assurance Group",
        "Final version to be implemented January 2009",
    ),
    ("3", "Developing a protocol on Trafficked Children"),
    (
        "3.1",
        "Develop and implement a protocol and procedure for use in Hartlepool",
        "1 June 2009",
        "Training Group",
        None,
    ),
    (
        "3.10",
        "Issue Practice Guidance and training for frontline staff",
        "2009-09-30",
        "Training Group",
        "Not yet commenced",
    ),
]
LSCB_PEOPLE = {
    "Practice, Policy and Procedures Group": "lscb",
    "Head of Safeguarding": "council",
    "Performance and Quality Assurance Group": "lscb",
    "Training Group": "lscb",
}


# Word documents.


def _docx(blocks: list[Any]) -> bytes:
    """A document of paragraphs (str) and tables (list of rows; a row is a list of cells, a cell spanning n
    columns is given as (text, n))."""
    from docx import Document

    document = Document()
    for block in blocks:
        if isinstance(block, str):
            document.add_paragraph(block)
            continue
        columns = max(sum(c[1] if isinstance(c, tuple) else 1 for c in row) for row in block)
        table = document.add_table(rows=len(block), cols=columns)
        for r, row in enumerate(block):
            column = 0
            for cell in row:
                value, span = cell if isinstance(cell, tuple) else (cell, 1)
                target = table.cell(r, column)
                if span > 1:
                    target = target.merge(table.cell(r, column + span - 1))
                target.text = value or ""
                column += span
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def hartlepool_docx() -> bytes:
    requirements = [
        [(HARTLEPOOL_STATUTORY_NOTE, 8)],
        ["No", "Standard", "Regulation", "Requirement", "Actions", "Person Responsible", "Timescale for action",
         "Progress Review"],
        *[list(row) for row in HARTLEPOOL_REQUIREMENTS],
    ]  # fmt: skip
    recommendations = [
        [(HARTLEPOOL_RECOMMENDATIONS_NOTE, 7)],
        ["No", "Refer to Standard", "Good Practice Recommendations", "Actions", "Person Responsible",
         "Timescale for action", "Progress Review"],
        *[list(row) for row in HARTLEPOOL_RECOMMENDATIONS],
    ]  # fmt: skip
    return _docx(["Adoption Service Inspection Report: Action Plan", "2.1 Appendix 1", requirements,
                  "2.1 Appendix 1", recommendations])  # fmt: skip


def portsmouth_docx() -> bytes:
    """Recommendation (number and text in two columns under one heading) | Response | Action | Timescale; a second
    action of a recommendation on the next row, its recommendation cells empty."""
    rows: list[list[Any]] = [[("Recommendation", 2), "Response", "Action", "Timescale"]]
    for rec in portsmouth()["recommendations"]:
        for n, action in enumerate(rec["actions"]):
            first = n == 0
            rows.append([f"{rec['number']}." if first else "", rec["text"] if first else "",
                         action["updates"][0]["progress"], action["description"], action["due_label"]])  # fmt: skip
    return _docx(["Action Plan in response to the Scrutiny Panel Recommendations", rows])


def shropshire_docx() -> bytes:
    """Objective ("2) SG: ...", on its first row only) | Target | Date | Who | Specific action/s | Progress March 2011."""
    rows: list[list[Any]] = [["Objective", "Target", "Date", "Who", "Specific action/s", "Progress March 2011"]]
    for rec in shropshire()["recommendations"]:
        for n, action in enumerate(rec["actions"]):
            target, specific = action["description"].split("\n", 1)
            objective = f"{rec['number']}) {rec['text']}" if n == 0 else ""
            rows.append([objective, target, action["due_label"], action["lead_person"], specific,
                         action["updates"][0]["progress"]])  # fmt: skip
    return _docx(["Safeguarding and Looked After Children's Services Action Plan 22 March 2011", rows])


def shropshire_people() -> dict[str, str]:
    return {
        action["lead_person"]: action["lead_agency"]
        for rec in shropshire()["recommendations"]
        for action in rec["actions"]
    }


# Spreadsheets.


def _xlsx(sheets: dict[str, list[list[Any]]], base: bytes | None = None) -> bytes:
    from openpyxl import Workbook, load_workbook

    book = load_workbook(io.BytesIO(base)) if base else Workbook()
    if not base:
        book.remove(book.active)  # type: ignore[arg-type]
    for name, rows in sheets.items():
        sheet = book[name] if name in book.sheetnames else book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_rows(plan: dict[str, Any]) -> list[list[Any]]:
    """A plan in the demo JSON format as rows of the template's Actions sheet: each action's last update."""
    from datetime import date, timedelta

    base = date(2011, 3, 22)
    rows = []
    for rec in plan["recommendations"]:
        for action in rec["actions"]:
            last = action["updates"][-1]
            status = next((u["status"] for u in reversed(action["updates"]) if u["status"]), None)
            rag = next((u["rag"] for u in reversed(action["updates"]) if u["rag"]), None)
            rows.append([
                rec["number"], rec["text"], action["number"], action["description"], action["due_label"],
                base + timedelta(days=90), action["lead_agency"].upper(), action["lead_person"],
                ", ".join(action["contributing_agencies"]), (status or "").replace("_", " ").title() or None,
                (rag or "").capitalize() or None, None, last["progress"], (base + timedelta(days=60)).strftime("%d/%m/%Y"),
                last["impact"], action["cost"],
            ])  # fmt: skip
    return rows


def template_file(plan: dict[str, Any]) -> bytes:
    """The blank template (as the API serves it) filled in."""
    meta = plan["plan"]
    return _xlsx(
        {ACTIONS_SHEET: template_rows(plan), PLAN_SHEET: [[meta["title"], meta["source"], meta["owner_agency"]]]},
        base=template_xlsx(AGENCIES),
    )


def lscb_xlsx() -> bytes:
    return _xlsx({"LSCB workplan": [list(LSCB_HEADER), *[list(row) for row in LSCB_ROWS]]})


def large_xlsx(actions: int, per_recommendation: int = 10) -> bytes:
    """A template-layout workbook of `actions` actions, each with a dated update (for the benchmark and kill test)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(ACTIONS_SHEET)
    sheet.append(list(ACTIONS_HEADER))
    for n in range(actions):
        rec, k = divmod(n, per_recommendation)
        sheet.append([
            str(rec + 1), f"Recommendation {rec + 1}: partners share information promptly", f"{rec + 1}.{k + 1}",
            f"Action {n}: review the arrangements and report to the board " * 3, "End of March 2026",
            None, AGENCIES[n % 5], f"Officer {n % 37}", AGENCIES[(n + 1) % 5], "In progress", "amber", None,
            f"Progress on action {n}: meetings held, guidance drafted, audit planned. " * 4, "2026-02-15", None, None,
        ])  # fmt: skip
    plan = book.create_sheet(PLAN_SHEET)
    plan.append(["Title", "Source", "Owner agency"])
    plan.append(["Large plan", "Benchmark", "lscb"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# Bad files.


def _rezip(data: bytes, change: dict[str, bytes], add: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item.filename, change.get(item.filename, source.read(item.filename)))
        for name, content in (add or {}).items():
            target.writestr(name, content)
    return out.getvalue()


LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'.encode() for n in range(1, 10)
    )
    + b"]>"
)


def billion_laughs_docx() -> bytes:
    data = hartlepool_docx()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        document = archive.read("word/document.xml")
    body = document.split(b"?>", 1)[1]
    return _rezip(data, {"word/document.xml": LAUGHS + body.replace(b"Progress Review", b"&lol9;", 1)})


def billion_laughs_xlsx() -> bytes:
    data = lscb_xlsx()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        workbook = archive.read("xl/workbook.xml")
    return _rezip(data, {"xl/workbook.xml": LAUGHS + workbook.split(b"?>", 1)[-1]})


def zip_bomb_xlsx() -> bytes:
    """A workbook with a part that inflates to 120 MB (a few hundred KB compressed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(lscb_xlsx())) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item.filename, source.read(item.filename))
        with target.open("xl/media/padding.bin", "w", force_zip64=True) as padding:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(120):
                padding.write(chunk)
    return out.getvalue()


def lying_zip_bomb_xlsx() -> bytes:
    """A part that declares 1 KB but inflates to 50 MB: its declared size is rewritten in both headers."""
    data = bytearray(zip_bomb_xlsx_small())
    name = b"xl/media/padding.bin"
    index = 0
    while (index := data.find(name, index + 1)) != -1:
        start = index - 30 if data[index - 30 : index - 26] == b"PK\x03\x04" else index - 46
        if data[start : start + 4] == b"PK\x03\x04":
            data[start + 22 : start + 26] = (1024).to_bytes(4, "little")
        elif data[start : start + 4] == b"PK\x01\x02":
            data[start + 24 : start + 28] = (1024).to_bytes(4, "little")
    return bytes(data)


def zip_bomb_xlsx_small() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(lscb_xlsx())) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item.filename, source.read(item.filename))
        target.writestr("xl/media/padding.bin", b"\0" * (50 * 1024 * 1024))
    return out.getvalue()


def formula_xlsx() -> bytes:
    """A template sheet whose Lead agency and update are formulas with cached values (as Excel saves them)."""
    data = _xlsx({ACTIONS_SHEET: [list(ACTIONS_HEADER), ["1", "Rec", "1.1", "Do it", "March 2026", None, None,
                                                          None, None, None, None, None, None, None, None, None]]})  # fmt: skip
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    formulas = (
        '<c r="G2" t="str"><f>LOWER("HEALTH")</f><v>health</v></c>'
        '<c r="M2" t="str"><f>CONCATENATE("Meeting ","held")</f><v>Meeting held</v></c>'
        '<c r="N2"><f>DATE(2026,2,1)</f><v>46054</v></c>'
    )
    sheet = sheet.replace("</row></sheetData>", formulas + "</row></sheetData>", 1)
    return _rezip(data, {"xl/worksheets/sheet1.xml": sheet.encode()})


def huge_cell_csv() -> bytes:
    return ("What we will do,Lead agency,Recommendation\n" + "x" * 25_000 + ",health,1\n").encode()


def enormous_cell_csv() -> bytes:
    return ("What we will do,Lead agency,Recommendation\n" + "x" * 200_000 + ",health,1\n").encode()


def latin1_csv() -> bytes:
    return "What we will do,Lead agency,Recommendation\nRéunion des partenaires,health,1\n".encode("latin-1")


def headers_only_xlsx() -> bytes:
    return _xlsx({ACTIONS_SHEET: [list(ACTIONS_HEADER)]})


def xlsm() -> bytes:
    return _rezip(lscb_xlsx(), {}, add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 not really a macro"})
