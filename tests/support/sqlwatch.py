"""What a test can see of the SQL a piece of code sends: the statements SQLAlchemy runs,
the statements a PostgreSQL connection has prepared, and whether PostgreSQL's metadata
version row is locked by someone else."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa


def version_locked_elsewhere(engine: sa.Engine) -> bool:
    """Whether another connection finds the version row locked (PostgreSQL)."""
    with engine.connect() as other, other.begin():
        other.exec_driver_sql("SET LOCAL lock_timeout = '100ms'")
        try:
            other.exec_driver_sql(
                "SELECT version FROM rb_meta_version WHERE id = 1 FOR UPDATE"
            ).all()
        except sa.exc.OperationalError:
            return True
        return False


def idle_in_transaction(engine: sa.Engine) -> int:
    """PostgreSQL: this database's connections left inside a transaction."""
    with engine.connect() as other:
        found = other.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND state LIKE 'idle in transaction%%'"
        ).scalar()
    return int(found or 0)


def prepared_on(conn: sa.Connection) -> list[str]:
    """The statements prepared on ``conn``, whitespace folded ([] on SQLite)."""
    if conn.dialect.name != "postgresql":
        return []
    found = conn.exec_driver_sql("SELECT statement FROM pg_prepared_statements")
    return [" ".join(row[0].split()) for row in found]


@contextmanager
def statements_run(engine: sa.Engine) -> Iterator[list[str]]:
    """The statements SQLAlchemy sends on ``engine`` meanwhile, whitespace folded."""
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
