"""The action's business rules, in memory."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest

from domain.action import Action
from domain.errors import ActionClosed, NotPermitted, RuleViolated
from domain.principals import Principal
from domain.timeline import is_overdue

TODAY = date(2026, 11, 25)
COORDINATOR = Principal("u1", "Coordinator", "lscb", "coordinator")
HEALTH = Principal("u2", "Health editor", "health", "editor")
POLICE = Principal("u3", "Police editor", "police", "editor")
COUNCIL = Principal("u4", "Council editor", "council", "editor")
INSPECTOR = Principal("u5", "Inspector", "lscb", "inspector")


def raised(start: date = date(2026, 1, 1)) -> Action:
    return Action(
        plan_id=uuid4(),
        recommendation_id=uuid4(),
        number="1.1",
        description="Audit tool for independent contractors",
        lead_agency="health",
        lead_person="Designated Nurse",
        contributing_agencies=["police"],
        due_date=date(2026, 6, 30),
        due_label="By end June",
        cost=None,
        effective_date=start,
        actor=COORDINATOR.as_actor(),
    )


def post(action: Action, actor: Principal = HEALTH, effective_date: date = TODAY, **fields: object) -> None:
    action.post_update(actor=actor, update_id=str(uuid4()), effective_date=effective_date, today=TODAY, **fields)


def test_one_update_records_one_event_per_reported_fact() -> None:
    action = raised()
    post(action, progress="Audit tool devised", status="in_progress", rag="amber")
    names = [type(e).__name__ for e in action.collect_events()]
    assert names == ["Raised", "StatusChanged", "RagRated", "ProgressReported"]


def test_every_event_carries_actor_and_effective_date() -> None:
    action = raised()
    post(action, progress="p", effective_date=date(2026, 3, 1))
    event = action.collect_events()[-1]
    assert event.actor == HEALTH.as_actor()
    assert event.effective_date == date(2026, 3, 1)


def test_effective_date_after_the_day_recorded_is_refused() -> None:
    with pytest.raises(RuleViolated) as error:
        post(raised(), progress="p", effective_date=TODAY + timedelta(days=1))
    assert error.value.field == "effective_date"


def test_effective_date_before_the_action_started_is_refused() -> None:
    with pytest.raises(RuleViolated):
        post(raised(start=date(2026, 5, 1)), progress="p", effective_date=date(2026, 4, 30))


def test_due_date_change_without_reason_is_refused() -> None:
    with pytest.raises(RuleViolated) as error:
        post(raised(), due_date=date(2027, 3, 31))
    assert error.value.field == "reason"


def test_due_date_change_with_reason_keeps_new_date_and_label() -> None:
    action = raised()
    post(action, due_date=date(2027, 3, 31), due_label="March 2027", reason="Timescale likely now to be March 2027")
    assert (action.due_date, action.due_label) == (date(2027, 3, 31), "March 2027")


def test_completed_action_takes_no_update_until_reopened_with_reason() -> None:
    action = raised()
    post(action, status="completed", rag="blue")
    with pytest.raises(ActionClosed):
        post(action, progress="more work")
    with pytest.raises(RuleViolated):
        post(action, status="in_progress")
    post(action, status="in_progress", reason="Audit found gaps", progress="Reopened")
    assert action.status == "in_progress"


def test_withdrawn_action_is_closed_too() -> None:
    action = raised()
    post(action, status="withdrawn")
    with pytest.raises(ActionClosed):
        post(action, rag="red")


def test_late_report_with_earlier_effective_date_does_not_override_later_update() -> None:
    action = raised()
    post(action, status="completed", progress="Done in March", effective_date=date(2026, 3, 1))
    post(action, status="in_progress", reason="late", progress="Started in February", effective_date=date(2026, 2, 1))
    assert action.status == "completed"
    assert action.last_progress == {"text": "Done in March", "effective_date": date(2026, 3, 1)}


def test_editor_cannot_update_another_agencys_action() -> None:
    with pytest.raises(NotPermitted):
        post(raised(), actor=COUNCIL, progress="p")


def test_contributing_agency_may_add_progress_but_not_change_status_rag_or_due_date() -> None:
    action = raised()
    post(action, actor=POLICE, progress="Police attended the task and finish group")
    for fields in ({"status": "in_progress"}, {"rag": "red"}, {"due_date": date(2027, 1, 1), "reason": "r"}):
        with pytest.raises(NotPermitted):
            post(action, actor=POLICE, **fields)


def test_inspector_never_writes() -> None:
    with pytest.raises(NotPermitted):
        post(raised(), actor=INSPECTOR, progress="p")


def test_coordinator_may_update_any_action() -> None:
    action = raised()
    post(action, actor=COORDINATOR, rag="green")
    assert action.rag == "green"


def test_update_that_says_nothing_is_refused() -> None:
    with pytest.raises(RuleViolated):
        post(raised(), due_label="Ongoing")


def test_overdue_means_past_due_and_neither_completed_nor_withdrawn() -> None:
    assert is_overdue(date(2026, 6, 30), "in_progress", date(2026, 7, 1))
    assert not is_overdue(date(2026, 6, 30), "in_progress", date(2026, 6, 30))
    assert not is_overdue(date(2026, 6, 30), "completed", date(2026, 7, 1))
    assert not is_overdue(None, "not_started", date(2026, 7, 1))


def test_action_rebuilt_from_its_events_has_the_same_state() -> None:
    action = raised()
    post(action, status="in_progress", rag="amber", progress="p", effective_date=date(2026, 2, 1))
    post(action, due_date=date(2027, 1, 31), reason="slipped", effective_date=date(2026, 3, 1))
    events = action.collect_events()
    copy = None
    for e in events:
        copy = e.mutate(copy)
    assert copy is not None
    assert (copy.status, copy.rag, copy.due_date, copy.version) == (action.status, action.rag, action.due_date, 5)
