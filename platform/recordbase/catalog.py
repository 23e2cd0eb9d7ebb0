"""The catalog: every entity of one metadata version, with its SQLAlchemy tables.

A catalog is built from the system tables and then shared, read-only, by all the
requests that see that version. ``CatalogCache`` notices when another process has
bumped the version and builds a fresh one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.base import PGDialect

from recordbase import db, systables
from recordbase.errors import NotFound
from recordbase.fields.base import FieldType
from recordbase.fields.registry import FieldTypeRegistry
from recordbase.messages import msg
from recordbase.model import EntityDef, FieldDef, NavSetting

S = TypeVar("S")


@dataclass
class Catalog:
    version: int
    registry: FieldTypeRegistry
    entities: dict[str, EntityDef] = field(default_factory=dict)
    tables: dict[int, sa.Table] = field(default_factory=dict)
    extra_tables: dict[int, sa.Table] = field(default_factory=dict)
    metadata: sa.MetaData = field(default_factory=sa.MetaData)
    statements: dict[Hashable, Any] = field(default_factory=dict, repr=False, compare=False)

    def statement(self, key: Hashable, build: Callable[[], S]) -> S:
        """A SQL statement built once for this catalog and then reused.

        Building a SELECT of twenty columns costs SQLAlchemy about as much as running
        it; a statement object that is executed again with new bound parameters is
        neither rebuilt nor re-keyed for the compiled cache. Statements live as long
        as the catalog, so a structural change (a new catalog) never meets an old one.
        Two threads may build the same statement at once; one of them is kept.

        A statement's text starts with a comment naming the catalog's version, so the
        same statement of two versions is two texts: a statement PostgreSQL prepared
        for one version (``db.prepared_statements``) is never run against the columns
        of another, whose types may have changed.
        """
        found = self.statements.get(key)
        if found is None:
            built = build()
            if isinstance(built, sa.HasPrefixes):
                built = built.prefix_with(f"/* catalog {self.version} */")
            found = self.statements.setdefault(key, built)
        return found  # type: ignore[no-any-return]

    def entity(self, name: str) -> EntityDef:
        ent = self.entities.get(name)
        if ent is None or ent.removed:
            raise NotFound(msg("There is no entity named '{name}'.", name=name))
        return ent

    def entity_by_id(self, entity_id: int) -> EntityDef:
        for ent in self.entities.values():
            if ent.id == entity_id:
                return ent
        raise NotFound(msg("There is no entity with id {entity_id}.", entity_id=entity_id))

    def live_entities(self) -> list[EntityDef]:
        return [e for e in self.entities.values() if not e.removed]

    def table(self, entity: EntityDef | str) -> sa.Table:
        ent = self.entity(entity) if isinstance(entity, str) else entity
        return self.tables[ent.id]

    def type_of(self, fdef: FieldDef) -> FieldType:
        return self.registry.get(fdef.type)

    def fields_targeting(self, entity: EntityDef) -> list[tuple[EntityDef, FieldDef]]:
        """Fields of any entity whose ``target`` option names this entity."""
        out = []
        for ent in self.entities.values():
            for f in ent.all_fields:
                if f.options.get("target") == entity.name:
                    out.append((ent, f))
        return out


def entity_from_rows(row: Mapping[str, Any], field_rows: Iterable[Mapping[str, Any]]) -> EntityDef:
    fdefs = tuple(
        FieldDef(
            id=f["id"],
            entity_id=row["id"],
            name=f["name"],
            label=f["label"],
            type=f["type"],
            options=MappingProxyType(dict(f["options"] or {})),
            required=f["required"],
            unique=f["is_unique"],
            indexed=f["indexed"],
            default=f["default"],
            help=f["help"],
            position=f["position"],
            removed=f["removed"],
        )
        for f in sorted(field_rows, key=lambda r: (r["position"], r["id"]))
    )
    return EntityDef(
        id=row["id"],
        name=row["name"],
        label=row["label"],
        label_plural=row["label_plural"],
        directory=row["directory"],
        tree=row["tree"],
        child=row["child"],
        title_field=row["title_field"],
        removed=row["removed"],
        all_fields=fdefs,
        nav=NavSetting.from_json(row.get("nav")),
    )


def read_version(conn: sa.Connection, *, for_write: bool = False) -> int:
    """The metadata version; ``for_write`` holds it (FOR SHARE on PostgreSQL) until the
    transaction ends, so no structural change can commit between a record write's
    validation and its statement."""
    if not for_write:
        known = db.recall(conn, _REMEMBERED)
        if known is not None:
            return int(known)
    elif conn.dialect.name == "postgresql":
        sent, row = db.first_row(conn, VERSION_LOCK)
        if sent:
            return int(row[0]) if row is not None else 0
    stmt = _VERSION_SHARED if for_write and conn.dialect.name == "postgresql" else _VERSION
    return int(conn.execute(stmt).scalar() or 0)


def remember_version(conn: sa.Connection, version: Any) -> None:
    """Let the next ``read_version`` on the request's shared read use ``version`` read
    on ``conn`` instead of asking again (one round trip less per request)."""
    db.remember(conn, _REMEMBERED, version)


# built once: this runs at the start of every request
_VERSION = sa.select(systables.meta_version.c.version).where(systables.meta_version.c.id == 1)
_VERSION_SHARED = _VERSION.with_for_update(read=True)
#: the metadata version as a column, for a request's first query to read with its own
#: rows (the token check does): pass the value to ``remember_version``
VERSION_COLUMN = _VERSION.scalar_subquery().label("rb_meta_version")
#: ``_VERSION_SHARED`` as text, for ``db.write(first=...)``: a record write begins with
#: it, and on PostgreSQL it travels with the BEGIN (see ``read_version``)
VERSION_LOCK = str(
    _VERSION_SHARED.compile(
        dialect=PGDialect(),  # type: ignore[no-untyped-call]
        compile_kwargs={"literal_binds": True},
    )
)
_REMEMBERED = "meta_version"


def load_catalog(conn: sa.Connection, registry: FieldTypeRegistry) -> Catalog:
    version = read_version(conn)
    ent_rows = (
        conn.execute(
            sa.select(systables.entities).order_by(
                systables.entities.c.position, systables.entities.c.id
            )
        )
        .mappings()
        .all()
    )
    field_rows = conn.execute(sa.select(systables.fields)).mappings().all()
    by_entity: dict[int, list[Mapping[str, Any]]] = {}
    for f in field_rows:
        by_entity.setdefault(f["entity_id"], []).append(dict(f))
    catalog = Catalog(version=version, registry=registry)
    for row in ent_rows:
        ent = entity_from_rows(dict(row), by_entity.get(row["id"], []))
        catalog.entities[ent.name] = ent
    build_tables(catalog)
    return catalog


def build_tables(catalog: Catalog) -> None:
    """(Re)build the SQLAlchemy tables of every entity in the catalog."""
    from recordbase.schema.tables import build_entity_table

    catalog.metadata = sa.MetaData()
    # the users table is referenced by created_by/updated_by and user fields
    systables.users.to_metadata(catalog.metadata)
    systables.files.to_metadata(catalog.metadata)
    catalog.tables = {}
    catalog.extra_tables = {}
    for ent in catalog.entities.values():
        catalog.tables[ent.id] = build_entity_table(ent, catalog, catalog.metadata)
    for ent in catalog.entities.values():
        for f in ent.all_fields:
            for table in catalog.type_of(f).extra_tables(f, ent, catalog, catalog.metadata):
                catalog.extra_tables[f.id] = table


class CatalogCache:
    """Keeps the current catalog of one database and rebuilds it when the version moves."""

    def __init__(self, engine: sa.Engine, registry: FieldTypeRegistry) -> None:
        self.engine = engine
        self.registry = registry
        self._catalog: Catalog | None = None
        self._lock = threading.Lock()

    def current(self, conn: sa.Connection | None = None, *, for_write: bool = False) -> Catalog:
        """The catalog of the version now in the database (one cheap query to check)."""
        if conn is None:
            with db.read(self.engine) as own:
                return self.current(own)
        version = read_version(conn, for_write=for_write)
        cached = self._catalog
        if cached is not None and cached.version == version:
            return cached
        with self._lock:
            cached = self._catalog
            if cached is not None and cached.version == version:
                return cached
            self._catalog = load_catalog(conn, self.registry)
            return self._catalog

    def invalidate(self) -> None:
        self._catalog = None
