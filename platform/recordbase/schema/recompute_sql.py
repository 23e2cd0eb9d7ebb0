"""A computed field's value for every record at once, as the write path would store it.

``RecordService`` works a computed value out in Python (records/computing.py): a
product or a sum of the stored decimals, rounded half up to the field's decimal
places, refused when it has more digits than the field holds. Here the same value
is an SQL expression over a whole table, where the database computes it exactly:

- PostgreSQL multiplies and sums ``numeric`` without rounding, and its
  ``round(numeric, places)`` rounds halves away from zero, as ``ROUND_HALF_UP`` does;
- SQLite keeps decimals as scaled 64-bit integers, so there the product or sum is
  integer arithmetic on the scaled values, rounded by an integer division. Where a
  row's arithmetic would leave 64 bits SQLite answers a float instead (and ``sum``
  would fail); such rows are not ``exact`` and are worked out in Python, in id
  batches, with the write path's own code (``python_values``).

Identifiers come from ids (``e_3``, ``f_12``); numbers are bound parameters.
"""

from __future__ import annotations

import decimal
import functools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from recordbase.catalog import Catalog
from recordbase.errors import ConversionError
from recordbase.fields.child_table import parent_column
from recordbase.fields.computed import Computation, computation_of
from recordbase.fields.decimal import DecimalFieldType
from recordbase.fields.integer import INT64_MAX, INT64_MIN
from recordbase.messages import msg, reason
from recordbase.model import EntityDef, FieldDef
from recordbase.records.computing import as_json

Value = sa.ColumnElement[Any]
#: a line sum whose absolute values add up to this much may overflow SQLite's sum()
SQLITE_SUM_GUARD = 4e18


@dataclass
class Target:
    """A computed field whose values are worked out for every record of its entity."""

    entity: EntityDef
    field: FieldDef

    @property
    def name(self) -> str:
        return f"{self.entity.name}.{self.field.name}"

    def computation(self) -> tuple[Computation, Any]:
        pair = computation_of(self.field)
        assert pair is not None, "a target is a computed field"
        return pair


@dataclass
class Expressions:
    """SQL for one target over ``table`` (a copy of the entity's table built for the
    statement at hand).

    ``value`` is the new value in stored form (PostgreSQL: the rounded ``numeric``;
    SQLite: the scaled integer), NULL when the computation gives none; ``exact`` says
    where it is right (elsewhere: ``python_values``); ``too_big`` where it has more
    digits than the field holds; ``stored`` is ``value`` cast for the column."""

    value: Value
    exact: sa.ColumnElement[bool]
    too_big: sa.ColumnElement[bool]
    stored: Value


def entity_table(catalog: Catalog, entity: EntityDef, *extra: sa.Column[Any]) -> sa.Table:
    """A bare copy of the entity's table (no constraints), plus ``extra`` columns, so an
    UPDATE and the expressions in it name one and the same table."""
    source = catalog.table(entity)
    columns = [sa.Column(c.name, c.type, primary_key=c.primary_key) for c in source.columns]
    return sa.Table(source.name, sa.MetaData(), *columns, *extra)


def _scale(catalog: Catalog, fdef: FieldDef) -> int:
    return catalog.type_of(fdef).decimal_places(fdef)


def _integer(column: sa.ColumnElement[Any]) -> Value:
    return sa.type_coerce(column, sa.BigInteger())


def _rescale(value: Value, scale: int, places: int) -> Value:
    """A scaled integer at ``scale`` as one at ``places``, halves rounded away from zero."""
    if scale <= places:
        return value * (10 ** (places - scale)) if scale < places else value
    divisor = 10 ** (scale - places)
    half = divisor // 2
    return sa.case(
        (value >= 0, (value + half) // divisor), else_=-((half - value) // divisor)
    )


def _multiply(
    catalog: Catalog, target: Target, spec: Any, table: sa.Table, postgres: bool
) -> tuple[Value, int]:
    """The product (raw, at its own scale) and the scale it is at (PostgreSQL: 0)."""
    operands = [target.entity.field(name) for name in spec]
    if postgres:
        factors: list[Value] = [sa.cast(table.c[f.column], sa.Numeric()) for f in operands]
        return functools.reduce(operator.mul, factors), 0
    factors = [_integer(table.c[f.column]) for f in operands]
    scale = sum(_scale(catalog, f) for f in operands)
    return functools.reduce(operator.mul, factors), scale


def _lines(catalog: Catalog, target: Target, spec: Any) -> tuple[sa.Table, FieldDef, FieldDef]:
    child = target.entity.field(spec["child"])
    lines = catalog.type_of(child).line_entity(child, catalog)
    assert lines is not None, "check_computed made sure the child table is there"
    return catalog.table(lines), child, lines.field(spec["field"])


def _sum(
    catalog: Catalog, target: Target, spec: Any, table: sa.Table, postgres: bool
) -> tuple[Value, int]:
    lines, child, line_field = _lines(catalog, target, spec)
    owner = lines.c[parent_column(child)] == table.c.id
    column = lines.c[line_field.column]
    if postgres:
        total = sa.func.sum(sa.cast(column, sa.Numeric()))
        found = sa.select(sa.func.coalesce(total, 0)).where(owner).scalar_subquery()
        return found, 0
    exact = sa.select(sa.func.coalesce(sa.func.sum(_integer(column)), 0)).where(owner)
    guard = sa.select(sa.func.total(sa.func.abs(_integer(column)))).where(owner)
    safe = sa.case(
        (guard.scalar_subquery() < SQLITE_SUM_GUARD, exact.scalar_subquery()), else_=None
    )
    return safe, _scale(catalog, line_field)


BUILDERS: dict[str, Callable[[Catalog, Target, Any, sa.Table, bool], tuple[Value, int]]] = {
    "multiply": _multiply,
    "sum": _sum,
}


def expressions(catalog: Catalog, target: Target, table: sa.Table, dialect: str) -> Expressions:
    computation, spec = target.computation()
    postgres = dialect == "postgresql"
    raw, scale = BUILDERS[computation.name](catalog, target, spec, table, postgres)
    ftype = catalog.type_of(target.field)
    places = ftype.decimal_places(target.field)
    limit = _limit(catalog, target.field)
    if postgres:
        value: Value = sa.func.round(raw, sa.literal(places, sa.Integer()), type_=sa.Numeric())
        low, high = (
            (INT64_MIN - 1, INT64_MAX + 1) if limit is None
            else (-(10 ** (limit - places)), 10 ** (limit - places))
        )
        bounds = [sa.literal(decimal.Decimal(n), sa.Numeric()) for n in (low, high)]
        too_big = sa.and_(value.is_not(None), sa.or_(value >= bounds[1], value <= bounds[0]))
        # a CASE, so the cast never sees a value it would fail on (PostgreSQL does not
        # promise to test a WHERE's conditions in their order)
        stored = sa.case(
            (too_big, sa.null()), else_=sa.cast(value, ftype.column_type(target.field))
        )
        return Expressions(value, sa.true(), too_big, stored)
    value = _rescale(raw, scale, places)
    exact: sa.ColumnElement[bool] = sa.func.typeof(value).in_(("integer", "null"))
    if computation.name == "sum":
        exact = sa.and_(raw.is_not(None), exact)  # NULL: the guard sent it to Python
    # an integer field takes any 64-bit integer; a decimal one fewer digits than that
    too_big = sa.false() if limit is None else sa.and_(
        value.is_not(None), sa.or_(value >= 10**limit, value <= -(10**limit))
    )
    return Expressions(value, exact, too_big, value)


def _limit(catalog: Catalog, fdef: FieldDef) -> int | None:
    """The digits a decimal field holds in all (its precision); None for whole numbers."""
    ftype = catalog.type_of(fdef)
    if isinstance(ftype, DecimalFieldType):
        return ftype.precision_scale(fdef)[0]
    return None


def as_number(catalog: Catalog, target: Target, raw: Any, dialect: str) -> decimal.Decimal | None:
    """A ``value`` read back from the database as the number it stands for."""
    if raw is None:
        return None
    if dialect == "postgresql":
        return decimal.Decimal(raw)
    return decimal.Decimal(int(raw)).scaleb(-_scale(catalog, target.field))


# --- the rows SQL cannot work out exactly: the write path's own code, in Python ---------


def _multiply_inputs(
    conn: sa.Connection, catalog: Catalog, target: Target, spec: Any, ids: Sequence[int]
) -> dict[int, dict[str, Any]]:
    table = catalog.table(target.entity)
    operands = [target.entity.field(name) for name in spec]
    rows = conn.execute(
        sa.select(table.c.id, *[table.c[f.column] for f in operands]).where(table.c.id.in_(ids))
    ).all()
    return {
        int(row[0]): {
            f.name: catalog.type_of(f).to_json(f, stored)
            for f, stored in zip(operands, row[1:], strict=True)
        }
        for row in rows
    }


def _sum_inputs(
    conn: sa.Connection, catalog: Catalog, target: Target, spec: Any, ids: Sequence[int]
) -> dict[int, dict[str, Any]]:
    lines, child, line_field = _lines(catalog, target, spec)
    owner = lines.c[parent_column(child)]
    records: dict[int, dict[str, Any]] = {i: {child.name: []} for i in ids}
    ftype = catalog.type_of(line_field)
    rows = conn.execute(
        sa.select(owner, lines.c[line_field.column]).where(owner.in_(ids))
    ).all()
    for parent, stored in rows:
        line = {line_field.name: ftype.to_json(line_field, stored)}
        records[int(parent)][child.name].append(line)
    return records


INPUTS: dict[
    str, Callable[[sa.Connection, Catalog, Target, Any, Sequence[int]], dict[int, dict[str, Any]]]
] = {"multiply": _multiply_inputs, "sum": _sum_inputs}


def python_values(
    conn: sa.Connection, catalog: Catalog, target: Target, ids: Sequence[int]
) -> dict[int, tuple[Any, str | None]]:
    """id → (stored value, None) or (the JSON number, why it does not fit), as
    ``records.computing`` works it out on a write."""
    computation, spec = target.computation()
    fdef = target.field
    ftype = catalog.type_of(fdef)
    found: dict[int, tuple[Any, str | None]] = {}
    for record_id, record in INPUTS[computation.name](conn, catalog, target, spec, ids).items():
        number = computation.evaluate(catalog, target.entity, spec, record)
        try:
            value = as_json(catalog, fdef, number)
        except ConversionError as exc:
            found[record_id] = (format(number, "f") if number is not None else None, reason(exc))
            continue
        try:
            stored = None if value is None else ftype.to_db(
                fdef, ftype.value_field(fdef).deserialize(value)
            )
        except ma.ValidationError as exc:  # pragma: no cover - as_json has checked it
            found[record_id] = (value, str(exc.messages))
            continue
        found[record_id] = (stored, None)
    return found


def fit_problem(catalog: Catalog, target: Target, number: decimal.Decimal | None) -> str:
    """Why a computed number does not fit the field, in the write path's words."""
    try:
        as_json(catalog, target.field, number)
    except ConversionError as exc:
        return reason(exc)
    return msg("It does not fit the field.")
