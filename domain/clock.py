"""The one clock of an Accord process: it says what day it is and stamps every event recorded.

The application sets it around each use case (`stamping_with(app.clock)`), so that "today" for the rules and the
instant an event was recorded never disagree; outside a use case, events are stamped with the real time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from eventsourcing.domain import Aggregate

Clock = Callable[[], datetime]


def real_time() -> datetime:
    return datetime.now(UTC)


CLOCK: ContextVar[Clock] = ContextVar("accord_clock", default=real_time)


@contextmanager
def stamping_with(clock: Clock) -> Iterator[None]:
    """Events created in this block (in this thread or task) are stamped by `clock`."""
    token = CLOCK.set(clock)
    try:
        yield
    finally:
        CLOCK.reset(token)


class StampedAggregate(Aggregate):
    """Base of Accord's aggregates: the library asks each event class for its timestamp (`create_timestamp`, its
    public hook); Accord's event classes answer from CLOCK."""

    class Event(Aggregate.Event):
        @staticmethod
        def create_timestamp() -> datetime:
            return CLOCK.get()().astimezone(UTC)

    class Created(Event, Aggregate.Created):
        pass
