"""Committee reports (issue 12), as a partnership uses them: Portsmouth's plan loaded through the API with two
months of updates, late reports and retractions (the story of test_time_travel), then its report as at the
committee's day in every format, each read back with its own reader and compared with the time-travel view."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import docx
import openpyxl
import pypdf
import pytest

from reports.spreadsheet import HEADER
from reports.words import RAG, STATUS, long_date
from service.bootstrap import bootstrap
from service.chain import Head, audit
from service.reports import committee_report
from tests.builders import COORDINATOR, assert_problem, plan_with_action, plan_with_actions
from tests.conftest import BACKENDS
from tests.e2e.test_time_travel import (  # The story, and its fixtures: played once per backend for this module.
    D4,
    LATE_61,
    REPORT,
    Scenario,
    Seen,
    day,
    fixture_update,
    iso,
    played,
    scenario,
    story_database_url,
)

__all__ = ["played", "scenario", "story_database_url"]
ACCORD = str(Path(sys.executable).with_name("accord"))
GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden"
PURPOSE = "CYP Select Committee papers"
FORMATS = ("html", "csv", "xlsx", "docx", "pdf")
# What every format shows of an action, as words: compared with the temporal view's answer.
Shown = dict[str, tuple[str, str, bool, str | None, date | None]]


def report(
    s: Scenario, fmt: str, as_at: date, known_at: datetime | None = None, purpose: str = PURPOSE, **query: Any
) -> Any:
    query = {"as_at": as_at.isoformat(), "format": fmt, **query}
    if known_at is not None:
        query["known_at"] = known_at.isoformat()
    headers = {**s.headers("inspector"), "Accord-Purpose": purpose}
    response = s.client.get(f"/api/v1/plans/{s.plan_id}/report", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response


def expected(s: Scenario, as_at: date, known_at: datetime | None) -> Shown:
    """The temporal view's answer for (as_at, known_at), as the reports word it."""
    status = s.status(as_at, known_at)
    return {
        a["number"]: (
            STATUS[a["status"]],
            RAG.get(a["rag"], ""),
            a["overdue"],
            a["last_update"]["text"] if a["last_update"] else None,
            date.fromisoformat(a["last_update"]["effective_date"]) if a["last_update"] else None,
        )
        for rec in status["recommendations"]
        for a in rec["actions"]
    }


# Readers: each format read back with its own library, into the same shape.


def read_xlsx(data: bytes) -> tuple[Shown, Any]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book["Actions"]
    assert tuple(c.value for c in sheet[1]) == HEADER
    rows = [dict(zip(HEADER, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    shown = {
        r["Action"]: (
            r["Status"],
            r["RAG"] or "",
            r["Overdue"] == "Yes",
            r["Update"],
            r["Update effective"].date() if r["Update effective"] else None,
        )
        for r in rows
    }
    return shown, book


def read_csv(data: bytes) -> Shown:
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert rows and tuple(rows[0]) == HEADER
    return {
        r["Action"]: (
            r["Status"],
            r["RAG"],
            r["Overdue"] == "Yes",
            r["Update"] or None,
            date.fromisoformat(r["Update effective"]) if r["Update effective"] else None,
        )
        for r in rows
    }


def read_docx(data: bytes, as_at: date) -> tuple[Shown, Any]:
    document = docx.Document(io.BytesIO(data))
    shown: Shown = {}
    for table in document.tables[1:]:  # The first is the summary; then one per recommendation.
        header = [c.text for c in table.rows[0].cells]
        assert header == ["What we will do", "By when", "Lead", "Status", f"Update {as_at:%B %Y}"]
        for row in table.rows[1:]:
            what, _, _, status, update = row.cells
            number = what.paragraphs[0].runs[0].text.strip()
            lines = [p.text for p in status.paragraphs]
            texts = [p.text for p in update.paragraphs]
            has_update = texts[0] != "No update"
            effective = re.fullmatch(r"\(effective (.+)\)", texts[1]) if has_update else None
            shown[number] = (
                lines[0],
                next((line for line in lines[1:] if line in RAG.values()), ""),
                "Overdue" in lines,
                texts[0] if has_update else None,
                datetime.strptime(effective.group(1), "%d %B %Y").date() if effective else None,
            )
    return shown, document


def read_html(data: bytes) -> Shown:
    page = data.decode()
    shown: Shown = {}
    for number, row in re.findall(r'<tr id="action-([^"]+)"[^>]*>(.*?)</tr>', page, re.S):
        cells = [html.unescape(re.sub(r"<[^>]+>", "\n", c)) for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
        status = [line.strip() for line in cells[4].split("\n") if line.strip()]
        update = re.search(r'<span class="update">(.*?)</span>', row, re.S)
        effective = re.search(r"\(effective ([^)]+)\)", cells[5])
        shown[number] = (
            status[0],
            next((line for line in status[1:] if line in RAG.values()), ""),
            "Overdue" in status,
            html.unescape(update.group(1)) if update else None,
            datetime.strptime(effective.group(1), "%d %B %Y").date() if effective else None,
        )
    return shown


def pdf_pages(data: bytes) -> list[str]:
    """Each page's text, whitespace collapsed (lines wrap inside table cells)."""
    return [" ".join(page.extract_text().split()) for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def accord(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"ACCORD_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"}
    return subprocess.run([ACCORD, *args], env=env, capture_output=True, text=True, check=False)


def flat(text: str) -> str:
    return " ".join(text.split())


# The committee's report, in every format.


def test_every_format_as_at_the_committee_shows_what_the_temporal_view_shows(
    scenario: Scenario, played: dict[str, Seen]
) -> None:
    s, committee = scenario, played["committee"]
    want = expected(s, day(REPORT), committee.known_at)
    assert len(want) == 17 and sum(1 for v in want.values() if v[3]) >= 12
    shown_that_day = {a["number"]: a["last_update"] for r in committee.plan["recommendations"] for a in r["actions"]}
    assert {n: v[3] for n, v in want.items()} == {n: u and u["text"] for n, u in shown_that_day.items()}
    heads = set()
    for fmt in FORMATS:
        response = report(s, fmt, day(REPORT), committee.known_at)
        data, head = response.data, response.headers["Accord-Audit-Head"]
        heads.add(head)
        footer = f"Audit head {head}"
        if fmt != "html":
            slug = "action-plan-in-response-to-the-scrutiny-panel"  # The title, cut at a word within 60 characters.
            assert response.headers["Content-Disposition"] == f'attachment; filename="{slug}-as-at-{iso(REPORT)}.{fmt}"'
        if fmt == "xlsx":
            shown, book = read_xlsx(data)
            assert shown == want
            about = {row[0]: row[1] for row in book["About"].iter_rows(values_only=True) if row and row[0]}
            assert about["Audit head"] == head and about["As at"].date() == day(REPORT)
            assert datetime.fromisoformat(about["As known at"]) == committee.known_at
            for sheet in book.worksheets:
                assert footer in sheet.oddFooter.left.text
        elif fmt == "csv":
            assert read_csv(data) == want
        elif fmt == "docx":
            shown, document = read_docx(data, day(REPORT))
            assert shown == want
            assert all(footer in s_.footer.paragraphs[0].text for s_ in document.sections)
        elif fmt == "html":
            assert read_html(data) == want
            assert footer in data.decode()
        else:
            pages = pdf_pages(data)
            assert len(pages) > 1 and all(footer in page and "Page " in page for page in pages)
            # A row may run on to the next page: read the pages as one, without their footers and the table
            # headings repeated at the top of the next page.
            proof = re.compile(
                r"As at .{0,400}?Audit head \d+:[0-9a-f]{64}|Page \d+ of \d+"
                r"|No\. What we will do By when Lead Status Update \w+ \d{4}"
            )
            text = " ".join(" ".join(proof.sub(" ", page).split()) for page in pages)
            for _, _, _, update, effective in want.values():
                assert update is None or flat(update) in text
                assert effective is None or f"(effective {long_date(effective)})" in text
    assert len(heads) == 1, "every format was read from the same store state"


def test_the_docx_and_xlsx_keep_the_councils_layout(scenario: Scenario, played: dict[str, Seen]) -> None:
    """Golden structure (not bytes) of Portsmouth's report as known now at the story's end."""
    s = scenario
    as_at = day(D4)
    _, document = read_docx(report(s, "docx", as_at, since=iso(REPORT)).data, as_at)
    _, book = read_xlsx(report(s, "xlsx", as_at, since=iso(REPORT)).data)
    month = f"{as_at:%B %Y}"
    structure = {
        "docx": {
            "headings": [p.text for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))],
            "tables": [
                [
                    [c.text.replace(month, "<Month YYYY>") for c in table.rows[0].cells],
                    [row.cells[0].paragraphs[0].runs[0].text.strip() for row in table.rows[1:]],
                ]
                for table in document.tables[1:]
            ],
            "landscape": [(sec.page_width > sec.page_height) for sec in document.sections],
            "repeated_header": [
                table.rows[0]._tr.trPr is not None
                and table.rows[0]._tr.trPr.find(docx.oxml.ns.qn("w:tblHeader")) is not None
                for table in document.tables[1:]
            ],
        },
        "xlsx": {
            "sheets": book.sheetnames,
            "header": [c.value for c in book["Actions"][1]],
            "actions": [[r[0], r[2]] for r in book["Actions"].iter_rows(min_row=2, values_only=True)],
            "frozen": book["Actions"].freeze_panes,
            "filter": book["Actions"].auto_filter.ref,
            "rag_filled": sorted(
                {
                    (c.value, c.fill.fgColor.rgb[-6:])
                    for c in book["Actions"]["K"][1:]
                    if c.value  # Every RAG cell says its colour in words, and is filled with it.
                }
            ),
            "about": [row[0] for row in book["About"].iter_rows(values_only=True) if row and row[0]][:8],
        },
    }
    structure["docx"]["headings"] = [h.replace(long_date(as_at), "<D>") for h in structure["docx"]["headings"]]
    golden = GOLDEN / "portsmouth-report-structure.json"
    got = json.loads(json.dumps(structure))
    if not golden.exists():  # Written once, read by a person, committed; from then on compared.
        golden.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n")
        pytest.fail(f"wrote {golden}: read it, then commit it")
    assert got == json.loads(golden.read_text()), json.dumps(got, indent=1)


def test_a_late_report_is_absent_as_known_before_it_and_present_after(
    scenario: Scenario, played: dict[str, Seen]
) -> None:
    """6.1 was completed on day 42, before the committee met on day 44, but reported only on day 70."""
    s = scenario
    for known_at, there in ((played["committee"].known_at, False), (played["batch 3"].known_at, True)):
        for fmt, read in (("xlsx", lambda d: read_xlsx(d)[0]), ("csv", read_csv), ("html", read_html)):
            shown = read(report(s, fmt, day(REPORT), known_at).data)
            assert (shown["6.1"][3] == LATE_61) is there, (fmt, known_at)
            assert (shown["6.1"][0] == "Completed") is there, (fmt, known_at)


def test_a_retraction_recorded_after_the_committee_does_not_change_the_report_as_known_then(
    scenario: Scenario, played: dict[str, Seen]
) -> None:
    """Education's 2.1 update (day 20) was shown to the committee; it was retracted on day 76."""
    s, committee = scenario, played["committee"]
    education = fixture_update("2.1", 1)["progress"]
    then_shown = committee.plan
    shown_then = {a["number"]: a for r in then_shown["recommendations"] for a in r["actions"]}
    assert shown_then["2.1"]["last_update"]["text"] == education
    as_known_then, _ = read_docx(report(s, "docx", day(REPORT), committee.known_at).data, day(REPORT))
    as_known_now, _ = read_docx(report(s, "docx", day(REPORT)).data, day(REPORT))
    assert as_known_then["2.1"][3] == education
    assert as_known_now["2.1"][3] == fixture_update("2.1", 0)["progress"]
    for number, action in shown_then.items():  # Everything the committee read, as it read it.
        assert as_known_then[number][3] == (action["last_update"] or {}).get("text"), number


def test_revised_timescales_show_the_current_date_and_what_they_were_revised_from(
    scenario: Scenario, played: dict[str, Seen]
) -> None:
    s = scenario
    rows = {r[2]: r for r in openpyxl.load_workbook(io.BytesIO(report(s, "xlsx", day(D4)).data))["Actions"].values}
    by_when = HEADER.index("By when")
    assert rows["2.1"][by_when] == (
        f"{long_date(day(120))} (March 2011); revised from Procedure refresh December 2010 (Regional chapters delayed)"
    )
    assert rows["8.1"][by_when].endswith("(Brought forward)")
    assert rows["1.1"][by_when] == "Target implementation March 2011"  # Never revised: the plan's own words.
    # As at a day before the revision took effect, the plan's own words stand.
    earlier = {r[2]: r for r in openpyxl.load_workbook(io.BytesIO(report(s, "xlsx", day(50)).data))["Actions"].values}
    assert earlier["2.1"][by_when] == "Procedure refresh December 2010"


def test_since_marks_each_changed_action_and_says_what_changed(scenario: Scenario, played: dict[str, Seen]) -> None:
    s = scenario
    page = report(s, "html", day(D4), since=iso(REPORT)).data.decode()
    changed = set(re.findall(r'<tr id="action-([^"]+)" class="changed"', page))
    changes = s.get(
        f"/api/v1/plans/{s.plan_id}/changes", s.headers("inspector"), **{"from": iso(REPORT), "to": iso(D4)}
    )
    assert changed == {item["number"] for item in changes["items"]}
    assert {"13.2", "1.1"} <= changed and "new action" in page  # 13.2 was raised from day 60.
    assert "status In progress → Completed" in page or "RAG" in page
    assert 'class="changed"' not in report(s, "html", day(D4)).data.decode()  # Without `since`, nothing is marked.


def test_the_footers_audit_head_verifies_and_every_read_is_in_the_access_log(
    scenario: Scenario, played: dict[str, Seen], story_database_url: str
) -> None:
    s = scenario
    purpose = "Audit committee: checking the September papers"
    heads = [report(s, fmt, day(REPORT), purpose=purpose).headers["Accord-Audit-Head"] for fmt in ("csv", "xlsx")]
    result = accord(story_database_url, "audit", "verify", "--expect", heads[0])
    assert result.returncode == 0, result.stderr
    assert f"head {heads[0].split(':')[1]}" in result.stdout or "chain intact" in result.stdout
    tampered = heads[0][:-1] + ("0" if heads[0][-1] != "0" else "1")
    result = accord(story_database_url, "audit", "verify", "--expect", tampered)
    assert result.returncode == 1
    log = s.get("/api/v1/access-log", s.headers("inspector"))["items"]
    reads = [e for e in log if e["purpose"] == purpose]
    assert [(e["what"], e["plan_id"], e["params"]["format"]) for e in reads] == [
        ("plan_report", s.plan_id, "csv"),
        ("plan_report", s.plan_id, "xlsx"),
    ]
    assert all(e["params"]["as_at"] == iso(REPORT) and e["user"]["role"] == "inspector" for e in reads)


def test_accord_report_writes_the_same_report_and_logs_the_read(
    scenario: Scenario, played: dict[str, Seen], story_database_url: str, tmp_path: Path
) -> None:
    s, committee = scenario, played["committee"]
    out = tmp_path / "report.csv"
    command = ["report", s.plan_id, "--as-at", iso(REPORT), "--known-at", committee.known_at.isoformat()]
    result = accord(
        story_database_url, *command, "--format", "csv", "-o", str(out), "--by", "Clerk", "--purpose", PURPOSE
    )
    assert result.returncode == 0, result.stderr
    assert read_csv(out.read_bytes()) == expected(s, day(REPORT), committee.known_at)
    head = re.search(r"audit head (\d+:[0-9a-f]{64})", result.stderr)
    assert head is not None
    log = s.get("/api/v1/access-log", s.headers("inspector"), user="Clerk")["items"]
    assert [(e["what"], e["plan_id"], e["purpose"]) for e in log] == [("plan_report", s.plan_id, PURPOSE)]
    bad = accord(story_database_url, *command, "--since", iso(REPORT + 1), "--format", "csv", "-o", str(out))
    assert bad.returncode == 2


def test_bad_report_requests_are_problems(scenario: Scenario, played: dict[str, Seen]) -> None:
    s, path = scenario, f"/api/v1/plans/{scenario.plan_id}/report"
    reader = s.headers("reader")
    assert_problem(s.client.get(path, query_string={"format": "odt"}, headers=reader), 422, "format")
    query = {"as_at": iso(REPORT), "since": iso(REPORT + 1)}
    assert_problem(s.client.get(path, query_string=query, headers=reader), 422, "since")
    after_today = {"since": (s.system.app.today() + timedelta(days=1)).isoformat()}  # as_at defaults to today.
    assert_problem(s.client.get(path, query_string=after_today, headers=reader), 422, "since")
    before = {"known_at": "2000-01-01T00:00:00+00:00"}  # Before the plan was recorded.
    assert_problem(s.client.get(path, query_string=before, headers=reader), 404)
    unknown = "/api/v1/plans/00000000-0000-4000-8000-000000000000/report"
    assert_problem(s.client.get(unknown, headers=reader), 404)
    ok = s.client.get(path, headers=reader)  # Defaults: HTML, today, as known now; any role may read it.
    assert ok.status_code == 200 and ok.mimetype == "text/html" and "Content-Disposition" not in ok.headers


def test_text_with_control_characters_or_markup_prints_as_text(client: Any, users: Any, system: Any) -> None:
    """A stored update may hold characters Word and Excel cannot (a vertical tab pasted from a form, recorded
    before the API refused such text: stored events are forever): shown without them. And text is text: markup
    in an update is shown, never obeyed."""
    coordinator, health = users.headers("coordinator", "lscb"), users.headers("editor", "health")
    plan_id, _, action_id = plan_with_action(client, coordinator)
    refused = client.post(f"/api/v1/actions/{action_id}/updates", json={"progress": "Audit\x0bdone"}, headers=health)
    assert_problem(refused, 422)
    system.app.post_update(COORDINATOR, UUID(action_id), progress="Audit\x0bdone")  # As stored before the edge.
    path = f"/api/v1/plans/{plan_id}/report"
    shown, _ = read_xlsx(client.get(path, query_string={"format": "xlsx"}, headers=coordinator).data)
    assert shown["2.1"][3] == "Auditdone"
    docx_file = client.get(path, query_string={"format": "docx"}, headers=coordinator).data
    words, _ = read_docx(docx_file, system.app.today())
    assert words["2.1"][3] == "Auditdone"
    as_posted = read_csv(client.get(path, query_string={"format": "csv"}, headers=coordinator).data)
    assert as_posted["2.1"][3] == "Audit\x0bdone"
    marked_up = {"progress": "<script>alert(1)</script> & <b>not bold</b>"}
    assert client.post(f"/api/v1/actions/{action_id}/updates", json=marked_up, headers=health).status_code == 201
    page = client.get(path, headers=coordinator).data.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;not bold&lt;/b&gt;" in page and "<script>" not in page


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_the_head_is_where_the_read_models_stood_when_read_and_it_verifies(settings: Any) -> None:
    """With workers behind the store, the report shows what the read models hold, and its head covers exactly that."""
    system = bootstrap(settings, in_process=False)
    try:
        made = plan_with_actions(system.app, 2)
        system.projections.catch_up_all()
        read_at = system.app.recorder.max_notification_id()
        action_id, editor = made.actions[0]
        system.app.post_update(editor, action_id, progress="Recorded after the read models last moved")
        assert system.app.recorder.max_notification_id() > read_at
        now, today = system.app.clock(), system.app.today()
        report = committee_report(system, str(made.plan_id), as_at=today, known_at=now, reader=COORDINATOR)
        assert report.proof.position == read_at
        assert all(a.update is None for _, a in report.actions)
        assert audit(system.app.recorder, Head(read_at, report.proof.digest)).first_break is None
        system.projections.catch_up_all()
        later = committee_report(system, str(made.plan_id), as_at=today, known_at=now, reader=COORDINATOR)
        assert later.proof.position > read_at and later.proof.digest != report.proof.digest
    finally:
        system.close()
