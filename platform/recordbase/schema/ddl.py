"""DDL for runtime schema changes, through Alembic's operations API.

Alembic knows each database's ALTER dialect. One gap is filled by hand: SQLite
cannot add a foreign-key constraint to an existing table, but it can add a
column that carries one inline (``ADD COLUMN ... REFERENCES``), which is all a new
link field needs. The identifiers in that statement are physical names generated
from ids and quoted by the dialect; no user text is part of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.schema import CreateColumn

if TYPE_CHECKING:
    from alembic.operations import Operations


def operations(conn: sa.Connection) -> Operations:
    # imported here: Alembic is needed by structural changes, not by every request
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    return Operations(MigrationContext.configure(conn))


def add_column(conn: sa.Connection, table: str, column: sa.Column[Any]) -> None:
    fks = list(column.foreign_keys)
    if conn.dialect.name != "sqlite" or not fks:
        operations(conn).add_column(table, column)
        return
    prep = conn.dialect.identifier_preparer
    spec = str(CreateColumn(column).compile(dialect=conn.dialect))
    fk = fks[0]
    ref_table, ref_col = fk.target_fullname.split(".")
    clause = f" REFERENCES {prep.quote(ref_table)} ({prep.quote(ref_col)})"
    if fk.ondelete:
        clause += f" ON DELETE {fk.ondelete}"
    conn.exec_driver_sql(f"ALTER TABLE {prep.quote(table)} ADD COLUMN {spec}{clause}")


def create_index(conn: sa.Connection, index: sa.Index) -> None:
    index.create(conn, checkfirst=True)


def create_table(conn: sa.Connection, table: sa.Table) -> None:
    table.create(conn)
