"""Load a real plan, Shropshire's of March 2011, as it was recorded: each step on its own day of 2011.

The plan's JSON gives days as offsets from DEMO_DAY (17 November 2011, when its story ends). While it loads, the
application's clock is the demo's: it says what day it is and stamps every event, so updates are recorded on their
own back-dated days, a late report is recorded weeks after it took effect, and a mistaken update is retracted days
after it was posted. Time travel (`known_at`) then shows what Accord knew on any day of 2011.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any
from uuid import UUID

from domain.principals import COORDINATOR, EDITOR, INSPECTOR, Principal
from service.app import Accord

DEMO_PLAN = "shropshire-2011.json"
DEMO_DAY = date(2011, 11, 17)  # Offsets in the plan's JSON count from this day.
# The demo users whose tokens are printed, by the shell variable the README uses for each.
SHOWN = (
    ("COORDINATOR_TOKEN", COORDINATOR, "lscb"),
    ("HEALTH_EDITOR_TOKEN", EDITOR, "health"),
    ("COUNCIL_EDITOR_TOKEN", EDITOR, "council"),
    ("INSPECTOR_TOKEN", INSPECTOR, "lscb"),
)


def read_plan(path: Path | None = None) -> dict[str, Any]:
    if path is not None:
        return json.loads(path.read_text())
    return json.loads(resources.files("service").joinpath("demo", DEMO_PLAN).read_text())


class DemoClock:
    """Ten in the morning, in the deployment's time zone, on the day being loaded; a second later at each reading,
    so that every event has its own instant and the instants follow the order of recording."""

    def __init__(self, app: Accord, day: date) -> None:
        self.zone, self.day, self.ticks = app.zone, day, 0

    def __call__(self) -> datetime:
        self.ticks += 1
        start = datetime.combine(self.day, time(10), tzinfo=self.zone)
        return start.astimezone(UTC) + timedelta(seconds=self.ticks)

    def move_to(self, day: date) -> None:
        if day != self.day:
            self.day, self.ticks = day, 0


class DemoUsers:
    """One demo user per role and agency, created on first use; their tokens are kept to print."""

    def __init__(self, app: Accord) -> None:
        self.app = app
        self.principals: dict[tuple[str, str], Principal] = {}
        self.tokens: dict[tuple[str, str], str] = {}

    def get(self, role: str, agency: str) -> Principal:
        if (role, agency) not in self.principals:
            name = f"Demo {agency.capitalize()} {role.capitalize()}"
            # example.org addresses (RFC 2606: never delivered) so `accord reminders preview` has someone to show.
            email = f"{agency}.{role}@example.org"
            user_id, token = self.app.add_user(name=name, agency=agency, role=role, email=email)
            self.tokens[role, agency] = token
            self.principals[role, agency] = Principal(str(user_id), name, agency, role)
        return self.principals[role, agency]


Step = tuple[date, Callable[[], None]]


class Story:
    """The plan's steps, each with the day it is recorded on, played in the order of those days (stable: a step
    comes after the steps it needs, which are never recorded later)."""

    def __init__(self, app: Accord, data: dict[str, Any], users: DemoUsers) -> None:
        self.app, self.data, self.users = app, data, users
        self.steps: list[Step] = []
        self.ids: dict[str, UUID] = {}

    def play(self) -> UUID:
        plan = self.data["plan"]
        first = min(day(a["start_offset_days"]) for r in self.data["recommendations"] for a in r["actions"])
        self.steps.append((first, partial(self.create_plan, plan)))
        for n, rec in enumerate(self.data["recommendations"]):
            self.steps.append((first, partial(self.add_recommendation, n, rec)))
            for action in rec["actions"]:
                self.add_action(f"r{n}", action)
        self.steps.append((DEMO_DAY, self.register_shown_users))
        clock = DemoClock(self.app, first)
        real_clock, self.app.clock = self.app.clock, clock
        try:
            for on, step in sorted(self.steps, key=lambda s: s[0]):
                clock.move_to(on)
                step()
        finally:
            self.app.clock = real_clock
        return self.ids["plan"]

    def register_shown_users(self) -> None:
        for _, role, agency in SHOWN:
            self.users.get(role, agency)

    def create_plan(self, plan: dict[str, Any]) -> None:
        self.ids["plan"] = self.app.create_plan(self.users.get(COORDINATOR, "lscb"), **plan).id

    def add_recommendation(self, n: int, rec: dict[str, Any]) -> None:
        fields = {k: v for k, v in rec.items() if k != "actions"}
        self.ids[f"r{n}"] = self.app.add_recommendation(
            self.users.get(COORDINATOR, "lscb"), self.ids["plan"], **fields
        ).id

    def add_action(self, rec: str, action: dict[str, Any]) -> None:
        number = action["number"]
        fields = {k: v for k, v in action.items() if k not in ("updates", "start_offset_days", "due_offset_days")}
        fields |= {"effective_date": day(action["start_offset_days"]), "due_date": day(action["due_offset_days"])}

        def raise_action() -> None:
            coordinator = self.users.get(COORDINATOR, "lscb")
            self.ids[number] = self.app.raise_action(
                coordinator, self.ids["plan"], recommendation_id=self.ids[rec], **fields
            ).id

        self.steps.append((fields["effective_date"], raise_action))
        for n, update in enumerate(action["updates"]):
            self.add_update(action, f"{number}/{n}", update)

    def add_update(self, action: dict[str, Any], key: str, update: dict[str, Any]) -> None:
        actor = self.actor(update["by"], action["lead_agency"])
        skipped = ("by", "offset_days", "due_offset_days", "recorded_offset_days", "retracted_offset_days")
        fields = {k: v for k, v in update.items() if k not in skipped and k != "retraction_reason"}
        fields |= {"effective_date": day(update["offset_days"]), "due_date": day(update["due_offset_days"])}

        def post() -> None:
            self.ids[key] = self.app.post_update(actor(), self.ids[action["number"]], **fields).id

        self.steps.append((day(update.get("recorded_offset_days", update["offset_days"])), post))
        if update.get("retracted_offset_days") is not None:

            def retract() -> None:
                reason = update["retraction_reason"]
                self.app.retract_update(actor(), self.ids[action["number"]], self.ids[key], reason=reason)

            self.steps.append((day(update["retracted_offset_days"]), retract))

    def actor(self, by: str, lead_agency: str) -> Callable[[], Principal]:
        """Who posts: made when first needed, so that each demo user is registered on the day it first acts."""
        if by == "coordinator":
            return lambda: self.users.get(COORDINATOR, "lscb")
        agency = lead_agency if by == "lead" else by.removeprefix("contributor:")
        return lambda: self.users.get(EDITOR, agency)


def day(offset: int | None) -> Any:
    return None if offset is None else DEMO_DAY + timedelta(days=offset)


def load_demo(app: Accord, path: Path | None = None) -> dict[str, str]:
    """Load the demo plan; return the tokens to show, keyed by an environment-variable-like name, and each shown
    user's email address and a fresh random password for the pages (`..._EMAIL`, `..._PASSWORD`)."""
    users = DemoUsers(app)
    Story(app, read_plan(path), users).play()
    shown: dict[str, str] = {}
    for name, role, agency in SHOWN:
        principal = users.get(role, agency)
        password = secrets.token_urlsafe(12)
        app.set_password(UUID(principal.user_id), password)
        person = name.removesuffix("_TOKEN")
        shown |= {
            name: users.tokens[role, agency],
            f"{person}_EMAIL": f"{agency}.{role}@example.org",
            f"{person}_PASSWORD": password,
        }
    return shown
