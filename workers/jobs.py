"""RQ jobs: module-level functions taking only a projection's name (never personal data).

A job catches its projection up from its tracked position in batches, so nudges may be lost,
duplicated or reordered without changing the result.
"""

from __future__ import annotations

from service.bootstrap import System

_system: System | None = None


def use_system(system: System) -> None:
    """The worker process builds its system once, after any fork, and its jobs share it."""
    global _system  # noqa: PLW0603
    _system = system


def catch_up(projection: str) -> int:
    if _system is None:
        raise RuntimeError("the worker has not built its system; run jobs with `accord worker`")
    return _system.projections.catch_up(projection)
