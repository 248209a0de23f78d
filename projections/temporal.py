"""Every action as it stood on any date, as known at any instant: bitemporal segments, read by index.

Each row says: from `known_from` (until `known_to`), Accord knew that from `valid_from` (until
`valid_to`) the action stood in `state`. A change recorded at K closes the rows it contradicts at K
and adds rows from K; a whole plan at (as_at, known_at) is one indexed query, one row per action
(on PostgreSQL one GiST search: each row a rectangle of known time by the plan's band of valid time).
An update's events share their update's instant (the first event's), so an update is never half known.

The view keeps each action's facts with when they were recorded and retracted (`KnownFact`, which
the aggregate does not know), one row per fact, written when the fact changes; they answer `facts_of`
and let the view fold an action it does not hold in memory. How an action's rows change when a fact is
learnt is projections/segments.py; valid time is folded by domain/timeline.py. (About 430 lines: one
view's tables, writing and reading, kept together.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from adapters.sql import dumps, instant, loads, loads_all
from domain.action import Action
from domain.plan import Plan
from domain.timeline import Fact, is_overdue, last_order
from projections.actions import decode_state, encode_state, id_number, trim
from projections.areas import MOMENT, area
from projections.segments import (
    FACT_COLUMNS,
    OPEN,
    Changes,
    Entry,
    KnownFact,
    Row,
    fact_from_row,
    fact_row,
    revise,
)
from projections.view import SqlView

# The segment that answers (as_at = {d}, known_at = {k}): known then, and valid on that day.
# An action's state on day {d} as known at {k}: the rows known then partition its valid time, so the one
# that covers {d} is the latest to start by {d} (on SQLite an index walk back from {d}, a row or two per
# action; on PostgreSQL, for one action, its rows known by {k} through the primary key).
STATE_AS_AT = (
    "(SELECT s.state FROM {t.segments} s WHERE s.action_id = a.id AND s.valid_from <= {d}"
    " AND s.known_from <= {k} AND s.known_to > {k} ORDER BY s.valid_from DESC LIMIT 1)"
)


# The rows an update closes (`known_to` set) leave their old versions in the index until a vacuum, each a
# rectangle still open in known time. A plain index scan marks those it meets as dead in the index, so later
# searches pass them by; a bitmap scan, which the planner would choose, visits every one of them every time.
ONE_INDEX_SCAN = {"enable_bitmapscan": "off"}
# Each action of plan {id} that has a state on day {d} as known at {k}: (action_id, state).
STATES_AS_AT = {
    True: "SELECT action_id, state FROM {t.segments} WHERE area @> box(" + MOMENT + ", " + MOMENT + ")"
    " AND plan_id = {id} AND known_from <= {k} AND known_to > {k} AND valid_from <= {d} AND valid_to > {d}",
    False: "SELECT a.id AS action_id, " + STATE_AS_AT + " AS state FROM {t.actions} a"
    " WHERE a.plan_id = {id} AND a.recorded_at <= {k}",
}
SEGMENT_COLUMNS = ("action_id", "plan_id", "known_from", "valid_from", "known_to", "valid_to", "state")


@dataclass
class Batch(Changes):
    plans: list[tuple[Any, ...]] = field(default_factory=list)
    recommendations: list[tuple[Any, ...]] = field(default_factory=list)
    actions: list[tuple[Any, ...]] = field(default_factory=list)
    # Actions by the number of their id (projections/actions.py `id_number`).
    facts: dict[tuple[int, str], Entry] = field(default_factory=dict)  # Facts changed, by (action, update).
    touched: dict[int, Entry] = field(default_factory=dict)
    # An update's events are revised once, after its last event in the batch: (action) -> (update, its action).
    pending: dict[int, tuple[str, Entry]] = field(default_factory=dict)


class TemporalView(SqlView):
    advances = True
    weight = 2.6
    by_aggregate = True
    # 2: segments carry their plan (and on PostgreSQL their rectangle, `AREA`); 3: the rectangle computed as a
    # segment is written (`area`), no longer in a generated column, and facts keyed by bytes.
    shape = 3
    tables = {
        "plans": "id",
        "recommendations": "id",
        "actions": "id",
        "segments": "action_id, known_from, valid_from",
        "facts": "action_id, update_id",
    }
    indexes = ("segments_valid", "facts_plan", "actions_plan")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entries: dict[int, Entry] = {}  # The actions held, by the number of their id (`id_number`).

    def ddl(self) -> list[str]:
        postgres = self.db.dialect.postgres
        return [
            "CREATE TABLE IF NOT EXISTS {t.plans} (id TEXT PRIMARY KEY, title TEXT NOT NULL,"
            " recorded_at TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS {t.recommendations} (id TEXT PRIMARY KEY, plan_id TEXT NOT NULL,"
            " seq INTEGER NOT NULL, number TEXT NOT NULL, text TEXT NOT NULL, recorded_at TEXT NOT NULL)",
            # Ids, days and instants compare byte by byte (`bytewise_text`): a whole plan's time travel is an index
            # probe per action, and comparing through the database's collation was a fifth of its time.
            "CREATE TABLE IF NOT EXISTS {t.actions} (id {bytewise_text} PRIMARY KEY, plan_id {bytewise_text} NOT NULL,"
            " recommendation_id TEXT NOT NULL, number TEXT NOT NULL, description TEXT NOT NULL,"
            " start_date TEXT NOT NULL, recorded_at {bytewise_text} NOT NULL, initial TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS {t.segments} (action_id {bytewise_text} NOT NULL,"
            " plan_id {bytewise_text} NOT NULL, known_from {bytewise_text} NOT NULL,"
            " valid_from {bytewise_text} NOT NULL, known_to {bytewise_text} NOT NULL,"
            " valid_to {bytewise_text} NOT NULL, state TEXT NOT NULL,"
            + (" area box NOT NULL," if postgres else "")
            + " PRIMARY KEY (action_id, known_from, valid_from))",
            "CREATE TABLE IF NOT EXISTS {t.facts} (action_id {bytewise_text} NOT NULL,"
            " update_id {bytewise_text} NOT NULL, plan_id {bytewise_text} NOT NULL, kind TEXT NOT NULL,"
            " seq INTEGER NOT NULL, effective_date TEXT NOT NULL, agency TEXT NOT NULL, vals TEXT NOT NULL,"
            " recorded_at TEXT NOT NULL, retracted INTEGER NOT NULL, retracted_at TEXT,"
            " PRIMARY KEY (action_id, update_id))",
        ]

    def reading_ddl(self) -> list[str]:
        postgres = self.db.dialect.postgres
        return [
            "CREATE INDEX IF NOT EXISTS {i.actions_plan} ON {t.actions} (plan_id, recorded_at)",
            "CREATE INDEX IF NOT EXISTS {i.segments_valid} ON {t.segments}"
            + (" USING gist (area)" if postgres else " (action_id, valid_from, known_from, known_to)"),
            "CREATE INDEX IF NOT EXISTS {i.facts_plan} ON {t.facts} (plan_id)",
        ]

    def forget(self) -> None:
        super().forget()
        self.entries.clear()

    def advance(self, events: Sequence[Any]) -> None:
        """Bring the actions held forward by events another consumer applied: apply them as a batch would, and
        take what that batch would have written as written (the other consumer wrote the same). An action held
        at another version is let go; one not held stays so (a batch reads it when it needs it)."""
        batch = Batch()
        try:
            for e in events:
                if isinstance(e, Action.Event) and not isinstance(e, Action.Raised):
                    entry = self.entries.get(id_number(e))
                    if entry is None:
                        continue
                    if entry.action.version != e.originator_version - 1:
                        del self.entries[id_number(e)]
                        continue
                self.handler(type(e))(e, batch)
            for action_id in list(batch.pending):
                self.settle(batch, action_id)
        except Exception:
            self.forget()  # Never a guess: what it held is read again.
            return
        for entry in batch.touched.values():
            for row in entry.rows:
                row.stored = True
        for (_, update_id), entry in batch.facts.items():
            entry.stored_facts.add(update_id)

    # Writing.

    def begin(self, events: Sequence[Any], c: Any) -> Batch:
        # Between batches only; an action with no facts yet counts nothing (projections/actions.py `trim`).
        trim(self.entries, lambda entry: len(entry.action.facts) and len(entry.action.facts) + len(entry.rows))
        first = {id_number(e): e for e in reversed(events)}  # Each aggregate's first event in the batch.
        # The actions it changes (those it raises are new) that this view does not hold as they stood just
        # before: another consumer (the other worker) may have applied their events since this one held them.
        wanted = {
            k: e
            for k, e in first.items()
            if isinstance(e, Action.Event)
            and not isinstance(e, Action.Raised)
            and ((held := self.entries.get(k)) is None or held.action.version != e.originator_version - 1)
        }
        self.fetch(wanted, c)
        return Batch()

    @singledispatchmethod
    def apply(self, domain_event: Any, batch: Batch) -> None:
        """Other events show nowhere in time travel (their position is still recorded)."""

    @apply.register
    def _(self, e: Plan.Created, batch: Batch) -> None:
        batch.plans.append((str(e.originator_id), e.title, instant(e.timestamp)))

    @apply.register
    def _(self, e: Plan.RecommendationAdded, batch: Batch) -> None:
        at = instant(e.timestamp)
        batch.recommendations.append(
            (str(e.recommendation_id), str(e.originator_id), e.originator_version, e.number, e.text, at)
        )

    @apply.register
    def _(self, e: Action.Raised, batch: Batch) -> None:
        action = e.mutate(None)
        assert action is not None
        batch.actions.append(
            (
                str(e.originator_id),
                str(e.plan_id),
                str(e.recommendation_id),
                e.number,
                e.description,
                e.effective_date.isoformat(),
                instant(e.timestamp),
                dumps(encode_state(action.initial)),
            )
        )
        entry = self.entries[id_number(e)] = Entry(action, [], (date.min, 0))
        batch.touched[id_number(e)] = entry
        revise(batch, entry, instant(e.timestamp), e.effective_date)

    @apply.register
    def _(self, e: Action.Event, batch: Batch) -> None:
        action_id = id_number(e)
        update_id = getattr(e, "update_id", None)
        retraction = isinstance(e, Action.UpdateRetracted)
        waiting = batch.pending.get(action_id)
        if waiting:
            waiting_update, entry = waiting
            if waiting_update == update_id and not retraction:
                e.mutate(entry.action)  # The waiting update's next event: its fact and rows are in the batch already.
                return
            self.settle(batch, action_id)
        else:
            entry = self.entries[action_id]
        e.mutate(entry.action)
        batch.touched[action_id] = entry
        if update_id is None:
            return  # An event that carries no fact changes no timeline.
        facts = entry.action.facts
        fact = facts[update_id]
        if not isinstance(fact, KnownFact):  # Its first event: it is known from now.
            fact = facts[update_id] = KnownFact.known(fact, e.timestamp)
        elif fact.retracted and fact.retracted_at is None:
            fact.retracted_at = e.timestamp
        batch.facts[(action_id, update_id)] = entry
        if retraction:
            # A retraction takes a fact out from under others of its day: its timeline is folded afresh.
            revise(batch, entry, instant(e.timestamp), fact.effective_date)
        else:
            batch.pending[action_id] = (update_id, entry)

    def settle(self, batch: Batch, action_id: int) -> None:
        """Revise the timeline for the update whose events were waiting (all known at one instant)."""
        update_id, entry = batch.pending.pop(action_id)
        fact = entry.action.facts[update_id]
        assert isinstance(fact, KnownFact) and fact.recorded_at is not None
        revise(batch, entry, instant(fact.recorded_at), fact.effective_date, fact.order)

    def fetch(self, first: dict[int, Any], c: Any) -> None:
        """Read the actions the batch changes and this view does not hold (each with its first event in the
        batch, by `id_number`): a few queries for all of them."""
        wanted = sorted(str(e.originator_id) for e in first.values())
        if not wanted:
            return
        ids = {"ids": self.db.dialect.as_list(wanted)}
        facts: dict[str, dict[str, Fact]] = {a: {} for a in wanted}
        self.db.execute(c, "SELECT * FROM {t.facts} WHERE action_id {in_ids}", ids)
        for row in c.fetchall():
            facts[row["action_id"]][row["update_id"]] = fact_from_row(row)
        rows: dict[str, list[Row]] = {a: [] for a in wanted}
        self.db.execute(
            c,
            "SELECT action_id, known_from, valid_from, valid_to, state FROM {t.segments}"
            " WHERE action_id {in_ids} AND known_to = {open} ORDER BY action_id, valid_from",
            {**ids, "open": OPEN},
        )
        for row in c.fetchall():
            rows[row["action_id"]].append(
                Row(row["known_from"], row["valid_from"], row["valid_to"], row["state"], stored=True)
            )
        self.db.execute(c, "SELECT id, plan_id, recommendation_id, initial FROM {t.actions} WHERE id {in_ids}", ids)
        for row in c.fetchall():
            action_id = UUID(row["id"])
            e = first[action_id.int]
            action = Action.from_facts(
                id=action_id,
                version=e.originator_version - 1,
                timestamp=e.timestamp,
                plan_id=UUID(row["plan_id"]),
                recommendation_id=UUID(row["recommendation_id"]),
                initial=decode_state(loads(row["initial"])),
                facts=facts[row["id"]],
            )
            entry = Entry(action, rows[row["id"]], last_order(action.facts.values()), set(action.facts))
            self.entries[action_id.int] = entry

    def flush(self, batch: Batch, c: Any) -> None:
        for action_id in list(batch.pending):
            self.settle(batch, action_id)
        for action_id in batch.touched:  # Put back last: the dict's order is least recently used first.
            self.entries[action_id] = self.entries.pop(action_id)
        db, insert = self.db, self.db.dialect.insert_many
        insert(c, db.tables.plans, ("id", "title", "recorded_at"), batch.plans)
        columns = ("id", "plan_id", "seq", "number", "text", "recorded_at")
        insert(c, db.tables.recommendations, columns, batch.recommendations)
        columns = (
            "id",
            "plan_id",
            "recommendation_id",
            "number",
            "description",
            "start_date",
            "recorded_at",
            "initial",
        )
        insert(c, db.tables.actions, columns, batch.actions)
        db.executemany(
            c,
            "DELETE FROM {t.segments} WHERE action_id = {action_id} AND known_from = {known_from}"
            " AND valid_from = {valid_from}",
            batch.gone,
        )
        postgres = db.dialect.postgres
        db.dialect.update_many(
            c,
            db.tables.segments,
            {"action_id": "text", "known_from": "text", "valid_from": "text"},
            {"known_to": "text", "area": "box"} if postgres else {"known_to": "text"},
            [
                {"action_id": ids[0], "known_from": r.known_from, "valid_from": r.valid_from, "known_to": r.known_to}
                | ({"area": area(ids[1], r.known_from, r.valid_from, r.known_to, r.valid_to)} if postgres else {})
                for ids, r in batch.closed
                if r.stored
            ],
        )
        fresh = [(ids, r) for ids, r in batch.closed if not r.stored]
        fresh += [(entry.ids, r) for entry in batch.touched.values() for r in entry.rows if not r.stored]
        rows: list[tuple[str, ...]] = [
            (*ids, r.known_from, r.valid_from, r.known_to, r.valid_to, r.state) for ids, r in fresh
        ]
        if postgres:  # Each row's rectangle (projections/areas.py), from its plan and its four bounds.
            rows = [(*row, area(*row[1:6])) for row in rows]
        insert(c, db.tables.segments, (*SEGMENT_COLUMNS, "area") if postgres else SEGMENT_COLUMNS, rows)
        for _, r in fresh:
            r.stored = True
        new, changed = [], []
        for (_, update_id), entry in batch.facts.items():
            row = fact_row(entry, entry.action.facts[update_id])
            if update_id in entry.stored_facts:
                changed.append(dict(zip(FACT_COLUMNS, row, strict=True)))
            else:
                new.append(row)
                entry.stored_facts.add(update_id)
        insert(c, db.tables.facts, FACT_COLUMNS, new)
        db.dialect.update_many(
            c,
            db.tables.facts,
            {"action_id": "text", "update_id": "text"},
            {"vals": "text", "retracted": "integer", "retracted_at": "text"},
            changed,
        )

    # Reading.

    def plan_status(self, plan_id: str, as_at: date, known_at: datetime) -> dict[str, Any] | None:
        """The whole plan as it stood on `as_at`, as known at `known_at`; None if not known by then."""
        if not is_uuid(plan_id):
            return None  # No plan has such an id (and `_band` reads its first seven characters as hex digits).
        params = {"id": plan_id, "k": instant(known_at), "d": as_at.isoformat()}
        recommendations, actions, states = self.db.fetch_together(  # One snapshot for the three reads.
            (
                "SELECT p.title, r.id, r.number, r.text FROM {t.plans} p LEFT JOIN {t.recommendations} r"
                " ON r.plan_id = p.id AND r.recorded_at <= {k} WHERE p.id = {id} AND p.recorded_at <= {k}"
                " ORDER BY r.seq",
                params,
            ),
            (
                "SELECT id AS action_id, number, recommendation_id FROM {t.actions}"
                " WHERE plan_id = {id} AND recorded_at <= {k} ORDER BY recorded_at",
                params,
            ),
            (STATES_AS_AT[self.db.dialect.postgres], params),
            planner=ONE_INDEX_SCAN,
        )
        if not recommendations:
            return None
        state_of = {row["action_id"]: row["state"] for row in states if row["state"] is not None}
        rows = [row for row in actions if row["action_id"] in state_of]
        shown: dict[str, list[dict[str, Any]]] = {r["id"]: [] for r in recommendations if r["id"] is not None}
        for row, state in zip(rows, loads_all([state_of[r["action_id"]] for r in rows]), strict=True):
            if row["recommendation_id"] in shown:
                shown[row["recommendation_id"]].append(action_as_at(row, state, as_at))
        return {
            "plan_id": plan_id,
            "title": recommendations[0]["title"],
            "as_at": as_at.isoformat(),
            "known_at": known_at.isoformat(),
            "recommendations": [
                {"id": r["id"], "number": r["number"], "text": r["text"], "actions": shown[r["id"]]}
                for r in recommendations
                if r["id"] is not None
            ],
        }

    def action_status(self, action_id: str, as_at: date, known_at: datetime) -> dict[str, Any] | None:
        row = self.db.fetchone(
            "SELECT a.id AS action_id, a.number, a.recommendation_id, a.plan_id, a.description, "
            + STATE_AS_AT
            + " AS state FROM {t.actions} a WHERE a.id = {id}",
            {"id": action_id, "k": instant(known_at), "d": as_at.isoformat()},
        )
        if row is None or row["state"] is None:
            return None
        shown = action_as_at(row, loads(row["state"]), as_at)
        return {**shown, "plan_id": row["plan_id"], "description": row["description"]}

    def facts_of(self, plan_id: str) -> dict[str, list[KnownFact]]:
        """Each action of the plan's facts (in recorded order), with when they were recorded and retracted."""
        rows = self.db.fetchall("SELECT * FROM {t.facts} WHERE plan_id = {id} ORDER BY action_id, seq", {"id": plan_id})
        facts: dict[str, list[KnownFact]] = {}
        for row in rows:
            facts.setdefault(row["action_id"], []).append(fact_from_row(row))
        return facts


def is_uuid(text: str) -> bool:
    """Whether `text` is a UUID as ids are stored (lower-case, with hyphens)."""
    try:
        return str(UUID(text)) == text
    except ValueError:
        return False


def action_as_at(row: dict[str, Any], state: dict[str, Any], as_at: date) -> dict[str, Any]:
    """An action's row (id, number, recommendation) and its decoded state, as shown on `as_at`."""
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
