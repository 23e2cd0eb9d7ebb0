"""One read connection per request (db.shared_reads): shared, released before writes,
ended after failures; a request's structure change never waits for its own reads; the
token check brings the metadata version along; PostgreSQL reads run without BEGIN."""

from __future__ import annotations

import contextlib
import threading

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from recordbase import db
from recordbase.app import runtime_of
from recordbase.records.query import ListQuery
from recordbase.runtime import Runtime, make_runtime
from support.sqlwatch import prepared_on, statements_run


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


def _admin_token(rt: Runtime) -> str:
    """A personal token of a new administrator, "ann"."""
    rt.users.create("ann", "ann-password-123", role="admin")
    return rt.users.open_session(
        rt.users.authenticate("ann", "ann-password-123"), kind="personal", address=None
    )


def test_the_token_check_reads_the_catalog_version_too(
    app: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    """A record read is two statements: the token (with the metadata version) and the
    record; no separate version query."""
    created = client.post("/api/v1/entities", headers=admin, json={
        "name": "tasks", "label": "Task", "label_plural": "Tasks", "fields": [
            {"name": "title", "type": "text"}]})
    assert created.status_code == 201, created.json
    record = client.post("/api/v1/records/tasks", headers=admin, json={"title": "a"}).json
    assert record is not None
    engine = runtime_of(app).engine
    with statements_run(engine) as seen:
        answer = client.get(f"/api/v1/records/tasks/{record['id']}", headers=admin)
    assert answer.status_code == 200, answer.json
    selects = [s for s in seen if s.upper().startswith("SELECT")]
    assert len(selects) == 2, seen
    assert "rb_sessions" in selects[0]
    assert "rb_meta_version" in selects[0]
    if engine.dialect.name == "postgresql":
        assert not [s for s in seen if s.upper().startswith("BEGIN")], seen


def test_a_structure_change_by_another_process_is_seen_by_the_next_request(
    app: Flask, client: FlaskClient, admin: dict[str, str], db_url: str
) -> None:
    created = client.post("/api/v1/entities", headers=admin, json={
        "name": "tasks", "label": "Task", "label_plural": "Tasks", "fields": [
            {"name": "title", "type": "text"}]})
    assert created.status_code == 201, created.json
    assert client.post("/api/v1/records/tasks", headers=admin, json={"title": "a"}).status_code \
        == 201
    before = client.get("/api/v1/records/tasks", headers=admin).json
    assert before is not None
    assert "due" not in before["items"][0]
    other = make_runtime(db_url, hash_profile="cheapest")  # another server process
    try:
        other.schema.add_field("tasks", {"name": "due", "type": "date"})
    finally:
        other.dispose()
    listed = client.get("/api/v1/records/tasks", headers=admin)
    assert listed.status_code == 200, listed.json
    assert listed.json is not None
    assert listed.json["items"][0]["due"] is None


def test_the_version_read_with_the_token_is_forgotten_at_a_write(notes: Runtime) -> None:
    """A request that changes structure reads its own change afterwards."""
    token = _admin_token(notes)
    with db.shared_reads(notes.engine):
        notes.users.resolve(token)
        notes.schema.add_field("notes", {"name": "body", "type": "long_text"})
        page = notes.records.list_page("notes", ListQuery(limit=50))
    assert page.items[0]["body"] is None


def test_reads_open_a_transaction_on_sqlite_only_and_writes_always_do(
    runtime: Runtime,
) -> None:
    """SQLite: a read transaction keeps one snapshot for all its statements. PostgreSQL:
    at READ COMMITTED each statement has its own snapshot anyway; reads send no BEGIN."""
    postgresql = runtime.engine.dialect.name == "postgresql"

    def in_transaction(conn: sa.Connection) -> bool:
        raw = conn.connection.driver_connection
        assert raw is not None
        if postgresql:
            from psycopg.pq import TransactionStatus

            return bool(raw.info.transaction_status == TransactionStatus.INTRANS)
        return bool(raw.in_transaction)

    with db.read(runtime.engine) as conn:
        conn.execute(sa.text("SELECT 1")).scalar()
        assert in_transaction(conn) is not postgresql
    with db.shared_reads(runtime.engine), db.read(runtime.engine) as conn:
        conn.execute(sa.text("SELECT 1")).scalar()
        assert in_transaction(conn) is not postgresql
    with db.write(runtime.engine) as conn:
        assert in_transaction(conn)
    # a connection used once at another isolation level still writes in a transaction
    if postgresql:
        with runtime.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("SELECT 1"))
    for _ in range(3):
        with db.write(runtime.engine) as conn:
            assert in_transaction(conn)


def test_postgresql_prepares_the_token_check_and_survives_a_rollback(notes: Runtime) -> None:
    """The token check reads system tables only: PostgreSQL plans it once per
    connection. A failed write's ROLLBACK drops prepared statements (psycopg); the
    check goes on working and is prepared again."""
    token = _admin_token(notes)

    def prepared() -> list[str]:
        with db.shared_reads(notes.engine):
            user = notes.users.resolve(token)
            with db.read(notes.engine) as conn:  # the connection the check used
                statements = prepared_on(conn)
        assert user.login == "ann"
        return [s for s in statements if "rb_sessions" in s]

    for _ in range(6):
        found = prepared()
    postgresql = notes.engine.dialect.name == "postgresql"
    assert bool(found) is postgresql

    class Refused(Exception):
        pass

    def failed_write() -> None:
        with db.write(notes.engine) as conn:
            conn.execute(sa.text("SELECT 1"))
            raise Refused

    with pytest.raises(Refused):
        failed_write()
    for _ in range(6):
        found = prepared()
    assert bool(found) is postgresql
