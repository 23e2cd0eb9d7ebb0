"""One read transaction per request (db.shared_reads): shared, released before writes,
ended after failures; and a request's structure change never waits for its own reads."""

from __future__ import annotations

import contextlib
import threading

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from recordbase import db
from recordbase.records.query import ListQuery
from recordbase.runtime import Runtime


@pytest.fixture
def notes(runtime: Runtime) -> Runtime:
    runtime.schema.create_entity({"name": "notes", "title_field": "title", "fields": [
        {"name": "title", "type": "text"},
    ]})
    runtime.records.create("notes", {"title": "first"})
    return runtime


def titles(rt: Runtime) -> list[str]:
    page = rt.records.list_page("notes", ListQuery(limit=50, sort=("id",)))
    return [item["title"] for item in page.items]


def test_reads_in_a_scope_share_one_connection(notes: Runtime) -> None:
    with db.shared_reads(notes.engine):
        with db.read(notes.engine) as first:
            pass
        with db.read(notes.engine) as second, db.read(notes.engine) as nested:
            assert second is first
            assert nested is first
    with db.read(notes.engine) as outside:
        assert outside is not first


def test_reads_after_a_write_see_it(notes: Runtime) -> None:
    with db.shared_reads(notes.engine):
        assert titles(notes) == ["first"]  # SQLite: this read fixes a snapshot
        notes.records.create("notes", {"title": "second"})
        assert titles(notes) == ["first", "second"]
        record = notes.records.list_page("notes", ListQuery(limit=1, sort=("-id",))).items[0]
        notes.records.update("notes", record["id"], {"title": "third"},
                             expected_version=record["version"])
        assert titles(notes) == ["first", "third"]


def test_a_failed_read_does_not_poison_the_next(notes: Runtime) -> None:
    with db.shared_reads(notes.engine):
        with pytest.raises(sa.exc.DBAPIError), db.read(notes.engine) as conn:
            conn.exec_driver_sql("SELECT * FROM no_such_table")
        # a statement that failed and was caught inside the block
        with db.read(notes.engine) as conn, contextlib.suppress(sa.exc.DBAPIError):
            conn.exec_driver_sql("SELECT 1 / 0 FROM no_such_table")
        assert titles(notes) == ["first"]


def test_a_structure_change_after_reading_the_table_does_not_wait(notes: Runtime) -> None:
    """PostgreSQL: ALTER TABLE needs the lock a read of the table holds until its
    transaction ends; the scope's read ends before the change's write begins."""
    done = threading.Event()

    def change() -> None:
        with db.shared_reads(notes.engine):
            assert titles(notes) == ["first"]
            notes.schema.add_field("notes", {"name": "body", "type": "long_text"})
            assert titles(notes) == ["first"]
        done.set()

    worker = threading.Thread(target=change, daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert done.is_set(), "the change waited for its own request's read"
    assert "body" in {f.name for f in notes.cache.current().entity("notes").fields}


def test_api_list_after_write_in_the_same_client(client: FlaskClient,
                                                 admin: dict[str, str]) -> None:
    """Requests through the application: each gets its own scope."""
    created = client.post("/api/v1/entities", headers=admin, json={
        "name": "tasks", "label": "Task", "label_plural": "Tasks", "fields": [
            {"name": "title", "type": "text"}]})
    assert created.status_code == 201, created.json
    for title in ("a", "b"):
        answer = client.post("/api/v1/records/tasks", headers=admin,
                                 json={"title": title})
        assert answer.status_code == 201, answer.json
        listed = client.get("/api/v1/records/tasks?sort=id", headers=admin)
        assert listed.status_code == 200
        assert listed.json["items"][-1]["title"] == title
