"""Who acts in Accord: roles, the actor recorded on every event, and what each role may do."""

from __future__ import annotations

from dataclasses import asdict, dataclass
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

    def as_actor(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_actor(cls, actor: dict[str, Any]) -> Principal:
        return cls(**actor)

    @property
    def is_coordinator(self) -> bool:
        return self.role == COORDINATOR

    def check_may_manage_plans(self) -> None:
        if not self.is_coordinator:
            raise NotPermitted("only a coordinator may create or change plans, recommendations and actions")
