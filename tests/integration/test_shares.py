"""A fresh generation built in shares, several processes at once (projections/shares.py): the same rows as one
process builds, each event read by one share alone, and a share that fails leaves the build to one process."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import timedelta
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from adapters.recorders import ChainedPostgresApplicationRecorder, bucket_of
from domain.principals import Principal
from projections import operations
from projections.operations import Projections
from projections.registry import VIEWS
from projections.runner import Progress
from projections.shares import plan
from projections.view import Place, SqlView
from service.bootstrap import System, bootstrap
from service.settings import Settings
from tests.builders import plan_with_actions
from tests.integration.test_projections import FussyView, plans

POSTGRES = [pytest.param("postgres", marks=pytest.mark.postgres)]
COORDINATOR = Principal("u1", "Coordinator", "lscb", "coordinator")


@pytest.fixture
def quiet_system(settings: Settings) -> Iterator[System]:
    """A system whose saves do not catch the projections up, so tests drive the consumers."""
    system = bootstrap(settings, in_process=False)
    yield system
    system.close()


@pytest.fixture
def any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build in shares however few the events (a real store has thousands a share)."""
    monkeypatch.setattr(operations, "MIN_EVENTS", 1)


def projections(
    system: System, settings: Settings, processes: int, views: Mapping[str, type[SqlView]] = VIEWS
) -> Projections:
    return Projections(system.app, settings.eventsourcing_env("views"), views, processes=processes)


def varied_histories(system: System) -> int:
    """Actions with updates, backdated reports, retractions and lead changes; returns the events stored."""
    app = system.app
    today = app.today()
    made = plan_with_actions(
        app, 9, contributors=1, start=lambda _: today - timedelta(days=90), coordinator=COORDINATOR
    )
    for turn in range(3):
        for n, action_id in enumerate(made.action_ids):
            update = app.post_update(
                COORDINATOR,
                action_id,
                effective_date=today - timedelta(days=70 - 20 * turn - (n % 4) * 7),  # Some reported late.
                progress=f"turn {turn}",
                rag=("red", "amber", "green")[(n + turn) % 3],
                status="in_progress",
            )
            if (n + turn) % 4 == 0:
                app.retract_update(COORDINATOR, action_id, update.id, reason="entered in error")
        app.assign_lead(
            COORDINATOR,
            made.action_ids[turn],
            lead_agency="police",
            lead_person="SMcL",
            contributing_agencies=[],
            effective_date=today - timedelta(days=10),
        )
    return app.recorder.max_notification_id() or 0


@pytest.mark.parametrize("database_url", POSTGRES, indirect=True)
def test_the_shares_of_the_events_are_all_of_them_each_once_by_originator(quiet_system: System) -> None:
    recorder = quiet_system.app.recorder
    assert isinstance(recorder, ChainedPostgresApplicationRecorder)
    originators = [uuid4() for _ in range(12)]
    recorder.insert_events(
        [StoredEvent(o, v, "tests.integration:Example", b"{}") for v in (1, 2, 3) for o in originators]
    )
    whole = recorder.select_notifications(start=1, limit=100)
    sizes = recorder.bucket_sizes(33)
    assert sizes == Counter(bucket_of(n.originator_id) for n in whole if n.id <= 33)
    for shares in (2, 3):
        planned = plan(sizes, shares)
        found = [recorder.select_share(4, 33, buckets) for buckets in planned]
        assert sorted(n.id for part in found for n in part) == list(range(4, 34))  # All of [4, 33], each once.
        for buckets, part in zip(planned, found, strict=True):
            assert part == [n for n in whole if 4 <= n.id <= 33 and bucket_of(n.originator_id) in buckets]


def test_a_plan_gives_each_share_about_as_many_events() -> None:
    assert plan({7: 90, 1: 50, 2: 40, 3: 30, 4: 20, 5: 10}, 2) == [[3, 7], [1, 2, 4, 5]]  # 120 and 120.
    assert plan({b: 800 for b in range(60)}, 2) == [list(range(0, 60, 2)), list(range(1, 60, 2))]  # 30 and 30.
    assert plan({9: 5}, 3) == [[9]]  # One bucket, one share: no process for nothing.
    assert plan({}, 2) == []


@pytest.mark.parametrize("database_url", POSTGRES, indirect=True)
@pytest.mark.usefixtures("any_size")
def test_a_rebuild_in_shares_writes_the_rows_one_process_writes(quiet_system: System, settings: Settings) -> None:
    events = varied_histories(quiet_system)
    one = projections(quiet_system, settings, processes=1)
    one.catch_up_all()  # Built as the events came, a few at a time.
    in_shares = projections(quiet_system, settings, processes=3)
    for name in ("history", "temporal"):
        live = one.view(name)
        before = {table: live.rows(table) for table in live.tables}
        assert all(before.values())
        progress = Progress()
        in_shares.rebuild(name, progress)
        assert (progress.shares, progress.done, len(progress.peak_mb)) == (3, events, 3)
        rebuilt = one.views.live(name, fresh=True).view
        assert rebuilt.place != live.place
        assert {table: rebuilt.rows(table) for table in rebuilt.tables} == before
        assert (one.position(rebuilt), rebuilt.processed()) == (events, events)  # Recorded once, for all shares.
        assert one.verify(name) == []  # And what one process builds afresh now.


@pytest.mark.parametrize("database_url", POSTGRES, indirect=True)
@pytest.mark.usefixtures("any_size")
def test_a_share_that_fails_leaves_the_build_to_one_process_which_names_the_event(
    quiet_system: System, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    class FussyByPlan(FussyView):
        by_aggregate = True  # Each plan's title row is that plan's own.

    plans(quiet_system, "first", "poison", "third")
    fussy = projections(quiet_system, settings, processes=2, views={"fussy": FussyByPlan})
    with caplog.at_level(logging.WARNING), pytest.raises(RuntimeError, match="cannot apply position 2"):
        fussy.rebuild("fussy")
    assert "building in shares failed (share" in caplog.text and "ValueError" in caplog.text
    assert "poison" not in caplog.text  # The error's type, never the event's content.
    assert fussy.registry.get("fussy")["generation"] == 1  # The live generation stays; the failed one is dropped.
    failed = FussyByPlan(Place.of(fussy.views.env, "fussy", 2, FussyByPlan.shape, postgres=True), fussy.views.store)
    assert not failed.exists()


@pytest.mark.usefixtures("any_size")
def test_on_sqlite_a_rebuild_is_one_process(quiet_system: System, settings: Settings) -> None:
    events = varied_histories(quiet_system)
    progress = Progress()
    projections(quiet_system, settings, processes=3).rebuild("temporal", progress)
    assert (progress.shares, progress.done) == (1, events)
    assert quiet_system.projections.verify("temporal") == []
