"""Helpers shared by the field-type tests (this module holds no tests itself).

``make_catalog`` builds a small catalog by hand: an ordinary target entity
(``__target__``, what link and many-to-many sample options name), a child entity
(``__child__``, for child tables) and an ``owner`` entity with one field of the
type under test, cleaned from the type's own ``sample_options``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from recordbase import systables
from recordbase.catalog import Catalog, build_tables
from recordbase.db import make_engine
from recordbase.fields import builtin_registry
from recordbase.fields.base import FieldType
from recordbase.model import EntityDef, FieldDef

REGISTRY = builtin_registry()
TYPE_NAMES = REGISTRY.names()
LOCALES = ("en", "ru", "hy")
OWNER_ID, TARGET_ID, CHILD_ID = 2, 1, 3
FIELD_ID = 20


def _entity(
    entity_id: int, name: str, *, child: bool = False, fields: tuple[FieldDef, ...] = ()
) -> EntityDef:
    return EntityDef(
        id=entity_id,
        name=name,
        label=name.strip("_").title(),
        label_plural=name.strip("_").title() + "s",
        child=child,
        all_fields=fields,
    )


def _title(entity_id: int) -> FieldDef:
    return FieldDef(
        id=entity_id,
        entity_id=entity_id,
        name="title",
        label="Title",
        type="text",
        options=MappingProxyType({"max_length": 100}),
    )


def make_catalog(
    type_name: str, options: dict[str, Any] | None = None
) -> tuple[Catalog, EntityDef, FieldDef]:
    """A catalog whose ``owner`` entity has one field ``subject`` of ``type_name``."""
    ftype = REGISTRY.get(type_name)
    catalog = Catalog(version=1, registry=REGISTRY)
    catalog.entities["__target__"] = _entity(TARGET_ID, "__target__", fields=(_title(TARGET_ID),))
    catalog.entities["__child__"] = _entity(
        CHILD_ID, "__child__", child=True, fields=(_title(CHILD_ID),)
    )
    raw = ftype.sample_options() if options is None else options
    cleaned = ftype.clean_options(raw, catalog)
    fdef = FieldDef(
        id=FIELD_ID,
        entity_id=OWNER_ID,
        name="subject",
        label="Subject",
        type=type_name,
        options=MappingProxyType(cleaned),
    )
    catalog.entities["owner"] = _entity(OWNER_ID, "owner", fields=(fdef,))
    build_tables(catalog)
    return catalog, catalog.entities["owner"], fdef


@contextmanager
def database(db_url: str, catalog: Catalog) -> Iterator[sa.Engine]:
    """An engine on ``db_url`` with the system tables and the catalog's tables created."""
    engine = make_engine(db_url)
    try:
        systables.system_metadata.create_all(engine)
        catalog.metadata.create_all(engine)
        yield engine
    finally:
        engine.dispose()


def normalise(ftype: FieldType, fdef: FieldDef, value: Any) -> Any:
    """The JSON a valid input value comes back as (canonical form)."""
    return ftype.to_json(fdef, ftype.to_db(fdef, ftype.value_field(fdef).deserialize(value)))


def store_and_read(
    conn: sa.Connection, catalog: Catalog, owner: EntityDef, fdef: FieldDef, value: Any
) -> Any:
    """value_field → to_db → INSERT (or save) → SELECT (or load) → to_json."""
    ftype = catalog.type_of(fdef)
    stored = ftype.to_db(fdef, ftype.value_field(fdef).deserialize(value))
    table = catalog.table(owner)
    source = ftype.source_column(fdef)
    row = {source: stored} if source else {}
    record_id = conn.execute(sa.insert(table).values(row).returning(table.c.id)).scalar_one()
    if source is None:
        ftype.save(conn, fdef, catalog, record_id, stored)
        got = ftype.load(conn, fdef, catalog, [record_id]).get(record_id)
    else:
        got = conn.execute(sa.select(table.c[source]).where(table.c.id == record_id)).scalar_one()
    return ftype.to_json(fdef, got)


def filter_text(ftype: FieldType, fdef: FieldDef) -> str:
    """Query-string text of one value (one element of a list value); ids fall back to "1"."""
    for seed in range(50):
        value = normalise(ftype, fdef, ftype.fake_value(fdef, random.Random(seed)))
        if isinstance(value, list):
            value = value[:1]
        text = ftype.export_value(fdef, value)
        if text:
            return text
    return "1"


def operand(ftype: FieldType, fdef: FieldDef, op: str, arity: str) -> Any:
    """A filter operand the way the query layer builds it from query-string text."""
    if arity == "flag":
        return True
    text = filter_text(ftype, fdef)
    parsed = ftype.filter_value(fdef, op, text)
    if arity == "list":
        return [parsed]
    if arity == "pair":
        return (parsed, parsed)
    return parsed


def message_of(exc: ma.ValidationError) -> str:
    from recordbase.fields.base import flatten_messages

    return flatten_messages(exc.messages)
