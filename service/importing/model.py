"""What an import takes and gives back (plain data a page or the API shows), and the rows it checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from service.importing.rows import ActionRow

PREVIEW = 10  # Actions shown as they will be stored.
Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True)
class ImportOptions:
    mapping: dict[str, str | None] | None = None
    lead_agency_by_person: dict[str, str] = field(default_factory=dict)
    default_lead_agency: str | None = None
    title: str | None = None
    source: str | None = None
    owner_agency: str | None = None
    start_date: date | None = None


@dataclass
class ImportResult:
    """What an import found (and, unless a dry run or refused, wrote): plain data a page or the API shows."""

    mapping: dict[str, str | None] = field(default_factory=dict)
    recommendations: int = 0
    actions: int = 0
    updates: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)
    plan_id: UUID | None = None
    position: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"plan_id": str(self.plan_id)} if self.plan_id else {}
        return {
            **body,
            "mapping": self.mapping,
            "recommendations": self.recommendations,
            "actions": self.actions,
            "updates": self.updates,
            "errors": self.errors,
            "warnings": self.warnings,
            "preview": self.preview,
        }


@dataclass
class UpdateDraft:
    column: str | None
    effective_date: date | None
    progress: str | None = None
    status: str | None = None
    rag: str | None = None
    impact: str | None = None


@dataclass
class ActionDraft:
    row: ActionRow
    number: str | None
    description: str | None
    lead_agency: str | None
    lead_person: str | None
    contributing_agencies: list[str]
    due_label: str | None
    due_date: date | None
    cost: str | None
    updates: list[UpdateDraft]
