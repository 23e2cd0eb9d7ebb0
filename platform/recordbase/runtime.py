"""The services of one database, wired together once per application (or CLI run)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from recordbase import db, systables
from recordbase.access import AccessService
from recordbase.audit import AuditService
from recordbase.catalog import CatalogCache
from recordbase.fields import builtin_registry
from recordbase.fields.registry import FieldTypeRegistry
from recordbase.files import FileService
from recordbase.layouts import LayoutService
from recordbase.licence import LicenceService, ensure_licence_row
from recordbase.printing import PrintService, register_dependents
from recordbase.records.service import RecordService
from recordbase.schema.policy import LicencePolicy, StructurePolicy
from recordbase.schema.service import SchemaService
from recordbase.users import UserService


@dataclass
class Runtime:
    engine: sa.Engine
    registry: FieldTypeRegistry
    cache: CatalogCache
    schema: SchemaService
    records: RecordService
    users: UserService
    files: FileService
    prints: PrintService
    licence: LicenceService
    access: AccessService
    audit: AuditService
    layouts: LayoutService

    def dispose(self) -> None:
        self.engine.dispose()


def make_runtime(
    url: str,
    *,
    policy: StructurePolicy | None = None,
    hash_profile: str = "owasp",
    **engine_kwargs: object,
) -> Runtime:
    engine = db.make_engine(url, **engine_kwargs)
    registry = builtin_registry()
    cache = CatalogCache(engine, registry)
    licence = LicenceService(engine)
    audit = AuditService(engine)
    access = AccessService(engine, cache)
    files = FileService(engine)
    prints = PrintService(engine, cache, files, access=access)
    register_dependents(prints, registry)
    return Runtime(
        engine=engine,
        registry=registry,
        cache=cache,
        schema=SchemaService(engine, cache, policy or LicencePolicy(licence)),
        records=RecordService(engine, cache, access=access, audit=audit),
        users=UserService(engine, hash_profile=hash_profile, licence=licence, audit=audit),
        files=files,
        prints=prints,
        licence=licence,
        access=access,
        audit=audit,
        layouts=LayoutService(engine, cache, audit),
    )


def create_system_tables(engine: sa.Engine) -> None:
    """Create the system tables and the metadata version row when they are missing."""
    with db.write(engine) as conn:
        systables.system_metadata.create_all(conn)
        exists = conn.execute(
            sa.select(systables.meta_version.c.id).where(systables.meta_version.c.id == 1)
        ).first()
        if not exists:
            conn.execute(
                sa.insert(systables.meta_version).values(
                    id=1, version=1, changed_at=systables.utcnow()
                )
            )
        ensure_licence_row(conn)
        AccessService.ensure_builtin_roles(conn)


def upgrade_system_tables(engine: sa.Engine) -> list[str]:
    """Bring a database made by an older Recordbase up to this one's system tables.

    Missing system tables and indexes are created and missing nullable columns added;
    nothing is dropped or changed. Returns what was added ("table.column"). A database
    without Recordbase's tables is left alone.
    """
    if not sa.inspect(engine).has_table(systables.meta_version.name):
        return []
    added: list[str] = []
    with db.write(engine) as conn:
        systables.system_metadata.create_all(conn)  # only the missing tables
        inspector = sa.inspect(conn)
        prep = conn.dialect.identifier_preparer
        for table in systables.system_metadata.sorted_tables:
            present = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in present or not column.nullable:
                    continue
                kind = column.type.compile(dialect=conn.dialect)
                conn.exec_driver_sql(
                    f"ALTER TABLE {prep.quote(table.name)} ADD COLUMN {prep.quote(column.name)} "
                    f"{kind}"
                )
                added.append(f"{table.name}.{column.name}")
            indexes = {i["name"] for i in inspector.get_indexes(table.name)}
            for index in table.indexes:
                if index.name not in indexes:
                    index.create(conn)
        ensure_licence_row(conn)
        AccessService.ensure_builtin_roles(conn)
    return added


def record_launch(engine: sa.Engine) -> None:
    """What every launch (a CLI run, a server start) does once, with a bare engine:
    upgrade the system tables, count the launch for demo mode, apply audit retention."""
    if not sa.inspect(engine).has_table(systables.meta_version.name):
        return
    upgrade_system_tables(engine)
    LicenceService(engine).count_launch()
    AuditService(engine).apply_retention()


def is_initialised(engine: sa.Engine) -> bool:
    """True once ``init`` has finished: the administrator is created last."""
    if not sa.inspect(engine).has_table(systables.users.name):
        return False
    with db.read(engine) as conn:
        return conn.execute(sa.select(systables.users.c.id).limit(1)).first() is not None


RECORDBASE_TABLE = re.compile(r"^(rb_[a-z_]+|e_\d+|m2m_\d+)$")


def drop_recordbase_tables(engine: sa.Engine) -> list[str]:
    """Remove what an interrupted ``init`` left behind (Recordbase's own tables only)."""
    names = [n for n in sa.inspect(engine).get_table_names() if RECORDBASE_TABLE.match(n)]
    if not names:
        return names
    with db.write(engine, rebuild=True) as conn:
        prep = conn.dialect.identifier_preparer
        cascade = " CASCADE" if conn.dialect.name == "postgresql" else ""
        for name in names:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {prep.quote(name)}{cascade}")
    return names
