"""Entity metadata to SQLAlchemy tables: system columns, field columns, indexes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from recordbase.model import EntityDef, FieldDef
from recordbase.systables import UTCDateTime, utcnow

if TYPE_CHECKING:
    from recordbase.catalog import Catalog


def system_columns(entity: EntityDef) -> list[sa.Column[Any]]:
    cols: list[sa.Column[Any]] = [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("version", sa.Integer, nullable=False, default=1),
        sa.Column("created_at", UTCDateTime, nullable=False, default=utcnow),
        # indexed: "changed since" checks (undo) and lists sorted by last change
        sa.Column("updated_at", UTCDateTime, nullable=False, default=utcnow, index=True),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("rb_users.id", ondelete="SET NULL")),
        sa.Column("updated_by", sa.Integer, sa.ForeignKey("rb_users.id", ondelete="SET NULL")),
    ]
    if entity.tree:
        cols.append(
            sa.Column(
                "parent_id",
                sa.Integer,
                sa.ForeignKey(f"{entity.table}.id", ondelete="RESTRICT"),
                nullable=True,
                index=True,
            )
        )
    return cols


def field_columns(fdef: FieldDef, catalog: Catalog) -> list[sa.Column[Any]]:
    return catalog.type_of(fdef).columns(fdef, catalog)


def field_indexes(entity: EntityDef, fdef: FieldDef, catalog: Catalog) -> list[sa.Index]:
    """Indexes a field asks for: (column, id) so keyset pages walk the index in order."""
    ftype = catalog.type_of(fdef)
    cols = ftype.index_columns(fdef)
    if not cols:
        return []
    out = []
    if (fdef.unique and ftype.can_be_unique) or ftype.always_unique:
        out.append(sa.Index(unique_index_name(entity, fdef), *cols, unique=True))
    if fdef.indexed or ftype.always_indexed:
        out.append(sa.Index(index_name(entity, fdef), *cols, "id"))
    return out


def index_name(entity: EntityDef, fdef: FieldDef) -> str:
    return f"ix_{entity.table}_{fdef.column}"


def unique_index_name(entity: EntityDef, fdef: FieldDef) -> str:
    return f"uq_{entity.table}_{fdef.column}"


def build_entity_table(entity: EntityDef, catalog: Catalog, metadata: sa.MetaData) -> sa.Table:
    cols: list[Any] = system_columns(entity)
    for fdef in entity.all_fields:
        # removed fields keep their columns (and data) until purged
        cols.extend(field_columns(fdef, catalog))
    for owner, fdef in catalog.fields_targeting(entity):
        cols.extend(catalog.type_of(fdef).columns_in_target(fdef, owner))
    for fdef in entity.all_fields:
        cols.extend(field_indexes(entity, fdef, catalog))
    return sa.Table(entity.table, metadata, *cols)
