"""db.write(first=...): a record write's version lock travels with PostgreSQL's BEGIN.

The lock must really be held for the whole transaction, its row must be given out
once and never to a later write on the same pooled connection, and a failing first
statement must leave no transaction open.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from recordbase import db
from recordbase.catalog import VERSION_LOCK, read_version
from recordbase.runtime import Runtime


def _locked_elsewhere(runtime: Runtime) -> bool:
    """Whether another connection finds the version row locked (PostgreSQL)."""
    with runtime.engine.connect() as other, other.begin():
        other.exec_driver_sql("SET LOCAL lock_timeout = '100ms'")
        try:
            other.exec_driver_sql(
                "SELECT version FROM rb_meta_version WHERE id = 1 FOR UPDATE"
            ).all()
        except sa.exc.OperationalError:
            return True
        return False


def test_the_first_statement_runs_once_and_its_row_is_given_once(runtime: Runtime) -> None:
    postgresql = runtime.engine.dialect.name == "postgresql"
    with db.write(runtime.engine, first=VERSION_LOCK) as conn:
        sent, row = db.first_row(conn, VERSION_LOCK)
        assert sent is postgresql  # SQLite: BEGIN IMMEDIATE, and the caller asks itself
        if postgresql:
            assert row is not None
            assert _locked_elsewhere(runtime)
        assert db.first_row(conn, VERSION_LOCK) == (False, None)
        version = read_version(conn, for_write=True)
    # a later write on the (same, pooled) connection began without it
    with db.write(runtime.engine) as conn:
        assert db.first_row(conn, VERSION_LOCK) == (False, None)
        assert read_version(conn, for_write=True) == version
    if postgresql:
        assert not _locked_elsewhere(runtime)


def test_the_version_read_with_the_begin_is_the_lock_a_write_holds(runtime: Runtime) -> None:
    with db.write(runtime.engine, first=VERSION_LOCK) as conn:
        version = read_version(conn, for_write=True)
        assert version == runtime.cache.current().version
        if runtime.engine.dialect.name == "postgresql":
            assert _locked_elsewhere(runtime)  # read_version ran no second query
    if runtime.engine.dialect.name == "postgresql":
        assert not _locked_elsewhere(runtime)


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
        assert not _locked_elsewhere(runtime)
