"""Load a real plan with months of back-dated partner updates, so a first start has something to look at."""

from __future__ import annotations

import json
import secrets
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from uuid import UUID

from domain.principals import COORDINATOR, EDITOR, INSPECTOR, Principal
from service.app import Accord

DEMO_PLAN = "shropshire-2011.json"
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


class DemoUsers:
    """One demo user per role and agency, created on first use; their tokens are kept to print."""

    def __init__(self, app: Accord) -> None:
        self.app = app
        self.principals: dict[tuple[str, str], Principal] = {}
        self.tokens: dict[tuple[str, str], str] = {}

    def get(self, role: str, agency: str) -> Principal:
        if (role, agency) not in self.principals:
            name = f"Demo {agency.capitalize()} {role.capitalize()}"
            email = f"{agency}.{role}@example.org"  # Demo people sign in to the pages with these.
            user_id, token = self.app.add_user(name=name, agency=agency, role=role, email=email)
            self.tokens[role, agency] = token
            self.principals[role, agency] = Principal(str(user_id), name, agency, role)
        return self.principals[role, agency]


def load_plan(app: Accord, data: dict[str, Any], users: DemoUsers, today: date) -> UUID:
    """Create the plan through the use cases, as a coordinator and each agency's editors would."""
    coordinator = users.get(COORDINATOR, "lscb")
    plan_id = app.create_plan(coordinator, **data["plan"]).id
    for rec in data["recommendations"]:
        actions = rec.pop("actions")
        rec_id = app.add_recommendation(coordinator, plan_id, **rec).id
        for action in actions:
            load_action(app, plan_id, rec_id, action, users, today)
    return plan_id


def load_action(  # noqa: PLR0913, PLR0917
    app: Accord, plan_id: UUID, rec_id: UUID, action: dict[str, Any], users: DemoUsers, today: date
) -> None:
    def day(offset: int | None) -> date | None:
        return None if offset is None else today + timedelta(days=offset)

    updates = action.pop("updates")
    action["effective_date"] = day(action.pop("start_offset_days"))
    action["due_date"] = day(action.pop("due_offset_days"))
    action_id = app.raise_action(users.get(COORDINATOR, "lscb"), plan_id, recommendation_id=rec_id, **action).id
    for update in updates:
        by = update.pop("by")
        if by == "coordinator":
            actor = users.get(COORDINATOR, "lscb")
        elif by == "lead":
            actor = users.get(EDITOR, action["lead_agency"])
        else:
            actor = users.get(EDITOR, by.removeprefix("contributor:"))
        update["effective_date"] = day(update.pop("offset_days"))
        update["due_date"] = day(update.pop("due_offset_days"))
        app.post_update(actor, action_id, **update)


def load_demo(app: Accord, path: Path | None = None) -> dict[str, str]:
    """Load the demo plan; return the tokens to show, keyed by an environment-variable-like name, and each shown
    user's email address and a fresh random password for the pages (`..._EMAIL`, `..._PASSWORD`)."""
    users = DemoUsers(app)
    load_plan(app, read_plan(path), users, app.today())
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
