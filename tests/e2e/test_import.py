"""Plan import over HTTP (issue 13): councils' own files in, every action and latest update as in the file, all or
nothing; the template; the round trip from a report; bad files refused with nothing written."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from openpyxl import load_workbook

from service.plan_sheet import ACTIONS_HEADER, ACTIONS_SHEET, PLAN_HEADER, PLAN_SHEET
from tests import plan_files
from tests.builders import assert_problem
from tests.conftest import BACKENDS

IMPORT = "/api/v1/plans/import"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def post_file(client: Any, headers: dict[str, str], data: bytes, media_type: str, **query: Any) -> Any:
    query = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in query.items()}
    return client.post(IMPORT, data=data, query_string=query, headers={**headers, "Content-Type": media_type})


def imported(client: Any, headers: dict[str, str], data: bytes, media_type: str, **query: Any) -> dict[str, Any]:
    """Import for real; the new plan as GET /plans/{id} shows it."""
    response = post_file(client, headers, data, media_type, **query)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.headers["Location"].endswith(f"/api/v1/plans/{response.json['plan_id']}")
    plan = client.get(response.headers["Location"], headers=headers)
    assert plan.status_code == 200
    return plan.json


def actions_of(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["number"]: {**a, "rec": r} for r in plan["recommendations"] for a in r["actions"]}


def event_count(system: Any) -> int:
    return system.app.recorder.max_notification_id() or 0


# Real layouts.


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_hartlepools_word_tables_import_with_both_kinds_and_every_action(client: Any, coordinator: Any) -> None:
    plan = imported(
        client, coordinator, plan_files.hartlepool_docx(), DOCX, default_lead_agency="council", title="Adoption"
    )
    recs = plan["recommendations"]
    kinds = [r["kind"] for r in recs]
    assert kinds == ["statutory_requirement"] * 7 + ["recommendation"] * 5
    actions = actions_of(plan)
    rows = [(f"S{r[0]}.1", r) for r in plan_files.HARTLEPOOL_REQUIREMENTS]
    rows += [(f"{r[0]}.1", (r[0], r[1], None, *r[2:])) for r in plan_files.HARTLEPOOL_RECOMMENDATIONS]
    assert sorted(actions) == sorted(number for number, _ in rows)
    for number, (rec_number, standard, regulation, text, what, who, when, progress) in rows:
        action = actions[number]
        assert action["rec"]["number"] == rec_number
        assert action["rec"]["text"] == text
        assert action["rec"]["reference"] == "; ".join(p for p in (standard, regulation) if p)
        assert (action["description"], action["lead_person"], action["due_label"]) == (what, who, when)
        assert action["lead_agency"] == "council"
        assert action["last_update"]["text"] == progress
    assert actions["S1.1"]["due_date"] == "2008-12-01"
    assert actions["1.1"]["due_date"] == "2009-02-28"  # "February 2009": the month's last day.
    assert actions["2.1"]["due_date"] == "2008-12-31"


def test_portsmouths_word_table_imports_recommendation_number_and_text_from_one_merged_heading(
    client: Any, coordinator: Any
) -> None:
    plan = imported(client, coordinator, plan_files.portsmouth_docx(), DOCX, default_lead_agency="council")
    source = plan_files.portsmouth()
    assert [(r["number"], r["text"]) for r in plan["recommendations"]] == [
        (r["number"], r["text"]) for r in source["recommendations"]
    ]
    actions = actions_of(plan)
    expected = {a["number"]: a for r in source["recommendations"] for a in r["actions"]}
    assert sorted(actions) == sorted(expected)
    for number, action in expected.items():
        got = actions[number]
        assert (got["description"], got["due_label"]) == (action["description"], action["due_label"])
        assert got["last_update"]["text"] == action["updates"][0]["progress"]
        assert got["lead_agency"] == "council"
    assert actions["1.1"]["due_date"] == "2011-03-31"  # "Target implementation March 2011"
    assert actions["8.1"]["due_date"] is None  # "Ongoing 2010/11" names no date.


def test_shropshires_word_table_imports_with_lead_agencies_by_person_and_updates_dated_by_the_heading(
    client: Any, coordinator: Any
) -> None:
    plan = imported(
        client, coordinator, plan_files.shropshire_docx(), DOCX, lead_agency_by_person=plan_files.shropshire_people()
    )
    source = plan_files.shropshire()
    assert [(r["number"], r["text"]) for r in plan["recommendations"]] == [
        (r["number"], r["text"]) for r in source["recommendations"]
    ]
    actions = actions_of(plan)
    for rec in source["recommendations"]:
        for action in rec["actions"]:
            got = actions[action["number"]]
            assert got["rec"]["number"] == rec["number"]
            assert got["description"] == action["description"]  # Target and specific actions, one per line.
            assert (got["lead_person"], got["lead_agency"]) == (action["lead_person"], action["lead_agency"])
            assert got["due_label"] == action["due_label"]
            progress = action["updates"][0]["progress"]
            want = {"text": progress, "effective_date": "2011-03-31"} if progress else None
            assert got["last_update"] == want  # "Progress March 2011" dates its updates.
            assert got["start_date"] == "2011-03-31"


def test_a_councils_own_spreadsheet_headings_heading_rows_and_numbers_as_text(client: Any, coordinator: Any) -> None:
    dry = post_file(
        client, coordinator, plan_files.lscb_xlsx(), XLSX, dry_run="true", title="LSCB workplan 2008-09", source="LSCB"
    )
    assert_problem(dry, 422)
    assert dry.json["mapping"] == {
        "No.": "action_number",
        "What we will do": "description",
        "By when": "due_label",
        "Lead": "lead_person",
        "Update January 2009": "update",
    }
    assert {e["message"].split(":")[0] for e in dry.json["errors"]} == {"no lead agency"}
    plan = imported(
        client,
        coordinator,
        plan_files.lscb_xlsx(),
        XLSX,
        title="LSCB workplan 2008-09",
        source="LSCB",
        lead_agency_by_person=plan_files.LSCB_PEOPLE,
    )
    recs = {r["number"]: r for r in plan["recommendations"]}
    assert {n: r["text"] for n, r in recs.items()} == {row[0]: row[1] for row in plan_files.LSCB_ROWS if len(row) == 2}
    actions = actions_of(plan)
    rows = [row for row in plan_files.LSCB_ROWS if len(row) > 2]
    assert sorted(actions) == sorted(row[0] for row in rows)  # "3.10" is not "3.1".
    for number, what, when, who, update in rows:
        got = actions[number]
        assert got["rec"]["number"] == number.split(".")[0]
        assert (got["description"], got["due_label"], got["lead_person"]) == (what, when, who)
        assert got["lead_agency"] == plan_files.LSCB_PEOPLE[who]
        assert got["last_update"] == ({"text": update, "effective_date": "2009-01-31"} if update else None)
    assert [actions[n]["due_date"] for n in ("1.1", "1.2", "2.1", "3.1", "3.10")] == [
        "2009-04-30",
        "2009-03-31",
        "2009-01-31",
        "2009-06-01",
        "2009-09-30",
    ]


def test_the_template_filled_in_imports_every_field(client: Any, coordinator: Any) -> None:
    source = plan_files.shropshire()
    plan = imported(client, coordinator, plan_files.template_file(source), XLSX)
    assert (plan["title"], plan["source"], plan["owner_agency"]) == tuple(source["plan"].values())
    actions = actions_of(plan)
    for rec in source["recommendations"]:
        for action in rec["actions"]:
            got = actions[action["number"]]
            last = action["updates"][-1]
            status = next((u["status"] for u in reversed(action["updates"]) if u["status"]), "not_started")
            rag = next((u["rag"] for u in reversed(action["updates"]) if u["rag"]), None)
            assert (got["rec"]["number"], got["rec"]["text"]) == (rec["number"], rec["text"])
            assert got["description"] == action["description"]
            assert (got["lead_agency"], got["lead_person"]) == (action["lead_agency"], action["lead_person"])
            assert got["contributing_agencies"] == action["contributing_agencies"]
            assert (got["due_label"], got["due_date"]) == (action["due_label"], "2011-06-20")
            assert (got["status"], got["rag"]) == (status, rag)
            assert got["last_update"] == (
                {"text": last["progress"], "effective_date": "2011-05-21"} if last["progress"] else None
            )


def test_the_template_has_the_report_columns_a_plan_sheet_and_drop_down_lists(client: Any, coordinator: Any) -> None:
    response = client.get(f"{IMPORT}/template?format=xlsx", headers=coordinator)
    assert response.status_code == 200
    assert response.mimetype == XLSX
    assert 'filename="accord-plan-template.xlsx"' in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert [c.value for c in book[ACTIONS_SHEET][1]] == list(ACTIONS_HEADER)
    assert [c.value for c in book[PLAN_SHEET][1]] == list(PLAN_HEADER)
    lists = {str(v.sqref).split(":")[0][0]: v.formula1 for v in book[ACTIONS_SHEET].data_validations.dataValidation}
    assert set(lists) == {"G", "J", "K"}  # Lead agency, Status, RAG.
    agencies = [c.value for c in book["Lists"]["A"] if c.value]
    assert agencies == ["council", "health", "police", "education", "lscb"]
    csv_template = client.get(f"{IMPORT}/template?format=csv", headers=coordinator)
    assert csv_template.mimetype == "text/csv"
    assert csv_template.data.decode("utf-8-sig").strip() == ",".join(ACTIONS_HEADER)
    empty = post_file(client, coordinator, response.data, XLSX, title="t", source="s")
    assert "no actions" in assert_problem(empty, 422)["errors"][0]["message"]


def report_xlsx(client: Any, headers: dict[str, str], plan: dict[str, Any]) -> bytes:
    """The committee report's xlsx of `plan`, as the API serves it."""
    response = client.get(f"/api/v1/plans/{plan['id']}/report", query_string={"format": "xlsx"}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return bytes(response.data)


COMPARED = ("description", "due_label", "due_date", "lead_agency", "lead_person", "contributing_agencies", "status")


def test_a_report_exported_and_imported_back_gives_the_same_actions(client: Any, coordinator: Any) -> None:
    first = imported(client, coordinator, plan_files.template_file(plan_files.shropshire()), XLSX)
    revised = actions_of(first)["2.1"]["id"]  # A revised due date: the report words "By when" differently.
    update = {"due_date": "2026-12-31", "due_label": "End of 2026", "reason": "Slipped", "status": "in_progress"}
    assert client.post(f"/api/v1/actions/{revised}/updates", json=update, headers=coordinator).status_code == 201
    first = client.get(f"/api/v1/plans/{first['id']}", headers=coordinator).json
    again = imported(client, coordinator, report_xlsx(client, coordinator, first), XLSX, title="Again", source="Report")
    before, after = actions_of(first), actions_of(again)
    assert sorted(before) == sorted(after)
    for number, action in before.items():
        assert {k: after[number][k] for k in (*COMPARED, "rag", "last_update")} == {
            k: action[k] for k in (*COMPARED, "rag", "last_update")
        }
        assert (after[number]["rec"]["number"], after[number]["rec"]["text"]) == (
            action["rec"]["number"],
            action["rec"]["text"],
        )


# All or nothing, and who recorded what.


def test_a_dry_run_shows_the_mapping_and_preview_and_writes_nothing(client: Any, coordinator: Any, system: Any) -> None:
    before = event_count(system)
    response = post_file(
        client, coordinator, plan_files.hartlepool_docx(), DOCX, dry_run="true", default_lead_agency="council"
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["recommendations"], body["actions"], body["updates"], body["errors"]) == (12, 12, 12, [])
    assert body["mapping"]["Person Responsible"] == "lead_person"
    assert body["preview"][0]["number"] == "S1.1"
    assert "plan_id" not in body
    assert event_count(system) == before


def test_every_error_is_answered_by_row_and_column_and_nothing_is_written(
    client: Any, coordinator: Any, system: Any
) -> None:
    rows = [
        ["1", "Rec", "1.1", "Fine", "March 2026", None, "health", None, None, "In progress", "Amber"],
        ["1", "Rec", "1.2", "Bad agency", None, None, "fire service", None, None, None, None],
        ["1", "Rec", "1.1", "Same number", "31/02/2026", None, "health", None, None, "Half done", "Purple"],
        ["1", "Rec", "1.3", None, None, "tomorrow", "police", None, None, None, None],
    ]
    data = plan_files._xlsx({ACTIONS_SHEET: [list(ACTIONS_HEADER[:11]), *rows]})
    before = event_count(system)
    response = post_file(client, coordinator, data, XLSX, title="t", source="s")
    body = assert_problem(response, 422)
    found = {(e["row"], e["column"]) for e in body["errors"]}
    assert found == {
        (3, "Lead agency"),
        (4, "Action"),
        (4, "By when"),  # 31/02/2026
        (4, "Status"),
        (4, "RAG"),
        (5, "What we will do"),
        (5, "Due date"),
    }
    assert event_count(system) == before
    assert client.get("/api/v1/plans", headers=coordinator).json["items"] == []


def test_imported_updates_are_recorded_by_the_coordinator_on_behalf_of_the_lead_agency(
    client: Any, coordinator: Any
) -> None:
    plan = imported(client, coordinator, plan_files.lscb_xlsx(), XLSX, title="t", source="s",
                    lead_agency_by_person=plan_files.LSCB_PEOPLE)  # fmt: skip
    action = actions_of(plan)["1.2"]
    history = client.get(f"/api/v1/actions/{action['id']}/history", headers=coordinator).json["items"]
    created, update = history[0], history[-1]
    assert created["type"] == "created" and "on_behalf_of" not in created["actor"]
    assert update["type"] == "update"
    assert update["actor"]["role"] == "coordinator" and update["actor"]["agency"] == "lscb"
    assert update["actor"]["on_behalf_of"] == "council"
    assert update["effective_date"] == "2009-01-31"
    assert update["recorded_at"][:4] > "2009"  # Recorded at the import, effective as the file says.


def test_the_lead_agency_may_retract_an_update_imported_on_its_behalf_and_no_other_agency_may(
    client: Any, coordinator: Any, users: Any
) -> None:
    plan = imported(client, coordinator, plan_files.lscb_xlsx(), XLSX, title="t", source="s",
                    lead_agency_by_person=plan_files.LSCB_PEOPLE)  # fmt: skip
    action = actions_of(plan)["1.2"]  # Led by the council.
    history = client.get(f"/api/v1/actions/{action['id']}/history", headers=coordinator).json["items"]
    retractions = f"/api/v1/actions/{action['id']}/updates/{history[-1]['id']}/retractions"
    body = {"reason": "Entered against the wrong action"}
    assert_problem(client.post(retractions, json=body, headers=users.headers("editor", "health")), 403)
    assert client.post(retractions, json=body, headers=users.headers("editor", "council")).status_code == 201


def test_only_coordinators_import(client: Any, users: Any) -> None:
    for role, agency in (("editor", "health"), ("inspector", "lscb"), ("reader", "police")):
        response = post_file(client, users.headers(role, agency), plan_files.lscb_xlsx(), XLSX, dry_run="true")
        assert_problem(response, 403)


def test_a_multipart_upload_with_options_as_form_fields(client: Any, coordinator: Any) -> None:
    response = client.post(
        IMPORT,
        data={
            "file": (io.BytesIO(plan_files.portsmouth_docx()), "portsmouth.docx"),
            "default_lead_agency": "council",
            "title": "Scrutiny panel action plan",
        },
        headers=coordinator,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.json
    plan = client.get(response.headers["Location"], headers=coordinator).json
    assert (plan["title"], plan["source"]) == (
        "Scrutiny panel action plan",
        "Imported from portsmouth.docx on " + plan["source"][-10:],
    )


def test_files_up_to_the_import_limit_pass_where_other_bodies_stop_at_64_kb(client: Any, coordinator: Any) -> None:
    bulky = "What we will do,Lead agency,Recommendation\n" + "".join(
        f"Action {n} {'x' * 200},health,{n // 10 + 1}\n" for n in range(400)
    )
    assert len(bulky) > 64 * 1024
    response = post_file(client, coordinator, bulky.encode(), "text/csv", dry_run="true", title="t", source="s")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.json["actions"] == 400
    json_headers = {**coordinator, "Content-Type": "application/json"}
    assert_problem(client.post("/api/v1/plans", data=bulky, headers=json_headers), 413)
    too_big = post_file(client, coordinator, b"x" * (10 * 1024 * 1024 + 1), "text/csv")
    assert_problem(too_big, 413)


# Bad files: each refused with a 422 saying what is wrong, never a 500, and nothing written.

BAD_FILES = [
    ("truncated zip", lambda: plan_files.lscb_xlsx()[:2000], XLSX, "not a complete zip"),
    ("fake zip", lambda: b"PK\x03\x04" + b"not really" * 100, DOCX, "not a complete zip"),
    ("a zip that is not a workbook", plan_files.hartlepool_docx, XLSX, "no xl/workbook.xml"),
    ("zip bomb", plan_files.zip_bomb_xlsx, XLSX, "decompress to more than"),
    ("zip bomb lying about its size", plan_files.lying_zip_bomb_xlsx, XLSX, "damaged"),
    ("billion laughs in a docx", plan_files.billion_laughs_docx, DOCX, "DOCTYPE"),
    ("billion laughs in an xlsx", plan_files.billion_laughs_xlsx, XLSX, "DOCTYPE"),
    ("huge cell", plan_files.huge_cell_csv, "text/csv", "longer than 20,000"),
    ("enormous cell", plan_files.enormous_cell_csv, "text/csv", "field larger than field limit"),
    ("wrong encoding", plan_files.latin1_csv, "text/csv", "not UTF-8"),
    ("empty file", lambda: b"", "text/csv", "empty"),
    ("only headers", plan_files.headers_only_xlsx, XLSX, "no actions"),
    ("macro workbook", plan_files.xlsm, XLSX, "macros"),
    ("macro media type", plan_files.lscb_xlsx, "application/vnd.ms-excel.sheet.macroEnabled.12", "macro-enabled"),
    ("no table in a docx", lambda: plan_files._docx(["Just a letter."]), DOCX, "no tables"),
    ("no header row", lambda: b"a,b\nc,d\n", "text/csv", "no header row"),
    ("rows far below", lambda: b"What we will do,Lead agency\nx,health\n" + b",\n" * 100_000, "text/csv", "past row"),
    ("too many rows", lambda: b"What we will do,Lead agency\n" + b"x,health\n" * 5001, "text/csv", "5,000"),
]


@pytest.mark.parametrize(("name", "make", "media_type", "says"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_bad_file_is_refused_saying_what_is_wrong_and_nothing_is_written(  # noqa: PLR0913, PLR0917
    client: Any, coordinator: Any, system: Any, name: str, make: Callable[[], bytes], media_type: str, says: str
) -> None:
    before = event_count(system)
    response = post_file(client, coordinator, make(), media_type, title="t", source="s", default_lead_agency="council")
    body = assert_problem(response, 422)
    assert any(says in e["message"] for e in body["errors"]), body["errors"]
    assert event_count(system) == before


def test_formulas_are_read_as_their_cached_values_never_evaluated(client: Any, coordinator: Any) -> None:
    plan = imported(client, coordinator, plan_files.formula_xlsx(), XLSX, title="t", source="s")
    action = actions_of(plan)["1.1"]
    assert action["lead_agency"] == "health"
    assert action["last_update"] == {"text": "Meeting held", "effective_date": "2026-02-01"}


def test_a_json_body_is_not_a_plan_file(client: Any, coordinator: Any) -> None:
    assert_problem(client.post(IMPORT, json={"title": "x"}, headers=coordinator), 415)


def test_several_update_columns_each_dated_by_its_heading_and_the_latest_shown(client: Any, coordinator: Any) -> None:
    data = (
        b"Rec.,Action no,What we will do,Lead agency,Update September 2013,Update December 2013,RAG\n"
        b"1,1.1,Share reports before conferences,council,Reminder sent to teams,Audit shows 90% shared,green\n"
    )
    plan = imported(client, coordinator, data, "text/csv", title="Two reports", source="s")
    action = actions_of(plan)["1.1"]
    assert action["last_update"] == {"text": "Audit shows 90% shared", "effective_date": "2013-12-31"}
    assert action["rag"] == "green"
    history = client.get(f"/api/v1/actions/{action['id']}/history", headers=coordinator).json["items"]
    assert [(i["effective_date"], i["text"]) for i in history if i["type"] == "update"] == [
        ("2013-09-30", "Reminder sent to teams"),
        ("2013-12-31", "Audit shows 90% shared"),
    ]
    assert action["start_date"] == "2013-09-30"  # The file's earliest date: no update before its action.


def test_the_paragraph_before_a_word_table_names_its_recommendation(client: Any, coordinator: Any) -> None:
    data = plan_files._docx([
        "Neglect review: action plan",
        "Recommendation No. 2: Health capacity supports practice",
        [["What we will do", "By when", "Lead agency"], ["Review health arrangements", "June 2014", "Health"],
         ["Audit contractors", "September 2014", "health"]],
        "Recommendation No. 3: Reports are shared before conferences",
        [["What we will do", "By when", "Lead agency"], ["Remind social workers", "now", "council"]],
    ])  # fmt: skip
    plan = imported(client, coordinator, data, DOCX)
    assert plan["title"] == "Neglect review: action plan"
    assert [(r["number"], r["text"], [a["number"] for a in r["actions"]]) for r in plan["recommendations"]] == [
        ("2", "Health capacity supports practice", ["2.1", "2.2"]),
        ("3", "Reports are shared before conferences", ["3.1"]),
    ]


def test_a_mapping_given_changes_how_columns_are_read(client: Any, coordinator: Any) -> None:
    data = plan_files.portsmouth_docx()
    response = post_file(
        client, coordinator, data, DOCX, dry_run="true", default_lead_agency="council", mapping={"Response": None}
    )
    assert response.status_code == 200, response.json
    assert response.json["mapping"]["Response"] is None
    assert response.json["updates"] == 0
    wrong = post_file(client, coordinator, data, DOCX, dry_run="true", mapping={"Response": "progress"})
    assert "not one of" in assert_problem(wrong, 422)["errors"][0]["message"]


def test_a_workbook_without_an_actions_sheet_is_read_from_its_first_sheet_saying_so(
    client: Any, coordinator: Any
) -> None:
    data = plan_files._xlsx({"2013": [["What we will do", "Lead agency", "Rec."], ["Do it", "police", "1"]],
                             "Notes": [["anything"]]})  # fmt: skip
    response = post_file(client, coordinator, data, XLSX, dry_run="true", title="t")
    assert response.status_code == 200, response.json
    assert response.json["warnings"] == ["only sheet '2013' was read, not 'Notes'"]


def test_a_table_continued_in_a_second_table_with_its_header_repeated(client: Any, coordinator: Any) -> None:
    header = [("Recommendation", 2), "Action", "Timescale"]
    data = plan_files._docx([
        "Scrutiny panel action plan",
        [header, ["1.", "That partners share reports", "Agree a protocol", "March 2011"],
         header, ["", "", "Audit sharing", "June 2011"]],
        [header, ["", "", "Report to the board", "September 2011"],
         ["2.", "That training continues", "Run courses", "now"]],
    ])  # fmt: skip
    plan = imported(client, coordinator, data, DOCX, default_lead_agency="council")
    assert [(r["number"], r["text"], [a["description"] for a in r["actions"]]) for r in plan["recommendations"]] == [
        ("1", "That partners share reports", ["Agree a protocol", "Audit sharing", "Report to the board"]),
        ("2", "That training continues", ["Run courses"]),
    ]


CONTROLS_ALLOWED = " or other control characters (tab, newline and carriage return are allowed)"


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_text_no_store_can_keep_is_refused_by_row_and_column_and_an_ordinary_import_still_works(
    client: Any, coordinator: Any, system: Any
) -> None:
    header = "Action,What we will do,Lead agency,Lead person,Update\n"
    bad = header + "1.1,Audit\x00the files,health,Ann,Started\n1.2,Train staff,council,Bo\x07b,Under\x1bway\n"
    before = event_count(system)
    body = assert_problem(post_file(client, coordinator, bad.encode(), "text/csv", title="t"), 422)
    assert {(e["row"], e["column"]) for e in body["errors"]} == {
        (2, "What we will do"),
        (3, "Lead person"),
        (3, "Update"),
    }
    assert {e["message"] for e in body["errors"]} == {"the cell must not contain NUL" + CONTROLS_ALLOWED}
    invalid = assert_problem(post_file(client, coordinator, bad.encode(), "text/csv", dry_run="maybe"), 422)
    assert body["title"] == invalid["title"] == "Unprocessable Entity"  # One title per status across the API.
    named = client.post(  # No title given: the file's name would be the plan's title.
        IMPORT,
        data={"file": (io.BytesIO(b"Action,What we will do,Lead agency\n1.1,Audit,health\n"), "plan\x01.csv")},
        headers=coordinator,
        content_type="multipart/form-data",
    )
    errors = assert_problem(named, 422)["errors"]
    assert [e["message"] for e in errors] == ["the plan's title must not contain NUL" + CONTROLS_ALLOWED]
    assert event_count(system) == before
    good = (header + "1.1,Audit\tthe files,health,Ann,Started\n").encode()
    plan = imported(client, coordinator, good, "text/csv", title="Tabs are text")
    assert actions_of(plan)["1.1"]["description"] == "Audit\tthe files"


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("mapping", "[" * 5000 + "]" * 5000, "must be a JSON object"),
        ("mapping", {"Cost\x00": "cost"}, "control characters"),
        ("lead_agency_by_person", {"\ud800": "health"}, "lone surrogate"),
        ("lead_agency_by_person", {"Ann": "hea\x1blth"}, "control characters"),
    ],
    ids=["deep", "nul-heading", "surrogate-person", "escape-agency"],
)
def test_a_json_option_nested_deep_or_holding_unstorable_text_is_422_naming_it_as_query_or_form_field(  # noqa: PLR0913, PLR0917
    client: Any, coordinator: Any, system: Any, option: str, value: Any, says: str
) -> None:
    data = b"Action,What we will do,Lead agency\n1.1,Audit,health\n"
    before = event_count(system)
    body = assert_problem(post_file(client, coordinator, data, "text/csv", title="t", **{option: value}), 422)
    assert says in " ".join(body["errors"][option])
    field = value if isinstance(value, str) else json.dumps(value)
    form = {"file": (io.BytesIO(data), "plan.csv"), "title": "t", option: field}
    body = assert_problem(client.post(IMPORT, data=form, headers=coordinator, content_type="multipart/form-data"), 422)
    assert says in " ".join(body["errors"][option])
    assert event_count(system) == before


def test_a_multipart_import_retried_with_its_idempotency_key_and_a_new_boundary_is_replayed(
    client: Any, coordinator: Any
) -> None:
    def upload(data: bytes, title: str = "Retried") -> Any:
        form = {"file": (io.BytesIO(data), "plan.csv"), "title": title}
        headers = {**coordinator, "Idempotency-Key": "import-once"}
        return client.post(IMPORT, data=form, headers=headers, content_type="multipart/form-data")

    data = b"Action,What we will do,Lead agency\n1.1,Audit,health\n"
    first = upload(data)  # Each upload draws its own multipart boundary, as curl and browsers do.
    assert first.status_code == 201, first.json
    again = upload(data)
    assert (again.status_code, again.headers.get("Idempotent-Replayed")) == (201, "true")
    assert again.json["plan_id"] == first.json["plan_id"]
    assert_problem(upload(data + b"1.2,Train,council\n"), 422, "Idempotency-Key")
    assert_problem(upload(data, title="Another title"), 422, "Idempotency-Key")
    assert len(client.get("/api/v1/plans", headers=coordinator).json["items"]) == 1


def test_a_keyed_multipart_import_with_a_nameless_part_is_refused_not_a_500(client: Any, coordinator: Any) -> None:
    """Found by schemathesis: a form-data part without a name (werkzeug keys it None) broke the key's fingerprint."""
    body = (
        b"--b\r\nContent-Disposition: form-data\r\n\r\nno name\r\n"
        b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nt\r\n--b--\r\n'
    )
    headers = {**coordinator, "Idempotency-Key": "nameless", "Content-Type": "multipart/form-data; boundary=b"}
    assert_problem(client.post(IMPORT, data=body, headers=headers), 422)
    assert client.get("/api/v1/plans", headers=coordinator).json["items"] == []
