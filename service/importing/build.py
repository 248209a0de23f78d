"""The import's one pass: read, check every row (the domain's own rules included, by building the Plan and its
Actions in memory), and save everything in one call to `app.save` only when no row has an error.

About 340 lines: the steps share the one list of problems that decides whether anything is written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from domain.action import Action
from domain.errors import DomainError
from domain.plan import STATUTORY_REQUIREMENT, Plan
from domain.principals import Principal
from service.importing import cells
from service.importing.files import FileRefused, file_format, read
from service.importing.mapping import check_override
from service.importing.model import PREVIEW, ActionDraft, ImportOptions, ImportResult, Progress, UpdateDraft
from service.importing.rows import ActionRow, Problem, Rec, parse_tables
from service.text import unstorable

if TYPE_CHECKING:
    from service.app import Accord

SHORT, LONG, NUMBER = 500, 20_000, 20  # Longest texts, as the API's schemas allow them.


class Importer:
    def __init__(self, app: Accord, actor: Principal, options: ImportOptions, progress: Progress) -> None:
        self.app, self.actor, self.options, self.progress = app, actor, options, progress
        self.today = app.today()
        self.result = ImportResult()
        self.problems: list[Problem] = []

    def error(self, message: str, row: ActionRow | None = None, field: str | None = None) -> None:
        column = (row.first(field)[0] or row.headings.get(field)) if row and field else None
        self.problems.append(Problem(message, row.row if row else None, column, row.table if row else None))

    def run(self, data: bytes, media_type: str | None, filename: str | None, dry_run: bool) -> ImportResult:
        self.check_options()
        try:
            self.progress("reading", 0, 1)
            found = read(data, file_format(media_type, filename, data))
            self.progress("reading", 1, 1)
        except FileRefused as refused:
            self.error(str(refused))
            return self.finish()
        override = self.override()
        parsed = parse_tables(found.tables, override)
        self.result.mapping, self.result.warnings = parsed.mapping, [*found.warnings, *parsed.warnings]
        self.problems += parsed.problems
        drafts = [self.draft(row, n, len(parsed.rows)) for n, row in enumerate(parsed.rows, start=1)]
        self.number_actions(parsed.recs, drafts)
        self.result.recommendations, self.result.actions = len(parsed.recs), len(drafts)
        self.result.updates = sum(len(d.updates) for d in drafts)
        plan = self.plan(found.plan, filename)
        actions = self.build(plan, parsed.recs, drafts) if plan is not None else []
        if self.problems or dry_run or plan is None:
            return self.finish()
        self.progress("saving", 0, 1)
        recordings = self.app.save(plan, *actions)
        self.result.plan_id = plan.id
        self.result.position = max(r.notification.id for r in recordings)
        self.progress("saving", 1, 1)
        self.app.after_save(self.result.position)
        return self.finish()

    def finish(self) -> ImportResult:
        self.result.errors = [p.as_dict() for p in self.problems]
        return self.result

    # Options.

    def check_options(self) -> None:
        """Agencies in the options by slug or name, any case, as in the file; anything unknown is an error."""
        options = self.options
        self.default_lead_agency = self.known_agency("default_lead_agency", options.default_lead_agency)
        self.owner_agency = self.known_agency("owner_agency", options.owner_agency)
        self.lead_agency_by_person: dict[str, str] = {}
        if not isinstance(options.lead_agency_by_person, dict):
            self.error("lead_agency_by_person must be a JSON object from a lead person to an agency")
            return
        for person, agency in options.lead_agency_by_person.items():
            found = self.known_agency(f"lead_agency_by_person ({person!r})", agency)
            if found:
                self.lead_agency_by_person[cells.words(person)] = found
        if options.start_date and options.start_date > self.today:
            self.error("start_date cannot be after today")

    def known_agency(self, name: str, value: str | None) -> str | None:
        try:
            return cells.agency(value, self.app.agencies)
        except ValueError as wrong:
            self.error(f"{name}: {wrong}")
            return None

    def override(self) -> dict[str, str | None] | None:
        if self.options.mapping is None:
            return None
        try:
            return check_override(self.options.mapping)
        except ValueError as wrong:
            self.error(str(wrong))
            return None

    def by_person(self, person: str | None) -> str | None:
        return self.lead_agency_by_person.get(cells.words(person)) if person else None

    # Rows.

    def value(self, row: ActionRow, name: str, reader: Callable[[Any], Any]) -> Any:
        header, cell = row.first(name)
        if header is None:
            return None
        try:
            return reader(cell)
        except ValueError as wrong:
            self.error(str(wrong), row, name)
            return None

    def sized(self, row: ActionRow, name: str, value: str | None, limit: int, required: bool = False) -> str | None:
        if value is None and required:
            self.error(f"{name} is required", row, name)
        elif value is not None and len(value) > limit:
            self.error(f"{name} is longer than {limit:,} characters ({len(value):,})", row, name)
            return None
        return value

    def draft(self, row: ActionRow, n: int, total: int) -> ActionDraft:
        if n % 100 == 0 or n == total:
            self.progress("checking", n, total)
        agencies = self.app.agencies
        lead_person = self.sized(row, "lead_person", row.joined("lead_person", "; "), SHORT)
        lead_agency = self.value(row, "lead_agency", lambda v: cells.agency(v, agencies))
        if row.first("lead_agency")[0] is None:  # Never guessed: a column, the person's agency, or the default.
            lead_agency = self.by_person(lead_person) or self.default_lead_agency
            if lead_agency is None:
                for_whom = f" for {lead_person!r}" if lead_person else ""
                self.error(
                    f"no lead agency: fill a Lead agency column, or give lead_agency_by_person{for_whom} or"
                    " default_lead_agency",
                    row,
                    "lead_person" if lead_person else None,
                )
        due_label = self.sized(row, "due_label", cells.own_words(row.joined("due_label", "; ")), SHORT)
        due_date = self.value(row, "due_date", cells.parse_date)
        if due_date is None and row.first("due_date")[0] is None:
            due_date = self.value(row, "due_label", cells.date_in_words)
        return ActionDraft(
            row=row,
            number=self.sized(row, "action_number", cells.text(row.first("action_number")[1]), NUMBER),
            description=self.sized(row, "description", row.joined("description"), LONG, required=True),
            lead_agency=lead_agency,
            lead_person=lead_person,
            contributing_agencies=self.value(row, "contributing_agencies", lambda v: cells.agency_list(v, agencies))
            or [],
            due_label=due_label,
            due_date=due_date,
            cost=self.sized(row, "cost", row.joined("cost", "; "), SHORT),
            updates=self.updates(row),
        )

    def updates(self, row: ActionRow) -> list[UpdateDraft]:
        """One update per update column (dated by its column, or its heading's month); status, RAG and impact
        go with the latest."""
        stated = self.value(row, "update_effective_date", cells.parse_date)
        columns = row.cells.get("update", [])
        drafts = []
        for header, cell in columns:
            progress = self.sized(row, "update", cells.text(cell), LONG)
            on = stated if stated and len(columns) == 1 else cells.month_in_header(header)
            drafts.append(UpdateDraft(header, on, progress=progress))
        status = self.value(row, "status", cells.status)
        rag = self.value(row, "rag", cells.rag)
        impact = self.sized(row, "impact", row.joined("impact"), LONG)
        if (status or rag or impact) and not drafts:
            drafts.append(UpdateDraft(row.first("status")[0] or row.first("rag")[0], stated))
        for draft in drafts:
            if draft.effective_date is None:
                draft.effective_date = self.today
                self.warn_once(
                    "updates with no date (no Update effective column, no month in the heading) are"
                    " dated today, the day of the import"
                )
            elif draft.effective_date > self.today and draft.column and not stated:
                draft.effective_date = self.today  # "Update November 2026" read during November 2026.
        drafts.sort(key=lambda d: d.effective_date or self.today)
        if drafts:
            latest = drafts[-1]
            latest.status = None if status == "not_started" else status
            latest.rag, latest.impact = rag, impact
        return drafts

    def warn_once(self, message: str) -> None:
        if message not in self.result.warnings:
            self.result.warnings.append(message)

    def number_actions(self, recs: list[Rec], drafts: list[ActionDraft]) -> None:
        """Numbers as written ("1.10" is not "1.1") must be unique; rows without one are numbered in their
        recommendation ("2.1", "2.2"; "S2.1" for a statutory requirement)."""
        used: dict[str, ActionDraft] = {}
        for draft in drafts:
            if draft.number is None:
                continue
            if draft.number in used:
                first = used[draft.number].row
                self.error(
                    f"action number {draft.number} is used twice (also {first.table} row {first.row})",
                    draft.row,
                    "action_number",
                )
            used.setdefault(draft.number, draft)
        numbers = {rec.number for rec in recs if rec.number}
        for rec in recs:
            if rec.number is None:
                rec.number = str(next(n for n in range(1, 10_000) if str(n) not in numbers))
                numbers.add(rec.number)
        by_row = {id(d.row): d for d in drafts}
        for rec in recs:
            prefix = "S" if rec.kind == STATUTORY_REQUIREMENT else ""
            k = 0
            for row in rec.actions:
                draft = by_row[id(row)]
                while draft.number is None:
                    k += 1
                    candidate = f"{prefix}{rec.number}.{k}"
                    if candidate not in used:
                        draft.number = candidate
                        used[candidate] = draft

    # The plan, in memory.

    def plan(self, sheet: dict[str, str], filename: str | None) -> Plan | None:
        options = self.options
        stem = filename.rsplit("/", 1)[-1].rsplit(".", 1)[0] if filename else None
        title = options.title or sheet.get("title") or stem
        source = options.source or sheet.get("source") or f"Imported from {filename or 'a file'} on {self.today}"
        owner = self.owner_agency or self.known_agency("the Plan sheet's Owner agency", sheet.get("owner_agency"))
        owner = owner or self.default_lead_agency or self.actor.agency
        if not title:
            self.error("the plan needs a title: give `title` or fill the Plan sheet")
        if title and len(title) > SHORT:
            self.error(f"the title is longer than {SHORT} characters")
        for name, value in (("title", title), ("source", source)):
            why = value and unstorable(value)
            if why:  # From the options, the Plan sheet, the document's first paragraph or the file's name.
                self.error(f"the plan's {name} {why}")
                return None
        if not title or len(title) > SHORT:
            return None
        return Plan(title=title, source=source[:LONG], owner_agency=owner, actor=self.actor.as_actor())

    def start_date(self, drafts: list[ActionDraft]) -> date:
        if self.options.start_date:
            return self.options.start_date
        dates = [d.due_date for d in drafts if d.due_date]
        dates += [u.effective_date for d in drafts for u in d.updates if u.effective_date]
        return min([*dates, self.today])

    def build(self, plan: Plan, recs: list[Rec], drafts: list[ActionDraft]) -> list[Action]:
        start = self.start_date(drafts)
        by_row = {id(d.row): d for d in drafts}
        actions = []
        for rec in recs:
            rec_id = uuid4()
            first = by_row[id(rec.actions[0])] if rec.actions else None
            plan.add_recommendation(
                actor=self.actor,
                recommendation_id=rec_id,
                number=rec.number or "",
                text=(rec.text or f"Recommendation {rec.number}")[:LONG],
                timescale=(first.due_label or "") if first else "",
                kind=rec.kind,
                reference="; ".join(rec.reference)[:SHORT] or None,
                outcomes=rec.outcomes,
                measures=rec.measures,
            )
            for row in rec.actions:
                action = self.action(plan.id, rec_id, by_row[id(row)], start)
                if action is not None:
                    actions.append(action)
        return actions

    def action(self, plan_id: UUID, rec_id: UUID, draft: ActionDraft, start: date) -> Action | None:
        if draft.description is None or draft.lead_agency is None or draft.number is None:
            return None
        action = Action(
            plan_id=plan_id,
            recommendation_id=rec_id,
            number=draft.number,
            description=draft.description,
            lead_agency=draft.lead_agency,
            lead_person=draft.lead_person,
            contributing_agencies=draft.contributing_agencies,
            due_date=draft.due_date,
            due_label=draft.due_label,
            cost=draft.cost,
            effective_date=start,
            actor=self.actor.as_actor(),
        )
        on_behalf = replace(self.actor, on_behalf_of=draft.lead_agency)
        for update in draft.updates:
            try:
                action.post_update(
                    actor=on_behalf,
                    update_id=str(uuid4()),
                    effective_date=update.effective_date or self.today,
                    today=self.today,
                    progress=update.progress,
                    status=update.status,
                    rag=update.rag,
                    impact=update.impact,
                )
            except DomainError as refused:
                column = "update" if refused.field == "effective_date" or update.progress else "status"
                self.error(str(refused), draft.row, column)
                return None
        if len(self.result.preview) < PREVIEW:
            self.result.preview.append(preview(action, draft))
        return action


def preview(action: Action, draft: ActionDraft) -> dict[str, Any]:
    """An action as it will be stored, for the person to check before confirming."""
    last = action.last_progress
    return {
        "row": draft.row.row,
        "recommendation": draft.row.rec.number,
        "number": action.number,
        "description": action.description,
        "due_label": action.due_label,
        "due_date": action.due_date.isoformat() if action.due_date else None,
        "lead_agency": action.lead_agency,
        "lead_person": action.lead_person,
        "status": action.status,
        "rag": action.rag,
        "update": {"text": last["text"], "effective_date": last["effective_date"].isoformat()} if last else None,
    }
