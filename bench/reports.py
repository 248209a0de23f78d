"""Committee reports on PostgreSQL: a plan of 300 actions with 50 updates each, its report in every format.

30 recommendations of 10 actions, each action with a sentence-long description and 50 updates of a
sentence or two (status, RAG, progress; every tenth revises the due date with a reason and records impact),
read over HTTP (the Flask app in process, so the access log is written too) as at a date, as known now, with
`since`. Each sample is one GET: the query over the read models, the audit head, the rendering. The reports are
made in a fresh process (as a server worker makes them), whose peak resident set is the memory figure. Besides
wall time, each sample's CPU time in that process is kept: on a shared machine it says what a report costs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from typing import Any

from api import create_app
from bench.common import COORDINATOR, fresh_schema, percentile, settings
from domain.action import Action
from domain.principals import Principal
from service.bootstrap import bootstrap

SAMPLES = {"html": 20, "csv": 20, "xlsx": 20, "docx": 10, "pdf": 5}
GOALS_SECONDS = {"html": 1, "csv": 1, "xlsx": 1, "docx": 3, "pdf": 3}
AGENCIES = ("council", "health", "police", "education", "lscb")
DESCRIPTION = "Review the multi-agency arrangements for {n} and agree next steps with partner agencies at the board."
PROGRESS = (
    "Update {k} on action {n}: the task and finish group met, reviewed the audit findings and agreed the actions"
    " for the next quarter; the lead officer will report back to the board."
)


def load(app: Any, recommendations: int = 30, per: int = 10, updates: int = 50) -> tuple[str, int]:
    today = app.today()
    plan_id = app.create_plan(COORDINATOR, title="Bench safeguarding plan", source="bench", owner_agency="lscb").id
    for r in range(recommendations):
        rec = app.add_recommendation(
            COORDINATOR,
            plan_id,
            number=str(r + 1),
            text=f"Recommendation {r + 1}: partners strengthen safeguarding practice in area {r + 1}.",
            timescale="Within 12 months",
            kind="recommendation",
            reference=None,
            outcomes=["Children are safer because partners share information promptly."],
            measures=["Audit of 20 cases each quarter."],
        ).id
        for a in range(per):
            n = r * per + a
            lead = AGENCIES[n % len(AGENCIES)]
            action_id = app.raise_action(
                COORDINATOR,
                plan_id,
                recommendation_id=rec,
                number=f"{r + 1}.{a + 1}",
                description=DESCRIPTION.format(n=n),
                lead_agency=lead,
                lead_person="Head of Service",
                contributing_agencies=[],
                due_date=today + timedelta(days=30),
                due_label="End of next month",
                cost=None,
                effective_date=today - timedelta(days=400),
            ).id
            editor = Principal(f"e-{lead}", f"Editor {lead}", lead, "editor")
            action: Action = app.repository.get(action_id)
            for k in range(updates):
                revise = k % 10 == 9
                action.post_update(
                    actor=editor,
                    update_id=str(uuid.uuid4()),
                    effective_date=today - timedelta(days=6 * (updates - k)),
                    today=today,
                    progress=PROGRESS.format(k=k, n=n),
                    rag=("red", "amber", "green")[k % 3],
                    status="in_progress" if k else None,
                    due_date=today + timedelta(days=30 + k) if revise else None,
                    due_label=None,
                    reason="Partner capacity: timescale moved by agreement of the board" if revise else None,
                    impact="Fewer re-referrals within 12 months in the audited cases" if revise else None,
                )
            app.save(action)
    return str(plan_id), recommendations * per


def run() -> dict[str, Any]:
    with fresh_schema() as database_url:
        system = bootstrap(settings(database_url), in_process=False)
        start = time.perf_counter()
        plan_id, actions = load(system.app)
        loaded = time.perf_counter() - start
        start = time.perf_counter()
        system.projections.catch_up_all()
        projected = time.perf_counter() - start
        events = system.app.recorder.max_notification_id()
        token = system.app.add_user(name="Bench inspector", agency="lscb", role="inspector")[1]
        system.close()
        # The reports are made by a fresh process, as a server worker would make them: its peak memory is theirs.
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, database_url, plan_id, token], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        output = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        assert status == 0, "the reports process failed"
    return {
        "actions": actions,
        "events": events,
        "load_seconds": round(loaded, 1),
        "projection_seconds": round(projected, 1),
        **json.loads(output),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


CHILD = "import json, sys; from bench.reports import measure; print(json.dumps(measure(*sys.argv[1:])))"


def measure(database_url: str, plan_id: str, token: str) -> dict[str, Any]:
    """Each format's report, SAMPLES times, over HTTP: wall and CPU time per request."""
    system = bootstrap(settings(database_url), in_process=False)
    client = create_app(system=system).test_client()
    headers = {"Authorization": f"Bearer {token}", "Accord-Purpose": "benchmark"}
    as_at = system.app.today() - timedelta(days=10)
    query = {"as_at": as_at.isoformat(), "since": (as_at - timedelta(days=60)).isoformat()}
    figures: dict[str, Any] = {}
    for fmt, samples in SAMPLES.items():
        times, cpu, size = [], [], 0
        for _ in range(samples):
            t, c = time.perf_counter(), time.process_time()
            response = client.get(
                f"/api/v1/plans/{plan_id}/report", query_string={**query, "format": fmt}, headers=headers
            )
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
            size = len(response.data)
        figures[f"{fmt}_p50_s"] = round(percentile(times, 50), 2)
        figures[f"{fmt}_p95_s"] = round(percentile(times, 95), 2)
        figures[f"{fmt}_cpu_p95_s"] = round(percentile(cpu, 95), 2)  # This process's CPU: less of the load.
        figures[f"{fmt}_goal_s"] = GOALS_SECONDS[fmt]
        figures[f"{fmt}_bytes"] = size
    system.close()
    return figures
