"""The committee report: a plan's position as at a date, as known at an instant, with the audit head behind it.

One query builds one model (`Report`) from read models only, never by folding aggregates; the renderers in
`reports/` lay it out as HTML, PDF, Word, Excel or CSV and decide nothing. (About 350 lines: the model and the one
query that fills it belong together, so that no renderer can decide what a report says.)

Sources, all public read methods:
the temporal view (the whole plan as it stood, and as it stood on `since`), the current-status view for what
never changes once recorded (a recommendation's kind, reference, outcomes and measures; an action's words and
cost), and the history view's items for what the temporal view does not keep (a revision's reason, impact).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from adapters.audit import chained
from adapters.chain_format import ZERO
from domain.errors import NotFound, RuleViolated
from domain.principals import Principal
from projections.rollups import summarise
from service.bootstrap import System

TEMPORAL, CURRENT, HISTORY = "temporal", "current_status", "history"
# What a committee is told changed since the last report, in this order.
COMPARED = ("status", "rag", "due_date", "lead_agency", "lead_person")
SLUG_MAX = 60

# Where the default `since` comes from when none is given: (plan_id, as_at) -> a date or None. The API, the CLI
# and the page pass service.cycles.since_previous_meeting: the previous meeting's date.
DefaultSince = Callable[[str, date], "date | None"]


@dataclass(frozen=True)
class Revision:
    """The due date the current one replaced, and why it moved."""

    was_label: str | None
    was_date: date | None
    reason: str | None
    effective_date: date


@dataclass(frozen=True)
class Update:
    text: str
    effective_date: date


@dataclass(frozen=True)
class Change:
    """One thing that changed since `since`: a field (was -> now), `new` (the action), or `updates` (how many)."""

    field: str
    was: Any
    now: Any


@dataclass(frozen=True)
class ReportAction:
    id: str
    number: str
    description: str
    due_label: str | None
    due_date: date | None
    revision: Revision | None
    lead_agency: str
    lead_person: str | None
    contributing_agencies: tuple[str, ...]
    status: str
    rag: str | None
    overdue: bool
    update: Update | None
    impact: str | None
    cost: str | None
    changes: tuple[Change, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.changes)


@dataclass(frozen=True)
class ReportRecommendation:
    id: str
    number: str
    text: str
    kind: str
    reference: str | None
    timescale: str
    outcomes: tuple[str, ...]
    measures: tuple[str, ...]
    actions: tuple[ReportAction, ...]


@dataclass(frozen=True)
class Summary:
    total: int
    by_status: dict[str, int]
    by_rag: dict[str, int]
    unrated: int
    overdue: int


@dataclass(frozen=True)
class Proof:
    """What the footer states: the report's dates, who generated it when, and the audit head its data came from."""

    as_at: date
    known_at: datetime
    generated_at: datetime
    by_name: str
    by_agency: str
    position: int
    digest: str

    @property
    def head(self) -> str:
        """As `accord audit head` prints it, and `accord audit verify --expect` takes it."""
        return f"{self.position}:{self.digest}"


@dataclass(frozen=True)
class Report:
    plan_id: str
    title: str
    source: str
    as_at: date
    known_at: datetime
    since: date | None
    summary: Summary
    recommendations: tuple[ReportRecommendation, ...]
    proof: Proof
    changed: int = field(default=0)  # Actions changed since `since`.

    @property
    def slug(self) -> str:
        return slug(self.title)

    @property
    def actions(self) -> Iterator[tuple[ReportRecommendation, ReportAction]]:
        for recommendation in self.recommendations:
            for action in recommendation.actions:
                yield recommendation, action


def committee_report(  # noqa: PLR0913
    system: System,
    plan_id: str,
    *,
    as_at: date,
    known_at: datetime,
    reader: Principal,
    since: date | None = None,
    default_since: DefaultSince | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """The plan as it stood on `as_at`, as known at `known_at`, marking what changed since `since`.

    Without `since`, `default_since(plan_id, as_at)` gives it when supplied (meetings will supply the previous
    meeting's date). `progress(done, total)` is told as each action is read. Raises NotFound when the plan was
    not known at `known_at`, RuleViolated when `since` is after `as_at`.
    """
    if since is not None and since > as_at:
        raise RuleViolated("since must not be after as_at", field="since")
    views = system.projections
    temporal, current, history = views.view(TEMPORAL), views.view(CURRENT), views.view(HISTORY)
    status = temporal.plan_status(plan_id, as_at, known_at)
    if status is None:
        raise NotFound("no such plan (as known then)")
    if since is None and default_since is not None:
        since = default_since(plan_id, as_at)  # A meeting before `as_at`, by the meetings' own rule.
    plan = current.get_plan(plan_id, as_at) or {"source": "", "recommendations": []}
    fixed = {r["id"]: r for r in plan["recommendations"]}
    words = {a["id"]: a for r in plan["recommendations"] for a in r["actions"]}
    before = {}
    if since is not None:
        then = temporal.plan_status(plan_id, since, known_at) or {"recommendations": []}
        before = {a["id"]: a for r in then["recommendations"] for a in r["actions"]}
    trails = history.histories([a["id"] for r in status["recommendations"] for a in r["actions"]])
    total = sum(len(r["actions"]) for r in status["recommendations"])
    done = 0
    recommendations = []
    for rec in status["recommendations"]:
        actions = []
        for action in rec["actions"]:
            trail = trails.get(action["id"], [])
            words_of = {**words.get(action["id"], {}), "planned": planned(trail)}
            actions.append(report_action(action, words_of, applying(trail, as_at, known_at), before, since))
            done += 1
            if progress is not None:
                progress(done, total)
        meta = fixed.get(rec["id"], {})
        recommendations.append(
            ReportRecommendation(
                id=rec["id"],
                number=rec["number"],
                text=rec["text"],
                kind=meta.get("kind", "recommendation"),
                reference=meta.get("reference"),
                timescale=meta.get("timescale", ""),
                outcomes=tuple(meta.get("outcomes") or ()),
                measures=tuple(meta.get("measures") or ()),
                actions=tuple(actions),
            )
        )
    # The views only move forward: every row read above came from events at or before the positions read now,
    # so the head at the furthest of them commits to everything this report shows.
    position = max(views.position(view) for view in (temporal, current, history))
    digest = audit_digest_at(system, position)
    flat = [a for r in recommendations for a in r.actions]
    counts = summarise(({"status": a.status, "rag": a.rag, "due_date": iso(a.due_date), "n": 1} for a in flat), as_at)
    return Report(
        plan_id=plan_id,
        title=status["title"],
        source=plan["source"],
        as_at=as_at,
        known_at=known_at,
        since=since,
        summary=Summary(
            total=counts["total"],
            by_status=counts["by_status"],
            by_rag=counts["by_rag"],
            unrated=counts["total"] - sum(counts["by_rag"].values()),
            overdue=counts["overdue"],
        ),
        recommendations=tuple(recommendations),
        proof=Proof(
            as_at=as_at,
            known_at=known_at,
            generated_at=system.app.clock(),
            by_name=reader.name,
            by_agency=reader.agency,
            position=position,
            digest=digest,
        ),
        changed=sum(1 for a in flat if a.changed),
    )


def audit_digest_at(system: System, position: int) -> str:
    """The hash chain's store hash at `position`, as `accord audit head` printed it when the store stood there.

    The one call into the chain's code, so that moving it touches one line.
    """
    if position == 0:
        return ZERO
    entries = chained(system.app.recorder).select_chain(position - 1, position, 1)
    if not entries or entries[0].notification_id != position:
        raise RuntimeError(f"the hash chain has no entry at position {position}")
    return entries[0].store_hash


def applying(items: list[dict[str, Any]], as_at: date, known_at: datetime) -> list[dict[str, Any]]:
    """An action's posted updates that count as at `as_at`, as known at `known_at`, in the fold's order.

    As in domain.timeline.Fact.applies: took effect by `as_at`, recorded by `known_at`, and not retracted by then.
    """
    kept = []
    for item in items:
        if item["type"] != "update" or not item["effective_date"]:
            continue
        if date.fromisoformat(item["effective_date"]) > as_at:
            continue
        if datetime.fromisoformat(item["recorded_at"]) > known_at:
            continue
        retracted = item.get("retracted")
        if retracted and datetime.fromisoformat(retracted["at"]) <= known_at:
            continue
        kept.append(item)
    kept.sort(key=lambda i: (i["effective_date"], i["seq"]))
    return kept


def report_action(
    action: dict[str, Any],
    words: dict[str, Any],
    items: list[dict[str, Any]],
    before: dict[str, dict[str, Any]],
    since: date | None,
) -> ReportAction:
    last = action["last_update"]
    impact = next((i["impact"] for i in reversed(items) if i.get("impact")), None)
    return ReportAction(
        id=action["id"],
        number=action["number"],
        description=words.get("description", ""),
        due_label=action["due_label"],
        due_date=as_date(action["due_date"]),
        revision=revision(words, items, action["due_date"]),
        lead_agency=action["lead_agency"],
        lead_person=action["lead_person"],
        contributing_agencies=tuple(action["contributing_agencies"]),
        status=action["status"],
        rag=action["rag"],
        overdue=action["overdue"],
        update=Update(last["text"], as_date(last["effective_date"])) if last else None,  # type: ignore[arg-type]
        impact=impact,
        cost=words.get("cost"),
        changes=changes(action, before.get(action["id"]), items, since) if since is not None else (),
    )


def revision(words: dict[str, Any], items: list[dict[str, Any]], due_date: str | None) -> Revision | None:
    """The revision behind the due date in force, and the due date it replaced; None if it is the plan's own."""
    revised = [i for i in items if "due_date" in i["changes"]]
    if not revised or revised[-1]["changes"]["due_date"]["to"] != due_date:
        return None
    was = revised[-2]["changes"] if len(revised) > 1 else words["planned"]
    was_label, was_date = was.get("due_label", {}).get("to"), was.get("due_date", {}).get("to")
    last = revised[-1]
    return Revision(
        was_label=was_label,
        was_date=as_date(was_date),
        reason=last.get("reason"),
        effective_date=date.fromisoformat(last["effective_date"]),
    )


def planned(trail: list[dict[str, Any]]) -> dict[str, Any]:
    """The due date and its words as the action was raised (the history's creation item), as changes."""
    created = next((i for i in trail if i["type"] == "created"), None)
    return created["changes"] if created else {}


def changes(
    action: dict[str, Any], old: dict[str, Any] | None, items: list[dict[str, Any]], since: date
) -> tuple[Change, ...]:
    if old is None:
        return (Change("new", None, action["number"]),)
    found = [Change(name, old[name], action[name]) for name in COMPARED if old[name] != action[name]]
    posted = sum(1 for i in items if date.fromisoformat(i["effective_date"]) > since)
    if posted:
        found.append(Change("updates", None, posted))
    return tuple(found)


def slug(title: str) -> str:
    """The title as a file name: ASCII letters and digits joined by hyphens, at most SLUG_MAX characters."""
    ascii_title = unicodedata.normalize("NFKD", re.sub(r"['\u2019]", "", title)).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    if len(text) > SLUG_MAX:
        text = text[:SLUG_MAX].rsplit("-", 1)[0]
    return text or "plan"


def as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
