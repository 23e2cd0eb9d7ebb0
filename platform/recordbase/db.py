"""Engines for SQLite and PostgreSQL, and the transaction helpers services use.

SQLite runs in WAL mode with a busy timeout and foreign keys on. Python's sqlite3
module would begin transactions lazily and commit around DDL on its own; the
driver's transaction handling is switched off and Recordbase emits BEGIN itself,
``BEGIN IMMEDIATE`` for writes, so a writer takes its lock up front and waits
(``busy_timeout``) instead of failing with "database is locked" on upgrade.

PostgreSQL's driver is switched to autocommit the same way and Recordbase emits
BEGIN itself for every transaction except a read's (``read``): at READ COMMITTED
each statement of a read transaction takes its own snapshot anyway, so the BEGIN
and ROLLBACK around a read bought nothing but two round trips per request. A record
write's BEGIN and version lock travel with its request's token check (``write_ahead``).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, nullcontext, suppress
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url

from recordbase.errors import Busy
from recordbase.messages import msg

DEFAULT_SQLITE_PATH = Path("var") / "recordbase.sqlite3"
SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_OPTION = "recordbase_write"
#: a connection that only reads: PostgreSQL runs its statements without BEGIN
READ_OPTION = "recordbase_read"
#: PostgreSQL: a statement without parameters sent with the write's BEGIN (``write``)
FIRST_OPTION = "recordbase_first"
_FIRST_ROW = "recordbase_first_row"
#: PostgreSQL: a write begun ahead by the request's token check (``write_ahead``)
AHEAD_OPTION = "recordbase_ahead"
_PENDING = "recordbase_pending"
_AT_COMMIT = "recordbase_at_commit"


def default_database_url() -> str:
    env = os.environ.get("RECORDBASE_DATABASE_URL")
    if env:
        return env
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def make_engine(url: str, **kwargs: Any) -> sa.Engine:
    """An engine for ``url`` set up the way Recordbase needs it."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        # timestamps travel in UTC whatever the server's or the role's time zone
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("options", "-c timezone=UTC")
        # psycopg prepares a query on the server after 5 runs; once another process
        # changes a column's type, that statement fails ("cached plan must not change
        # result type") on every pooled connection that prepared it. Tables change
        # shape at run time here, so a query is prepared only where a service says so
        # (``prepared_statements``).
        connect_args.setdefault("prepare_threshold", None)
        connect_args.setdefault("autocommit", True)  # Recordbase emits BEGIN itself
        engine = sa.create_engine(parsed, connect_args=connect_args, **kwargs)
        _configure_postgresql(engine)
        _ping_idle_connections(engine)
        return engine
    raise ValueError(f"Recordbase runs on SQLite or PostgreSQL, not {parsed.get_backend_name()!r}.")


IDLE_BEFORE_PING = 30.0


def _ping_idle_connections(engine: sa.Engine) -> None:
    """Check a pooled connection before use only when it sat idle for a while.

    A server restart or an idle timeout leaves dead connections in the pool; a
    ping on every checkout (``pool_pre_ping``) would find them, at the price of one
    round trip per request. A connection used within the last half minute is alive.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi: Any, record: Any) -> None:
        record.info["rb_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("rb_idle_since")
        if since is None or time.monotonic() - since < IDLE_BEFORE_PING:
            return
        try:
            cursor = dbapi.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            dbapi.rollback()  # leave no transaction open behind the ping
        except Exception as exc:  # any failure means: use another connection
            raise sa.exc.DisconnectionError() from exc


def _configure_sqlite(engine: sa.Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # Recordbase emits BEGIN itself
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()
        from recordbase.records.operators import sqlite_match

        dbapi_conn.create_function("rb_match", 3, sqlite_match, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        if conn.get_execution_options().get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def _configure_postgresql(engine: sa.Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        options = conn.get_execution_options()
        if options.get(READ_OPTION) or options.get("isolation_level") == "AUTOCOMMIT":
            return
        raw = conn.connection.driver_connection
        if raw is not None and not raw.autocommit:
            # an isolation level set for one use was reset on return to the pool
            raw.autocommit = True
        first = options.get(FIRST_OPTION)
        if first and options.get(AHEAD_OPTION) and raw is not None:
            # a write begun ahead (``write_ahead``): the BEGIN and ``first`` wait in a
            # pipeline for the request's first statement, the token check, and the
            # three go in one round trip (``_send_pending``, after that statement)
            with ExitStack() as stack:  # left at once if the BEGIN or ``first`` fails
                stack.enter_context(raw.pipeline())
                raw.execute("BEGIN")
                cursor = raw.execute(first)
                conn.info[_PENDING] = (stack.pop_all(), cursor, first)
        elif first:
            # one message, one round trip: the statement runs in the implicit transaction
            # of a multi-statement query, which the BEGIN after it turns into this write's
            # transaction, locks and all (a failure leaves no transaction open)
            conn.info[_FIRST_ROW] = (first, conn.exec_driver_sql(f"{first}; BEGIN").first())
        else:
            conn.exec_driver_sql("BEGIN")

    @event.listens_for(engine, "after_cursor_execute")
    def _after_execute(conn: sa.Connection, *_args: Any) -> None:
        # before SQLAlchemy reads the statement's result, which a pipeline holds back
        if _PENDING in conn.info:
            _send_pending(conn)


def _send_pending(conn: sa.Connection) -> None:
    """Send what waits in a write-ahead's pipeline and read every answer (the BEGIN,
    ``first`` and the statements after them); keep ``first``'s row for ``first_row``."""
    pending = conn.info.pop(_PENDING, None)
    if pending is None:
        return
    stack, cursor, first = pending
    stack.close()  # leaving pipeline mode sends it all and waits for the answers
    conn.info[_FIRST_ROW] = (first, cursor.fetchone())


def is_sqlite(bind: sa.Engine | sa.Connection) -> bool:
    return bind.dialect.name == "sqlite"


@contextmanager
def write(
    engine: sa.Engine, *, rebuild: bool = False, first: str | None = None
) -> Iterator[sa.Connection]:
    """A connection in a write transaction, committed on success, rolled back on error.

    ``rebuild`` prepares SQLite for a table rebuild: foreign keys are switched off
    before the transaction (dropping the old copy of a table must not cascade into
    the rows that refer to it), checked with ``foreign_key_check`` before commit,
    and switched back on afterwards, as SQLite's own procedure for ALTER prescribes.

    ``first`` (PostgreSQL; ignored on SQLite, whose writers BEGIN IMMEDIATE) is a
    constant statement without parameters, such as a lock, that travels with the
    write's BEGIN in one round trip; ``first_row`` gives its first row once, and a
    failure of it leaves no transaction open.
    """
    sqlite_rebuild = rebuild and engine.dialect.name == "sqlite"
    _release_shared_read(engine)
    ahead = _ahead.get()
    # the transaction the request's token check began (``write_ahead``), or a new one
    begun = ahead.take(engine, first) if ahead is not None and not rebuild else None
    if begun is not None:
        conn, txn = begun
    else:
        conn = engine.connect().execution_options(**{WRITE_OPTION: True})
        if first is not None and engine.dialect.name == "postgresql":
            conn = conn.execution_options(**{FIRST_OPTION: first})
        txn = None
    try:
        if sqlite_rebuild:
            # outside any transaction, where SQLite honours the pragma
            _raw_pragma(conn, "PRAGMA foreign_keys = OFF")
        with txn or conn.begin():  # committed on success, rolled back on error
            yield conn
            if sqlite_rebuild:
                _run_at_commit(conn, commit=False)
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").first()
                if broken is not None:
                    raise RuntimeError(f"a rebuild would break a foreign key: {tuple(broken)}")
            _run_at_commit(conn, commit=True)
    finally:
        # the DBAPI connection's info outlives this use
        conn.info.pop(_FIRST_ROW, None)
        conn.info.pop(_AT_COMMIT, None)
        try:
            if sqlite_rebuild:
                _raw_pragma(conn, "PRAGMA foreign_keys = ON")
        finally:
            conn.close()


def at_commit(
    conn: sa.Connection,
    statement: sa.Executable,
    parameters: dict[str, Any],
    *,
    prepared: bool = False,
) -> None:
    """Run ``statement`` (one that returns no rows) when ``conn``'s write commits.

    The write's last statements, such as its audit entry: on PostgreSQL they travel
    with the COMMIT in one round trip (psycopg's pipeline mode); on SQLite they run
    just before it. If the write fails first they never run; if one of them fails,
    nothing of the write is kept. Outside a ``write`` the statement runs at once.
    ``prepared``: the statement may be prepared (see ``prepared_statements``).
    """
    if not conn.get_execution_options().get(WRITE_OPTION):
        with prepared_statements(conn) if prepared else nullcontext():
            conn.execute(statement, parameters)
        return
    conn.info.setdefault(_AT_COMMIT, []).append((statement, parameters, prepared))


def _run_at_commit(conn: sa.Connection, *, commit: bool) -> None:
    queued = conn.info.pop(_AT_COMMIT, None)
    if not queued:
        return
    raw = conn.connection.driver_connection if conn.dialect.name == "postgresql" else None
    if raw is None or not commit or not _has_pipeline():
        for statement, parameters, prepared in queued:
            with prepared_statements(conn) if prepared else nullcontext():
                conn.execute(statement, parameters)
        return
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        with raw.pipeline():  # sent together, answered together at the end of the block
            for statement, parameters, prepared in queued:
                with prepared_statements(conn) if prepared else nullcontext():
                    conn.execute(statement, parameters)
            # committed here: the transaction's own COMMIT then finds nothing to do
            conn.exec_driver_sql("COMMIT")
    except dbapi_error as exc:  # raised when the answers come, outside SQLAlchemy's execute
        raise sa.exc.DBAPIError.instance(
            "at commit", None, exc, dbapi_error, connection_invalidated=bool(raw.broken)
        ) from exc


@functools.cache
def _has_pipeline() -> bool:
    """psycopg's pipeline mode needs libpq 14 or later (asked once per process)."""
    import psycopg

    return bool(psycopg.capabilities.has_pipeline())


def first_row(conn: sa.Connection, statement: str) -> tuple[bool, Any]:
    """(True, its first row) if ``conn``'s write began with ``statement`` (``write``'s
    ``first``) and nobody asked before; else (False, None): run it yourself."""
    sent = conn.info.get(_FIRST_ROW)
    if sent is None or sent[0] != statement:
        return False, None
    del conn.info[_FIRST_ROW]
    return True, sent[1]


@contextmanager
def prepared_statements(conn: sa.Connection) -> Iterator[None]:
    """PostgreSQL: let psycopg prepare the statements run meanwhile on ``conn``.

    psycopg prepares a statement on its fifth run on a connection and keeps it for the
    connection's life: the server then neither parses nor plans it again, which saves
    a fifth to a third of a millisecond a statement. ``make_engine`` switches preparing
    off; services switch it on for statements that are safe and gain:

    - queries of system tables only, whose columns change only when Recordbase is
      upgraded (the token check);
    - a bulk ``executemany`` of one UPDATE (about twice as fast; it returns no rows);
    - record statements whose best plan does not depend on the values bound (by id, a
      list of ids, a page without conditions). Their text names the catalog version
      (``Catalog.statement``), so after a change of structure they are new statements
      and a prepared one of the old shape is never run again.

    One race remains: a change of a column's type committed between a read's version
    check and its statement. That statement fails with "cached plan must not change
    result type"; the request gets ``Busy`` (503, try again) and, outside a write, the
    connection is dropped with its prepared statements. (A write holds the version
    lock from its BEGIN, so no change of structure commits while it runs.)
    """
    raw = conn.connection.driver_connection if conn.dialect.name == "postgresql" else None
    if raw is None:
        yield
        return
    saved = raw.prepare_threshold
    raw.prepare_threshold = 5  # psycopg's default
    try:
        yield
    except sa.exc.NotSupportedError as exc:
        if getattr(exc.orig, "sqlstate", None) != _PG_PLAN_CHANGED:
            raise
        if raw.info.transaction_status == _PG_IDLE:
            conn.invalidate()  # its prepared statements go with it
        # else the write's ROLLBACK makes psycopg forget them
        raise Busy(msg("The structure of the data changed while it was read; try again.")) from exc
    finally:
        raw.prepare_threshold = saved


#: "cached plan must not change result type" (feature_not_supported)
_PG_PLAN_CHANGED = "0A000"


def _raw_pragma(conn: sa.Connection, statement: str) -> None:
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    cursor = dbapi.cursor()
    try:
        cursor.execute(statement)
    finally:
        cursor.close()


@contextmanager
def read(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection for reading: on SQLite a read transaction (one snapshot of the
    database for all its statements), on PostgreSQL no transaction at all (each
    statement sees what was committed when it began, as it would at READ COMMITTED
    inside one).

    Inside a ``shared_reads`` scope (one web or API request) the reads share one
    connection and transaction: a list request checks the token and reads the page
    without a second checkout, BEGIN and COMMIT.
    """
    shared = _shared.get()
    if shared is not None and shared.engine is engine:
        with shared.use() as conn:
            yield conn
        return
    with engine.connect() as conn:
        conn = conn.execution_options(**{READ_OPTION: True})
        with conn.begin():
            yield conn


class SharedRead:
    """The read transaction the reads of one request share, opened on first use.

    It ends (and the next read opens a fresh one) when a write is about to begin, so
    the write never waits for locks its own request holds (PostgreSQL: a schema change
    after a read of the same table) and the reads after it see what it wrote (SQLite:
    a read transaction keeps the snapshot of its first read); and when a read fails,
    since PostgreSQL refuses every later statement of a failed transaction.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._conn: sa.Connection | None = None
        self._txn: sa.RootTransaction | None = None
        self._depth = 0
        self._stale = False
        #: values read in this transaction (``remember``), forgotten when it ends
        self.facts: dict[str, Any] = {}

    @contextmanager
    def use(self) -> Iterator[sa.Connection]:
        if self._conn is None:
            self._conn = self.engine.connect().execution_options(**{READ_OPTION: True})
            self._txn = self._conn.begin()
        self._depth += 1
        try:
            yield self._conn
        except BaseException:
            self._stale = True
            raise
        finally:
            self._depth -= 1
            if self._depth == 0 and (self._stale or _failed(self._conn)):
                self.end()

    def holds(self, conn: sa.Connection) -> bool:
        """Whether ``conn`` is this shared read's connection."""
        return self._conn is not None and self._conn is conn

    def release(self) -> None:
        """End the transaction now if no read is using it, else when the last one is done."""
        self._stale = True
        if self._depth == 0:
            self.end()

    def end(self) -> None:
        conn, txn = self._conn, self._txn
        self._conn = self._txn = None
        self._stale = False
        self.facts.clear()
        if conn is None:
            return
        try:
            if txn is not None and txn.is_active:
                txn.rollback()  # it only read
        finally:
            conn.close()


def _failed(conn: sa.Connection | None) -> bool:
    """PostgreSQL: a statement failed (and was caught), so the transaction is dead."""
    if conn is None or conn.dialect.name != "postgresql":
        return False
    raw = conn.connection.driver_connection
    return raw is not None and raw.info.transaction_status == _PG_INERROR


_PG_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE
_PG_INTRANS = 2  # psycopg.pq.TransactionStatus.INTRANS
_PG_INERROR = 3  # psycopg.pq.TransactionStatus.INERROR

_shared: ContextVar[SharedRead | None] = ContextVar("recordbase_shared_read", default=None)


@contextmanager
def shared_reads(engine: sa.Engine) -> Iterator[SharedRead]:
    """Let the ``read`` calls made until the block ends share one read transaction."""
    scope = SharedRead(engine)
    token = _shared.set(scope)
    try:
        yield scope
    finally:
        _shared.reset(token)
        scope.end()


def remember(conn: sa.Connection, key: str, value: Any) -> None:
    """Keep a value read on ``conn`` for the later reads of the same shared read.

    A no-op unless ``conn`` is the request's shared read connection. Forgotten when
    that read ends (before any write), so a value is never reused past a write.
    """
    shared = _shared.get()
    if shared is not None and shared.holds(conn):
        shared.facts[key] = value


def recall(conn: sa.Connection, key: str) -> Any:
    """A value ``remember``-ed on ``conn`` in this shared read, or None."""
    shared = _shared.get()
    return shared.facts.get(key) if shared is not None and shared.holds(conn) else None


def _release_shared_read(engine: sa.Engine) -> None:
    shared = _shared.get()
    if shared is not None and shared.engine is engine:
        shared.release()


class WriteAhead:
    """PostgreSQL: a record write whose transaction the request's token check begins.

    A write request's first statement is the token check, and its write begins with a
    BEGIN and the version lock (``write``'s ``first``). Begun ahead, the three travel
    in one round trip (a psycopg pipeline) instead of two, on one connection instead
    of a read connection and then a write connection: ``read_ahead`` gives the token
    check that connection, and the request's ``write`` with the same ``first`` takes
    it over, transaction, lock and all. A request that never writes (its input was
    refused) rolls it back when it ends. The lock is held from the token check on:
    a change of structure waits for the write as it would from its BEGIN.
    """

    def __init__(self, engine: sa.Engine, first: str) -> None:
        self.engine = engine
        self.first = first
        self._conn: sa.Connection | None = None
        self._txn: sa.RootTransaction | None = None
        self._opened = False

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """The write's connection for the token check (once; later reads: ``read``)."""
        if self._opened:
            with read(self.engine) as conn:
                yield conn
            return
        self._opened = True
        conn = self.engine.connect().execution_options(
            **{WRITE_OPTION: True, FIRST_OPTION: self.first, AHEAD_OPTION: True}
        )
        self._conn = conn
        self._txn = conn.begin()
        try:
            yield conn
            _send_pending(conn)  # in case the block ran no statement
        except BaseException:
            self.end()
            raise

    def take(
        self, engine: sa.Engine, first: str | None
    ) -> tuple[sa.Connection, sa.RootTransaction] | None:
        """The begun write for ``write(engine, first=first)``, if it is the one begun."""
        conn, txn = self._conn, self._txn
        if conn is None or txn is None or engine is not self.engine or first != self.first:
            return None
        raw = conn.connection.driver_connection
        if raw is None or raw.info.transaction_status != _PG_INTRANS:
            self.end()  # a read failed in it: not a write to continue
            return None
        self._conn = self._txn = None
        return conn, txn

    def end(self) -> None:
        """Roll the begun write back if no ``write`` took it over."""
        conn, txn = self._conn, self._txn
        self._conn = self._txn = None
        if conn is None:
            return
        pending = conn.info.pop(_PENDING, None)
        conn.info.pop(_FIRST_ROW, None)
        try:
            if pending is not None:
                # read the answers (a failed one too): the rollback below undoes them
                with suppress(conn.dialect.loaded_dbapi.Error):
                    pending[0].close()
            if txn is not None and txn.is_active:
                txn.rollback()
        finally:
            conn.close()


_ahead: ContextVar[WriteAhead | None] = ContextVar("recordbase_write_ahead", default=None)


@contextmanager
def write_ahead(engine: sa.Engine, first: str) -> Iterator[None]:
    """Let this block's token check begin its write (``WriteAhead``); PostgreSQL only
    (with libpq's pipeline mode); elsewhere nothing changes."""
    if engine.dialect.name != "postgresql" or not _has_pipeline():
        yield
        return
    ahead = WriteAhead(engine, first)
    token = _ahead.set(ahead)
    try:
        yield
    finally:
        _ahead.reset(token)
        ahead.end()


@contextmanager
def read_ahead(engine: sa.Engine) -> Iterator[sa.Connection]:
    """``read`` for the token check: inside ``write_ahead``, on the begun write."""
    ahead = _ahead.get()
    if ahead is None or ahead.engine is not engine:
        with read(engine) as conn:
            yield conn
        return
    with ahead.read() as conn:
        yield conn
