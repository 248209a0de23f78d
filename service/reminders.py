"""Reminders before each plan's next meeting and Monday digests, decided from the read models and the date,
recorded in the outbox, then sent.

A reminder goes to each editor (with an address) of an agency that leads open actions on the plan with no update
recorded since the previous meeting, once the meeting's `updates_due` is at most `remind_days` working days
away or has passed; at most one per meeting and person, ever. A digest goes each Monday to each editor with an
address who has not turned digests off: the agency's overdue actions and those due within 30 days. Messages
carry only numbers, the plan's and actions' own wording, dates and links: never update text, impact or evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from email.utils import format_datetime
from html import escape
from typing import Any

from domain.principals import EDITOR
from domain.timeline import CLOSED
from service.app import Accord
from service.cycles import chase_list, next_meeting, previous_meeting
from service.mail import Transport, email_message, error_name, is_refusal, mail_domain, transport_for
from service.outbox import Entry, Outbox
from service.settings import Settings
from service.workdays import working_days_until

REMINDER, DIGEST = "reminder", "digest"
DIGEST_DAYS = 30  # A digest lists actions due within this many days.
MONDAY = 0


@dataclass(frozen=True)
class Composed:
    """A message as decided for a date: the outbox entry, and what `preview` shows of it."""

    entry: Entry
    summary: dict[str, Any]


@dataclass
class Delivery:
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def long_date(value: str | date) -> str:
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.day} {day:%B %Y}"


def iso_week(on: date) -> str:
    year, week, _ = on.isocalendar()
    return f"{year}-W{week:02d}"


class Reminders:
    def __init__(self, app: Accord, projections: Any, settings: Settings, outbox: Outbox, transport: Transport) -> None:
        self.app, self.projections, self.settings = app, projections, settings
        self.outbox, self.transport = outbox, transport

    # Use cases.

    def preview(self, on: date) -> list[dict[str, Any]]:
        """Who would get what on `on` that has not been recorded before; records and sends nothing."""
        composed = self.compose(on)
        recorded = self.outbox.recorded([c.entry.id for c in composed])
        return [c.summary for c in composed if c.entry.id not in recorded]

    def send(self, on: date) -> dict[str, Any]:
        """Record what is due on `on` (what was recorded before is not recorded again), then send what waits."""
        recorded = self.outbox.record([c.entry for c in self.compose(on)])
        delivery = self.deliver()
        totals = self.outbox.counts()
        return {
            "recorded": recorded,
            "sent": delivery.sent,
            "failed": delivery.failed,
            "sent_total": totals["sent"],
            "waiting": totals["waiting"],
            "failed_total": totals["failed"],
        }

    def deliver(self) -> Delivery:
        """Send every message that is due; stop at the first sign that the mail server is unavailable."""
        delivery = Delivery()
        try:
            while row := self.outbox.claim():
                try:
                    self.transport.send(row["id"], row["message"])
                except Exception as error:
                    self.outbox.failed(row, error_name(error))
                    delivery.failed += 1
                    delivery.errors.append(error_name(error))
                    if not is_refusal(error):
                        break
                else:
                    self.outbox.sent(row)
                    delivery.sent += 1
        finally:
            self.transport.close()
        return delivery

    def status(self) -> dict[str, Any]:
        return {**self.outbox.counts(), "waiting_messages": self.outbox.waiting()}

    # Deciding.

    def compose(self, on: date) -> list[Composed]:
        editors = [u for u in self.app.list_users() if u["role"] == EDITOR and u["email"] and not u["revoked"]]
        current = self.projections.view("current_status")
        plans = current.list_plans(on)
        composed = [c for plan in plans for c in self.reminders(plan, editors, on)]
        if on.weekday() == MONDAY:
            titles = {plan["id"]: plan["title"] for plan in plans}
            for user in editors:
                if user["digests"]:
                    composed += self.digest(user, current.agency_actions(user["agency"], on), titles, on)
        return composed

    def reminders(self, plan: dict[str, Any], editors: list[dict[str, Any]], on: date) -> list[Composed]:
        meeting = next_meeting(self.projections, plan["id"], on)
        if meeting is None:
            return []
        due = date.fromisoformat(meeting["updates_due"])
        if due >= on and working_days_until(on, due) > self.settings.remind_days:
            return []
        previous = previous_meeting(self.projections, plan["id"], on)
        composed = []
        for agency in chase_list(self.projections, plan["id"], on, self.app.zone):
            if not agency["count"]:
                continue
            for user in (u for u in editors if u["agency"] == agency["agency"]):
                subject = f"Updates wanted by {long_date(due)}: {plan['title']}"
                text, html = reminder_body(plan, meeting, previous, agency, self.link)
                entry = self.entry(REMINDER, meeting["id"], user, subject, text=text, html=html)
                summary = {
                    "kind": REMINDER,
                    "to": user["email"],
                    "agency": agency["agency"],
                    "plan": plan["title"],
                    "meeting": f"{meeting['title']} ({meeting['date']})",
                    "updates_due": meeting["updates_due"],
                    "actions": [a["number"] for a in agency["actions"]],
                }
                composed.append(Composed(entry, summary))
        return composed

    def digest(
        self, user: dict[str, Any], actions: list[dict[str, Any]], titles: dict[str, str], on: date
    ) -> list[Composed]:
        horizon = (on + timedelta(days=DIGEST_DAYS)).isoformat()
        open_actions = [a for a in actions if a["status"] not in CLOSED and a["due_date"]]
        overdue = [a for a in open_actions if a["overdue"]]
        soon = [a for a in open_actions if not a["overdue"] and a["due_date"] <= horizon]
        if not overdue and not soon:
            return []
        agency = user["agency"]
        subject = f"Weekly digest for {agency}: {len(overdue)} overdue, {len(soon)} due within {DIGEST_DAYS} days"
        text, html = digest_body(agency, overdue, soon, titles, self.link)
        entry = self.entry(DIGEST, iso_week(on), user, subject, text=text, html=html)
        summary = {
            "kind": DIGEST,
            "to": user["email"],
            "agency": agency,
            "week": iso_week(on),
            "overdue": [a["number"] for a in overdue],
            "due_soon": [a["number"] for a in soon],
        }
        return [Composed(entry, summary)]

    def entry(  # noqa: PLR0913
        self, kind: str, ref: str, user: dict[str, Any], subject: str, *, text: str, html: str
    ) -> Entry:
        draft = Entry(kind=kind, ref=ref, user_id=str(user["id"]), recipient=user["email"], message="")
        message = email_message(
            sender=self.settings.mail_from,
            recipient=user["email"],
            subject=subject,
            message_id=f"<{draft.id}@{mail_domain(self.settings.mail_from)}>",
            date=format_datetime(self.app.clock().astimezone(UTC)),
            text=text,
            html=html,
        )
        return Entry(kind=kind, ref=ref, user_id=draft.user_id, recipient=draft.recipient, message=message.as_string())

    def link(self, action_id: str) -> str:
        return f"{self.settings.pages_url}/actions/{action_id}/update"


def reminder_body(
    plan: dict[str, Any], meeting: dict[str, Any], previous: dict[str, Any] | None, agency: dict[str, Any], link: Any
) -> tuple[str, str]:
    since = f"since the {previous['title']} on {long_date(previous['date'])}" if previous else "since they were raised"
    count = agency["count"]
    intro = (
        f'{agency["agency"]} leads {count} open action{"s" if count != 1 else ""} on the plan "{plan["title"]}"'
        f" with no update recorded {since}.\nThe {meeting['title']} meets on {long_date(meeting['date'])}:"
        f" please post an update on each by {long_date(meeting['updates_due'])}."
    )
    lines = [intro, ""]
    items = []
    for a in agency["actions"]:
        due = f"due {long_date(a['due_date'])}" if a["due_date"] else "no due date"
        lines += [f"{a['number']}  {a['description']}", f"    {due}", f"    Update it: {link(a['id'])}", ""]
        items.append(
            f"<li><strong>{escape(a['number'])}</strong> {escape(a['description'])}<br>{escape(due)}<br>"
            f'<a href="{escape(link(a["id"]))}">Update action {escape(a["number"])}</a></li>'
        )
    lines.append(f"You receive this as an editor for {agency['agency']} in Accord.")
    html = (
        "<!DOCTYPE html><html><body>"
        + "".join(f"<p>{escape(part)}</p>" for part in intro.split("\n"))
        + f"<ul>{''.join(items)}</ul>"
        + f"<p>You receive this as an editor for {escape(agency['agency'])} in Accord.</p></body></html>"
    )
    return "\n".join(lines) + "\n", html


def digest_body(
    agency: str, overdue: list[dict[str, Any]], soon: list[dict[str, Any]], titles: dict[str, str], link: Any
) -> tuple[str, str]:
    lines, html = [f"Actions {agency} leads, as of this Monday.", ""], [f"<p>Actions {escape(agency)} leads.</p>"]
    for heading, actions in ((f"Overdue ({len(overdue)})", overdue), (f"Due within {DIGEST_DAYS} days", soon)):
        if not actions:
            continue
        lines += [heading, ""]
        items = []
        for a in actions:
            plan = titles.get(a["plan_id"], "")
            lines += [
                f"{a['number']}  {a['description']}",
                f"    {plan}; due {long_date(a['due_date'])}",
                f"    Update it: {link(a['id'])}",
                "",
            ]
            items.append(
                f"<li><strong>{escape(a['number'])}</strong> {escape(a['description'])}<br>{escape(plan)};"
                f" due {escape(long_date(a['due_date']))}<br>"
                f'<a href="{escape(link(a["id"]))}">Update action {escape(a["number"])}</a></li>'
            )
        html.append(f"<h2>{escape(heading)}</h2><ul>{''.join(items)}</ul>")
    footer = "You can turn these weekly digests off on your account page."
    lines.append(footer)
    return "\n".join(lines) + "\n", f"<!DOCTYPE html><html><body>{''.join(html)}<p>{footer}</p></body></html>"


def reminders_for(system: Any) -> Reminders:
    """Reminders wired to a bootstrapped system's application, read models and settings."""
    settings: Settings = system.settings
    outbox = Outbox(system.app.factory, clock=system.app.clock)
    transport = transport_for(settings.smtp_url, settings.outbox_dir)
    return Reminders(system.app, system.projections, settings, outbox, transport)
