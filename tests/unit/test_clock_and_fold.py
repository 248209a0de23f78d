"""One clock stamps every event and says what day it is; the fold honours retractions, as known at an instant."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from domain.clock import stamping_with
from domain.timeline import UPDATE, fold, initial_state
from projections.segments import KnownFact, as_known
from service.app import Accord
from tests.builders import AGENCIES, COORDINATOR, plan_with_actions

START = date(2011, 3, 22)


class SteppingClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def test_every_event_a_use_case_records_is_stamped_by_the_applications_clock() -> None:
    clock = SteppingClock(datetime(2011, 3, 22, 9, tzinfo=UTC))
    app = Accord({"PERSISTENCE_MODULE": "eventsourcing.popo"}, agencies=AGENCIES, clock=clock)
    plan = plan_with_actions(app, 1, start=lambda n: START)
    action_id, health = plan.actions[0]
    clock.now = datetime(2011, 10, 3, 23, 30, tzinfo=UTC)  # Already 4 October in London: "today" says so too.
    app.post_update(health, action_id, progress="Named nurse in post", effective_date=date(2011, 10, 4))
    stamps = [e.timestamp for e in app.events.get(action_id)]
    assert stamps[0].date() == START
    assert stamps[-1] > datetime(2011, 10, 3, 23, 30, tzinfo=UTC)
    assert stamps[-1] < datetime(2011, 10, 3, 23, 31, tzinfo=UTC)
    assert all(e.timestamp.year == 2011 for e in app.events.get(plan.plan_id))


def test_outside_a_use_case_events_are_stamped_with_the_real_time() -> None:
    app = Accord({"PERSISTENCE_MODULE": "eventsourcing.popo"}, agencies=AGENCIES)
    before = datetime.now(UTC)
    plan_id = app.create_plan(COORDINATOR, title="t", source="s", owner_agency="lscb").id
    with stamping_with(lambda: datetime(2011, 1, 1, tzinfo=UTC)):
        pass  # A block that has ended leaves no clock behind.
    app.create_plan(COORDINATOR, title="u", source="s", owner_agency="lscb")
    assert all(before <= e.timestamp <= datetime.now(UTC) for e in app.events.get(plan_id))


def fact(update_id: str, seq: int, day: int, recorded: int, **values: object) -> KnownFact:
    return KnownFact(
        update_id, UPDATE, seq, START + timedelta(days=day), "health", dict(values), recorded_at=at(recorded)
    )


def at(hour: int) -> datetime:
    return datetime(2011, 6, 1, tzinfo=UTC) + timedelta(hours=hour)


def test_a_retracted_update_is_folded_until_its_retraction_is_known_and_never_after() -> None:
    right = fact("a", 2, 10, recorded=1, progress="Audit tool issued", rag="green")
    wrong = fact("b", 3, 12, recorded=2, progress="Withdrawn by mistake", status="withdrawn", rag="red")
    wrong.retracted, wrong.retracted_at = True, at(5)
    initial = initial_state(due_date=None)
    as_known_before = fold(initial, as_known([right, wrong], at(4)), as_at=START + timedelta(days=30))
    assert (as_known_before["status"], as_known_before["rag"]) == ("withdrawn", "red")
    assert as_known_before["last_update"]["text"] == "Withdrawn by mistake"
    for known_at in (at(5), at(6), None):  # At the retraction, after it, and now.
        state = fold(initial, as_known([right, wrong], known_at), as_at=START + timedelta(days=30))
        assert (state["status"], state["rag"]) == ("not_started", "green")
        assert state["last_update"] == {"text": "Audit tool issued", "effective_date": START + timedelta(days=10)}
    assert fold(initial, as_known([right, wrong], at(4)), as_at=START + timedelta(days=11))["rag"] == "green"
