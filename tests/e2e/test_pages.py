"""The pages through Flask's test client: signing in and out, sessions, what each role may see, escaping, headers.

The same journeys in a real browser, with axe-core, are in test_browser.py; these check the rules quickly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from api import create_app
from domain.principals import Principal
from service.bootstrap import System, bootstrap
from service.settings import Settings
from tests.builders import COORDINATOR, plan_with_actions

PASSWORD = "plum orchard ladder 42"


class Clock:
    """Now, as tests move it; each reading a microsecond after the last, as a real clock would be."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(microseconds=1)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def pages(tmp_path: Path, clock: Clock) -> Iterator[System]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'accord.db'}", load_demo=False, secret_key="k" * 48)
    system = bootstrap(settings, clock=clock)
    yield system
    system.close()


@pytest.fixture
def browser(pages: System) -> Any:
    return create_app(system=pages).test_client()


def person(system: System, role: str, agency: str, name: str | None = None) -> tuple[str, UUID]:
    email = f"{role}.{agency}@example.org"
    user_id, token = system.app.invite_user(name=name or f"{role} {agency}", email=email, agency=agency, role=role)
    system.app.accept_invitation(token, PASSWORD)
    return email, user_id


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def sign_in(client: Any, email: str, password: str = PASSWORD, next_: str = "") -> Any:
    page = client.get("/sign-in" + (f"?next={next_}" if next_ else ""))
    return client.post(
        "/sign-in" + (f"?next={next_}" if next_ else ""),
        data={"csrf_token": csrf(page.text), "email": email, "password": password},
    )


def text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_a_signed_out_visit_goes_to_sign_in_and_back(pages: System, browser: Any) -> None:
    plan = plan_with_actions(pages.app, 1)
    email, _ = person(pages, "reader", "police")
    first = browser.get(f"/plans/{plan.plan_id}")
    assert first.status_code == 302
    assert first.headers["Location"] == f"/sign-in?next=/plans/{plan.plan_id}"
    signed_in = sign_in(browser, email, next_=f"/plans/{plan.plan_id}")
    assert signed_in.headers["Location"] == f"/plans/{plan.plan_id}"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"])
def test_next_is_kept_only_as_a_local_path(pages: System, browser: Any, target: str) -> None:
    email, _ = person(pages, "reader", "police")
    assert sign_in(browser, email, next_=target).headers["Location"] == "/"


def test_wrong_email_or_password_gets_one_vague_message(pages: System, browser: Any) -> None:
    email, _ = person(pages, "reader", "police")
    wrong_password = sign_in(browser, email, "not the password at all")
    unknown = sign_in(browser, "nobody@example.org")
    assert "Enter a correct email address and password" in text(wrong_password.text)
    assert text(wrong_password.text).count("There is a problem") == 1
    assert text(wrong_password.text).replace(email, "") == text(unknown.text).replace("nobody@example.org", "")
    assert browser.get("/").status_code == 302


def test_repeated_failures_for_one_account_are_slowed(pages: System, browser: Any) -> None:
    email, _ = person(pages, "reader", "police")
    for _ in range(5):
        assert sign_in(browser, email, "wrong password, again").status_code == 200
    refused = sign_in(browser, email)  # Even the right password waits its turn.
    assert refused.status_code == 429
    assert "Too many attempts" in text(refused.text)


def test_a_revoked_user_cannot_sign_in_and_loses_the_session(pages: System, browser: Any) -> None:
    email, user_id = person(pages, "reader", "police")
    assert sign_in(browser, email).status_code == 302
    assert browser.get("/plans").status_code == 200
    pages.app.revoke_user(user_id)
    assert browser.get("/plans").status_code == 302
    assert "Enter a correct email address and password" in text(sign_in(browser, email).text)


def test_sessions_end_after_30_idle_minutes_and_12_hours_in_all(pages: System, browser: Any, clock: Clock) -> None:
    email, _ = person(pages, "reader", "police")
    sign_in(browser, email)
    for _ in range(24):  # Busy all day, never idle for long...
        clock.now += timedelta(minutes=29)
        assert browser.get("/plans").status_code == 200
    clock.now += timedelta(minutes=29)  # ...but 12 hours is the most.
    assert browser.get("/plans").status_code == 302
    sign_in(browser, email)
    clock.now += timedelta(minutes=31)
    assert browser.get("/plans").status_code == 302


def test_signing_in_starts_a_new_session(pages: System, browser: Any) -> None:
    email, _ = person(pages, "reader", "police")
    browser.get("/sign-in")
    with browser.session_transaction() as before:
        before["planted"] = "by an attacker"
    sign_in(browser, email)
    with browser.session_transaction() as after:
        assert "planted" not in after
        assert after["_user_id"]


def test_sign_out_ends_the_session_even_for_a_copied_cookie(pages: System, browser: Any) -> None:
    email, _ = person(pages, "reader", "police")
    sign_in(browser, email)
    copied = browser.get_cookie("accord_session").value
    page = browser.get("/plans")
    assert browser.post("/sign-out", data={"csrf_token": csrf(page.text)}).headers["Location"] == "/sign-in"
    assert browser.get("/plans").status_code == 302
    browser.set_cookie("accord_session", copied)
    assert browser.get("/plans").status_code == 302


def test_session_cookie_is_httponly_and_lax(pages: System, browser: Any) -> None:
    email, _ = person(pages, "reader", "police")
    cookie = sign_in(browser, email).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = Settings(database_url=pages.settings.database_url, base_url="https://accord.example")
    assert secure.cookies_secure


def test_an_invitation_works_once_and_refuses_a_common_password(pages: System, browser: Any) -> None:
    _, token = pages.app.invite_user(name="Nurse", email="nurse@example.org", agency="health", role="editor")
    page = browser.get(f"/invitations/{token}")
    weak = browser.post(
        f"/invitations/{token}",
        data={"csrf_token": csrf(page.text), "password": "password1234", "confirm": "password1234"},
    )
    assert "too easy to guess" in text(weak.text)
    done = browser.post(
        f"/invitations/{token}", data={"csrf_token": csrf(page.text), "password": PASSWORD, "confirm": PASSWORD}
    )
    assert done.headers["Location"] == "/"
    assert browser.get("/").status_code == 200
    assert browser.get(f"/invitations/{token}").status_code == 404


def test_an_invitation_expires_after_72_hours(pages: System, browser: Any, clock: Clock) -> None:
    _, token = pages.app.invite_user(name="Nurse", email="nurse@example.org", agency="health", role="editor")
    clock.now += timedelta(hours=72, seconds=1)
    assert browser.get(f"/invitations/{token}").status_code == 404


def test_update_texts_with_markup_are_shown_as_text(pages: System, browser: Any) -> None:
    plan = plan_with_actions(pages.app, 1, agencies=["health"])
    action_id, lead = plan.actions[0]
    pages.app.post_update(lead, action_id, progress='<script>alert("x")</script><b>bold</b>')
    email, _ = person(pages, "coordinator", "lscb")
    sign_in(browser, email)
    for path in (f"/plans/{plan.plan_id}", f"/actions/{action_id}"):
        html = browser.get(path).text
        assert "<script>alert" not in html and "<b>bold</b>" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in html


def test_pages_carry_security_headers_and_no_inline_script_without_the_nonce(pages: System, browser: Any) -> None:
    response = browser.get("/sign-in")
    policy = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)  # type: ignore[union-attr]
    assert "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", response.text)
    assert inline and all(f'nonce="{nonce}"' in attributes for attributes in inline)


def test_another_agencys_update_form_is_forbidden(pages: System, browser: Any) -> None:
    plan = plan_with_actions(pages.app, 1, agencies=["health"])
    email, _ = person(pages, "editor", "council")
    sign_in(browser, email)
    refused = browser.get(f"/actions/{plan.action_ids[0]}/update")
    assert refused.status_code == 403
    assert "<form" not in refused.text.split("</header>")[1].split("<footer")[0]


def test_a_form_post_without_its_csrf_token_writes_nothing(pages: System, browser: Any) -> None:
    plan = plan_with_actions(pages.app, 1, agencies=["health"])
    email, _ = person(pages, "editor", "health")
    sign_in(browser, email)
    action_id = plan.action_ids[0]
    form = browser.get(f"/actions/{action_id}/update").text
    version = re.search(r'name="version" value="(\d+)"', form).group(1)  # type: ignore[union-attr]
    refused = browser.post(f"/actions/{action_id}/update", data={"progress": "forged", "version": version, "key": "k"})
    assert refused.status_code == 400
    assert pages.current.get_action(str(action_id), pages.app.today())["last_update"] is None


def test_an_inspector_gives_a_purpose_before_any_history(pages: System, browser: Any) -> None:
    plan = plan_with_actions(pages.app, 1)
    email, _ = person(pages, "inspector", "lscb")
    sign_in(browser, email)
    action = f"/actions/{plan.action_ids[0]}"
    asked = browser.get(action)
    assert asked.headers["Location"] == f"/purpose?next={action}"
    assert browser.get(f"/plans/{plan.plan_id}?as_at=2020-01-01").status_code == 302
    assert browser.get(f"/plans/{plan.plan_id}").status_code == 200  # Today's board is no history.
    page = browser.get(asked.headers["Location"])
    given = browser.post(
        asked.headers["Location"], data={"csrf_token": csrf(page.text), "purpose": "Ofsted ILACS, sampling"}
    )
    assert given.headers["Location"] == action
    assert browser.get(action).status_code == 200
    log = browser.get("/access-log").text
    assert "Ofsted ILACS, sampling" in text(log)


def test_numbers_lead_to_their_actions(pages: System, browser: Any) -> None:
    plan = plan_with_actions(pages.app, 2)
    email, _ = person(pages, "reader", "police")
    sign_in(browser, email)
    found = browser.get(f"/plans/{plan.plan_id}/actions/1.1")
    assert found.headers["Location"] == f"/actions/{plan.action_ids[1]}"
    assert browser.get(f"/plans/{plan.plan_id}/actions/9.9").status_code == 404
    assert f'href="/plans/{plan.plan_id}/actions/1.1"' in browser.get(f"/plans/{plan.plan_id}").text


def test_an_editors_home_lists_its_agencys_actions_needing_attention(pages: System, browser: Any) -> None:
    today = pages.app.today()
    plan = plan_with_actions(
        pages.app, 3, agencies=["health"], start=lambda n: today - timedelta(days=200), due=lambda n: today
    )
    lead: Principal = plan.actions[0][1]
    pages.app.post_update(lead, plan.action_ids[0], status="completed")
    pages.app.post_update(COORDINATOR, plan.action_ids[1], progress="On track")
    email, _ = person(pages, "editor", "health")
    sign_in(browser, email)
    home = text(browser.get("/").text)
    assert "1.0" not in home.split("Actions for Health")[1]  # Completed: needs nothing.
    assert "1.1" in home and "1.2" in home and "Due soon" in home and "No recent update" in home


def test_health_checks_and_metrics_need_no_sign_in(browser: Any) -> None:
    assert browser.get("/healthz").status_code == 200
    assert browser.get("/metrics").status_code == 200


def test_submitting_the_same_form_twice_writes_one_update(pages: System, browser: Any) -> None:
    plan = plan_with_actions(pages.app, 1, agencies=["health"])
    email, _ = person(pages, "editor", "health")
    sign_in(browser, email)
    action_id = plan.action_ids[0]
    form = browser.get(f"/actions/{action_id}/update").text
    fields = dict(re.findall(r'name="(version|key)" value="([^"]+)"', form))
    today = pages.app.today()
    sent = {
        "csrf_token": csrf(form),
        "progress": "Sent twice by a double click",
        "status": "",
        "rag": "",
        "effective_date": [str(today.day), str(today.month), str(today.year)],
        **fields,
    }
    assert browser.post(f"/actions/{action_id}/update", data=sent).status_code == 302
    assert browser.post(f"/actions/{action_id}/update", data=sent).status_code == 302
    texts = [item["text"] for item in pages.projections.view("history").history(str(action_id))]
    assert texts.count("Sent twice by a double click") == 1


def test_a_contributing_agency_sees_only_what_it_may_report(pages: System, browser: Any) -> None:
    plan = plan_with_actions(pages.app, 1, agencies=["health", "police"], contributors=1)
    email, _ = person(pages, "editor", "police")
    sign_in(browser, email)
    form = browser.get(f"/actions/{plan.action_ids[0]}/update").text
    assert 'name="progress"' in form and 'name="impact"' in form
    assert 'name="status"' not in form and 'name="rag"' not in form and 'name="due_date"' not in form
