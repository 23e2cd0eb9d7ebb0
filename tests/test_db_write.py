"""db.write's round trips on PostgreSQL: the version lock travels with the BEGIN
(``first``), the audit entry with the COMMIT (``at_commit``).

The lock must really be held for the whole transaction, its row given out once and
never to a later write on the same pooled connection; a failing first statement
leaves no transaction open. Statements at commit run with it or not at all, and a
failing one keeps nothing of the write. Both databases answer alike.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from recordbase import db, systables
from recordbase.audit import _INSERT
from recordbase.catalog import VERSION_LOCK, read_version
from recordbase.runtime import Runtime
from support.sqlwatch import version_locked_elsewhere


def test_the_first_statement_runs_once_and_its_row_is_given_once(runtime: Runtime) -> None:
    postgresql = runtime.engine.dialect.name == "postgresql"
    with db.write(runtime.engine, first=VERSION_LOCK) as conn:
        sent, row = db.first_row(conn, VERSION_LOCK)
        assert sent is postgresql  # SQLite: BEGIN IMMEDIATE, and the caller asks itself
        if postgresql:
            assert row is not None
            assert version_locked_elsewhere(runtime.engine)
        assert db.first_row(conn, VERSION_LOCK) == (False, None)
        version = read_version(conn, for_write=True)
    # a later write on the (same, pooled) connection began without it
    with db.write(runtime.engine) as conn:
        assert db.first_row(conn, VERSION_LOCK) == (False, None)
        assert read_version(conn, for_write=True) == version
    if postgresql:
        assert not version_locked_elsewhere(runtime.engine)


def test_the_version_read_with_the_begin_is_the_lock_a_write_holds(runtime: Runtime) -> None:
    with db.write(runtime.engine, first=VERSION_LOCK) as conn:
        version = read_version(conn, for_write=True)
        assert version == runtime.cache.current().version
        if runtime.engine.dialect.name == "postgresql":
            assert version_locked_elsewhere(runtime.engine)  # read_version ran no second query
    if runtime.engine.dialect.name == "postgresql":
        assert not version_locked_elsewhere(runtime.engine)


def test_a_failing_first_statement_leaves_no_transaction(runtime: Runtime) -> None:
    broken = "SELECT version FROM no_such_table FOR SHARE"
    if runtime.engine.dialect.name == "postgresql":
        with pytest.raises(sa.exc.ProgrammingError, match="no_such_table"), db.write(
            runtime.engine, first=broken
        ):
            pytest.fail("the write went on without its first statement")
    else:  # SQLite ignores it
        with db.write(runtime.engine, first=broken) as conn:
            assert db.first_row(conn, broken) == (False, None)
    with db.write(runtime.engine) as conn:
        conn.execute(sa.text("SELECT 1"))
    with db.read(runtime.engine) as conn:
        assert conn.execute(sa.text("SELECT 1")).scalar() == 1


def test_a_rolled_back_write_that_began_with_the_lock_releases_it(runtime: Runtime) -> None:
    class Refused(Exception):
        pass

    def refused_write() -> None:
        with db.write(runtime.engine, first=VERSION_LOCK) as conn:
            read_version(conn, for_write=True)
            raise Refused

    with pytest.raises(Refused):
        refused_write()
    if runtime.engine.dialect.name == "postgresql":
        assert not version_locked_elsewhere(runtime.engine)


# --- db.at_commit: the write's last statements travel with its COMMIT ------------------


def _audit_count(runtime: Runtime, action: str) -> int:
    with db.read(runtime.engine) as conn:
        found = conn.execute(
            sa.select(sa.func.count()).select_from(systables.audit)
            .where(systables.audit.c.action == action)
        ).scalar()
    return int(found or 0)


def _entry(action: str | None) -> dict[str, object]:
    return {"at": systables.utcnow(), "user_id": None, "login": "t", "address": None,
            "action": action, "entity": None, "record_id": None, "details": {"n": 1}}


def test_statements_at_commit_run_with_it(runtime: Runtime) -> None:
    with db.write(runtime.engine) as conn:
        db.at_commit(conn, _INSERT, _entry("test.one"))
        db.at_commit(conn, _INSERT, _entry("test.one"))
        assert _audit_count(runtime, "test.one") == 0  # not yet
    assert _audit_count(runtime, "test.one") == 2


def test_a_failing_statement_at_commit_keeps_nothing_of_the_write(runtime: Runtime) -> None:
    def write() -> None:
        with db.write(runtime.engine) as conn:
            conn.execute(_INSERT, _entry("test.written"))  # a statement of the write itself
            db.at_commit(conn, _INSERT, _entry("test.kept"))
            db.at_commit(conn, _INSERT, _entry(None))  # action is NOT NULL

    with pytest.raises(sa.exc.IntegrityError):
        write()
    assert _audit_count(runtime, "test.written") == 0
    assert _audit_count(runtime, "test.kept") == 0
    with db.write(runtime.engine) as conn:  # the pooled connection is fine afterwards
        db.at_commit(conn, _INSERT, _entry("test.after"))
    assert _audit_count(runtime, "test.after") == 1


def test_statements_at_commit_of_a_failed_write_never_run(runtime: Runtime) -> None:
    class Refused(Exception):
        pass

    def refused_write() -> None:
        with db.write(runtime.engine) as conn:
            db.at_commit(conn, _INSERT, _entry("test.never"))
            raise Refused

    with pytest.raises(Refused):
        refused_write()
    with db.write(runtime.engine):  # and not at the next write on the same connection
        pass
    assert _audit_count(runtime, "test.never") == 0


def test_at_commit_outside_a_write_runs_at_once(runtime: Runtime) -> None:
    with runtime.engine.begin() as conn:
        db.at_commit(conn, _INSERT, _entry("test.now"))
        found = conn.execute(
            sa.select(sa.func.count()).select_from(systables.audit)
            .where(systables.audit.c.action == "test.now")
        ).scalar()
        assert found == 1
