"""What the chained recorders rely on in the library's public API: the ids `insert_events` returns are the
store's notification ids, and a refused insert (a version already stored) leaves neither event nor chain entry."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from adapters.audit import head, verify_chain
from adapters.recorders import ChainedRecorder
from service.bootstrap import System
from tests.conftest import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
TOPIC = "tests.integration:Example"


def stored(originator_id: object, version: int) -> StoredEvent:
    return StoredEvent(originator_id=originator_id, originator_version=version, topic=TOPIC, state=b"{}")


def test_inserted_ids_are_the_notification_ids_and_each_has_its_chain_entry(system: System) -> None:
    recorder = system.app.recorder
    assert isinstance(recorder, ChainedRecorder)
    one, other = uuid4(), uuid4()
    first = recorder.insert_events([stored(one, 1), stored(other, 1)])
    second = recorder.insert_events([stored(one, 2), stored(one, 3)])
    assert first is not None and second is not None
    notifications = recorder.select_notifications(start=1, limit=10)
    assert [n.id for n in notifications] == [*first, *second]
    assert [(n.originator_id, n.originator_version) for n in notifications] == [
        (one, 1),
        (other, 1),
        (one, 2),
        (one, 3),
    ]
    assert [e.notification_id for e in recorder.select_chain(0, second[-1], 10)] == [*first, *second]
    assert verify_chain(recorder) is None


def test_a_version_already_stored_writes_nothing(system: System) -> None:
    recorder = system.app.recorder
    assert isinstance(recorder, ChainedRecorder)
    one = uuid4()
    recorder.insert_events([stored(one, 1)])
    before = head(recorder)
    with pytest.raises(IntegrityError):
        recorder.insert_events([stored(uuid4(), 1), stored(one, 1)])
    assert recorder.max_notification_id() == before.position
    assert head(recorder) == before
    assert recorder.insert_events([stored(one, 2)]) is not None
    assert verify_chain(recorder) is None


def test_concurrent_writers_extend_one_chain(system: System) -> None:
    """The chain stays one line only while the library's table lock serialises writers: a library whose insert
    no longer locks would fork it here, and the walk would find the break."""
    recorder = system.app.recorder
    writers, each = 6, 15

    def write(_: int) -> None:
        originator_id = uuid4()
        for version in range(1, each + 1):
            recorder.insert_events([stored(originator_id, version)])

    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(write, range(writers)))
    assert verify_chain(recorder) is None
    assert head(recorder).position == recorder.max_notification_id()
    assert len(recorder.select_notifications(start=1, limit=1000)) == writers * each


def test_one_save_of_thousands_of_events_chains_each_to_the_one_before(system: System) -> None:
    """As a whole plan's import saves it: every event in the batch chained, in notification order, after what was
    there before (on PostgreSQL by the server, under the table lock, in one pass over the batch)."""
    recorder = system.app.recorder
    recorder.insert_events([stored(uuid4(), 1)])
    originators = [uuid4() for _ in range(300)]
    ids = recorder.insert_events([stored(o, v) for o in originators for v in range(1, 11)])
    assert ids is not None and len(ids) == 3000
    assert [e.notification_id for e in recorder.select_chain(1, ids[-1], 5000)] == ids
    assert verify_chain(recorder) is None
    assert head(recorder).position == ids[-1]
