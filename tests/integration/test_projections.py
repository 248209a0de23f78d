"""Running the projections: exactly once, poison events stop loudly, skip, rebuild, verify, lag and metrics."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import singledispatchmethod
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from api import create_app
from domain.plan import Plan
from domain.principals import Principal
from projections.current_status import CurrentStatusView
from projections.operations import Projections
from projections.registry import VIEWS
from projections.temporal import TemporalView
from projections.view import Place, SqlView, Superseded
from service.bootstrap import System, bootstrap
from service.settings import Settings
from tests.builders import plan_with_actions
from tests.conftest import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
COORDINATOR = Principal("u1", "Coordinator", "lscb", "coordinator")


class FussyView(SqlView):
    """A view that cannot apply plans titled 'poison' (as a projection with a bug would fail)."""

    tables = {"titles": "id"}

    def ddl(self) -> list[str]:
        return ["CREATE TABLE IF NOT EXISTS {t.titles} (id TEXT PRIMARY KEY, title TEXT NOT NULL)"]

    def begin(self, events: Sequence[Any], c: Any) -> Any:
        return c

    def flush(self, batch: Any, c: Any) -> None:
        pass

    @singledispatchmethod
    def apply(self, domain_event: Any, c: Any) -> None:
        pass

    @apply.register
    def _(self, e: Plan.Created, c: Any) -> None:
        if e.title == "poison":
            raise ValueError("cannot apply this one")
        self.db.execute(
            c, "INSERT INTO {t.titles} VALUES ({id}, {title})", {"id": str(e.originator_id), "title": e.title}
        )


@pytest.fixture
def quiet_system(settings: Settings) -> Any:
    """A system whose saves do not catch the projections up, so tests drive the consumers."""
    system = bootstrap(settings, in_process=False)
    yield system
    system.close()


def plans(system: System, *titles: str) -> list[str]:
    return [str(system.app.create_plan(COORDINATOR, title=t, source="s", owner_agency="lscb").id) for t in titles]


def with_fussy(system: System, settings: Settings) -> Projections:
    return Projections(
        system.app, settings.eventsourcing_env("views"), {"current_status": CurrentStatusView, "fussy": FussyView}
    )


def test_poison_event_stops_its_projection_visibly_and_others_carry_on(
    quiet_system: System, settings: Settings
) -> None:
    projections = with_fussy(quiet_system, settings)
    plans(quiet_system, "first", "poison", "third")
    projections.catch_up_all()
    by_name = {s["name"]: s for s in projections.status()}
    assert by_name["current_status"]["lag_events"] == 0
    fussy = by_name["fussy"]
    assert fussy["state"] == "stopped"
    assert fussy["position"] == 1  # Applied "first"; stopped before "poison".
    assert fussy["error_position"] == 2
    assert "ValueError" in fussy["error"]
    assert fussy["failures"] == 1  # Stopped at once: no retries (`resume` tries again).
    assert [r["title"] for r in projections.view("fussy").rows("titles")] == ["first"]
    quiet_system.projections = projections
    client = create_app(system=quiet_system).test_client()
    readyz = client.get("/readyz")
    assert readyz.status_code == 503
    assert "fussy" in readyz.json["detail"]
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'accord_projection_stopped{projection="fussy"} 1' in metrics
    assert 'accord_projection_stopped{projection="current_status"} 0' in metrics


def test_in_process_a_poison_event_is_stored_answered_201_and_stops_only_its_projection_at_once(
    settings: Settings,
) -> None:
    system = bootstrap(settings, views={**VIEWS, "fussy": FussyView})
    try:
        client = create_app(system=system).test_client()
        _, token = system.app.add_user(name="C", agency="lscb", role="coordinator")
        headers = {"Authorization": f"Bearer {token}"}
        body = {"source": "S", "owner_agency": "lscb"}
        poison = client.post("/api/v1/plans", json={**body, "title": "poison"}, headers=headers)
        assert poison.status_code == 201  # The store committed it: whatever a projection does after.
        fussy = {s["name"]: s for s in system.projections.status()}["fussy"]
        assert (fussy["state"], fussy["error_position"]) == ("stopped", poison.json["position"])
        assert fussy["error"] == f"ValueError applying domain.plan:Plan.Created at position {poison.json['position']}"
        assert client.get("/readyz").status_code == 503
        assert 'accord_projection_stopped{projection="fussy"} 1' in client.get("/metrics").get_data(as_text=True)
        later = client.post("/api/v1/plans", json={**body, "title": "later"}, headers=headers)
        assert later.status_code == 201
        assert client.get(f"/api/v1/plans/{later.json['id']}", headers=headers).status_code == 200  # Others carry on.
    finally:
        system.close()


def test_skip_is_the_recorded_way_past_a_poison_event(quiet_system: System, settings: Settings) -> None:
    projections = with_fussy(quiet_system, settings)
    plans(quiet_system, "first", "poison", "third")
    projections.catch_up_all()
    with pytest.raises(ValueError, match="only position 2"):
        projections.skip("fussy", 3, "wrong position")
    projections.skip("fussy", 2, "bad plan title, fixed by hand")
    projections.catch_up_all()
    fussy = {s["name"]: s for s in projections.status()}["fussy"]
    assert (fussy["state"], fussy["lag_events"]) == ("running", 0)
    assert [(s["position"], s["reason"]) for s in fussy["skips"]] == [(2, "bad plan title, fixed by hand")]
    assert sorted(r["title"] for r in projections.view("fussy").rows("titles")) == ["first", "third"]


@pytest.mark.parametrize("batch_size", [500, 1], ids=["one read", "read ahead"])
def test_undecodable_stored_event_stops_every_projection_until_skipped(quiet_system: System, batch_size: int) -> None:
    """Also when the batch holding it was read ahead (in a thread, while the one before was written)."""
    quiet_system.projections.batch_size = batch_size
    plans(quiet_system, "first")
    quiet_system.app.recorder.insert_events(
        [StoredEvent(originator_id=uuid4(), originator_version=1, topic="domain.plan:Plan.Vanished", state=b"{}")]
    )
    plans(quiet_system, "after")
    quiet_system.projections.catch_up_all()
    status = quiet_system.projections.status()[0]
    assert (status["state"], status["error_position"]) == ("stopped", 2)
    quiet_system.projections.skip("current_status", 2, "test event")
    quiet_system.projections.catch_up_all()
    titles = [p["title"] for p in quiet_system.current.list_plans(quiet_system.app.today())]
    assert titles == ["first", "after"]


def test_racing_consumers_apply_each_event_exactly_once(quiet_system: System, settings: Settings) -> None:
    """Four consumers (as four worker processes would be) with different batch sizes start together, so their
    batches overlap: each event must still be applied once, by whichever consumer moves the position first."""
    plans(quiet_system, *[f"plan {n}" for n in range(40)])
    consumers = [
        Projections(quiet_system.app, settings.eventsourcing_env("views"), {"current_status": CurrentStatusView})
        for _ in range(4)
    ]
    start = threading.Barrier(len(consumers))

    def consume(projections: Projections, batch_size: int) -> None:
        start.wait()
        projections.catch_up("current_status", batch_size=batch_size)

    threads = [threading.Thread(target=consume, args=pair) for pair in zip(consumers, (2, 3, 5, 7), strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for projections in consumers:
        projections.close()
    status = quiet_system.projections.status()[0]
    assert (status["state"], status["position"], status["processed"]) == ("running", 40, 40)
    assert quiet_system.projections.verify("current_status") == []


def test_catching_up_together_starts_each_view_from_its_own_position(quiet_system: System) -> None:
    plans(quiet_system, "a", "b")
    quiet_system.projections.catch_up("current_status")
    plans(quiet_system, "c")
    quiet_system.projections.catch_up_all()  # One read of each batch for views at positions 2 and 0.
    status = quiet_system.projections.status()
    assert [(s["position"], s["processed"]) for s in status] == [(3, 3)] * len(status)
    assert all(quiet_system.projections.verify(name) == [] for name in quiet_system.projections.names)


def test_views_that_let_actions_go_between_batches_reload_them_and_agree(
    quiet_system: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = plan_with_actions(quiet_system.app, 4)
    for n in range(3):
        for action_id, editor in made.actions:
            quiet_system.app.post_update(editor, action_id, progress=f"update {n}", rag=("red", "amber")[n % 2])
    monkeypatch.setattr("projections.actions.MAX_FACTS", 1)  # Memory keeps almost nothing between batches.
    quiet_system.projections.batch_size = 2
    quiet_system.projections.catch_up_all()
    monkeypatch.undo()
    assert all(quiet_system.projections.verify(name) == [] for name in quiet_system.projections.names)


def test_consumers_taking_turns_bring_the_actions_they_hold_forward(
    quiet_system: System, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two consumers (as two workers) take turns on every view: each holds in memory actions that the other
    has since updated (later, backdated and retracted updates). It brings them forward by the events the other
    applied, read once: no batch fails on them (to be applied again one event at a time), and no action's events
    are read on their own, from its first (folded again) or from where it was held."""
    today = quiet_system.app.today()
    made = plan_with_actions(quiet_system.app, 3, start=lambda n: today - timedelta(days=30))
    consumers = [Projections(quiet_system.app, settings.eventsourcing_env("views"), VIEWS) for _ in range(2)]
    isolated: list[Any] = []
    read: list[Any] = []  # Reads of one action's events.
    reads: list[int] = []
    for projections in consumers:
        monkeypatch.setattr(projections, "isolate", lambda *args, **kw: isolated.append(args) or True)
    events_of = quiet_system.app.events.get
    monkeypatch.setattr(quiet_system.app.events, "get", lambda *a, **k: read.append(a) or events_of(*a, **k))
    fetch = TemporalView.fetch  # The temporal view reads an action it does not hold from its own tables.
    monkeypatch.setattr(TemporalView, "fetch", lambda view, first, c: read.extend(first) or fetch(view, first, c))
    for n in range(5):
        for action_id, editor in made.actions:
            update_id = uuid4()
            quiet_system.app.post_update(
                editor,
                action_id,
                update_id=update_id,
                effective_date=today - timedelta(days=10 + 3 * n * (-1) ** n),  # Now earlier, now later than the last.
                progress=f"update {n}",
                rag=("red", "amber", "green")[n % 3],
            )
            if n == 3:
                quiet_system.app.retract_update(editor, action_id, update_id, reason="entered in error")
        read.clear()  # The commands read the actions too: count the consumers' reads alone.
        consumers[n % 2].catch_up_all()
        reads.append(len(read))
    for projections in consumers:
        projections.close()
    head = quiet_system.app.recorder.max_notification_id()
    assert {(s["state"], s["position"]) for s in quiet_system.projections.status()} == {("running", head)}
    assert isolated == []
    assert reads == [0, 3 * 4, 0, 0, 0]  # Only on the second consumer's first turn: three actions, four views.
    assert all(quiet_system.projections.verify(name) == [] for name in quiet_system.projections.names)


def test_a_catch_up_applies_what_was_recorded_after_it_reached_the_head(quiet_system: System) -> None:
    """A worker's job clears its pending mark when it reaches the head (`at_head`); a save made just then found the
    mark still set and enqueued nothing, so the same catch-up must apply it before it ends."""
    plans(quiet_system, "a")
    called: list[int] = []

    def at_head() -> None:
        called.append(quiet_system.projections.position(quiet_system.projections.view("current_status")))
        if len(called) == 1:
            plans(quiet_system, "saved while the mark was still set")

    quiet_system.projections.catch_up("current_status", at_head=at_head)
    assert called == [1]  # Once, at the head as it was then.
    titles = [p["title"] for p in quiet_system.current.list_plans(quiet_system.app.today())]
    assert sorted(titles) == ["a", "saved while the mark was still set"]


def test_a_batch_read_before_another_consumer_wrote_is_refused(quiet_system: System) -> None:
    plans(quiet_system, "a", "b", "c")
    projections = quiet_system.projections
    view = projections.view("current_status")
    first_three = quiet_system.app.recorder.select_notifications(start=1, limit=3)
    projections.write(view, first_three[:2], 0)
    with pytest.raises(Superseded):
        projections.write(view, first_three, 0)  # Read at position 0, but the view moved to 2 meanwhile.
    assert (projections.position(view), view.processed()) == (2, 2)


def test_rebuild_swaps_in_fresh_tables_with_the_same_rows(quiet_system: System) -> None:
    plans(quiet_system, "a", "b")
    quiet_system.projections.catch_up_all()
    before = quiet_system.current.list_plans(quiet_system.app.today())
    assert quiet_system.projections.rebuild("current_status") == 2
    assert quiet_system.projections.registry.get("current_status")["generation"] == 2
    assert quiet_system.current.list_plans(quiet_system.app.today()) == before
    assert quiet_system.projections.rebuild("current_status") == 3
    assert quiet_system.current.list_plans(quiet_system.app.today()) == before


def test_prune_drops_the_generations_nobody_reads_and_keeps_the_rest(quiet_system: System) -> None:
    """After a release that changed a view's shape, and rebuilds, the old tables go; the live generation, the one
    a rebuild keeps for readers still on it, and a newer one (a rebuild under way) stay, and nothing else moves."""
    made = plan_with_actions(quiet_system.app, 2, coordinator=COORDINATOR)
    projections = quiet_system.projections
    projections.catch_up_all()
    views = projections.views
    assert projections.rebuild("temporal") == 2
    assert projections.rebuild("temporal") == 3  # Generation 1 dropped by the rebuild itself.
    shape = TemporalView.shape
    older = TemporalView(
        Place.of(views.env, "temporal", 3, shape - 1, views.postgres), views.store if views.postgres else None
    )
    older.create()  # The live generation's tables as the release before wrote them.
    views.construct("temporal", 1).close()  # A generation long gone, left behind.
    views.construct("temporal", 4).close()  # A rebuild's, under way.
    travel = (str(made.plan_id), quiet_system.app.today(), datetime.now(UTC))
    plan = projections.view("temporal").plan_status(*travel)
    assert plan is not None and len(plan["recommendations"][0]["actions"]) == 2
    stored = set(views.stored("temporal"))
    assert {(1, shape), (2, shape), (3, shape), (4, shape), (3, shape - 1)} <= stored
    assert projections.leftovers("temporal") == [(1, shape), (3, shape - 1)]
    assert projections.prune("temporal") == [(1, shape), (3, shape - 1)]
    assert set(views.stored("temporal")) == stored - {(1, shape), (3, shape - 1)}
    assert projections.prune("temporal") == []
    assert {generation for generation, _ in views.stored("current_status")} == {1}  # Other projections untouched.
    assert projections.view("temporal").plan_status(*travel) == plan


def indexes_of(view: SqlView) -> set[str]:
    """Which of the view's indexes the database holds."""
    db = view.db
    if db.dialect.postgres:
        query = "SELECT to_regclass({name}) IS NOT NULL AS found"
        return {i for i in view.indexes if db.fetchone(query, {"name": db.dialect.table(db.tables.name(i))})["found"]}
    rows = db.fetchall("SELECT name FROM sqlite_master WHERE type = 'index'")
    return {i for i in view.indexes if db.tables.name(i) in {row["name"] for row in rows}}


def test_a_rebuild_builds_the_indexes_its_readers_use_once_caught_up(quiet_system: System) -> None:
    made = plan_with_actions(quiet_system.app, 3, coordinator=COORDINATOR)
    quiet_system.projections.catch_up_all()
    travel = (str(made.plan_id), quiet_system.app.today(), datetime.now(UTC))
    plan = quiet_system.projections.view("temporal").plan_status(*travel)
    assert plan is not None and len(plan["recommendations"][0]["actions"]) == 3
    for name in ("temporal", "current_status"):
        live = quiet_system.projections.view(name)
        assert indexes_of(live) == set(live.indexes) != set()
        quiet_system.projections.rebuild(name)
        rebuilt = quiet_system.projections.view(name)
        assert rebuilt.place != live.place
        assert indexes_of(rebuilt) == set(rebuilt.indexes)  # Built before the swap: its readers find them.
    assert quiet_system.projections.view("temporal").plan_status(*travel) == plan


def test_verify_finds_a_read_model_that_differs_from_the_events(quiet_system: System) -> None:
    plans(quiet_system, "a", "b")
    quiet_system.projections.catch_up_all()
    assert quiet_system.projections.verify("current_status") == []
    view = quiet_system.projections.view("current_status")
    view.db.run(["UPDATE {t.plans} SET title = 'edited behind the API' WHERE title = 'a'"])
    differences = quiet_system.projections.verify("current_status")
    assert differences and "title" in differences[0]


def test_status_reports_lag_in_events_and_seconds(quiet_system: System) -> None:
    plans(quiet_system, "a", "b", "c")
    status = quiet_system.projections.status()[0]
    assert (status["position"], status["lag_events"]) == (0, 3)
    assert status["lag_seconds"] >= 0
    quiet_system.projections.catch_up_all()
    assert quiet_system.projections.status()[0]["lag_events"] == 0


def test_read_may_wait_for_its_own_write(quiet_system: System) -> None:
    quiet_system.settings = Settings(database_url=quiet_system.settings.database_url, wait_seconds=0.2)
    client = create_app(system=quiet_system).test_client()
    _, token = quiet_system.app.add_user(name="C", agency="lscb", role="coordinator")
    headers = {"Authorization": f"Bearer {token}"}
    written = client.post("/api/v1/plans", json={"title": "T", "source": "S", "owner_agency": "lscb"}, headers=headers)
    url = f"/api/v1/plans/{written.json['id']}"
    waited = client.get(url, headers={**headers, "Accord-Min-Position": str(written.json["position"])})
    assert waited.headers["Accord-Caught-Up"] == "false"  # Nobody caught up within the wait.
    timer = threading.Timer(0.05, quiet_system.projections.catch_up_all)
    timer.start()
    quiet_system.settings = Settings(database_url=quiet_system.settings.database_url, wait_seconds=5)
    waited = client.get(url, headers={**headers, "Accord-Min-Position": str(written.json["position"])})
    timer.join()
    assert waited.status_code == 200
    assert waited.headers["Accord-Caught-Up"] == "true"
    bad = client.get(url, headers={**headers, "Accord-Min-Position": "soon"})
    assert bad.status_code == 400


def test_time_travel_answers_nothing_for_an_id_no_plan_has(quiet_system: System) -> None:
    """Ids come from routes that accept only UUIDs, but the view is also called from code: any other text is simply
    no plan (on PostgreSQL the plan's band is read from its id's hex digits, which such text has not)."""
    made = plan_with_actions(quiet_system.app, 1)
    quiet_system.projections.catch_up_all()
    view, now = quiet_system.projections.view("temporal"), quiet_system.app.clock()
    assert view.plan_status(str(made.plan_id), quiet_system.app.today(), now) is not None
    for text in ("not-a-plan", "{" + str(made.plan_id) + "}", str(made.plan_id).upper(), "x" * 40, "\x00", ""):
        assert view.plan_status(text, quiet_system.app.today(), now) is None
