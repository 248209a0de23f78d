"""From a file's column headings to Accord's fields: the template's columns exactly, a council's own by synonyms.

Headings are compared in lower case without punctuation ("Action/s", "ACTION S" and "action s" are one). The
proposed mapping is shown by a dry run; the person may override any heading with `mapping`.
"""

from __future__ import annotations

from typing import Any

from service.importing.cells import words
from service.plan_sheet import TEMPLATE_FIELDS

FIELDS = (
    "recommendation_number",
    "recommendation_text",
    "timescale",
    "kind",
    "reference",
    "outcomes",
    "measures",
    "action_number",
    "description",
    "due_label",
    "due_date",
    "lead_agency",
    "lead_person",
    "contributing_agencies",
    "cost",
    "update",
    "update_effective_date",
    "status",
    "rag",
    "impact",
)
# Fields that several columns may fill: their texts are joined (updates: one update per column).
MANY = frozenset({"recommendation_number", "recommendation_text", "reference", "outcomes", "measures", "description"})
MANY_UPDATES = "update"
NUMBER = "number"  # "No." alone: a recommendation's number beside a recommendation's text, else an action's.

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "recommendation_number": ("rec", "rec no", "recommendation no", "recommendation number", "objective no"),
    "recommendation_text": (
        "recommendation",
        "recommendation text",
        "recommendations",
        "objective",
        "objectives",
        "requirement",
        "requirements",
        "good practice recommendations",
        "area for improvement",
        "issue",
    ),
    "kind": ("kind", "type"),
    "reference": ("reference", "standard", "standards", "regulation", "refer to standard", "nms", "paragraph"),
    "outcomes": ("outcome", "outcomes", "expected outcome", "what difference will it make"),
    "measures": ("measures", "measure", "how will we know", "success measures", "measure of success"),
    "action_number": ("action no", "action number", "action ref", "ref", "ref no"),
    "description": (
        "what we will do",
        "action",
        "actions",
        "action s",
        "specific action",
        "specific actions",
        "specific action s",
        "actions required",
        "action required",
        "actions to be taken",
        "how we will do it",
        "target",
        "task",
        "tasks",
    ),
    "due_label": (
        "by when",
        "timescale",
        "timescales",
        "target date",
        "date",
        "deadline",
        "when",
        "completion date",
        "timescale for action",
        "timescale for completion",
    ),
    "due_date": ("due date", "due"),
    "lead_agency": ("lead agency", "agency", "organisation", "lead organisation", "lead agencies"),
    "lead_person": (
        "lead",
        "lead person",
        "lead person responsible",
        "who",
        "responsible officer",
        "person responsible",
        "responsible person",
        "responsible",
        "lead officer",
        "owner",
    ),
    "contributing_agencies": ("contributing agencies", "partners", "partner agencies", "other agencies", "support"),
    "cost": ("cost", "costs", "resources", "resource", "resource implications"),
    "update": (
        "update",
        "progress",
        "progress update",
        "progress review",
        "progress to date",
        "response",
        "review",
        "current position",
        "comments",
    ),
    "update_effective_date": ("update effective", "update date", "date of update", "effective date", "as at"),
    "status": ("status", "progress status"),
    "rag": ("rag", "rag rating", "rag status", "rating"),
    "impact": ("impact", "impact of actions", "difference made"),
    NUMBER: ("no", "number", "num"),
}
SYNONYMS = {words(name): field for field, names in _SYNONYMS.items() for name in names}
PREFIXES = (("update ", "update"), ("progress ", "update"), ("timescale ", "due_label"), ("rag ", "rag"))
TEMPLATE = {words(header): field for header, field in TEMPLATE_FIELDS.items()}
DESCRIPTION = words("What we will do")


def guess(header: str, template_layout: bool) -> str | None:
    """The field a heading names on its own, before the whole row is considered."""
    key = words(header)
    if template_layout and key in TEMPLATE:
        return TEMPLATE[key]
    if key in SYNONYMS:
        return SYNONYMS[key]
    for prefix, field in PREFIXES:
        if key.startswith(prefix):
            return field
    return None


def propose(headers: list[str], override: dict[str, str | None] | None = None) -> dict[str, str | None]:
    """The field for each heading of one header row (None: not imported); `override` wins, by heading."""
    keys = {words(h) for h in headers if h}
    template_layout = DESCRIPTION in keys  # "Action" is the action's number only beside "What we will do".
    wanted = {words(h): f for h, f in (override or {}).items()}
    mapping: dict[str, str | None] = {}
    for header in headers:
        if header and header not in mapping:
            key = words(header)
            mapping[header] = wanted[key] if key in wanted else guess(header, template_layout)
    fields = set(mapping.values())
    for header, field in mapping.items():
        if field == NUMBER:
            by_recommendation = "recommendation_text" in fields and "recommendation_number" not in fields
            mapping[header] = "recommendation_number" if by_recommendation else "action_number"
    return mapping


def check_override(override: Any) -> dict[str, str | None]:
    """The `mapping` option: a JSON object from heading to field name or null. Raises ValueError."""
    if not isinstance(override, dict):
        raise ValueError("mapping must be a JSON object from a column heading to a field name (or null)")
    for header, field in override.items():
        if field is not None and field not in FIELDS:
            raise ValueError(f"mapping: {header!r} maps to {field!r}, which is not one of: {', '.join(FIELDS)}")
    return dict(override)
