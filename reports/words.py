"""How a report's values read in every format: the same words in HTML, PDF, Word, Excel and CSV."""

from __future__ import annotations

from datetime import UTC, date, datetime

from service.reports import Change, Proof, Report, ReportAction, ReportRecommendation

STATUS = {
    "not_started": "Not started",
    "in_progress": "In progress",
    "completed": "Completed",
    "withdrawn": "Withdrawn",
}
RAG = {"red": "Red", "amber": "Amber", "green": "Green", "blue": "Blue"}
KIND = {"recommendation": "Recommendation", "statutory_requirement": "Statutory requirement"}
FIELD = {
    "status": "status",
    "rag": "RAG",
    "due_date": "due date",
    "lead_agency": "lead agency",
    "lead_person": "lead person",
}
NONE = "—"


def long_date(day: date | None) -> str:
    """18 September 2013, as the councils write it."""
    return f"{day.day} {day:%B %Y}" if day else NONE


def exact(moment: datetime) -> str:
    """An instant in UTC to the microsecond, so that `--known-at` given it sees exactly what the report saw."""
    timespec = "microseconds" if moment.microsecond else "seconds"
    return moment.astimezone(UTC).isoformat(timespec=timespec)


def title(report: Report) -> str:
    return f"{report.title}: position as at {long_date(report.as_at)}"


def known(report: Report) -> str:
    return f"As known at {exact(report.known_at)}"


def footer(proof: Proof) -> str:
    return (
        f"As at {long_date(proof.as_at)}, as known at {exact(proof.known_at)}. Generated at {exact(proof.generated_at)}"
        f" by {proof.by_name} ({proof.by_agency}). Audit head {proof.head}"
    )


def update_heading(report: Report) -> str:
    """The councils' last column: "Update September 2013"."""
    return f"Update {report.as_at:%B %Y}"


def status(action: ReportAction) -> str:
    return STATUS.get(action.status, action.status)


def rag(action: ReportAction) -> str:
    return RAG.get(action.rag, action.rag) if action.rag else ""


def overdue(action: ReportAction) -> str:
    return "Overdue" if action.overdue else ""


def due(action: ReportAction) -> str:
    """The due date in force: the plan's own words, else the date."""
    return action.due_label or long_date(action.due_date) if (action.due_label or action.due_date) else NONE


def revised(action: ReportAction) -> str:
    """'revised from <old> (<reason>)', or nothing when the due date is the plan's own."""
    revision = action.revision
    if revision is None:
        return ""
    was = revision.was_label or long_date(revision.was_date) if (revision.was_label or revision.was_date) else NONE
    return f"revised from {was} ({revision.reason})" if revision.reason else f"revised from {was}"


def by_when(action: ReportAction) -> list[str]:
    """The plan's words; when revised, the current date and what it was revised from."""
    if action.revision is None:
        return [due(action)]
    current = long_date(action.due_date)
    if action.due_label and action.due_label != current:
        current = f"{current} ({action.due_label})"
    return [current, revised(action)]


def lead(action: ReportAction) -> list[str]:
    lines = [action.lead_agency + (f": {action.lead_person}" if action.lead_person else "")]
    if action.contributing_agencies:
        lines.append("with " + ", ".join(action.contributing_agencies))
    return lines


def effective(action: ReportAction) -> str:
    return f"(effective {long_date(action.update.effective_date)})" if action.update else ""


def kind(recommendation: ReportRecommendation) -> str:
    text = KIND.get(recommendation.kind, recommendation.kind)
    if recommendation.reference:
        text += f", reference {recommendation.reference}"
    if recommendation.timescale:
        text += f"; timescale: {recommendation.timescale}"
    return text


def change(item: Change, report: Report) -> str:
    if item.field == "new":
        return "new action"
    if item.field == "updates":
        return f"{item.now} update{'s' if item.now != 1 else ''} took effect"
    was, now = shown(item.field, item.was), shown(item.field, item.now)
    return f"{FIELD.get(item.field, item.field)} {was} → {now}"


def changes(action: ReportAction, report: Report) -> str:
    """'Changed since 1 August 2013: status In progress → Completed; 1 update took effect'."""
    if not action.changed or report.since is None:
        return ""
    return f"Changed since {long_date(report.since)}: " + "; ".join(change(c, report) for c in action.changes)


def shown(name: str, value: object) -> str:
    if value in (None, ""):
        return NONE
    if name == "status":
        return STATUS.get(str(value), str(value))
    if name == "rag":
        return RAG.get(str(value), str(value))
    if name == "due_date":
        return long_date(date.fromisoformat(str(value)))
    return str(value)


def summary_status(report: Report) -> list[tuple[str, int]]:
    return [(STATUS.get(s, s), n) for s, n in report.summary.by_status.items()]


def summary_rag(report: Report) -> list[tuple[str, int]]:
    return [*((RAG.get(r, r), n) for r, n in report.summary.by_rag.items()), ("Not rated", report.summary.unrated)]


def since_line(report: Report) -> str:
    if report.since is None:
        return ""
    n = report.changed
    return f'Changed since {long_date(report.since)}: {n} action{"s" if n != 1 else ""}, marked "Changed".'
