"""Who acts in Accord: roles, the actor recorded on every event, and what each role may do."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from domain.errors import NotPermitted

COORDINATOR = "coordinator"
EDITOR = "editor"
INSPECTOR = "inspector"
READER = "reader"
ROLES = (COORDINATOR, EDITOR, INSPECTOR, READER)


@dataclass(frozen=True)
class Principal:
    """An authenticated user, as recorded on each event it causes."""

    user_id: str
    name: str
    agency: str
    role: str
    # The agency a coordinator records an update for (an imported plan's updates, for each action's lead).
    on_behalf_of: str | None = None

    def as_actor(self) -> dict[str, Any]:
        actor = asdict(self)
        if self.on_behalf_of is None:
            del actor["on_behalf_of"]  # The shape every event recorded before imports has.
        return actor

    @classmethod
    def from_actor(cls, actor: dict[str, Any]) -> Principal:
        known = {f.name for f in fields(cls)}
        return cls(**{name: value for name, value in actor.items() if name in known})

    @property
    def is_coordinator(self) -> bool:
        return self.role == COORDINATOR

    def check_may_manage_plans(self) -> None:
        if not self.is_coordinator:
            raise NotPermitted("only a coordinator may create or change plans, recommendations and actions")
