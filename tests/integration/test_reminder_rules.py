"""When reminders and digests are due (working days, bank holidays, Mondays, opting out), on SQLite."""

from __future__ import annotations

from datetime import date, timedelta

from service.bootstrap import System
from tests.builders import COORDINATOR, plan_with_actions
from tests.reminders_helpers import everything_in, reminders, smtp_server


def test_bank_holidays_are_not_working_days_before_updates_are_due(system: System) -> None:
    system.app.add_user(name="Council", agency="council", role="editor", email="c@example.org")
    made = plan_with_actions(system.app, 1, agencies=("council",))
    # Due Thursday 28 December 2028, after Christmas Day (Monday) and Boxing Day (Tuesday), both bank holidays.
    system.app.schedule_meeting(
        COORDINATOR, made.plan_id, meeting_date=date(2028, 12, 30), title="Board", updates_due=date(2028, 12, 28)
    )
    with smtp_server() as (_, port):
        sender = reminders(system, port)
        # From Monday 18th: 6 working days away; from Tuesday 19th: 5 (7 weekdays less the two holidays).
        assert sender.preview(date(2028, 12, 18)) == []
        [reminder] = sender.preview(date(2028, 12, 19))
        assert (reminder["to"], reminder["actions"], reminder["updates_due"]) == (
            "c@example.org",
            ["1.0"],
            "2028-12-28",
        )
        # Due date passed without the update, meeting still to come: reminded (once, whenever it runs).
        assert len(sender.preview(date(2028, 12, 29))) == 1
        # After the meeting, it is no longer the next one: nothing.
        assert sender.preview(date(2028, 12, 31)) == []


def test_monday_digest_lists_the_agencys_overdue_actions_and_those_due_within_30_days(system: System) -> None:
    app = system.app
    today = app.today()
    monday = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    app.add_user(name="Health", agency="health", role="editor", email="h@example.org")
    quiet, _ = app.add_user(name="Health, no digests", agency="health", role="editor", email="quiet@example.org")
    app.set_digests(quiet, on=False)
    app.add_user(name="Council", agency="council", role="editor", email="c@example.org")
    app.add_user(name="Police", agency="police", role="editor", email="p@example.org")  # Leads nothing.
    dues = [
        monday - timedelta(days=3),
        monday + timedelta(days=10),
        monday + timedelta(days=60),
        monday + timedelta(days=5),
    ]
    made = plan_with_actions(app, 4, agencies=("health", "health", "health", "council"), due=lambda n: dues[n])
    links = [f"/actions/{action_id}/update" for action_id in made.action_ids]
    with smtp_server() as (inbox, port):
        sender = reminders(system, port)
        assert sender.preview(monday + timedelta(days=1)) == []  # Digests go on Mondays only.
        result = sender.send(monday)
        assert result["sent"] == 2
        assert inbox.recipients() == ["c@example.org", "h@example.org"]
        [health] = inbox.to("h@example.org")
        seen = everything_in(health)
        assert "1 overdue, 1 due within 30 days" in health["Subject"]
        assert [link for link in links if link in seen] == links[:2]
        [council] = inbox.to("c@example.org")
        assert [link for link in links if link in everything_in(council)] == [links[3]]
        assert sender.send(monday)["sent"] == 0  # One digest per person and week.
