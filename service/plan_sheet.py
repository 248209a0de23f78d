"""The plan as a spreadsheet, shared by the report's xlsx and the import template, so a report imports back.

The report writes sheet "Actions" with ACTIONS_HEADER (one row per action) and a sheet "About"; the import
template is the same "Actions" sheet plus a sheet "Plan" (PLAN_HEADER on row 1, the plan's values on row 2).
TEMPLATE_FIELDS says which import field each "Actions" column fills (None: shown, never read back).
"""

from __future__ import annotations

ACTIONS_SHEET = "Actions"
ABOUT_SHEET = "About"
PLAN_SHEET = "Plan"
LISTS_SHEET = "Lists"  # The template's drop-down values (hidden).

ACTIONS_HEADER = (
    "Recommendation",
    "Recommendation text",
    "Action",
    "What we will do",
    "By when",
    "Due date",
    "Lead agency",
    "Lead person",
    "Contributing agencies",
    "Status",
    "RAG",
    "Overdue",
    "Update",
    "Update effective",
    "Impact",
    "Cost",
)
PLAN_HEADER = ("Title", "Source", "Owner agency")

TEMPLATE_FIELDS: dict[str, str | None] = {
    "Recommendation": "recommendation_number",
    "Recommendation text": "recommendation_text",
    "Action": "action_number",
    "What we will do": "description",
    "By when": "due_label",
    "Due date": "due_date",
    "Lead agency": "lead_agency",
    "Lead person": "lead_person",
    "Contributing agencies": "contributing_agencies",
    "Status": "status",
    "RAG": "rag",
    "Overdue": None,  # Decided at read time from the due date and status: never stored.
    "Update": "update",
    "Update effective": "update_effective_date",
    "Impact": "impact",
    "Cost": "cost",
}
PLAN_FIELDS = {"Title": "title", "Source": "source", "Owner agency": "owner_agency"}
assert tuple(TEMPLATE_FIELDS) == ACTIONS_HEADER
