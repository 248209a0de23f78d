"""The pages in a real browser: Debian's Chromium against a real `accord serve`, axe-core on every page visited.

One server and one browser for the whole module; each test has a fresh browser context (its own cookies).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser import PASSWORD, Server, axe_violations, chromium, served, sign_in

TODAY = date.today()
COMMITTEE = TODAY - timedelta(days=30)


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


class Story:
    """A plan with three actions and back-dated updates, and the people who sign in to read and update it."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.coordinator = server.token("coordinator", "lscb")
        self.health = server.token("editor", "health")
        plan = server.api(
            "POST", "/plans", self.coordinator, {"title": "Joint plan", "source": "Ofsted 2026", "owner_agency": "lscb"}
        )
        self.plan_id = plan["id"]
        self.actions: dict[str, str] = {}
        for rec_number, actions in (
            ("1", [("1.1", "health", 20), ("1.2", "council", -5)]),
            ("2", [("2.1", "health", None)]),
        ):
            rec = server.api(
                "POST",
                f"/plans/{self.plan_id}/recommendations",
                self.coordinator,
                {"number": rec_number, "text": f"Recommendation {rec_number}", "timescale": "This year"},
            )
            for number, lead, due in actions:
                self.actions[number] = server.api(
                    "POST",
                    f"/plans/{self.plan_id}/actions",
                    self.coordinator,
                    {
                        "recommendation_id": rec["id"],
                        "number": number,
                        "description": f"Action {number}: audit the flagging of children subject to a plan",
                        "lead_agency": lead,
                        "contributing_agencies": ["police"],
                        "due_date": day(due) if due is not None else None,
                        "effective_date": day(-100),
                    },
                )["id"]
        for offset, text, rag in (
            (-60, "Audit of flagging scheduled", "amber"),
            (-10, "Audit of flagging complete", "green"),
        ):
            self.post(self.actions["1.1"], {"progress": text, "rag": rag, "effective_date": day(offset)})

    def post(self, action_id: str, body: dict[str, Any]) -> Any:
        return self.server.api("POST", f"/actions/{action_id}/updates", self.health, body)

    def history(self, action_id: str) -> list[dict[str, Any]]:
        return self.server.api("GET", f"/actions/{action_id}/history", self.coordinator)["items"]  # type: ignore[no-any-return]

    def url(self, path: str) -> str:
        return self.server.base + path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[Story]:
    with served(tmp_path_factory.mktemp("served")) as (server, _):
        story = Story(server)
        for name, email, agency, role in PEOPLE:
            join(browser, server.invite(name, email, agency, role))
        yield story


PEOPLE = [
    ("Ann Nurse", "ann@health.example", "health", "editor"),
    ("Colin Council", "colin@council.example", "council", "editor"),
    ("Ines Inspector", "ines@ofsted.example", "lscb", "inspector"),
    ("Cora Coordinator", "cora@lscb.example", "lscb", "coordinator"),
]


def join(browser: Any, link: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(link)
    page.get_by_label("Create a password").fill(PASSWORD)
    page.get_by_label("Confirm your password").fill(PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    page.wait_for_url(re.compile(r"/$"))
    context.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


def accessible(page: Any) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{page.url}: {violations}"


def test_an_invitation_leads_to_a_password_and_a_signed_in_person(story: Story, page: Any) -> None:
    link = story.server.invite("Sam <b>Reader</b>", "sam@police.example", "police", "reader")
    assert link.startswith(story.server.base + "/invitations/")
    page.goto(link)
    accessible(page)
    page.get_by_label("Create a password").fill("too short")
    page.get_by_label("Confirm your password").fill("too short")
    page.get_by_role("button", name="Set password and sign in").click()
    assert "Password must be 12 characters or more" in page.locator(".govuk-error-summary").inner_text()
    accessible(page)
    page.get_by_label("Create a password").fill(PASSWORD)
    page.get_by_label("Confirm your password").fill(PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    header = page.locator("header").inner_text()
    assert "Accord" in header and "Sam <b>Reader</b>, Police, Reader" in header and "Sign out" in header
    accessible(page)

    page.get_by_role("button", name="Sign out").click()
    assert page.url == story.url("/sign-in")
    assert "You have signed out" in page.inner_text("main")
    board = story.url(f"/plans/{story.plan_id}")
    page.goto(board)
    assert page.url.startswith(story.url("/sign-in?next="))
    accessible(page)
    page.get_by_label("Email address").fill("sam@police.example")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    assert page.url == board


def test_a_wrong_password_is_refused(story: Story, page: Any) -> None:
    sign_in(page, story.server.base, "ann@health.example", "not my password at all")
    assert page.url.startswith(story.url("/sign-in"))
    assert "Enter a correct email address and password" in page.locator(".govuk-error-summary").inner_text()
    accessible(page)
    page.goto(story.url("/"))
    assert page.url.startswith(story.url("/sign-in"))


def test_the_board_as_at_a_committee_date_shows_each_update_as_it_stood(story: Story, page: Any) -> None:
    sign_in(page, story.server.base, "cora@lscb.example")
    page.goto(story.url(f"/plans/{story.plan_id}"))
    assert "Audit of flagging complete" in page.locator("tr", has_text="1.1").inner_text()
    accessible(page)
    page.get_by_text("See the plan as reported to the committee on a date").click()
    page.get_by_label("Day", exact=True).fill(str(COMMITTEE.day))
    page.get_by_label("Month", exact=True).fill(str(COMMITTEE.month))
    page.get_by_label("Year", exact=True).fill(str(COMMITTEE.year))
    page.get_by_label("Today: including reports made later").check()
    page.get_by_role("button", name="Show the plan on this date").click()
    assert f"as_at={COMMITTEE.isoformat()}" in page.url
    row = page.locator("tr", has_text="1.1").inner_text()
    assert "Audit of flagging scheduled" in row and "Amber" in row and "complete" not in row
    committee = f"{COMMITTEE.day} {COMMITTEE:%B %Y}"
    assert f"as it stood on {committee}" in page.locator(".govuk-notification-banner").inner_text()
    accessible(page)
    page.get_by_text("See the plan as reported to the committee on a date").click()
    page.get_by_label("On that day: what the committee was told").check()  # As known then: not yet recorded.
    page.get_by_role("button", name="Show the plan on this date").click()
    assert "Accord did not yet know this plan" in page.locator(".govuk-notification-banner").inner_text()
    accessible(page)


def press_tab_until(page: Any, condition: str, limit: int = 80) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const e = document.activeElement; return {condition}; }}"):
            return
    raise AssertionError(f"never reached by keyboard: {condition}")


def test_an_update_posted_with_the_keyboard_appears_once_in_the_history(story: Story, page: Any) -> None:
    sign_in(page, story.server.base, "ann@health.example")
    action_id = story.actions["1.1"]
    page.goto(story.url(f"/actions/{action_id}"))
    accessible(page)
    press_tab_until(page, "e.textContent.trim() === 'Post an update'")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/update$"))
    accessible(page)
    press_tab_until(page, "e.id === 'progress'")
    page.keyboard.type("Re-audit <script>booked</script> for March")
    press_tab_until(page, "e.textContent.trim() === 'Save update'")
    page.keyboard.press("Enter")
    page.wait_for_url(story.url(f"/actions/{action_id}"))
    assert "Your update has been saved" in page.inner_text("main")
    assert "Re-audit <script>booked</script> for March" in page.locator(".moj-timeline").inner_text()
    accessible(page)
    posted = [item for item in story.history(action_id) if item["text"] == "Re-audit <script>booked</script> for March"]
    assert len(posted) == 1
    assert posted[0]["actor"] == {"name": "Ann Nurse", "agency": "health", "role": "editor"}


def test_an_empty_update_gets_the_error_summary(story: Story, page: Any) -> None:
    sign_in(page, story.server.base, "ann@health.example")
    before = len(story.history(story.actions["2.1"]))
    page.goto(story.url(f"/actions/{story.actions['2.1']}/update"))
    page.get_by_role("button", name="Save update").click()
    summary = page.locator(".govuk-error-summary")
    assert "There is a problem" in summary.inner_text()
    assert "Enter progress, or change the status" in summary.inner_text()
    assert summary.locator("a").first.get_attribute("href") == "#progress"
    assert page.title().startswith("Error: ")
    accessible(page)
    assert len(story.history(story.actions["2.1"])) == before


def test_a_conflicting_update_shows_the_other_and_keeps_the_persons_text(story: Story, page: Any) -> None:
    sign_in(page, story.server.base, "ann@health.example")
    action_id = story.actions["2.1"]
    page.goto(story.url(f"/actions/{action_id}/update"))
    story.post(action_id, {"progress": "Saved by a colleague meanwhile"})
    page.get_by_label("Progress", exact=True).fill("My own careful words")
    page.get_by_role("button", name="Save update").click()
    assert "Saved by a colleague meanwhile" in page.inner_text("main")
    assert page.get_by_label("Progress", exact=True).input_value() == "My own careful words"
    accessible(page)
    assert all(item["text"] != "My own careful words" for item in story.history(action_id))
    page.get_by_role("button", name="Save update").click()  # Having read the other update, they save theirs.
    page.wait_for_url(story.url(f"/actions/{action_id}"))
    assert [item["text"] for item in story.history(action_id)].count("My own careful words") == 1


def test_another_agencys_update_form_is_forbidden(story: Story, page: Any) -> None:
    sign_in(page, story.server.base, "colin@council.example")
    response = page.goto(story.url(f"/actions/{story.actions['1.1']}/update"))
    assert response.status == 403
    assert page.locator("h1").inner_text() == "You cannot do this"
    assert page.locator("main form").count() == 0
    accessible(page)


def test_a_post_without_the_csrf_token_writes_nothing(story: Story, page: Any) -> None:
    sign_in(page, story.server.base, "ann@health.example")
    action_id = story.actions["2.1"]
    page.goto(story.url(f"/actions/{action_id}/update"))
    version = page.locator("input[name=version]").input_value()
    before = len(story.history(action_id))
    forged = page.request.post(
        story.url(f"/actions/{action_id}/update"), form={"progress": "Forged", "version": version, "key": "forged"}
    )
    assert forged.status == 400
    assert len(story.history(action_id)) == before


def test_the_inspectors_purpose_lands_in_the_access_log(story: Story, page: Any) -> None:
    sign_in(page, story.server.base, "ines@ofsted.example")
    page.goto(story.url(f"/actions/{story.actions['1.2']}"))
    assert "/purpose?next=" in page.url
    accessible(page)
    page.get_by_label("Why are you reading action histories and past views?").fill(
        "Ofsted ILACS, sampling overdue actions"
    )
    page.get_by_role("button", name="Continue").click()
    assert page.url == story.url(f"/actions/{story.actions['1.2']}")
    assert "Action raised" in page.locator(".moj-timeline").inner_text()
    page.get_by_role("link", name="Access log").click()
    assert "Ofsted ILACS, sampling overdue actions" in page.locator("table").inner_text()
    accessible(page)
    log = story.server.api("GET", f"/access-log?action_id={story.actions['1.2']}", story.coordinator)["items"]
    assert any(
        e["purpose"] == "Ofsted ILACS, sampling overdue actions" and e["user"]["name"] == "Ines Inspector" for e in log
    )


def test_a_coordinators_tour_of_every_page_finds_no_accessibility_violations(story: Story, page: Any) -> None:
    sign_in(page, story.server.base, "cora@lscb.example")
    accessible(page)  # Home.
    page.get_by_role("link", name="Plans", exact=True).click()
    accessible(page)
    page.get_by_role("link", name="Joint plan").click()
    page.get_by_role("link", name="Action 1.2").click()
    assert page.url == story.url(f"/actions/{story.actions['1.2']}")
    page.goto(story.url(f"/plans/{story.plan_id}/changes"))
    page.get_by_role("group", name="From").get_by_label("Day", exact=True).fill(str(COMMITTEE.day))
    page.get_by_role("group", name="From").get_by_label("Month", exact=True).fill(str(COMMITTEE.month))
    page.get_by_role("group", name="From").get_by_label("Year", exact=True).fill(str(COMMITTEE.year))
    page.get_by_role("group", name="To").get_by_label("Day", exact=True).fill(str(TODAY.day))
    page.get_by_role("group", name="To").get_by_label("Month", exact=True).fill(str(TODAY.month))
    page.get_by_role("group", name="To").get_by_label("Year", exact=True).fill(str(TODAY.year))
    page.get_by_role("button", name="Show changes").click()
    assert "Audit of flagging complete" in page.inner_text("main")
    accessible(page)
    page.goto(story.url("/no-such-page"))
    accessible(page)


def test_the_board_reads_and_filters_with_javascript_off(story: Story, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, story.server.base, "ann@health.example")
    page.goto(story.url(f"/plans/{story.plan_id}"))
    numbers = page.locator("td.accord-number").all_inner_texts()
    assert [n.replace("Action", "").strip() for n in numbers] == ["1.1", "1.2", "2.1"]
    page.get_by_label("Lead agency").select_option("council")
    page.get_by_role("button", name="Apply filters").click()
    assert [n.replace("Action", "").strip() for n in page.locator("td.accord-number").all_inner_texts()] == ["1.2"]
    assert "Overdue" in page.locator("tr", has_text="1.2").inner_text()
    context.close()


def test_a_fresh_demo_opens_on_the_sign_in_page_and_its_printed_password_works(tmp_path: Path, browser: Any) -> None:
    """What `make run` does: `accord serve` loads the demo into an empty store and prints who can sign in."""
    with served(tmp_path, demo=True) as (server, printed):
        found = re.search(r"(health\.editor@example\.org)\s+password (\S+)", printed)
        assert found, printed
        page = browser.new_page()
        page.goto(server.base + "/")
        assert page.url.startswith(server.base + "/sign-in")
        assert page.locator("h1").inner_text() == "Sign in to Accord"
        page.get_by_label("Email address").fill(found.group(1))
        page.get_by_label("Password", exact=True).fill(found.group(2))
        page.get_by_role("button", name="Sign in").click()
        assert page.url == server.base + "/"
        assert "Actions for Health that need attention" in page.locator("h1").inner_text()
        page.close()
