"""What the temporal view keeps per action: its facts as known (`KnownFact`) and its open bitemporal rows,
and how those rows change when a fact is learnt (`revise`), valid time folded by domain/timeline.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from adapters.sql import dumps, loads
from domain.action import Action
from domain.timeline import Fact, last_order, segments, timeline
from projections.actions import decode_state

OPEN = "9999-12-31T23:59:59.999999+00:00"  # known_to / valid_to of rows not (yet) superseded.
FOREVER = "9999-12-31"
# A state's or a fact's values are stored as `dumps` writes them: their dates (days, never instants) as ISO text.
FACT_COLUMNS = (
    "action_id",
    "plan_id",
    "update_id",
    "kind",
    "seq",
    "effective_date",
    "agency",
    "vals",
    "recorded_at",
    "retracted",
    "retracted_at",
)


@dataclass
class KnownFact(Fact):
    """A fact with what only the read model knows: when it was recorded, and when retracted."""

    recorded_at: datetime | None = None
    retracted_at: datetime | None = None

    @classmethod
    def known(cls, fact: Fact, recorded_at: datetime) -> KnownFact:
        """The fact, known from `recorded_at` (as `KnownFact(**vars(fact), recorded_at=...)` would, faster)."""
        known = object.__new__(cls)
        known.__dict__.update(fact.__dict__, recorded_at=recorded_at, retracted_at=None)
        return known


def as_known(facts: list[KnownFact], known_at: datetime | None) -> list[Fact]:
    """The facts as they stood at `known_at` (None: now): those recorded by then, retracted only if the
    retraction was recorded by then; ready for the domain's fold."""
    if known_at is None:
        return list(facts)
    return [
        Fact(f.update_id, f.kind, f.seq, f.effective_date, f.agency, f.values, bool(retracted_by(f, known_at)))
        for f in facts
        if f.recorded_at is not None and f.recorded_at <= known_at
    ]


def retracted_by(fact: KnownFact, known_at: datetime) -> bool:
    return fact.retracted and fact.retracted_at is not None and fact.retracted_at <= known_at


@dataclass(slots=True)
class Row:
    known_from: str
    valid_from: str
    valid_to: str
    state: str
    known_to: str = OPEN
    stored: bool = False  # In the table already (else inserted at the end of the batch).


@dataclass
class Changes:
    """Rows a revision deleted (never known alone) or closed (known no longer)."""

    gone: list[dict[str, str]] = field(default_factory=list)
    closed: list[tuple[tuple[str, str], Row]] = field(default_factory=list)  # (the action's `Entry.ids`, row).


@dataclass
class Entry:
    """One action as this view holds it: the aggregate (its facts `KnownFact`s) and its open segments."""

    action: Action
    rows: list[Row]  # Open segments in valid-time order.
    last: tuple[date, int]  # The place of its last fact that applies (see domain/timeline.py last_order).
    stored_facts: set[str] = field(default_factory=set)
    ids: tuple[str, str] = field(init=False)  # Its id and its plan's as stored: text once, not per row.

    def __post_init__(self) -> None:
        self.ids = (str(self.action.id), str(self.action.plan_id))


def revise(changes: Changes, entry: Entry, known: str, since: date, order: tuple[date, int] | None = None) -> None:
    """Close what the action's new timeline contradicts at `known`; add what it newly says from `known`.

    Only valid time from `since` (the changed fact's effective date) on can differ. When the changed
    fact (`order`: its place; None for a retraction, or a new action) is the last to apply (the usual
    case: updates reported as they happen), only the last one or two open segments can change, and the
    state from `since` on is the action's current state; otherwise the whole timeline is folded again.
    """
    action, rows = entry.action, entry.rows
    start = action.initial["start_date"]
    since_text = max(since, start).isoformat()
    if order is None or order < entry.last or not rows or rows[-1].valid_from > since_text:
        facts = [f for f in action.facts.values() if f.applies()]
        entry.last = last_order(facts)
        touched = list(rows)
        fresh = {
            (valid_from.isoformat(), valid_to.isoformat() if valid_to else FOREVER, dumps(state))
            for valid_from, valid_to, state in timeline(action.initial, facts, start)
            if valid_to is None or valid_to.isoformat() >= since_text
        }
    else:
        entry.last = order
        last = rows[-1]
        if last.valid_from < since_text:
            # The commonest case, in short: the last segment ends at `since` (unless the state is the same)
            # and a segment in the current state follows; what the general way below would find.
            state = dumps(action.state)
            if state != last.state:
                retire(changes, entry, last, known)
                rows[-1:] = [
                    Row(known, last.valid_from, since_text, last.state),
                    Row(known, since_text, FOREVER, state),
                ]
            return
        touched = [r for r in rows[-2:] if r.valid_to >= since_text]
        points = [(r.valid_from, r.state) for r in touched if r.valid_from < since_text]
        points.append((since_text, dumps(action.state)))
        fresh = {(a, b or FOREVER, s) for a, b, s in segments(points)}
    del rows[len(rows) - len(touched) :]  # In place: an action's rows stay, its tail changes.
    kept: list[Row] = []
    for row in touched:
        if row.valid_to < since_text:
            kept.append(row)
        elif (row.valid_from, row.valid_to, row.state) in fresh:
            fresh.discard((row.valid_from, row.valid_to, row.state))
            kept.append(row)
        else:
            retire(changes, entry, row, known)
    kept += [Row(known, *segment) for segment in sorted(fresh)]
    rows.extend(sorted(kept, key=lambda r: r.valid_from))


def retire(changes: Changes, entry: Entry, row: Row, known: str) -> None:
    """A row the timeline no longer says from `known`: closed then, or gone if this same update said it."""
    if row.known_from == known:  # Said earlier by this same update: it was never known alone.
        if row.stored:
            changes.gone.append({"action_id": entry.ids[0], "known_from": row.known_from, "valid_from": row.valid_from})
    else:
        row.known_to = known
        changes.closed.append((entry.ids, row))


def fact_row(entry: Entry, fact: Fact) -> tuple[Any, ...]:
    """The fact's row of the facts table, its values in FACT_COLUMNS order."""
    assert isinstance(fact, KnownFact) and fact.recorded_at is not None
    return (
        *entry.ids,
        fact.update_id,
        fact.kind,
        fact.seq,
        fact.effective_date.isoformat(),
        fact.agency,
        dumps(fact.values),
        fact.recorded_at.isoformat(),
        int(fact.retracted),
        fact.retracted_at.isoformat() if fact.retracted_at else None,
    )


def fact_from_row(row: dict[str, Any]) -> KnownFact:
    return KnownFact(
        update_id=row["update_id"],
        kind=row["kind"],
        seq=row["seq"],
        effective_date=date.fromisoformat(row["effective_date"]),
        agency=row["agency"],
        values=decode_state(loads(row["vals"])),
        retracted=bool(row["retracted"]),
        recorded_at=datetime.fromisoformat(row["recorded_at"]),
        retracted_at=datetime.fromisoformat(row["retracted_at"]) if row["retracted_at"] else None,
    )
