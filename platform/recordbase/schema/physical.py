"""Physical steps of structural changes: indexes, column swaps, drops and rebuilds.

Nothing here decides *whether* a change is allowed; ``operations`` does. Every
step runs on the caller's connection, inside the caller's transaction.
Identifiers are physical names made from ids (``e_3``, ``f_12``, ``ix_e_3_f_12``)
and are quoted by the dialect; no user text is part of any statement.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from recordbase import db
from recordbase.catalog import Catalog
from recordbase.model import EntityDef, FieldDef
from recordbase.schema import ddl
from recordbase.schema.convert import BATCH, Progress
from recordbase.schema.tables import field_indexes, index_name, unique_index_name


def quote(conn: sa.Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def table_columns(conn: sa.Connection, table: str) -> list[str]:
    return [c["name"] for c in sa.inspect(conn).get_columns(table)]


def drop_field_indexes(conn: sa.Connection, entity: EntityDef, fdef: FieldDef) -> None:
    for name in (index_name(entity, fdef), unique_index_name(entity, fdef)):
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {quote(conn, name)}")


def create_field_indexes(
    conn: sa.Connection, catalog: Catalog, entity: EntityDef, fdef: FieldDef
) -> None:
    """Create the indexes the field's current definition asks for (``catalog`` has it)."""
    wanted = {ix.name for ix in field_indexes(entity, fdef, catalog)}
    for index in catalog.table(entity).indexes:
        if index.name in wanted:
            ddl.create_index(conn, index)


def rename_column(conn: sa.Connection, table: str, old: str, new: str) -> None:
    conn.exec_driver_sql(
        f"ALTER TABLE {quote(conn, table)} RENAME COLUMN {quote(conn, old)} TO {quote(conn, new)}"
    )


def spare_name(conn: sa.Connection, table: str, base: str, tag: str) -> str:
    """A column name ``<base>_<tag><n>`` not yet used in ``table``."""
    taken = set(table_columns(conn, table))
    n = 1
    while f"{base}_{tag}{n}" in taken:
        n += 1
    return f"{base}_{tag}{n}"


def renamed(column: sa.Column[Any], name: str) -> sa.Column[Any]:
    fks = [sa.ForeignKey(fk.target_fullname, ondelete=fk.ondelete) for fk in column.foreign_keys]
    return sa.Column(name, column.type, *fks, nullable=True)


def widen_column(
    conn: sa.Connection, catalog: Catalog, entity: EntityDef, old: FieldDef, new: FieldDef
) -> None:
    """Give a column the declared type of ``new`` where the database keeps one.

    Only called when the type says no stored value changes (a longer text, say);
    SQLite does not enforce declared lengths, so there nothing needs doing."""
    ftype = catalog.type_of(new)
    if conn.dialect.name == "sqlite" or not ftype.owns_column:
        return
    old_type, new_type = ftype.column_type(old), ftype.column_type(new)
    if repr(old_type) != repr(new_type):
        ddl.operations(conn).alter_column(
            entity.table, new.column, type_=new_type, existing_type=old_type
        )


def swap_column(
    conn: sa.Connection,
    catalog: Catalog,
    entity: EntityDef,
    new: FieldDef,
    values: Mapping[int, Any],
    *,
    progress: Progress | None = None,
) -> str:
    """Give the field a column of its new type holding ``values``; keep the old one.

    The new column is filled, the old column is renamed to a backup name (its data
    stays in the table until the field is purged, so undo can bring it back), and
    the new column takes the field's stable physical name. Returns the backup name.
    """
    table = catalog.table(entity)
    ftype = catalog.type_of(new)
    (column,) = ftype.columns(new, catalog)
    temp = spare_name(conn, table.name, new.column, "n")
    ddl.add_column(conn, table.name, renamed(column, temp))
    target = sa.Table(
        table.name,
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(temp, column.type),
    )
    stmt = (
        sa.update(target)
        .where(target.c.id == sa.bindparam("rid"))
        .values({temp: sa.bindparam("value", type_=column.type)})
    )
    items = list(values.items())
    with db.prepared_statements(conn):
        for start in range(0, len(items), BATCH):
            chunk = items[start : start + BATCH]
            conn.execute(stmt, [{"rid": rid, "value": value} for rid, value in chunk])
            if progress is not None:
                progress(start + len(chunk), len(items))
    drop_field_indexes(conn, entity, new)
    backup = spare_name(conn, table.name, new.column, "b")
    rename_column(conn, table.name, new.column, backup)
    rename_column(conn, table.name, temp, new.column)
    return backup


def swap_back(conn: sa.Connection, entity: EntityDef, fdef: FieldDef, backup: str) -> str:
    """Undo ``swap_column``: the backup becomes the field's column again; the newer
    column is itself kept under a backup name, which is returned."""
    drop_field_indexes(conn, entity, fdef)
    newer = spare_name(conn, entity.table, fdef.column, "u")
    rename_column(conn, entity.table, fdef.column, newer)
    rename_column(conn, entity.table, backup, fdef.column)
    return newer


BACKUP_PATTERN = r"^{column}(_[nbu]\d+)?$"


def field_columns_in_table(conn: sa.Connection, table: str, fdef: FieldDef) -> list[str]:
    """The field's column and every backup of it still in the table."""
    pattern = re.compile(BACKUP_PATTERN.format(column=re.escape(fdef.column)))
    return [name for name in table_columns(conn, table) if pattern.match(name)]


def drop_columns(conn: sa.Connection, table: str, columns: list[str]) -> None:
    """Drop columns for good. SQLite cannot drop a column that carries a foreign key,
    so there the table is rebuilt (Alembic's batch mode); the caller's transaction
    must come from ``db.write(..., rebuild=True)``."""
    if not columns:
        return
    if conn.dialect.name == "sqlite" and _has_foreign_key(conn, table, columns):
        ops = ddl.operations(conn)
        with ops.batch_alter_table(table, recreate="always") as batch:
            for name in columns:
                batch.drop_column(name)
        return
    for index in sa.inspect(conn).get_indexes(table):
        if set(index["column_names"]) & set(columns) and index["name"]:
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {quote(conn, index['name'])}")
    for name in columns:
        conn.exec_driver_sql(f"ALTER TABLE {quote(conn, table)} DROP COLUMN {quote(conn, name)}")


def _has_foreign_key(conn: sa.Connection, table: str, columns: list[str]) -> bool:
    fks = sa.inspect(conn).get_foreign_keys(table)
    return any(set(fk["constrained_columns"]) & set(columns) for fk in fks)


def count_values(conn: sa.Connection, table: sa.Table, column: str) -> int:
    return int(
        conn.execute(
            sa.select(sa.func.count()).select_from(table).where(table.c[column].is_not(None))
        ).scalar_one()
    )
