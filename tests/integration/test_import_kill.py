"""All or nothing under a crash: `accord import` of a large workbook, SIGKILLed while it saves, leaves either no plan
or the whole plan, never part of one (the plan and all its actions are saved in one transaction)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from uuid import UUID

import pytest

from domain.action import Action
from domain.plan import Plan
from service.bootstrap import bootstrap
from service.chain import audit
from service.settings import Settings
from tests import plan_files
from tests.conftest import BACKENDS

ACCORD = str(Path(sys.executable).with_name("accord"))
ACTIONS = 600


def plans_in_store(settings: Settings) -> dict[UUID, int]:
    """Every plan in the event store, with how many actions were raised under it; and the views agree."""
    system = bootstrap(settings)  # Catches the views up from wherever the killed process left them.
    try:
        app, actions, plans = system.app, {}, []
        for notification in app.recorder.select_notifications(0, 1_000_000):
            if notification.originator_version != 1:
                continue
            aggregate = app.repository.get(notification.originator_id)
            if isinstance(aggregate, Plan):
                plans.append(aggregate.id)
            elif isinstance(aggregate, Action):
                actions[aggregate.plan_id] = actions.get(aggregate.plan_id, 0) + 1
        assert audit(app.recorder).first_break is None  # Thousands of aggregates in one insert, chained right.
        for plan_id in plans:
            view = system.current.get_plan(str(plan_id), app.today())
            assert sum(len(r["actions"]) for r in view["recommendations"]) == actions.get(plan_id, 0)
        return {plan_id: actions.get(plan_id, 0) for plan_id in plans}
    finally:
        system.close()


@pytest.mark.slow
@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_an_import_killed_at_any_moment_leaves_no_plan_or_the_whole_plan(settings: Settings, tmp_path: Path) -> None:
    workbook = tmp_path / "large.xlsx"
    workbook.write_bytes(plan_files.large_xlsx(ACTIONS))
    system = bootstrap(settings)
    try:
        token = system.app.add_user(name="Importer", agency="lscb", role="coordinator")[1]
    finally:
        system.close()
    env = {**os.environ, "ACCORD_DATABASE_URL": settings.database_url, "ACCORD_TOKEN": token}
    env.pop("ACCORD_REDIS_URL", None)
    chance = random.Random(13)
    killed_while_saving, outcomes, counts = 0, [], {}  # outcomes: whether each run left a new (whole) plan.
    for delay in (None, 0.0, 0.02, 0.1, 0.3, chance.uniform(0, 1), chance.uniform(0, 1)):
        progress = tmp_path / "progress"
        with progress.open("wb") as stderr:
            process = subprocess.Popen(
                [ACCORD, "import", str(workbook)], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=stderr
            )
        deadline = time.monotonic() + 120
        while b"saving" not in progress.read_bytes() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        if delay is not None:
            time.sleep(delay)
            killed_while_saving += process.poll() is None
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=120)
        before, counts = len(counts), plans_in_store(settings)
        assert all(count == ACTIONS for count in counts.values()), counts
        outcomes.append(len(counts) > before)
    assert killed_while_saving >= 3  # Most kills landed after the rows were checked, while saving or projecting.
    assert outcomes[0]  # The one left to finish imported its plan whole.
    assert not all(outcomes[1:])  # Some kills landed mid-save: they left nothing at all.
