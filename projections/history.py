"""Each action's audit trail: one item per recorded change, in the order recorded, nothing ever dropped.

An item is a posted update (however many events it stored: they share an update id and arrive one
after another), the action's creation, a lead assignment, or a retraction. `changes` says, per field,
what the action's current value was just before the change was recorded (`from`, folded by the
domain's own code) and what the change reported (`to`), for the fields whose value it changed.
A retracted update stays, marked `retracted`.
Every column follows from the events alone, so a rebuild reproduces the table exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import singledispatchmethod
from operator import itemgetter
from typing import Any
from uuid import UUID, uuid5

from adapters.sql import dumps, loads
from domain.action import Action
from projections.actions import ActionView, IdTexts, Step, encode_state

CREATED, UPDATE, LEAD_ASSIGNED, RETRACTION = "created", "update", "lead_assigned", "retraction"
TYPES = (CREATED, UPDATE, LEAD_ASSIGNED, RETRACTION)
# The action's fields a change can move, in the order they are shown.
FIELDS = ("status", "rag", "due_date", "due_label", "lead_agency", "lead_person", "contributing_agencies")
LEAD_FIELDS = ("lead_agency", "lead_person", "contributing_agencies")
# A retraction also says what it did to the last progress shown.
RETRACTION_FIELDS = (*FIELDS, "last_update")
COLUMNS = (
    "action_id",
    "seq",
    "id",
    "type",
    "version",
    "recorded_at",
    "effective_date",
    "actor",
    "user_id",
    "changes",
    "text",
    "reason",
    "impact",
    "evidence",
    "retracts",
    "retracted",
)
ROW = itemgetter(*COLUMNS)  # An item as a row of the table.
# What an update's events report, by event: the fields they set (their `to`); the rest only say something.
REPORTED: dict[type[Any], tuple[str, ...]] = {
    Action.StatusChanged: ("status",),
    Action.RagRated: ("rag",),
    Action.DueDateRevised: ("due_date", "due_label"),
    Action.ProgressReported: (),
    Action.ImpactRecorded: (),
    Action.EvidenceAdded: (),
}
Key = tuple[str, str]  # (action id, item id)


class Batch:
    """The items a batch touches, each read at most once and written once: new ones inserted, others updated.
    An item's `changes` stay a dict until written."""

    def __init__(self, view: HistoryView, c: Any) -> None:
        self.view, self.c = view, c
        self.new: dict[Key, dict[str, Any]] = {}  # Items first recorded in this batch, in recorded order.
        self.old: dict[Key, dict[str, Any]] = {}  # Items of earlier batches that this one changes.
        self.actors: dict[tuple[Any, ...], str] = {}  # Who acted, as history shows them (JSON), by who they are.
        self.ids = IdTexts()

    def add(self, row: dict[str, Any]) -> dict[str, Any]:
        self.new[row["action_id"], row["id"]] = row  # Batches apply exactly once: an item is never inserted twice.
        return row

    def get(self, key: Key) -> dict[str, Any] | None:
        row = self.new.get(key) or self.old.get(key)
        if row is None:
            row = self.view.db.fetchone(
                "SELECT * FROM {t.items} WHERE action_id = {action_id} AND id = {id}",
                {"action_id": key[0], "id": key[1]},
            )
            if row is None:
                return None
            row["changes"] = loads(row["changes"])
            self.old[key] = row
        return row

    def actor(self, actor: dict[str, Any]) -> str:
        """Who acted, as history shows them, in JSON: written once per person a batch (most batches have few)."""
        who = (actor.get("name"), actor.get("agency"), actor.get("role"), actor.get("on_behalf_of"))
        shown = self.actors.get(who)
        if shown is None:
            shown = self.actors[who] = dumps(public(actor))
        return shown

    def write(self) -> None:
        db = self.view.db
        for row in (*self.new.values(), *self.old.values()):
            row["changes"] = dumps(row["changes"])
        db.dialect.insert_many(self.c, db.tables.items, COLUMNS, map(ROW, self.new.values()))
        db.executemany(
            self.c,
            "UPDATE {t.items} SET changes = {changes}, text = {text}, impact = {impact}, evidence = {evidence},"
            " reason = {reason}, version = {version}, retracted = {retracted} WHERE action_id = {action_id}"
            " AND id = {id}",
            [self.old[key] for key in sorted(self.old)],
        )


class HistoryView(ActionView):
    weight = 1.8
    by_aggregate = True
    tables = {
        "items": "action_id, seq",
    }
    indexes = ("items_id",)

    def ddl(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS {t.items} (action_id TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL,"
            " type TEXT NOT NULL, version INTEGER NOT NULL, recorded_at TEXT NOT NULL, effective_date TEXT,"
            " actor TEXT NOT NULL, user_id TEXT, changes TEXT NOT NULL, text TEXT, reason TEXT, impact TEXT,"
            " evidence TEXT, retracts TEXT, retracted TEXT, PRIMARY KEY (action_id, seq))",
            "CREATE UNIQUE INDEX IF NOT EXISTS {i.items_id} ON {t.items} (action_id, id)",
        ]

    # Writing.

    def begin(self, events: Sequence[Any], c: Any) -> Batch:
        return Batch(self, c)

    def flush(self, batch: Batch, c: Any) -> None:
        batch.write()

    @singledispatchmethod
    def apply(self, domain_event: Any, batch: Batch) -> None:
        """Events of other aggregates are not part of any action's history (their position is still recorded)."""

    @apply.register
    def _(self, e: Action.Raised, batch: Batch) -> None:
        state = state_of(self.actions.raised(e).state)
        changes = {name: {"from": None, "to": state[name]} for name in FIELDS if state[name] not in (None, [])}
        insert(batch, e, id=batch.ids.of(e.originator_id), type=CREATED, changes=changes, text=e.description)

    @apply.register
    def _(self, e: Action.Event, batch: Batch) -> None:
        step = self.actions.step(e)
        if hasattr(e, "update_id"):
            update(batch, e, step)

    @apply.register
    def _(self, e: Action.LeadAssigned, batch: Batch) -> None:
        was = state_of(self.actions.step(e).before)
        reported = {name: encoded(getattr(e, name)) for name in LEAD_FIELDS}
        changes = {name: {"from": was[name], "to": to} for name, to in reported.items() if was[name] != to}
        insert(batch, e, id=e.update_id, type=LEAD_ASSIGNED, changes=changes)

    @apply.register
    def _(self, e: Action.UpdateRetracted, batch: Batch) -> None:
        retraction(batch, e, self.actions.step(e))

    # Reading.

    def history(self, action_id: str) -> list[dict[str, Any]] | None:
        """The action's items in recorded order; None when there is no such action."""
        rows = self.db.fetchall("SELECT * FROM {t.items} WHERE action_id = {id} ORDER BY seq", {"id": action_id})
        return [item_out(row) for row in rows] if rows else None

    def last_updates_recorded(self, action_ids: list[str]) -> dict[str, str]:
        """When each action's latest update not retracted was recorded (ISO instant, UTC); absent if none."""
        rows = self.db.fetchall(
            "SELECT action_id, MAX(recorded_at) AS recorded_at FROM {t.items} WHERE type = 'update'"
            " AND retracted IS NULL AND action_id {in_ids} GROUP BY action_id",
            {"ids": self.db.dialect.as_list(action_ids)},
        )
        return {row["action_id"]: row["recorded_at"] for row in rows}

    def histories(self, action_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Many actions' items in a few reads (a committee report reads a whole plan's): action id -> its items in
        recorded order, as `history` gives them; actions without any are left out."""
        found: dict[str, list[dict[str, Any]]] = {}
        rows = self.db.fetchall(
            "SELECT * FROM {t.items} WHERE action_id {in_ids} ORDER BY action_id, seq",
            {"ids": self.db.dialect.as_list(action_ids)},
        )
        for row in rows:
            found.setdefault(row["action_id"], []).append(item_out(row))
        return found


def item_out(row: dict[str, Any]) -> dict[str, Any]:
    item = {
        "id": row["id"],
        "seq": row["seq"],
        "type": row["type"],
        "recorded_at": row["recorded_at"],
        "effective_date": row["effective_date"],
        "actor": loads(row["actor"]),
        "changes": loads(row["changes"]),
        "text": row["text"],
    }
    for name in ("reason", "impact", "retracts"):
        if row[name] is not None:
            item[name] = row[name]
    for name in ("evidence", "retracted"):
        if row[name] is not None:
            item[name] = loads(row[name])
    return item


def update(batch: Batch, e: Any, step: Step) -> None:
    """Merge one event of a posted update into that update's item (created by its first event)."""
    item = (
        insert(batch, e, id=e.update_id, type=UPDATE, changes={})  # The update's first event: its item starts here.
        if step.new_fact
        else batch.get((batch.ids.of(e.originator_id), e.update_id))
    )
    assert item is not None
    changes = item["changes"]
    reported = REPORTED.get(type(e))
    if reported is None:  # An event not known by name: what it moved.
        was, now = state_of(step.before), state_of(step.action.state)
        for name in FIELDS:
            if was[name] != now[name]:
                changes.setdefault(name, {"from": was[name]})["to"] = now[name]
    for name in reported or ():
        was, to = encoded(step.before[name]), encoded(getattr(e, name))
        if was != to:  # Only what the update changed: never `amber -> amber`.
            changes.setdefault(name, {"from": was})["to"] = to
    if isinstance(e, Action.ProgressReported):
        item["text"] = e.text
    elif isinstance(e, Action.ImpactRecorded):
        item["impact"] = e.text
    elif isinstance(e, Action.EvidenceAdded):
        item["evidence"] = dumps([*(loads(item["evidence"]) or []), *e.items])
    item["reason"] = getattr(e, "reason", None) or item["reason"]
    item["version"] = e.originator_version


def retraction(batch: Batch, e: Action.UpdateRetracted, step: Step) -> None:
    """Mark the retracted update, and record the retraction as an item of its own."""
    action_id = batch.ids.of(e.originator_id)
    marker = {"at": e.timestamp.isoformat(), "by": public(e.actor), "reason": e.reason}
    retracted = batch.get((action_id, e.update_id))
    if retracted:
        retracted["retracted"] = dumps(marker)
    was, now = state_of(step.before), state_of(step.action.state)
    changes = {name: {"from": was[name], "to": now[name]} for name in RETRACTION_FIELDS if was[name] != now[name]}
    insert(
        batch,
        e,
        id=retraction_id(e.update_id, e.originator_version),
        type=RETRACTION,
        changes=changes,
        effective_date=retracted["effective_date"] if retracted else None,
        reason=e.reason,
        retracts=e.update_id,
    )


def insert(batch: Batch, e: Any, **item: Any) -> dict[str, Any]:
    return batch.add(
        {
            "action_id": batch.ids.of(e.originator_id),
            "seq": e.originator_version,
            "version": e.originator_version,
            "recorded_at": e.timestamp.isoformat(),
            "effective_date": encoded(getattr(e, "effective_date", None)),
            "actor": batch.actor(e.actor),
            "user_id": e.actor.get("user_id"),
            "text": None,
            "reason": None,
            "impact": None,
            "evidence": None,
            "retracts": None,
            "retracted": None,
            **item,
        }
    )


def state_of(state: dict[str, Any]) -> dict[str, Any]:
    """An action's fields as history shows them, JSON-ready."""
    last = state["last_update"]
    return encode_state(
        {
            **{name: state[name] for name in FIELDS},
            "contributing_agencies": list(state["contributing_agencies"]),
            "last_update": encode_state(last) if last else None,
        }
    )


def encoded(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def public(actor: dict[str, Any]) -> dict[str, Any]:
    """Who acted, as history shows them: never their user id."""
    shown = {"name": actor.get("name"), "agency": actor.get("agency"), "role": actor.get("role")}
    return {**shown, "on_behalf_of": actor["on_behalf_of"]} if actor.get("on_behalf_of") else shown


def retraction_id(update_id: str | UUID, seq: int) -> str:
    """A retraction's id: the same whenever the events are folded, distinct from the update's."""
    return str(uuid5(UUID(str(update_id)), f"retraction:{seq}"))
