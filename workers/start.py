"""A worker's catch-up on start. Far behind (a new deployment, or views rebuilt from empty), the projections are
shared out between the worker and helper processes, one per further CPU: each reads the store once for its share,
and the views' positions keep every event applied once, whoever applies it. `python -m workers.start NAME ...`
is a helper (its settings from the environment, as the worker's)."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Mapping

from projections.runner import collector_paused
from projections.shares import balanced, usable_cpus
from service.bootstrap import System
from service.settings import Settings
from workers import jobs

log = logging.getLogger(__name__)
FAR_BEHIND = 20_000  # Events behind beyond which a worker starting shares its catch-up with helpers.


def catch_up_on_start(system: System, env: Mapping[str, str], cpus: int | None = None) -> None:
    """Catch every projection up before the first job; helpers get `env` (the worker's settings) and there are
    at most `cpus` processes in all (by default, as many as the CPUs this process may run on)."""
    projections = system.projections
    head = system.app.recorder.max_notification_id() or 0
    behind = head - min(projections.position(projections.view(name)) for name in projections.names)
    cpus = cpus or usable_cpus()
    groups = shares(system, cpus) if behind > FAR_BEHIND and cpus > 1 else [projections.names]
    helpers = [subprocess.Popen([sys.executable, "-m", "workers.start", *group], env=dict(env)) for group in groups[1:]]
    try:
        with collector_paused():
            projections.catch_up_all(groups[0])
    finally:
        for helper in helpers:
            if helper.wait():  # Whatever it did not apply, this worker's jobs will.
                log.warning("a helper catching up on start ended with status %s", helper.returncode)


def shares(system: System, processes: int) -> list[list[str]]:
    """The projections in `processes` groups of about equal weight (the heaviest first, each to the lightest group)."""
    return balanced({name: type(system.projections.view(name)).weight for name in system.projections.names}, processes)


def main(names: list[str]) -> None:
    system = jobs.build(Settings.from_env())
    try:
        with collector_paused():
            system.projections.catch_up_all(names)
    finally:
        system.close()


if __name__ == "__main__":
    main(sys.argv[1:])
