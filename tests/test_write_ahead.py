"""A record write's token check begins its write (``db.write_ahead``, PostgreSQL).

The BEGIN and the version lock travel with the token check, and the write then runs on
that connection: a PATCH is the token check, the UPDATE and the audit entry with the
COMMIT. The lock is held from the token check to the commit; a request refused on the
way (bad input, a stale version, an unknown entity, a bad token) leaves no transaction
open and no lock held; a failed statement on the begun write is never continued. On
SQLite (whose writers BEGIN IMMEDIATE) nothing changes, and the same tests run there.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from recordbase import db
from recordbase.app import runtime_of
from recordbase.catalog import VERSION_LOCK, read_version
from recordbase.runtime import Runtime
from support.sqlwatch import idle_in_transaction, statements_run, version_locked_elsewhere


def _postgresql(engine: sa.Engine) -> bool:
    return engine.dialect.name == "postgresql"


@pytest.fixture
def task(client: FlaskClient, admin: dict[str, str]) -> dict[str, object]:
    created = client.post("/api/v1/entities", headers=admin, json={
        "name": "tasks", "label": "Task", "label_plural": "Tasks", "fields": [
            {"name": "title", "type": "text", "required": True},
            {"name": "hours", "type": "integer"}]})
    assert created.status_code == 201, created.json
    record = client.post("/api/v1/records/tasks", headers=admin, json={"title": "a", "hours": 1})
    assert record.status_code == 201, record.json
    assert record.json is not None
    return record.json


def _nothing_left_open(engine: sa.Engine) -> None:
    if _postgresql(engine):
        assert not version_locked_elsewhere(engine)
        assert idle_in_transaction(engine) == 0


def test_a_patch_is_the_token_check_the_update_and_the_audit_with_the_commit(
    app: Flask, client: FlaskClient, admin: dict[str, str], task: dict[str, object]
) -> None:
    engine = runtime_of(app).engine
    with statements_run(engine) as seen:
        answer = client.patch(f"/api/v1/records/tasks/{task['id']}", headers=admin,
                              json={"hours": 2}, environ_base={"HTTP_IF_MATCH": '"1"'})
    assert answer.status_code == 200, answer.json
    assert answer.json is not None
    assert (answer.json["hours"], answer.json["version"]) == (2, 2)
    if _postgresql(engine):
        # BEGIN and the version lock went with the token check, unseen by SQLAlchemy
        assert [s.split()[0] for s in seen] == ["SELECT", "UPDATE", "INSERT", "COMMIT"], seen
        assert "rb_sessions" in seen[0]
        assert "rb_audit" in seen[2]
    history = client.get(f"/api/v1/records/tasks/{task['id']}/history", headers=admin).json
    assert history is not None
    assert history["items"][-1]["details"]["changes"]["hours"] == [1, 2]
    _nothing_left_open(engine)


def test_create_and_delete_begin_with_the_token_check_too(
    app: Flask, client: FlaskClient, admin: dict[str, str], task: dict[str, object]
) -> None:
    engine = runtime_of(app).engine
    with statements_run(engine) as seen:
        created = client.post("/api/v1/records/tasks", headers=admin, json={"title": "b"})
        deleted = client.delete(f"/api/v1/records/tasks/{task['id']}", headers=admin,
                                environ_base={"HTTP_IF_MATCH": '"1"'})
    assert created.status_code == 201, created.json
    assert deleted.status_code == 204, deleted.json
    if _postgresql(engine):
        assert not [s for s in seen if s.upper().startswith("BEGIN")], seen
        assert not [s for s in seen if "rb_meta_version" in s and "FOR SHARE" in s], seen
    listed = client.get("/api/v1/records/tasks", headers=admin).json
    assert listed is not None
    assert [item["title"] for item in listed["items"]] == ["b"]
    _nothing_left_open(engine)


def test_the_version_lock_is_held_from_the_token_check_to_the_commit(
    app: Flask, client: FlaskClient, admin: dict[str, str], task: dict[str, object]
) -> None:
    rt = runtime_of(app)
    token = admin["Authorization"].removeprefix("Bearer ")
    with db.shared_reads(rt.engine), db.write_ahead(rt.engine, VERSION_LOCK):
        user = rt.users.resolve(token)
        if _postgresql(rt.engine):
            assert version_locked_elsewhere(rt.engine)  # a structure change would wait
        item = rt.records.update("tasks", int(str(task["id"])), {"hours": 5},
                                 expected_version=1, actor=user)
        assert item["hours"] == 5
        _nothing_left_open(rt.engine)  # committed: the lock went with the commit
    got = client.get(f"/api/v1/records/tasks/{task['id']}", headers=admin).json
    assert got is not None
    assert (got["hours"], got["version"]) == (5, 2)


@pytest.mark.parametrize(
    ("method", "path", "body", "if_match", "status"),
    [
        ("PATCH", "/api/v1/records/tasks/{id}", {"hours": "many"}, '"1"', 422),
        ("PATCH", "/api/v1/records/tasks/{id}", {"nope": 1}, '"1"', 422),
        ("PATCH", "/api/v1/records/tasks/{id}", {"hours": 3}, '"7"', 409),
        ("PATCH", "/api/v1/records/tasks/{id}", {"hours": 3}, None, 422),
        ("PATCH", "/api/v1/records/ghosts/{id}", {"hours": 3}, '"1"', 404),
        ("POST", "/api/v1/records/tasks", {"hours": 3}, None, 422),
        ("POST", "/api/v1/records/tasks", [1, 2], None, 422),
        ("DELETE", "/api/v1/records/tasks/{id}", None, '"9"', 409),
        ("DELETE", "/api/v1/records/tasks/999999", None, '"1"', 404),
    ],
)
def test_a_refused_write_leaves_nothing_open_and_nothing_written(
    app: Flask, client: FlaskClient, admin: dict[str, str], task: dict[str, object],
    method: str, path: str, body: object, if_match: str | None, status: int,
) -> None:
    environ = {"HTTP_IF_MATCH": if_match} if if_match else {}
    answer = client.open(path.format(id=task["id"]), method=method, headers=admin,
                         json=body, environ_base=environ)
    assert answer.status_code == status, answer.json
    assert answer.json is not None
    assert answer.json["detail"]
    _nothing_left_open(runtime_of(app).engine)
    listed = client.get("/api/v1/records/tasks", headers=admin).json
    assert listed is not None
    assert [(i["title"], i["hours"], i["version"]) for i in listed["items"]] == [("a", 1, 1)]


@pytest.mark.parametrize("token", ["not-a-token", ""])
def test_a_write_with_a_bad_token_leaves_nothing_open(
    app: Flask, client: FlaskClient, task: dict[str, object], token: str
) -> None:
    answer = client.patch(f"/api/v1/records/tasks/{task['id']}",
                          headers={"Authorization": f"Bearer {token}"}, json={"hours": 9},
                          environ_base={"HTTP_IF_MATCH": '"1"'})
    assert answer.status_code == 401, answer.json
    _nothing_left_open(runtime_of(app).engine)


def test_a_failed_statement_on_the_begun_write_is_never_continued(runtime: Runtime) -> None:
    broken = sa.text("SELECT * FROM no_such_table")
    with db.write_ahead(runtime.engine, VERSION_LOCK):
        with db.read_ahead(runtime.engine) as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar() == 1
            with pytest.raises(sa.exc.DBAPIError, match="no_such_table"):
                conn.execute(broken)  # caught: PostgreSQL's transaction is dead
        # the write does not take the dead transaction over: it begins its own
        with db.write(runtime.engine, first=VERSION_LOCK) as conn:
            assert read_version(conn, for_write=True) == runtime.cache.current().version
    _nothing_left_open(runtime.engine)
    with db.write_ahead(runtime.engine, VERSION_LOCK):
        with (
            pytest.raises(sa.exc.DBAPIError, match="no_such_table"),
            db.read_ahead(runtime.engine) as conn,
        ):
            conn.execute(broken)
        _nothing_left_open(runtime.engine)  # rolled back at once, not at the scope's end


def test_a_failing_first_statement_fails_the_token_check_and_leaves_nothing_open(
    runtime: Runtime,
) -> None:
    first = "SELECT version FROM no_such_table FOR SHARE"
    with db.write_ahead(runtime.engine, first):
        if _postgresql(runtime.engine):
            with (
                pytest.raises(sa.exc.ProgrammingError, match="no_such_table"),
                db.read_ahead(runtime.engine) as conn,
            ):
                conn.execute(sa.text("SELECT 1"))
        else:  # SQLite: a plain read
            with db.read_ahead(runtime.engine) as conn:
                assert conn.execute(sa.text("SELECT 1")).scalar() == 1
    _nothing_left_open(runtime.engine)
    with db.write(runtime.engine, first=VERSION_LOCK) as conn:
        assert read_version(conn, for_write=True) == runtime.cache.current().version


def test_a_write_with_another_first_statement_does_not_take_the_begun_one(
    runtime: Runtime,
) -> None:
    """Only the write the scope was opened for continues its transaction; another write
    of the same request (a session's last-seen time) runs on its own connection."""
    with db.write_ahead(runtime.engine, VERSION_LOCK):
        with db.read_ahead(runtime.engine) as ahead:
            ahead.execute(sa.text("SELECT 1"))
        with db.write(runtime.engine) as other:
            assert other is not ahead
            if _postgresql(runtime.engine):
                assert version_locked_elsewhere(runtime.engine)  # still the begun write's
        with db.write(runtime.engine, first=VERSION_LOCK) as taken:
            assert (taken is ahead) is _postgresql(runtime.engine)
    _nothing_left_open(runtime.engine)
