"""Whole-plan time travel on PostgreSQL: the temporal read model against the naive fold, in one run.

A plan of 300 actions with 50 updates each (15,000 updates, about 45,000 events), posted in ten
rounds so that recorded times interleave, with late reports (effective dates out of order) and some
retractions. For random (as_at, known_at) pairs: the read model's whole-plan view, the current-state
view of the same plan (what time travel is held to), and the naive way (load every action's events and
fold them), timed in turn; the read model's and the naive fold's answers must be identical.
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import COORDINATOR, fresh_schema, percentile, plan_with_actions, settings, spread
from domain.action import Action
from domain.timeline import Fact, fold, initial_state, is_overdue
from service.bootstrap import bootstrap


def naive(app: Any, action_ids: list[Any], as_at: Any, known_at: datetime) -> dict[str, Any]:
    """Load each action's events and fold them: what the read model saves us from."""
    shown = {}
    for action_id in action_ids:
        events = list(app.events.get(action_id))
        raised = events[0]
        if raised.timestamp > known_at or raised.effective_date > as_at:
            continue
        facts: dict[str, Fact] = {}
        for e in events[1:]:
            if isinstance(e, Action.UpdateRetracted):
                if e.update_id in facts and e.timestamp <= known_at:  # Retractions count once recorded.
                    facts[e.update_id].retracted = True
                continue
            if e.update_id not in facts and e.timestamp > known_at:
                continue  # An update is known from its first event's instant.
            fact = facts.setdefault(
                e.update_id, Fact(e.update_id, "update", e.originator_version, e.effective_date, e.actor["agency"], {})
            )
            for name in {"StatusChanged": ("status",), "RagRated": ("rag",), "ProgressReported": ("text",)}.get(
                type(e).__name__, ()
            ):
                fact.values["progress" if name == "text" else name] = getattr(e, name)
        initial = initial_state(
            start_date=raised.effective_date,
            lead_agency=raised.lead_agency,
            lead_person=raised.lead_person,
            contributing_agencies=raised.contributing_agencies,
            due_date=raised.due_date,
            due_label=raised.due_label,
        )
        state = fold(initial, facts.values(), as_at)
        last = state["last_update"]
        shown[str(action_id)] = (
            state["status"],
            state["rag"],
            is_overdue(state["due_date"], state["status"], as_at),
            last and (last["text"], last["effective_date"].isoformat()),
        )
    return shown


def run(  # noqa: PLR0915
    actions: int = 300, updates: int = 50, samples: int = 200, runs: int = 3, naive_samples: int = 40
) -> dict[str, Any]:
    """Three runs of `samples` random (as_at, known_at): each times the read model and the current-state view
    of the same plan; the first `naive_samples` of each run also time the naive fold and check the answers."""
    rng = random.Random(7)
    with fresh_schema() as database_url:
        system = bootstrap(settings(database_url), in_process=False)
        app = system.app
        made = plan_with_actions(app, actions)
        plan_id = app.get(Action, made[0][0]).plan_id
        today = app.today()
        posted: list[tuple[Any, str]] = []
        for round_ in range(10):
            for action_id, editor in made:
                action: Action = app.repository.get(action_id)
                for k in range(updates // 10):
                    n = round_ * (updates // 10) + k
                    late = rng.random() < 0.15  # A late report: took effect well before it was recorded.
                    effective = today - timedelta(days=(300 - 6 * n) + (rng.randint(5, 60) if late else 0))
                    update_id = str(uuid.uuid4())
                    action.post_update(
                        actor=editor,
                        update_id=update_id,
                        effective_date=effective,
                        today=today,
                        progress=f"update {n}",
                        rag=rng.choice(["red", "amber", "green"]),
                        status="in_progress",
                    )
                    posted.append((action_id, update_id))
                app.save(action)
        for action_id, update_id in rng.sample(posted, len(posted) // 50):
            action = app.repository.get(action_id)
            action.retract_update(actor=COORDINATOR, update_id=update_id, reason="entered in error")
            app.save(action)
        events = app.recorder.max_notification_id()
        start = time.perf_counter()
        system.projections.catch_up("temporal")
        projected = time.perf_counter() - start
        system.projections.catch_up("current_status")
        view, current = system.projections.view("temporal"), system.projections.view("current_status")
        first = min(e.timestamp for e in app.events.get(made[0][0]))
        last = datetime.now(UTC)
        ids = [a for a, _ in made]
        figures: dict[str, list[float]] = {key: [] for key in ("read_model", "current_state", "naive_fold")}
        for _ in range(runs):
            fast, now, slow = [], [], []
            for n in range(samples):
                as_at = today - timedelta(days=rng.randint(0, 420))
                known_at = first + (last - first) * rng.random()
                reads = [
                    (fast, lambda: view.plan_status(str(plan_id), as_at, known_at)),  # noqa: B023
                    (now, lambda: current.get_plan(str(plan_id), today)),  # The same plan as it stands.
                ]
                # In turn first: the read after a naive fold finds the caches cold, and neither view should
                # always be the one that pays for it.
                for times, read in reads if n % 2 == 0 else reads[::-1]:
                    t = time.perf_counter()
                    answer = read()
                    times.append((time.perf_counter() - t) * 1000)
                    if times is fast:
                        plan = answer
                if len(slow) < naive_samples:
                    t = time.perf_counter()
                    expected = naive(app, ids, as_at, known_at)
                    slow.append((time.perf_counter() - t) * 1000)
                    assert shown(plan) == expected, f"read model and naive fold differ at {as_at}, {known_at}"
            for key, values in (("read_model", fast), ("current_state", now), ("naive_fold", slow)):
                figures[key] += [percentile(values, 50), percentile(values, 95)]
        system.close()
    result: dict[str, Any] = {"events": events, "temporal_projection_seconds": round(projected, 1), "runs": runs}
    for key, values in figures.items():
        p50s, p95s = values[0::2], values[1::2]
        result[f"{key}_p50_ms"] = {"median": round(statistics.median(p50s), 1), **spread(p50s)}
        result[f"{key}_p95_ms"] = {"median": round(statistics.median(p95s), 1), **spread(p95s)}
    result["read_model_p95_over_current_state_p95"] = round(
        result["read_model_p95_ms"]["median"] / result["current_state_p95_ms"]["median"], 2
    )
    result["speedup_p95_over_naive"] = round(
        result["naive_fold_p95_ms"]["median"] / result["read_model_p95_ms"]["median"], 1
    )
    return result


def shown(plan: dict[str, Any] | None) -> dict[str, Any]:
    return {
        a["id"]: (
            a["status"],
            a["rag"],
            a["overdue"],
            a["last_update"] and (a["last_update"]["text"], a["last_update"]["effective_date"]),
        )
        for r in (plan or {"recommendations": []})["recommendations"]
        for a in r["actions"]
    }
