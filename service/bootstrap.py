"""The one place that builds Accord from settings: application, projections, and how they are run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from projections.current_status import CurrentStatus, CurrentStatusView
from projections.runner import CatchUp
from projections.sql import construct_view
from service.app import Accord
from service.settings import Settings


@dataclass
class System:
    settings: Settings
    app: Accord
    current: CurrentStatusView
    catch_up: CatchUp

    def close(self) -> None:
        self.app.close()
        self.current.datastore.close()


def bootstrap(
    settings: Settings | None = None, clock: Callable[[], datetime] | None = None, *, in_process: bool | None = None
) -> System:
    """Build everything; connect nothing until called (never at import time, never before a fork).

    Projections run in this process unless Redis is configured, in which case saves nudge the
    `accord worker` processes instead (a worker builds its system with in_process=False).
    """
    settings = settings or Settings.from_env()
    app = Accord(
        settings.eventsourcing_env(),
        agencies=settings.agencies,
        timezone=settings.timezone,
        clock=clock or (lambda: datetime.now(UTC)),
    )
    current = construct_view(CurrentStatusView, CurrentStatus.name, settings.eventsourcing_env(CurrentStatus.name))
    catch_up = CatchUp(app, [CurrentStatus(current)])
    if settings.redis_url:
        from workers.queue import nudge, projection_queue

        queue = projection_queue(settings.redis_url, settings.queue)
        app.after_save = lambda position: nudge(queue, catch_up.projections)
    elif in_process is not False:

        def catch_up_in_process(position: int) -> None:
            """Each save catches the projections up before the response, so clients read their own writes."""
            catch_up.run_all()

        app.after_save = catch_up_in_process
        catch_up.run_all()
    return System(settings=settings, app=app, current=current, catch_up=catch_up)
