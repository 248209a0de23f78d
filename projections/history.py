"""Each action's audit trail: one item per recorded change, in the order recorded, nothing ever dropped.

An item is a posted update (however many events it stored: they share an update id and arrive one
after another), the action's creation, a lead assignment, or a retraction. `changes` says, per field,
what the action's current value was just before the change was recorded (`from`, folded by the
domain's own code) and what the change reported (`to`), for the fields whose value it changed.
A retracted update stays, marked `retracted`.
Every column follows from the events alone, so a rebuild reproduces the table exactly.
"""

from __future__ import annotations

from datetime import date
from functools import singledispatchmethod
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from domain.action import Action
from projections.actions import FACTS_DDL, ActionFolding, encode_state
from projections.sql import SqlView, dumps, loads

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
# What an update's events report, by event: the fields they set (their `to`).
REPORTED: dict[type[Any], tuple[str, ...]] = {
    Action.StatusChanged: ("status",),
    Action.RagRated: ("rag",),
    Action.DueDateRevised: ("due_date", "due_label"),
}


class HistoryView(ActionFolding, SqlView):
    tables = {
        "items": "action_id, seq",
        "facts": "action_id",
    }

    def ddl(self) -> list[str]:
        return [
            FACTS_DDL,
            "CREATE TABLE IF NOT EXISTS {p}_items (action_id TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL,"
            " type TEXT NOT NULL, version INTEGER NOT NULL, recorded_at TEXT NOT NULL, effective_date TEXT,"
            " actor TEXT NOT NULL, user_id TEXT, changes TEXT NOT NULL, text TEXT, reason TEXT, impact TEXT,"
            " evidence TEXT, retracts TEXT, retracted TEXT, PRIMARY KEY (action_id, seq))",
            "CREATE UNIQUE INDEX IF NOT EXISTS {i}_items_id ON {p}_items (action_id, id)",
        ]

    # Writing.

    @singledispatchmethod
    def apply(self, domain_event: Any, c: Any) -> None:
        """Events of other aggregates are not part of any action's history (their position is still recorded)."""

    @apply.register
    def _(self, e: Action.Raised, c: Any) -> None:
        action = self.raised(e, c)
        state = state_of(action)
        changes = {name: {"from": None, "to": state[name]} for name in FIELDS if state[name] not in (None, [])}
        self.insert(c, e, id=str(e.originator_id), type=CREATED, changes=changes, text=e.description)

    @apply.register
    def _(self, e: Action.Event, c: Any) -> None:
        before, after = self.fold_event(e, c)
        if isinstance(e, Action.UpdateRetracted):
            self.retraction(c, e, before, after)
        elif isinstance(e, Action.LeadAssigned):
            was = state_of(before)
            reported = {name: encoded(getattr(e, name)) for name in LEAD_FIELDS}
            changes = {name: {"from": was[name], "to": to} for name, to in reported.items() if was[name] != to}
            self.insert(c, e, id=e.update_id, type=LEAD_ASSIGNED, changes=changes)
        elif hasattr(e, "update_id"):
            self.update(c, e, before, after)

    def update(self, c: Any, e: Any, before: Action, after: Action) -> None:
        """Merge one event of a posted update into that update's item (created by its first event)."""
        if e.update_id not in before.facts:  # The update's first event: its item starts here.
            self.insert(c, e, id=e.update_id, type=UPDATE, changes={})
        item = self.item(c, str(e.originator_id), e.update_id)
        assert item is not None
        changes = loads(item["changes"])
        was = state_of(before)
        if type(e) in REPORTED:
            for name in REPORTED[type(e)]:
                if was[name] != encoded(getattr(e, name)):  # Only what the update changed: never `amber -> amber`.
                    changes.setdefault(name, {"from": was[name]})["to"] = encoded(getattr(e, name))
        elif not isinstance(e, (Action.ProgressReported, Action.ImpactRecorded, Action.EvidenceAdded)):
            now = state_of(after)  # An event this view does not know by name: show what it moved.
            for name in FIELDS:
                if was[name] != now[name]:
                    changes.setdefault(name, {"from": was[name]})["to"] = now[name]
        values = {
            "changes": dumps(changes),
            "text": e.text if isinstance(e, Action.ProgressReported) else item["text"],
            "impact": e.text if isinstance(e, Action.ImpactRecorded) else item["impact"],
            "evidence": item["evidence"],
            "reason": getattr(e, "reason", None) or item["reason"],
        }
        if isinstance(e, Action.EvidenceAdded):
            values["evidence"] = dumps([*(loads(item["evidence"]) or []), *e.items])
        self.change(item, **values, version=e.originator_version)

    def retraction(self, c: Any, e: Action.UpdateRetracted, before: Action, after: Action) -> None:
        """Mark the retracted update, and record the retraction as an item of its own."""
        action_id = str(e.originator_id)
        marker = {"at": e.timestamp.isoformat(), "by": public(e.actor), "reason": e.reason}
        retracted = self.item(c, action_id, e.update_id)
        if retracted:
            self.change(retracted, retracted=dumps(marker))
        was, now = state_of(before), state_of(after)
        changes = {name: {"from": was[name], "to": now[name]} for name in RETRACTION_FIELDS if was[name] != now[name]}
        self.insert(
            c,
            e,
            id=retraction_id(e.update_id, e.originator_version),
            type=RETRACTION,
            changes=changes,
            effective_date=retracted["effective_date"] if retracted else None,
            reason=e.reason,
            retracts=e.update_id,
        )

    def insert(self, c: Any, e: Any, **item: Any) -> None:
        row = {
            "action_id": str(e.originator_id),
            "seq": e.originator_version,
            "version": e.originator_version,
            "recorded_at": e.timestamp.isoformat(),
            "effective_date": encoded(getattr(e, "effective_date", None)),
            "actor": dumps(public(e.actor)),
            "user_id": e.actor.get("user_id"),
            "text": None,
            "reason": None,
            "impact": None,
            "evidence": None,
            "retracts": None,
            "retracted": None,
            **item,
        }
        row["changes"] = dumps(row["changes"])
        key = (row["action_id"], row["id"])  # Batches apply exactly once: an item is never inserted twice.
        self._items[key] = row
        self._new.add(key)

    def item(self, c: Any, action_id: str, item_id: str) -> dict[str, Any] | None:
        """The item as this batch has it so far (read from the table once, then kept until flush)."""
        key = (action_id, item_id)
        if key not in self._items:
            self.execute(
                c,
                "SELECT * FROM {p}_items WHERE action_id = :action_id AND id = :id",
                {"action_id": action_id, "id": item_id},
            )
            row = c.fetchone()
            if row is None:
                return None
            self._items[key] = dict(row)
        return self._items[key]

    def change(self, item: dict[str, Any], **values: Any) -> None:
        item.update(values)
        self._dirty_items.add((item["action_id"], item["id"]))

    def begin_batch(self, events: Any, c: Any) -> None:
        super().begin_batch(events, c)
        self._items: dict[tuple[str, str], dict[str, Any]] = {}
        self._new: set[tuple[str, str]] = set()
        self._dirty_items: set[tuple[str, str]] = set()

    def flush(self, c: Any) -> None:
        """Write each item touched by the batch once: new ones inserted whole, others updated."""
        c.executemany(
            self.sql(f"INSERT INTO {{p}}_items ({', '.join(COLUMNS)}) VALUES ({', '.join(':' + k for k in COLUMNS)})"),
            [self._items[key] for key in sorted(self._new)],
        )
        c.executemany(
            self.sql(
                "UPDATE {p}_items SET changes = :changes, text = :text, impact = :impact, evidence = :evidence,"
                " reason = :reason, version = :version, retracted = :retracted WHERE action_id = :action_id"
                " AND id = :id"
            ),
            [self._items[key] for key in sorted(self._dirty_items - self._new)],
        )
        super().flush(c)

    # Reading.

    def history(self, action_id: str) -> list[dict[str, Any]] | None:
        """The action's items in recorded order; None when there is no such action."""
        rows = self.fetchall("SELECT * FROM {p}_items WHERE action_id = :id ORDER BY seq", {"id": action_id})
        return [item_out(row) for row in rows] if rows else None

    def last_updates_recorded(self, action_ids: list[str]) -> dict[str, str]:
        """When each action's latest update not retracted was recorded (ISO instant, UTC); absent if none."""
        found: dict[str, str] = {}
        for chunk in range(0, len(action_ids), 500):
            ids = {f"id{n}": action_id for n, action_id in enumerate(action_ids[chunk : chunk + 500])}
            rows = self.fetchall(
                "SELECT action_id, MAX(recorded_at) AS recorded_at FROM {p}_items WHERE type = 'update'"
                f" AND retracted IS NULL AND action_id IN ({', '.join(':' + k for k in ids)}) GROUP BY action_id",
                ids,
            )
            found |= {row["action_id"]: row["recorded_at"] for row in rows}
        return found

    def histories(self, action_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Many actions' items in a few reads (a committee report reads a whole plan's): action id -> its items in
        recorded order, as `history` gives them; actions without any are left out."""
        found: dict[str, list[dict[str, Any]]] = {}
        for chunk in range(0, len(action_ids), 500):
            ids = {f"id{n}": action_id for n, action_id in enumerate(action_ids[chunk : chunk + 500])}
            rows = self.fetchall(
                f"SELECT * FROM {{p}}_items WHERE action_id IN ({', '.join(':' + k for k in ids)})"
                " ORDER BY action_id, seq",
                ids,
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


def state_of(action: Action) -> dict[str, Any]:
    """The action's current fields, as JSON-ready values."""
    last = action.last_progress
    return encode_state(
        {
            **{name: getattr(action, name) for name in FIELDS},
            "contributing_agencies": list(action.contributing_agencies),
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


class HistoryProjection(Projection[HistoryView]):
    """Projects every action event onto its action's audit trail."""

    name = "history"
    view_class = HistoryView

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.write([domain_event], tracking)
