"""The read-model SQL layer: allow-listed tables only, driver-bound parameters, and what it relies on in the library.

The last tests fail if an eventsourcing upgrade changes what the views rely on: the tracking recorders'
constructor arguments, their public `insert_tracking_statement` (run in the view's own transaction) and
`max_tracking_id`.
"""

from __future__ import annotations

import pytest
from eventsourcing.persistence import Tracking

from adapters.sql import Dialect, Tables
from projections.registry import Views
from projections.view import Place, SqlView
from service.settings import Settings
from tests.conftest import BACKENDS

ON_BOTH = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


class Notes(SqlView):
    tables = {"notes": "id"}

    def ddl(self) -> list[str]:
        return ["CREATE TABLE IF NOT EXISTS {t.notes} (id TEXT PRIMARY KEY, body TEXT NOT NULL)"]

    def begin(self, events: list[str], c: object) -> list[str]:
        return []

    def apply(self, domain_event: str, batch: list[str]) -> None:
        batch.append(domain_event)

    def flush(self, batch: list[str], c: object) -> None:
        self.db.dialect.insert_many(c, self.db.tables.notes, ("id", "body"), [(b, b) for b in batch])


def notes(settings: Settings, prefix: str = "notes_g1") -> Notes:
    env = settings.eventsourcing_env("views")
    view = Notes(Place(env, prefix, settings.is_postgres))
    view.create()
    return view


@ON_BOTH
def test_tables_come_only_from_the_allow_list_and_parameters_are_bound(settings: Settings) -> None:
    view = notes(settings)
    try:
        with pytest.raises(AttributeError, match="allow-list"):
            view.db.sql("SELECT * FROM {t.users}")
        hostile = "x'); DROP TABLE notes; --"
        assert view.db.fetchall("SELECT * FROM {t.notes} WHERE body = {body}", {"body": hostile}) == []
        with pytest.raises(ValueError, match="plain table name"):
            Tables(view.db.dialect, "notes; DROP", ["notes"])
    finally:
        view.drop()


@ON_BOTH
def test_many_rows_are_updated_by_their_keys_in_one_go(settings: Settings) -> None:
    view = notes(settings)
    db, update = view.db, view.db.dialect.update_many
    try:
        with db.transaction(commit=True) as c:
            db.dialect.insert_many(c, db.tables.notes, ("id", "body"), [("a", "1"), ("b", "2"), ("c", "3")])
            update(c, db.tables.notes, {"id": "text"}, {"body": "text"}, [])  # No rows: no statement.
            update(
                c,
                db.tables.notes,
                {"id": "text"},
                {"body": "text"},
                [{"id": "c", "body": "3'; --"}, {"id": "a", "body": "one"}],
            )
        assert [(r["id"], r["body"]) for r in view.rows("notes")] == [("a", "one"), ("b", "2"), ("c", "3'; --")]
        with pytest.raises(ValueError, match="plain table name"):
            update(None, db.tables.notes, {"id": "text"}, {"body = body; --": "text"}, [{"id": "a"}])
    finally:
        view.drop()


def test_the_dialect_renders_each_driver_s_own_placeholders() -> None:
    assert Dialect(postgres=True).placeholder("id") == "%(id)s"
    assert Dialect(postgres=False).placeholder("id") == ":id"
    assert Dialect(postgres=True, schema="s").table("notes_g1_notes") == '"s"."notes_g1_notes"'


@ON_BOTH
def test_rows_and_position_are_written_together_with_the_library_s_tracking_statement(settings: Settings) -> None:
    view = notes(settings)
    try:
        view.write(["a", "b"], Tracking("accord", 2), expected=0)
        assert (view.position("accord"), view.processed()) == (2, 2)
        assert view.tracking.max_tracking_id("accord") == 2  # The library's own public reading of it.
        with pytest.raises(Exception, match=r"UNIQUE|unique|duplicate"):
            view.write(["a"], Tracking("accord", 3), expected=2)  # The batch fails: nothing of it is kept.
        assert (view.position("accord"), view.db.fetchone("SELECT count(*) AS n FROM {t.notes}")) == (2, {"n": 2})
    finally:
        view.drop()


class TaggedNotes(Notes):
    """Notes whose table changed shape (a column more): a deployment's old tables cannot hold its rows."""

    shape = 2

    def ddl(self) -> list[str]:
        return ["CREATE TABLE IF NOT EXISTS {t.notes} (id TEXT PRIMARY KEY, body TEXT NOT NULL, tag TEXT)"]


@ON_BOTH
def test_a_view_whose_tables_changed_shape_starts_afresh_beside_the_old_ones(settings: Settings) -> None:
    env = settings.eventsourcing_env("views")
    before = Views(env, {"notes": Notes}, load=lambda *_: None)
    old = before.live("notes").view
    old.write(["a", "b"], Tracking("accord", 2), expected=0)
    after = Views(env, {"notes": TaggedNotes}, load=lambda *_: None)
    try:
        new = after.live("notes").view  # The same generation, upgraded: caught up from the store, not reused.
        assert new.position("accord") == 0
        new.write(["a"], Tracking("accord", 1), expected=0)
        assert new.db.fetchall("SELECT id, tag FROM {t.notes}") == [{"id": "a", "tag": None}]
        assert old.position("accord") == 2  # The old shape's tables are as they were, for readers still on them.
        assert [row["id"] for row in old.rows("notes")] == ["a", "b"]
    finally:
        new.drop()
        old.drop()
        before.close()
        after.close()
