"""Contract tests: every registered field type keeps the promises of ``FieldType``."""

from __future__ import annotations

import random
from typing import Any

import marshmallow as ma
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from test_field_types_support import (
    LOCALES,
    REGISTRY,
    TYPE_NAMES,
    database,
    filter_text,
    make_catalog,
    normalise,
    operand,
    store_and_read,
)

from recordbase.errors import ValidationError
from recordbase.records.operators import OPERATORS

FAKE_SEEDS = range(12)
# Promises a type does not keep yet, with the reason; strict, so a fix shows up here.
KNOWN_GAPS: dict[tuple[str, str], str] = {}


def with_gaps(check: str) -> list[Any]:
    return [
        pytest.param(name, marks=pytest.mark.xfail(reason=KNOWN_GAPS[(check, name)], strict=True))
        if (check, name) in KNOWN_GAPS
        else name
        for name in TYPE_NAMES
    ]


@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_sample_options_clean(type_name: str) -> None:
    catalog, _, fdef = make_catalog(type_name)
    ftype = REGISTRY.get(type_name)
    del catalog.entities["owner"]  # as before the field existed
    # cleaning is idempotent: cleaned options clean to themselves
    assert ftype.clean_options(dict(fdef.options), catalog) == dict(fdef.options)
    assert ftype.options_schema.Meta.unknown == ma.RAISE


@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_unknown_option_key_is_refused_by_name(type_name: str) -> None:
    catalog, _, _ = make_catalog(type_name)
    ftype = REGISTRY.get(type_name)
    with pytest.raises(ValidationError) as info:
        ftype.clean_options({**ftype.sample_options(), "colour_of_sky": "blue"}, catalog)
    assert "colour_of_sky" in info.value.message


@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_declared_flags_and_names(type_name: str) -> None:
    ftype = REGISTRY.get(type_name)
    assert ftype.name == type_name
    assert isinstance(ftype.widget, str)
    assert ftype.widget
    assert isinstance(ftype.value_schema.get("type"), str)
    for op in ftype.operators:
        assert op in OPERATORS, f"{type_name} declares the unknown operator {op!r}"
    if not ftype.owns_column:
        _, _, fdef = make_catalog(type_name)
        assert ftype.columns(fdef, make_catalog(type_name)[0]) == []


@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_columns_build(type_name: str) -> None:
    catalog, owner, fdef = make_catalog(type_name)
    ftype = REGISTRY.get(type_name)
    columns = ftype.columns(fdef, catalog)
    if ftype.owns_column:
        assert [c.name for c in columns] == [fdef.column]
        assert fdef.column in catalog.table(owner).c
    source = ftype.source_column(fdef)
    if source is not None:
        assert source in catalog.table(owner).c


@pytest.mark.parametrize("type_name", with_gaps("export"))
def test_fake_values_are_valid_and_round_trip_through_export(type_name: str) -> None:
    _, _, fdef = make_catalog(type_name)
    ftype = REGISTRY.get(type_name)
    for seed in FAKE_SEEDS:
        value = ftype.fake_value(fdef, random.Random(seed))
        normal = normalise(ftype, fdef, value)
        assert normalise(ftype, fdef, normal) == normal, "the canonical form is stable"
        text = ftype.export_value(fdef, normal)
        assert isinstance(text, str)
        assert ftype.import_value(fdef, text) == normal


@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_display_gives_text(type_name: str) -> None:
    _, _, fdef = make_catalog(type_name)
    ftype = REGISTRY.get(type_name)
    values = [normalise(ftype, fdef, ftype.fake_value(fdef, random.Random(s))) for s in range(5)]
    for locale in LOCALES:
        assert ftype.display(fdef, None, locale) == ""
        for value in values:
            assert isinstance(ftype.display(fdef, value, locale), str)


@pytest.mark.parametrize(
    "dialect",
    [sqlite.dialect(), postgresql.dialect()],  # type: ignore[no-untyped-call]
    ids=["sqlite", "postgresql"],
)
@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_operators_compile(type_name: str, dialect: sa.Dialect) -> None:
    catalog, owner, fdef = make_catalog(type_name)
    ftype = REGISTRY.get(type_name)
    table = catalog.table(owner)
    source = ftype.source_column(fdef)
    column = table.c[source] if source else table.c.id
    for op in ftype.operators:
        value = operand(ftype, fdef, op, OPERATORS.get(op).arity)
        expr = ftype.compile_filter(fdef, column, op, value)
        sql = str(sa.select(table.c.id).where(expr).compile(dialect=dialect))
        assert "WHERE" in sql


@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_values_round_trip_through_the_database(type_name: str, db_url: str) -> None:
    catalog, owner, fdef = make_catalog(type_name)
    ftype = REGISTRY.get(type_name)
    values: list[Any] = [ftype.fake_value(fdef, random.Random(s)) for s in FAKE_SEEDS]
    rnd = random.Random(7)
    with database(db_url, catalog) as engine, engine.connect() as conn:
        for value in values:
            with conn.begin() as tx:
                got = store_and_read(conn, catalog, owner, fdef, value)
                tx.rollback()
            assert got == normalise(ftype, fdef, value)
        # every operator runs against the real table
        table = catalog.table(owner)
        source = ftype.source_column(fdef)
        column = table.c[source] if source else table.c.id
        with conn.begin() as tx:
            store_and_read(conn, catalog, owner, fdef, ftype.fake_value(fdef, rnd))
            for op in ftype.operators:
                value = operand(ftype, fdef, op, OPERATORS.get(op).arity)
                expr = ftype.compile_filter(fdef, column, op, value)
                conn.execute(sa.select(sa.func.count()).select_from(table).where(expr)).scalar_one()
            tx.rollback()


@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_filter_text_parses(type_name: str) -> None:
    _, _, fdef = make_catalog(type_name)
    ftype = REGISTRY.get(type_name)
    for op in ftype.operators:
        if OPERATORS.get(op).arity != "flag":
            ftype.filter_value(fdef, op, filter_text(ftype, fdef))
