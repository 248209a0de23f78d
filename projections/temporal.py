"""Every action as it stood on any date, as known at any instant: bitemporal segments, read by index.

Each row says: from `known_from` (until `known_to`), Accord knew that from `valid_from` (until
`valid_to`) the action stood in `state`. A change recorded at K closes the rows it contradicts at K
and adds rows from K; a whole plan at (as_at, known_at) is one indexed query, one row per action.
An update's events share their update's instant (the first event's), so an update is never half known.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from domain.action import Action
from domain.plan import Plan
from domain.timeline import Fact, apply, is_overdue, timeline
from projections.actions import FACTS_DDL, ActionFolding, decode_fact, decode_state, encode_state
from projections.sql import SqlView, dumps, loads

OPEN = "9999-12-31T23:59:59.999999+00:00"  # known_to / valid_to of rows not (yet) superseded.
FOREVER = "9999-12-31"
# The segment that answers (as_at = :d, known_at = :k): known then, and valid on that day.
AS_AT = "s.known_from <= :k AND s.known_to > :k AND s.valid_from <= :d AND s.valid_to > :d"


def instant(moment: datetime) -> str:
    """Instants as fixed-width UTC text, so that text order is time order on both backends."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


@dataclass
class Row:
    known_from: str
    valid_from: str
    valid_to: str
    state: str
    known_to: str = OPEN
    stored: bool = False  # In the table already (else inserted at flush).
    changed: bool = False


class TemporalView(ActionFolding, SqlView):
    tables = {
        "plans": "id",
        "recommendations": "id",
        "actions": "id",
        "segments": "action_id, known_from, valid_from",
        "facts": "action_id",
    }

    def ddl(self) -> list[str]:
        return [
            FACTS_DDL,
            "CREATE TABLE IF NOT EXISTS {p}_plans"
            " (id TEXT PRIMARY KEY, title TEXT NOT NULL, recorded_at TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS {p}_recommendations (id TEXT PRIMARY KEY, plan_id TEXT NOT NULL,"
            " seq INTEGER NOT NULL, number TEXT NOT NULL, text TEXT NOT NULL, recorded_at TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS {p}_actions (id TEXT PRIMARY KEY, plan_id TEXT NOT NULL,"
            " recommendation_id TEXT NOT NULL, number TEXT NOT NULL, description TEXT NOT NULL,"
            " start_date TEXT NOT NULL, recorded_at TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS {p}_segments (action_id TEXT NOT NULL, known_from TEXT NOT NULL,"
            " valid_from TEXT NOT NULL, known_to TEXT NOT NULL, valid_to TEXT NOT NULL, plan_id TEXT NOT NULL,"
            " state TEXT NOT NULL, PRIMARY KEY (action_id, known_from, valid_from))",
            "CREATE INDEX IF NOT EXISTS {i}_segments_plan ON {p}_segments (plan_id, known_to, known_from, valid_from)",
        ]

    # Writing.

    def begin_batch(self, events: Any, c: Any) -> None:
        super().begin_batch(events, c)
        self._rows: dict[str, list[Row]] = {}
        self._gone: list[dict[str, str]] = []
        self._closed: list[tuple[str, Row]] = []

    @singledispatchmethod
    def apply(self, domain_event: Any, c: Any) -> None:
        """Other events show nowhere in time travel (their position is still recorded)."""

    @apply.register
    def _(self, e: Plan.Created, c: Any) -> None:
        self.execute(
            c,
            "INSERT INTO {p}_plans VALUES (:id, :title, :at) ON CONFLICT (id) DO NOTHING",
            {"id": str(e.originator_id), "title": e.title, "at": instant(e.timestamp)},
        )

    @apply.register
    def _(self, e: Plan.RecommendationAdded, c: Any) -> None:
        self.execute(
            c,
            "INSERT INTO {p}_recommendations VALUES (:id, :plan, :seq, :number, :text, :at)"
            " ON CONFLICT (id) DO NOTHING",
            {
                "id": str(e.recommendation_id),
                "plan": str(e.originator_id),
                "seq": e.originator_version,
                "number": e.number,
                "text": e.text,
                "at": instant(e.timestamp),
            },
        )

    @apply.register
    def _(self, e: Action.Raised, c: Any) -> None:
        action = self.raised(e, c)
        self.execute(
            c,
            "INSERT INTO {p}_actions VALUES (:id, :plan, :rec, :number, :description, :start, :at)"
            " ON CONFLICT (id) DO NOTHING",
            {
                "id": str(e.originator_id),
                "plan": str(e.plan_id),
                "rec": str(e.recommendation_id),
                "number": e.number,
                "description": e.description,
                "start": e.effective_date.isoformat(),
                "at": instant(e.timestamp),
            },
        )
        self._rows[str(e.originator_id)] = []
        self.revise(str(e.originator_id), action, instant(e.timestamp), e.effective_date, c)

    @apply.register
    def _(self, e: Action.Event, c: Any) -> None:
        _, action = self.fold_event(e, c)
        fact = action.facts.get(getattr(e, "update_id", ""))
        if fact is None:
            return  # An event that carries no fact changes no timeline.
        known = e.timestamp if isinstance(e, Action.UpdateRetracted) else fact.recorded_at
        assert known is not None
        # A retraction takes a fact out from under others of its day: its timeline is folded afresh.
        retraction = isinstance(e, Action.UpdateRetracted)
        self.revise(str(e.originator_id), action, instant(known), fact.effective_date, c, refold=retraction)

    def revise(  # noqa: PLR0913
        self, action_id: str, action: Action, known: str, since: date, c: Any, *, refold: bool = False
    ) -> None:
        """Close what the action's new timeline contradicts at `known`; add what it newly says from `known`.

        Only valid time from `since` (the changed fact's effective date) on can differ: segments that
        end before it are neither recomputed nor compared.
        """
        start = action.initial["start_date"]
        since_text = max(since, start).isoformat()
        rows = self.open_rows(action_id, c)
        segments = set(self.tail(action, rows, since_text, refold=refold))
        kept = []
        for row in rows:
            if row.valid_to < since_text:
                kept.append(row)
            elif (row.valid_from, row.valid_to, row.state) in segments:
                segments.discard((row.valid_from, row.valid_to, row.state))
                kept.append(row)
            elif row.known_from == known:  # Said earlier by this same update: it was never known alone.
                if row.stored:
                    self._gone.append(
                        {"action_id": action_id, "known_from": row.known_from, "valid_from": row.valid_from}
                    )
            else:
                row.known_to, row.changed = known, True
                self._closed.append((action_id, row))
        kept += [Row(known, *segment) for segment in sorted(segments)]
        self._rows[action_id] = kept

    @staticmethod
    def tail(action: Action, rows: list[Row], since: str, *, refold: bool = False) -> list[tuple[str, str, str]]:
        """The timeline's segments that reach `since` or later, as (valid_from, valid_to, state) text.

        When the changed fact is the last to apply (the usual case: updates reported as they happen),
        the timeline only changes from `since` on and follows from the open segment covering it, so
        the whole history need not be folded again. Otherwise fold it all.
        """
        start = action.initial["start_date"]
        facts = [f for f in action.facts.values() if f.applies(None, None)]
        last = max(facts, key=lambda f: (f.effective_date, f.seq), default=None)
        covering = [r for r in rows if r.valid_from <= since < r.valid_to]
        if refold or last is None or max(last.effective_date, start).isoformat() != since or len(covering) != 1:
            return [
                (valid_from.isoformat(), valid_to.isoformat() if valid_to else FOREVER, encoded(state))
                for valid_from, valid_to, state in timeline(action.initial, facts, start)
                if valid_to is None or valid_to.isoformat() >= since
            ]
        row = covering[0]
        after = decode_state(loads(row.state))
        apply(after, last)
        pieces = [(r.valid_from, r.valid_to, r.state) for r in rows if since <= r.valid_to and r is not row]
        if row.valid_from < since:
            pieces.append((row.valid_from, since, row.state))
        pieces.append((since, FOREVER, encoded(after)))
        merged: list[tuple[str, str, str]] = []
        for piece in sorted(pieces):  # As `timeline` does: equal neighbours are one segment.
            if merged and merged[-1][2] == piece[2]:
                merged[-1] = (merged[-1][0], piece[1], piece[2])
            else:
                merged.append(piece)
        return merged

    def open_rows(self, action_id: str, c: Any) -> list[Row]:
        if action_id not in self._rows:
            self.execute(
                c,
                "SELECT known_from, valid_from, valid_to, state FROM {p}_segments"
                " WHERE action_id = :id AND known_to = :open",
                {"id": action_id, "open": OPEN},
            )
            self._rows[action_id] = [Row(**dict(r), stored=True) for r in c.fetchall()]
        return self._rows[action_id]

    def flush(self, c: Any) -> None:
        c.executemany(
            self.sql(
                "DELETE FROM {p}_segments WHERE action_id = :action_id AND known_from = :known_from"
                " AND valid_from = :valid_from"
            ),
            self._gone,
        )
        closed = [(a, r) for a, r in self._closed if r.stored]
        c.executemany(
            self.sql(
                "UPDATE {p}_segments SET known_to = :known_to WHERE action_id = :action_id"
                " AND known_from = :known_from AND valid_from = :valid_from"
            ),
            [
                {"action_id": a, "known_from": r.known_from, "valid_from": r.valid_from, "known_to": r.known_to}
                for a, r in closed
            ],
        )
        fresh = [(a, r) for a, r in self._closed if not r.stored]
        fresh += [(a, r) for a, rows in self._rows.items() for r in rows if not r.stored]
        c.executemany(
            self.sql(
                "INSERT INTO {p}_segments VALUES (:action_id, :known_from, :valid_from, :known_to, :valid_to,"
                " :plan_id, :state)"
            ),
            [
                {
                    "action_id": a,
                    "known_from": r.known_from,
                    "valid_from": r.valid_from,
                    "known_to": r.known_to,
                    "valid_to": r.valid_to,
                    "plan_id": str(self._batch[a].plan_id),
                    "state": r.state,
                }
                for a, r in fresh
            ],
        )
        super().flush(c)

    # Reading.

    def plan_status(self, plan_id: str, as_at: date, known_at: datetime) -> dict[str, Any] | None:
        """The whole plan as it stood on `as_at`, as known at `known_at`; None if not known by then."""
        known = instant(known_at)
        plan = self.fetchone(
            "SELECT id, title FROM {p}_plans WHERE id = :id AND recorded_at <= :k", {"id": plan_id, "k": known}
        )
        if plan is None:
            return None
        recommendations = self.fetchall(
            "SELECT id, number, text FROM {p}_recommendations WHERE plan_id = :id AND recorded_at <= :k ORDER BY seq",
            {"id": plan_id, "k": known},
        )
        rows = self.fetchall(
            "SELECT s.action_id, s.state, a.number, a.recommendation_id FROM {p}_segments s"
            " JOIN {p}_actions a ON a.id = s.action_id"
            f" WHERE s.plan_id = :plan AND {AS_AT} ORDER BY a.recorded_at",
            {"plan": plan_id, "k": known, "d": as_at.isoformat()},
        )
        actions = [action_as_at(r, as_at) for r in rows]
        return {
            "plan_id": plan_id,
            "title": plan["title"],
            "as_at": as_at.isoformat(),
            "known_at": known_at.isoformat(),
            "recommendations": [
                {**r, "actions": [a for a in actions if a["recommendation_id"] == r["id"]]} for r in recommendations
            ],
        }

    def action_status(self, action_id: str, as_at: date, known_at: datetime) -> dict[str, Any] | None:
        known = instant(known_at)
        row = self.fetchone(
            "SELECT s.action_id, s.state, a.number, a.recommendation_id, a.plan_id, a.description FROM {p}_segments s"
            " JOIN {p}_actions a ON a.id = s.action_id"
            f" WHERE s.action_id = :id AND {AS_AT}",
            {"id": action_id, "k": known, "d": as_at.isoformat()},
        )
        return (
            {**action_as_at(row, as_at), "plan_id": row["plan_id"], "description": row["description"]} if row else None
        )

    def facts_of(self, plan_id: str) -> dict[str, list[Fact]]:
        rows = self.fetchall("SELECT action_id, facts FROM {p}_facts WHERE plan_id = :id", {"id": plan_id})
        return {r["action_id"]: [decode_fact(f) for f in loads(r["facts"])] for r in rows}


def encoded(state: dict[str, Any]) -> str:
    return dumps(encode_state(state))


def action_as_at(row: dict[str, Any], as_at: date) -> dict[str, Any]:
    state = loads(row["state"])
    due = date.fromisoformat(state["due_date"]) if state["due_date"] else None
    return {
        "id": row["action_id"],
        "number": row["number"],
        "recommendation_id": row["recommendation_id"],
        "status": state["status"],
        "rag": state["rag"],
        "due_date": state["due_date"],
        "due_label": state["due_label"],
        "overdue": is_overdue(due, state["status"], as_at),
        "lead_agency": state["lead_agency"],
        "lead_person": state["lead_person"],
        "contributing_agencies": state["contributing_agencies"],
        "last_update": state["last_update"],
    }


class Temporal(Projection[TemporalView]):
    """Projects actions' events onto bitemporal segments for time travel."""

    name = "temporal"
    view_class = TemporalView

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.write([domain_event], tracking)
