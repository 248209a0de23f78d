"""Reminders against a real SMTP server, on SQLite and PostgreSQL: only agencies that are behind get one message
per editor, listing exactly their un-updated actions; once, even with several senders at once; nothing lost while
the mail server is down; never a word of update text, impact or evidence."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from api import create_app
from service.bootstrap import System, bootstrap
from service.outbox import LEASE
from tests.builders import COORDINATOR, editor, plan_with_actions
from tests.conftest import BACKENDS
from tests.reminders_helpers import everything_in, free_port, reminders, smtp_server

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
SECRETS = ("PROGRESS-about-Child-A", "IMPACT-on-staff-member-B", "EVIDENCE-case-file-C")
BEHIND = {"h1@example.org": "1.3", "h2@example.org": "1.3", "c@example.org": "1.1"}


@dataclass
class World:
    plan_id: UUID
    actions: dict[str, UUID]  # By number.
    today: date

    def link(self, number: str) -> str:
        return f"/actions/{self.actions[number]}/update"


def behind_and_up_to_date(system: System) -> World:
    """Health leads 1.0 (updated since the last meeting) and 1.3 (not); council leads 1.1 (not); police leads 1.2
    (updated, with text that must never be emailed). The next meeting's updates are due tomorrow."""
    app, today = system.app, system.app.today()
    for name, agency, role, email in [
        ("Health one", "health", "editor", "h1@example.org"),
        ("Health two", "health", "editor", "H2@example.org"),
        ("Health, no address", "health", "editor", None),
        ("Council", "council", "editor", "c@example.org"),
        ("Police", "police", "editor", "p@example.org"),
        ("Coordinator", "lscb", "coordinator", "coord@example.org"),
        ("Health, revoked", "health", "editor", "revoked@example.org"),
    ]:
        user_id, _ = app.add_user(name=name, agency=agency, role=role, email=email)
        if name.endswith("revoked"):
            app.revoke_user(user_id)
    made = plan_with_actions(app, 4, agencies=("health", "council", "police", "health"))
    actions = {f"1.{n}": action_id for n, (action_id, _) in enumerate(made.actions)}
    app.schedule_meeting(
        COORDINATOR,
        made.plan_id,
        meeting_date=today - timedelta(days=7),
        title="Last board",
        updates_due=today - timedelta(days=9),
    )
    app.schedule_meeting(
        COORDINATOR,
        made.plan_id,
        meeting_date=today + timedelta(days=10),
        title="Next board",
        updates_due=today + timedelta(days=1),
    )
    app.post_update(editor("health"), actions["1.0"], progress="Training dates agreed", rag="green")
    app.post_update(
        editor("police"),
        actions["1.2"],
        progress=SECRETS[0],
        impact=SECRETS[1],
        evidence=[{"title": SECRETS[2], "url": None}],
    )
    return World(made.plan_id, actions, today)


def test_only_agencies_behind_get_one_message_per_editor_listing_their_unupdated_actions(system: System) -> None:
    world = behind_and_up_to_date(system)
    with smtp_server() as (inbox, port):
        result = reminders(system, port).send(world.today)
        assert (result["recorded"], result["sent"], result["failed"]) == (3, 3, 0)
        assert inbox.recipients() == sorted(BEHIND)
        for address, number in BEHIND.items():
            [message] = inbox.to(address)
            seen = everything_in(message)
            assert world.link(number) in seen
            assert [n for n in world.actions if world.link(n) in seen] == [number]
            assert "Next board" in seen and "Last board" in seen
            assert {p.get_content_type() for p in message.walk()} >= {"text/plain", "text/html"}
            assert message["Message-ID"].endswith("@localhost>")
        for _, message in inbox.received:
            assert not [s for s in SECRETS if s in everything_in(message) or s in message.as_string()]

        again = reminders(system, port).send(world.today)
        assert (again["recorded"], again["sent"]) == (0, 0)
        assert len(inbox.received) == 3


def test_a_run_while_the_mail_server_is_down_loses_nothing_and_a_later_run_delivers_once(system: System) -> None:
    world = behind_and_up_to_date(system)
    now = [datetime.now(UTC)]
    port = free_port()  # Nothing listens here yet: the mail server is down.
    sender = reminders(system, port, clock=lambda: now[0])
    down = sender.send(world.today)
    assert (down["recorded"], down["sent"], down["failed"]) == (3, 0, 1)
    assert (down["waiting"], down["failed_total"]) == (3, 1)
    assert sender.status()["waiting_messages"][0]["last_error"] == "ConnectionRefusedError"
    metrics = create_app(system=system).test_client().get("/metrics").get_data(as_text=True)
    assert "accord_outbox_waiting 3\n" in metrics and "accord_outbox_failed 1\n" in metrics
    with smtp_server(port) as (inbox, _):
        now[0] += timedelta(seconds=31)  # The failed message's first retry is due within a minute.
        assert sender.deliver().sent == 3
        assert inbox.recipients() == sorted(BEHIND)
        now[0] += timedelta(hours=2)
        assert sender.deliver().sent == 0
        assert sender.send(world.today)["sent"] == 0
        assert inbox.recipients() == sorted(BEHIND)
    assert sender.status()["waiting"] == 0


def test_senders_running_at_once_send_each_message_once(system: System) -> None:
    world = behind_and_up_to_date(system)
    senders = [bootstrap(system.settings, in_process=False) for _ in range(3)]  # Each with its own connections.
    start = threading.Barrier(len(senders))
    results: list[dict[str, Any]] = []
    with smtp_server() as (inbox, port):

        def run(sender_system: System) -> None:
            one = reminders(sender_system, port)
            start.wait()
            results.append(one.send(world.today))

        threads = [threading.Thread(target=run, args=(s,)) for s in senders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for s in senders:
            s.close()
        assert len(results) == len(senders)
        assert sum(r["recorded"] for r in results) == 3
        assert sum(r["sent"] for r in results) == 3
        assert inbox.recipients() == sorted(BEHIND)


def test_a_sender_that_died_mid_send_is_taken_over_with_the_same_message_id(system: System) -> None:
    world = behind_and_up_to_date(system)
    now = [datetime.now(UTC)]
    with smtp_server() as (inbox, port):
        sender = reminders(system, port, clock=lambda: now[0])
        sender.outbox.record([c.entry for c in sender.compose(world.today)])
        held = sender.outbox.claim()  # A worker claims a message, then dies before marking it sent.
        assert held is not None
        assert sender.deliver().sent == 2  # The others go; the held one waits out its lease.
        now[0] += LEASE + timedelta(seconds=1)
        assert sender.deliver().sent == 1
        assert inbox.recipients() == sorted(BEHIND)
        [taken_over] = inbox.to(held["recipient"])
        assert taken_over["Message-ID"] == f"<{held['id']}@localhost>"


def test_a_message_the_server_refuses_waits_for_a_retry_while_the_others_go(system: System) -> None:
    world = behind_and_up_to_date(system)
    now = [datetime.now(UTC)]
    with smtp_server() as (inbox, port):
        inbox.refuse.add("c@example.org")
        sender = reminders(system, port, clock=lambda: now[0])
        result = sender.send(world.today)
        assert (result["sent"], result["failed"], result["waiting"]) == (2, 1, 1)
        assert sender.status()["waiting_messages"][0]["last_error"] == "SMTPRecipientsRefused"
        inbox.refuse.clear()
        now[0] += timedelta(minutes=1)
        assert sender.deliver().sent == 1
        assert inbox.recipients() == sorted(BEHIND)
