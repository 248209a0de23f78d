# ruff: noqa: F811  (the page fixtures of test_pages, imported by name)
"""The pages for uploading a plan, a plan's meetings and one's account, through Flask's test client.

Each page's rules: who may use it, CSRF, errors as GOV.UK shows them, and that what a page writes is what the API's
use cases write. The same pages in a real browser, with axe-core, are in test_browser.py.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from service.bootstrap import System
from tests.builders import COORDINATOR, plan_with_actions
from tests.e2e.test_pages import browser, clock, csrf, pages, person, sign_in, text  # noqa: F401

GOOD = (
    b"Recommendation,Recommendation text,Action,What we will do,By when,Lead agency,Status,Update\n"
    b"1,Improve the flagging of children,1.1,Audit flags,31/03/2027,health,In progress,Audit <b>begun</b>\n"
    b"1,Improve the flagging of children,1.2,Train staff,End of April 2027,,In progress,\n"
)


def long(day: date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


def plans(system: System) -> list[dict[str, Any]]:
    return system.current.list_plans(system.app.today())  # type: ignore[no-any-return]


def upload(client: Any, data: bytes, name: str = "plan.csv", **fields: str) -> Any:
    form = client.get("/plans/import")
    return client.post(
        "/plans/import",
        data={"csrf_token": csrf(form.text), "file": (__import__("io").BytesIO(data), name, "text/csv"), **fields},
        content_type="multipart/form-data",
    )


def preview_post(client: Any, button: str, **fields: str) -> Any:
    """The preview's form as a browser sends it: each select's chosen option, then the changes in `fields`."""
    page = client.get("/plans/import/preview")
    chosen = {
        name: (re.findall(r'<option value="([^"]*)" selected', options) or [""])[0]
        for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page.text, re.S)
    }
    return client.post("/plans/import/preview", data={"csrf_token": csrf(page.text), **chosen, **fields, button: "x"})


def test_only_coordinators_may_upload_a_plan(pages: System, browser: Any) -> None:
    email, _ = person(pages, "editor", "health")
    sign_in(browser, email)
    assert browser.get("/plans/import").status_code == 403
    assert browser.get("/plans/import/preview").status_code == 403
    assert "Upload a plan" not in browser.get("/plans").text


def test_an_upload_is_previewed_with_every_error_and_imported_only_whole(pages: System, browser: Any) -> None:
    email, _ = person(pages, "coordinator", "lscb")
    sign_in(browser, email)
    sent = upload(browser, GOOD)
    assert sent.headers["Location"] == "/plans/import/preview"
    preview = browser.get("/plans/import/preview")
    read = text(preview.text)
    assert "There is a problem" in read and "The plan cannot be imported yet: 1 error" in read
    assert re.search(r"the CSV file\s+3\s+No lead agency", read)  # Where, row, what.
    assert "Import the plan" not in read  # Only "Check again" until the file imports whole.
    refused = preview_post(browser, "confirm")  # Confirming anyway writes nothing.
    assert "The plan was not imported" in text(refused.text)
    assert plans(pages) == []

    checked = preview_post(browser, "check", default_lead_agency="police")
    assert checked.headers["Location"] == "/plans/import/preview"
    again = browser.get("/plans/import/preview")
    read = text(again.text)
    assert "There is a problem" not in read and "Import the plan" in read
    assert "2 actions" in read and "Audit <b>begun</b>" in read and "<b>begun" not in again.text
    # The row as it will be stored.
    assert re.search(r"Train staff\s+End of April 2027\s+Due date: 30 April 2027\s+Police", read)
    done = preview_post(browser, "confirm")
    [plan] = plans(pages)
    assert done.headers["Location"] == f"/plans/{plan['id']}"
    board = text(browser.get(done.headers["Location"]).text)
    assert "The plan was imported: 1 recommendation, 2 actions, 2 updates" in board
    assert browser.get("/plans/import/preview").headers["Location"] == "/plans/import"  # The file is gone.


def test_a_heading_mapped_to_ignore_is_not_imported(pages: System, browser: Any) -> None:
    email, _ = person(pages, "coordinator", "lscb")
    sign_in(browser, email)
    upload(browser, GOOD, default_lead_agency="police")
    page = browser.get("/plans/import/preview")
    [update] = re.findall(r'<label class="govuk-label" for="(field-\d+)">\s*Update\s*</label>', page.text)
    assert preview_post(browser, "check", **{update: "ignore"}).status_code == 302
    read = text(browser.get("/plans/import/preview").text)
    assert "Audit <b>begun</b>" not in read
    preview_post(browser, "confirm", **{update: "ignore"})
    [plan] = plans(pages)
    assert [
        a["last_update"]
        for r in pages.current.get_plan(plan["id"], pages.app.today())["recommendations"]
        for a in r["actions"]
    ] == [None, None]


def test_an_upload_without_its_csrf_token_is_refused_and_kept_nowhere(pages: System, browser: Any) -> None:
    email, _ = person(pages, "coordinator", "lscb")
    sign_in(browser, email)
    sent = browser.post("/plans/import", data={"file": (__import__("io").BytesIO(GOOD), "p.csv")})
    assert sent.status_code == 400
    assert browser.get("/plans/import/preview").headers["Location"] == "/plans/import"


def test_an_uploaded_file_belongs_to_the_session_that_sent_it(pages: System, browser: Any) -> None:
    from api import create_app

    email, _ = person(pages, "coordinator", "lscb")
    other, _ = person(pages, "coordinator", "council")
    sign_in(browser, email)
    upload(browser, GOOD, default_lead_agency="police")
    stranger = create_app(system=pages).test_client()
    sign_in(stranger, other)
    with browser.session_transaction() as first:
        kept = first["import_upload"]
    with stranger.session_transaction() as second:
        second["import_upload"] = kept  # Even knowing the id, another person's session cannot use the file.
    assert stranger.get("/plans/import/preview").headers["Location"] == "/plans/import"


def test_a_bad_file_is_refused_with_what_is_wrong(pages: System, browser: Any) -> None:
    email, _ = person(pages, "coordinator", "lscb")
    sign_in(browser, email)
    upload(browser, b"", name="empty.csv")
    read = text(browser.get("/plans/import/preview").text)
    assert "There is a problem" in read and "Import the plan" not in read
    assert plans(pages) == []


# Meetings.


def meetings_post(client: Any, plan_id: UUID, **fields: str) -> Any:
    page = client.get(f"/plans/{plan_id}/meetings")
    key = re.search(r'name="key" value="([^"]*)"', page.text)
    return client.post(
        f"/plans/{plan_id}/meetings",
        data={"csrf_token": csrf(page.text), "key": key.group(1) if key else "", **fields},
    )


def date_fields(name: str, day: date) -> dict[str, list[str]]:
    """GOV.UK's date input: three boxes of the same name."""
    return {name: [str(day.day), str(day.month), str(day.year)]}


def test_a_meeting_added_appears_with_the_chase_list(pages: System, browser: Any) -> None:
    plan = plan_with_actions(pages.app, 2, agencies=["health", "police"])
    pages.app.post_update(COORDINATOR, plan.action_ids[1], progress="Police are on track")
    email, _ = person(pages, "coordinator", "lscb")
    sign_in(browser, email)
    day = pages.app.today() + timedelta(days=40)
    fields = {"title": "Select Committee", **date_fields("meeting_date", day)}
    added = meetings_post(browser, plan.plan_id, **fields, **date_fields("updates_due", day - timedelta(days=14)))
    assert added.headers["Location"] == f"/plans/{plan.plan_id}/meetings"
    read = text(browser.get(added.headers["Location"]).text)
    assert f"The meeting on {long(day)} has been added" in read
    assert re.search(rf"{long(day)}\s+Next\s+Select Committee\s+{long(day - timedelta(days=14))}", read)
    assert re.search(r"Health\s+1\s+Action\s+1\.0\s*: d", read)  # No update yet...
    assert re.search(r"Police\s+0\s+Up to date", read)  # ...and updated (with no previous meeting).
    assert f'href="/actions/{plan.action_ids[0]}"' in browser.get(f"/plans/{plan.plan_id}/meetings").text
    assert f'href="/plans/{plan.plan_id}/meetings"' in browser.get(f"/plans/{plan.plan_id}").text


def test_meeting_errors_follow_the_error_summary_and_write_nothing(pages: System, browser: Any) -> None:
    plan = plan_with_actions(pages.app, 1)
    email, _ = person(pages, "coordinator", "lscb")
    sign_in(browser, email)
    empty = meetings_post(browser, plan.plan_id)
    read = text(empty.text)
    assert (
        "There is a problem" in read and "Enter the meeting's name" in read and "Enter the date of the meeting" in read
    )
    day = pages.app.today() + timedelta(days=10)
    late = meetings_post(
        browser,
        plan.plan_id,
        title="Board",
        **date_fields("meeting_date", day),
        **date_fields("updates_due", day + timedelta(days=1)),
    )
    assert "Updates due by must be on or before the date of the meeting" in text(late.text)
    assert "No meetings have been added yet" in text(late.text)


def test_only_coordinators_add_meetings(pages: System, browser: Any) -> None:
    plan = plan_with_actions(pages.app, 1)
    email, _ = person(pages, "editor", "health")
    sign_in(browser, email)
    page = browser.get(f"/plans/{plan.plan_id}/meetings")
    assert page.status_code == 200 and "Add a meeting" not in page.text
    day = pages.app.today() + timedelta(days=10)
    fields = {"title": "Board", **date_fields("meeting_date", day), **date_fields("updates_due", day)}
    refused = browser.post(f"/plans/{plan.plan_id}/meetings", data={"csrf_token": csrf(page.text), **fields})
    assert refused.status_code == 403
    assert "No meetings have been added yet" in text(browser.get(f"/plans/{plan.plan_id}/meetings").text)


def test_a_meeting_form_without_its_csrf_token_writes_nothing(pages: System, browser: Any) -> None:
    plan = plan_with_actions(pages.app, 1)
    email, _ = person(pages, "coordinator", "lscb")
    sign_in(browser, email)
    day = pages.app.today() + timedelta(days=10)
    fields = {"title": "Board", **date_fields("meeting_date", day), **date_fields("updates_due", day)}
    assert browser.post(f"/plans/{plan.plan_id}/meetings", data=fields).status_code == 400
    assert "No meetings have been added yet" in text(browser.get(f"/plans/{plan.plan_id}/meetings").text)


# Account and home.


def test_the_account_page_shows_who_and_turns_the_digest_off(pages: System, browser: Any) -> None:
    email, user_id = person(pages, "editor", "health", name="Ann <i>Nurse</i>")
    sign_in(browser, email)
    page = browser.get("/account")
    read = text(page.text)
    assert re.search(r"Name\s+Ann <i>Nurse</i>\s+Agency\s+Health\s+Role\s+Editor\s+Email address\s+" + email, read)
    assert "Reminders cannot be turned off" in read
    saved = browser.post("/account", data={"csrf_token": csrf(page.text), "digests": "off"})
    assert saved.headers["Location"] == "/account"
    assert "You will not get the weekly digest email" in text(browser.get("/account").text)
    assert [u["digests"] for u in pages.app.list_users() if u["id"] == user_id] == [False]
    assert browser.post("/account", data={"digests": "on"}).status_code == 400  # No CSRF token: nothing changes.
    assert [u["digests"] for u in pages.app.list_users() if u["id"] == user_id] == [False]


def test_home_counts_no_update_since_the_last_committee(pages: System, browser: Any) -> None:
    today = pages.app.today()
    plan = plan_with_actions(pages.app, 2, agencies=["health"], start=lambda n: today - timedelta(days=300))
    pages.app.schedule_meeting(
        COORDINATOR,
        plan.plan_id,
        meeting_date=today - timedelta(days=20),
        title="Board",
        updates_due=today - timedelta(days=25),
    )
    # Reported today, after the committee, about something long ago: up to date since the committee.
    pages.app.post_update(
        COORDINATOR, plan.action_ids[0], progress="Done in spring", effective_date=today - timedelta(days=200)
    )
    email, _ = person(pages, "editor", "health")
    sign_in(browser, email)
    home = text(browser.get("/").text).split("Actions for Health")[1]
    assert "1.1" in home and "No recent update" in home
    assert "1.0" not in home


# The committee report.


def test_the_report_page_embeds_the_report_since_the_previous_meeting_with_downloads(
    pages: System, browser: Any
) -> None:
    today = pages.app.today()
    plan = plan_with_actions(pages.app, 1, agencies=["health"], start=lambda n: today - timedelta(days=100))
    last = today - timedelta(days=30)
    pages.app.schedule_meeting(COORDINATOR, plan.plan_id, meeting_date=last, title="Board", updates_due=last)
    pages.app.post_update(COORDINATOR, plan.action_ids[0], progress="Flags <b>audited</b>", status="in_progress")
    email, _ = person(pages, "reader", "police")
    sign_in(browser, email)
    board = browser.get(f"/plans/{plan.plan_id}").text
    assert f'href="/plans/{plan.plan_id}/report"' in board
    page = browser.get(f"/plans/{plan.plan_id}/report")
    read = text(page.text)
    assert f"Plan: position as at {long(today)}" in read
    assert f"Changed since {long(last)}: 1 action" in read  # The previous meeting, by default.
    assert "Flags <b>audited</b>" in read and "<b>audited" not in page.text
    links = dict(re.findall(r'href="([^"]+/report/download[^"]*)"[^>]*>(\w+)', page.text))
    assert sorted(links.values()) == ["CSV", "Excel", "PDF", "Word"]
    csv_link = next(href for href, name in links.items() if name == "CSV").replace("&amp;", "&")
    got = browser.get(csv_link)
    assert got.status_code == 200 and got.headers["Content-Disposition"].startswith("attachment; filename=")
    assert "Flags <b>audited</b>" in got.get_data(as_text=True)
    assert browser.get(f"/plans/{plan.plan_id}/report/download?format=exe").status_code == 404


def test_the_report_as_at_a_past_date_as_known_then(pages: System, browser: Any, clock: Any) -> None:
    today = pages.app.today()
    clock.now -= timedelta(days=100)  # The plan was recorded then...
    plan = plan_with_actions(pages.app, 1, agencies=["health"])
    clock.now += timedelta(days=100)  # ...and its update only today.
    committee = today - timedelta(days=10)
    pages.app.post_update(COORDINATOR, plan.action_ids[0], progress="Reported late", effective_date=committee)
    email, _ = person(pages, "reader", "police")
    sign_in(browser, email)
    chosen = browser.get(
        f"/plans/{plan.plan_id}/report?report_date={committee.day}&report_date={committee.month}"
        f"&report_date={committee.year}&known=then&since=&since=&since="
    )
    target = chosen.headers["Location"]
    assert f"as_at={committee.isoformat()}" in target and "known_at=" in target
    read = text(browser.get(target).text)
    assert f"position as at {long(committee)}" in read
    assert "Reported late" not in read  # Recorded today: the committee could not have been told.
    later = text(browser.get(f"/plans/{plan.plan_id}/report?as_at={committee.isoformat()}").text)
    assert "Reported late" in later
    before = today - timedelta(days=200)
    unknown = text(
        browser.get(
            f"/plans/{plan.plan_id}/report?as_at={before.isoformat()}&known_at={before.isoformat()}T12:00:00%2B00:00"
        ).text
    )
    assert f"Accord did not yet know this plan on {long(before)}" in unknown


def test_an_inspector_gives_a_purpose_before_the_report_and_the_read_is_logged(pages: System, browser: Any) -> None:
    from api import create_app
    from api.access_log import access_log

    plan = plan_with_actions(pages.app, 1)
    email, _ = person(pages, "inspector", "lscb")
    sign_in(browser, email)
    first = browser.get(f"/plans/{plan.plan_id}/report")
    assert first.headers["Location"].startswith("/purpose?next=")
    download = browser.get(f"/plans/{plan.plan_id}/report/download?format=csv")
    assert download.headers["Location"].startswith("/purpose?next=")
    form = browser.get(first.headers["Location"])
    browser.post(first.headers["Location"], data={"csrf_token": csrf(form.text), "purpose": "Ofsted ILACS sample"})
    assert browser.get(f"/plans/{plan.plan_id}/report").status_code == 200
    with create_app(system=pages).app_context():
        reads = [e for e in access_log().entries() if e["what"] == "plan_report"]
    assert [(r["plan_id"], r["purpose"]) for r in reads] == [(str(plan.plan_id), "Ofsted ILACS sample")]


def test_a_plan_file_may_be_larger_than_other_posts_up_to_the_import_limit(pages: System, browser: Any) -> None:
    email, _ = person(pages, "coordinator", "lscb")
    sign_in(browser, email)
    rows = b"".join(b"1,Rec,1.%d,Audit flags,31/03/2027,health,In progress,Begun\n" % n for n in range(3000))
    big = GOOD.split(b"\n")[0] + b"\n" + rows
    assert pages.settings.max_body_bytes < len(big) < pages.settings.import_max_bytes
    assert upload(browser, big).headers["Location"] == "/plans/import/preview"
    assert "Accord found 1 recommendation, 3000 actions" in text(browser.get("/plans/import/preview").text)
    too_big = upload(browser, b"x" * (pages.settings.import_max_bytes + 1))
    assert too_big.status_code == 413 and "What you sent is too large" in text(too_big.text)
