"""The statements every record read and write runs, built once per catalog.

Each is keyed by the table and the exact columns it reads or sets (a role's view may
hide columns), takes its values as bound parameters and is kept on the catalog (see
``Catalog.statement``). Conditions that depend on the actor, such as row rules, are
added to a copy by the caller; the shared statement is never changed.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from recordbase.catalog import Catalog
from recordbase.model import EntityDef, FieldDef
from recordbase.records.rows import select_columns

RECORD_ID = "rb_record_id"
EXPECTED_VERSION = "rb_expected_version"
IDS = "rb_ids"


def _names(columns: Iterable[sa.ColumnElement[Any]]) -> tuple[str, ...]:
    return tuple(str(c.key) for c in columns)


def _key(kind: str, catalog: Catalog, entity: EntityDef) -> Hashable:
    """The cache key of a statement over the entity's (or the view's) columns.

    The catalog's own entity (every field) is known by name, without listing its
    columns again on every request; a role's view is known by the columns it keeps.
    """
    if catalog.entities.get(entity.name) is entity:
        return (kind, entity.name)
    table = catalog.table(entity)
    return (kind, table.name, _names(select_columns(entity, table, catalog)))


def select_all(catalog: Catalog, entity: EntityDef) -> sa.Select[Any]:
    """SELECT the entity's (or the view's) columns, with no condition yet."""
    table = catalog.table(entity)
    return catalog.statement(
        _key("select", catalog, entity),
        lambda: sa.select(*select_columns(entity, table, catalog)),
    )


def select_one(catalog: Catalog, entity: EntityDef) -> sa.Select[Any]:
    """``select_all`` of the record whose id is bound as ``RECORD_ID``."""
    table = catalog.table(entity)
    return catalog.statement(
        _key("select_one", catalog, entity),
        lambda: sa.select(*select_columns(entity, table, catalog)).where(
            table.c.id == sa.bindparam(RECORD_ID)
        ),
    )


def update_returning(catalog: Catalog, entity: EntityDef) -> sa.Update:
    """UPDATE one record at an expected version, returning the entity's columns.

    SQLAlchemy makes the SET clause from the keys of the parameters it is executed
    with (column names: compiled once per set of keys); the record is bound as
    ``RECORD_ID`` and the version the caller read as ``EXPECTED_VERSION``.
    """
    table = catalog.table(entity)

    def build() -> sa.Update:
        columns = select_columns(entity, table, catalog)
        return (
            sa.update(table)
            .where(
                table.c.id == sa.bindparam(RECORD_ID),
                table.c.version == sa.bindparam(EXPECTED_VERSION),
            )
            .returning(*columns)
        )

    return catalog.statement(_key("update", catalog, entity), build)


#: prefix of the columns ``update_returning_before`` returns as they were
BEFORE = "rb_before_"


def update_returning_before(catalog: Catalog, entity: EntityDef) -> sa.Update:
    """PostgreSQL: ``update_returning`` that also returns the record as it was.

    The record is read and locked by a subquery in the UPDATE's FROM, so the row before
    and after the change come back from one statement instead of a SELECT and an
    UPDATE; the columns as they were are labelled ``BEFORE + name``. (SQLite's
    RETURNING may not name the FROM's tables.)
    """
    table = catalog.table(entity)

    def build() -> sa.Update:
        columns = select_columns(entity, table, catalog)
        before = (
            sa.select(*columns)
            .where(table.c.id == sa.bindparam(RECORD_ID))
            .with_for_update()
            .subquery("rb_before")
        )
        return (
            sa.update(table)
            .where(
                table.c.id == before.c.id,
                table.c.version == sa.bindparam(EXPECTED_VERSION),
            )
            .returning(
                *columns, *(before.c[str(c.key)].label(BEFORE + str(c.key)) for c in columns)
            )
        )

    return catalog.statement(_key("update_before", catalog, entity), build)


def split_before(row: sa.RowMapping) -> tuple[dict[str, Any], dict[str, Any]]:
    """A row of ``update_returning_before``: (the record after, the record before)."""
    after: dict[str, Any] = {}
    before: dict[str, Any] = {}
    for name, value in row.items():
        if name.startswith(BEFORE):
            before[name[len(BEFORE):]] = value
        else:
            after[name] = value
    return after, before


class IdList(sa.types.TypeDecorator[list[int]]):
    """Record ids as one bound parameter: an array on PostgreSQL, a JSON array on
    SQLite (read back with ``json_each``).

    An expanding ``IN`` binds one parameter per id, so SQLAlchemy renders the statement
    again for every page and the database sees a new statement for every count.
    """

    impl = sa.types.Text
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.ARRAY(sa.BigInteger()))
        return dialect.type_descriptor(sa.types.Text())

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        ids = [int(i) for i in value]
        return ids if dialect.name == "postgresql" else json.dumps(ids)


def in_ids(column: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[bool]:
    """``column`` is one of the ids bound (a list) as ``IDS``."""
    ids = sa.bindparam(IDS, type_=IdList())
    if dialect == "postgresql":
        return column == sa.any_(ids)
    return column.in_(sa.select(sa.column("value")).select_from(sa.func.json_each(ids)))


def titles(catalog: Catalog, entity: EntityDef, source: str, dialect: str) -> sa.Select[Any]:
    """id and title column of the records whose ids are bound (a list) as ``IDS``."""
    table = catalog.table(entity)
    return catalog.statement(
        ("titles", table.name, source, dialect),
        lambda: sa.select(table.c.id, table.c[source]).where(in_ids(table.c.id, dialect)),
    )


@dataclass(frozen=True)
class TitleColumn:
    """A link field of a page whose target's title the page's statement reads."""

    field: FieldDef  # the link: its column holds the target's id
    target: str
    title: FieldDef | None  # the target's title field as the actor sees it; None: #id
    table: sa.FromClause  # the target's table, aliased for this link
    allowed: sa.ColumnElement[bool] | None  # the actor's row rule on the target (alias)

    @property
    def title_label(self) -> str:
        return f"rb_title_{self.field.column}"

    @property
    def seen_label(self) -> str:
        return f"rb_seen_{self.field.column}"


def select_with_titles(
    catalog: Catalog, entity: EntityDef, linked: list[TitleColumn]
) -> sa.Select[Any]:
    """``select_all`` and, per link in ``linked``, the title of the record it
    points at (and, under a row rule, whether the actor may see that record)."""
    select = select_all(catalog, entity)
    if not linked:
        return select
    table = catalog.table(entity)

    def columns() -> list[sa.ColumnElement[Any]]:
        out: list[sa.ColumnElement[Any]] = []
        for link in linked:
            target = link.table
            where = [target.c.id == table.c[link.field.column]]
            if link.allowed is not None:
                where.append(link.allowed)
                seen = sa.select(target.c.id).where(*where).scalar_subquery()
                out.append(seen.label(link.seen_label))
            if link.title is not None:
                source = catalog.type_of(link.title).source_column(link.title)
                assert source is not None
                title = sa.select(target.c[source]).where(*where).scalar_subquery()
                out.append(title.label(link.title_label))
        return out

    if any(link.allowed is not None for link in linked):
        return select.add_columns(*columns())  # a row rule: the actor's own statement
    key = (_key("select_titles", catalog, entity), tuple(
        (link.field.name, link.title.name if link.title else None) for link in linked
    ))
    return catalog.statement(
        key, lambda: sa.select(*select_columns(entity, table, catalog), *columns())
    )
