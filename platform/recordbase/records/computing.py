"""Computed fields at write time: RecordService calls ``recompute`` after it has written a
record and its child-table lines, in the same transaction.

The values are worked out from what is stored (so a partial update of one line
still multiplies that line's stored price), line fields first, then the record's
own; a column is written only when its value changes. A value the caller sent
for a computed field must equal the computed one: otherwise the write is refused
with a sentence and the transaction rolls back, nothing half-written.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from recordbase.catalog import Catalog
from recordbase.errors import ConversionError, ValidationError
from recordbase.fields.computed import Computation, computed_fields
from recordbase.messages import msg
from recordbase.model import EntityDef, FieldDef

Fetch = Callable[[], dict[str, Any]]


def has_computed(catalog: Catalog, entity: EntityDef) -> bool:
    """Whether a write of ``entity`` has anything to compute (else ``recompute`` is skipped)."""
    if computed_fields(catalog, entity):
        return True
    return any(computed_fields(catalog, lines) for _f, lines in child_tables(catalog, entity))


def child_tables(catalog: Catalog, entity: EntityDef) -> list[tuple[FieldDef, EntityDef]]:
    found = []
    for fdef in entity.fields:
        lines = catalog.type_of(fdef).line_entity(fdef, catalog)
        if lines is not None:
            found.append((fdef, lines))
    return found


def recompute(
    conn: sa.Connection,
    catalog: Catalog,
    entity: EntityDef,
    record_id: int,
    sent: Any,
    fetch: Fetch,
) -> None:
    """Work out and store the computed fields of one record and of its lines; refuse a
    different value the caller sent for one of them (``sent``: the input as given)."""
    record = fetch()
    sent = sent if isinstance(sent, Mapping) else {}
    errors: dict[str, Any] = {}
    for table_field, lines_entity in child_tables(catalog, entity):
        fields = computed_fields(catalog, lines_entity)
        if not fields:
            continue
        sent_lines = sent.get(table_field.name)
        line_errors: dict[str, Any] = {}
        table = catalog.table(lines_entity)
        for index, line in enumerate(record.get(table_field.name) or []):
            claimed = _at(sent_lines, index)
            changed, problems = _apply(catalog, lines_entity, fields, line, claimed)
            if problems:
                line_errors[str(index)] = problems
            if changed:
                conn.execute(sa.update(table).where(table.c.id == line["id"]).values(changed))
        if line_errors:
            errors[table_field.name] = line_errors
    fields = computed_fields(catalog, entity)
    changed, problems = _apply(catalog, entity, fields, record, sent)
    errors.update(problems)
    if errors:
        raise ValidationError(_sentence(entity, errors), fields=errors)
    if changed:
        table = catalog.table(entity)
        conn.execute(sa.update(table).where(table.c.id == record_id).values(changed))


def _at(lines: Any, index: int) -> Mapping[str, Any]:
    if isinstance(lines, Sequence) and not isinstance(lines, str) and index < len(lines):
        line = lines[index]
        return line if isinstance(line, Mapping) else {}
    return {}


def _apply(
    catalog: Catalog,
    entity: EntityDef,
    fields: list[tuple[FieldDef, Computation, Any]],
    values: dict[str, Any],
    claimed: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, str]]:
    """Compute ``fields`` into ``values`` (JSON, updated in place); the changed columns and
    the problems by field name."""
    changed: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for fdef, computation, spec in fields:
        ftype = catalog.type_of(fdef)
        try:
            value = as_json(catalog, fdef, computation.evaluate(catalog, entity, spec, values))
        except ConversionError as exc:
            problems[fdef.name] = f"The computed value does not fit the field: {exc}"
            continue
        if fdef.name in claimed and not _same(catalog, fdef, claimed[fdef.name], value):
            shown = "empty" if value is None else ftype.display(fdef, value)
            problems[fdef.name] = (
                f"{fdef.label} is computed by Recordbase ({computation.describe(entity, spec)}"
                f" = {shown}); leave it out or send that value."
            )
            continue
        if values.get(fdef.name) != value:
            values[fdef.name] = value
            source = ftype.source_column(fdef)
            if source is not None:
                changed[source] = ftype.to_db(
                    fdef, None if value is None else ftype.value_field(fdef).deserialize(value)
                )
    return changed, problems


def as_json(catalog: Catalog, fdef: FieldDef, value: decimal.Decimal | None) -> Any:
    """A computed number as the field's JSON value, rounded half up to its decimal places;
    ConversionError when it has more digits than the field holds."""
    if value is None:
        return None
    ftype = catalog.type_of(fdef)
    quantum = decimal.Decimal(1).scaleb(-ftype.decimal_places(fdef))
    rounded = value.quantize(quantum, rounding=decimal.ROUND_HALF_UP)
    return ftype.import_value(fdef, format(rounded, "f"))


def _same(catalog: Catalog, fdef: FieldDef, sent: Any, value: Any) -> bool:
    if sent is None or value is None:
        return sent is None and value is None
    ftype = catalog.type_of(fdef)
    try:
        normal = ftype.to_json(fdef, ftype.to_db(fdef, ftype.value_field(fdef).deserialize(sent)))
    except (ma.ValidationError, ConversionError, ValueError, TypeError, ArithmeticError):
        return False  # validate_values has named a bad value already
    return bool(normal == value)


def _sentence(entity: EntityDef, errors: Mapping[str, Any]) -> str:
    first = next(iter(errors.values()))
    while isinstance(first, Mapping):
        first = next(iter(first.values()))
    return msg("The {entity} was not saved: {problem}", entity=entity.label, problem=first)
