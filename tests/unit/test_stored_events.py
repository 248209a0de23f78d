"""Stored events are forever: what each kind of Action event stores, and that the stored form folds as it did."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from eventsourcing.persistence import StoredEvent

from domain.action import Action
from domain.clock import stamping_with
from service.app import Accord
from tests.unit.test_action_rules import COORDINATOR, HEALTH, raised

# (topic, state) of each kind of event after `Raised`, exactly as the store has held them since they were first
# written (recorded by the code of 2026-11-28, when each event's method was decorated with `@event`).
STORED = [
    tuple(pair) for pair in json.loads((Path(__file__).parents[1] / "fixtures/stored-action-events.json").read_text())
]


def app() -> Accord:
    return Accord({"PERSISTENCE_MODULE": "eventsourcing.popo"})


def recorded() -> Action:
    """One action through every kind of event, at a fixed instant."""
    with stamping_with(lambda: datetime(2026, 11, 25, 9, 30, tzinfo=UTC)):
        action = raised()
        action.post_update(
            actor=HEALTH,
            update_id="u-1",
            effective_date=date(2026, 2, 1),
            today=date(2026, 11, 25),
            status="in_progress",
            rag="amber",
            due_date=date(2027, 1, 31),
            reason="slipped",
            progress="p",
            impact="i",
            evidence=[{"title": "t", "url": "https://example.org/e"}],
        )
        action.assign_lead(
            actor=COORDINATOR,
            update_id="u-2",
            lead_agency="police",
            lead_person=None,
            contributing_agencies=["health"],
            effective_date=date(2026, 3, 1),
            today=date(2026, 11, 25),
        )
        action.retract_update(actor=COORDINATOR, update_id="u-1", reason="wrong")
    return action


def test_each_kind_of_event_is_stored_as_it_always_was() -> None:
    mapper = app().mapper
    stored = [mapper.to_stored_event(e) for e in recorded().collect_events()[1:]]
    assert [(s.topic, s.state.decode()) for s in stored] == STORED


def test_events_as_stored_fold_to_the_action_they_recorded() -> None:
    mapper, action = app().mapper, recorded()
    raised = action.collect_events()[0]
    copy = raised.mutate(None)
    for version, (topic, state) in enumerate(STORED, start=2):
        event = mapper.to_domain_event(StoredEvent(action.id, version, topic, state.encode()))
        copy = event.mutate(copy)
    assert copy is not None and copy.version == action.version == 9
    assert copy.state == action.state
    assert copy.state["lead_agency"] == "police" and copy.state["status"] == "not_started"  # u-1 was retracted.
    assert copy.facts["u-1"].retracted
    assert copy.facts["u-1"].values == {
        "status": "in_progress",
        "rag": "amber",
        "due_date": date(2027, 1, 31),
        "due_label": None,
        "progress": "p",
    }
