"""Rows to JSON and JSON to values: shared by records and by the child tables inside them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from recordbase.catalog import Catalog
from recordbase.errors import ValidationError
from recordbase.fields.base import flatten_messages
from recordbase.messages import msg
from recordbase.model import EntityDef, FieldDef

SYSTEM_READ_ONLY = ("id", "version", "created_at", "updated_at", "created_by", "updated_by")


def select_columns(
    entity: EntityDef, table: sa.Table, catalog: Catalog
) -> list[sa.ColumnElement[Any]]:
    cols: list[sa.ColumnElement[Any]] = [table.c[name] for name in SYSTEM_READ_ONLY]
    seen = set(SYSTEM_READ_ONLY)
    if entity.tree:
        cols.append(table.c.parent_id)
    for fdef in entity.fields:
        source = catalog.type_of(fdef).source_column(fdef)
        if source and source not in seen:
            cols.append(table.c[source])
            seen.add(source)
    return cols


def rows_to_json(
    conn: sa.Connection, catalog: Catalog, entity: EntityDef, rows: Sequence[Mapping[Any, Any]]
) -> list[dict[str, Any]]:
    ids = [row["id"] for row in rows]
    # resolved once per page, not once per cell: this loop runs rows x fields times
    plan: list[tuple[FieldDef, Callable[[Any], Any], str | None]] = []
    loaded: dict[int, dict[int, Any]] = {}
    for fdef in entity.fields:
        ftype = catalog.type_of(fdef)
        source = ftype.source_column(fdef)
        plan.append((fdef, ftype.json_converter(fdef), source))
        if source is None and ids:
            loaded[fdef.id] = ftype.load(conn, fdef, catalog, ids)
    items = []
    for row in rows:
        item: dict[str, Any] = {"id": row["id"], "version": row["version"]}
        if entity.tree:
            item["parent"] = row["parent_id"]
        for fdef, convert, source in plan:
            if source is None:
                item[fdef.name] = loaded[fdef.id].get(row["id"], convert(None))
            else:
                item[fdef.name] = convert(row[source])
        items.append(item)
    return items


def validate_values(
    conn: sa.Connection,
    catalog: Catalog,
    entity: EntityDef,
    data: Any,
    *,
    partial: bool,
    allowed_extra: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """A JSON object → {field name: value to store}; every problem named by its field.

    Keys in ``allowed_extra`` (``parent`` of a tree, ``id`` of a child row) pass
    through unchecked for the caller to handle.
    """
    if not isinstance(data, Mapping):
        raise ValidationError(msg("A {entity} must be sent as a JSON object.", entity=entity.label))
    errors: dict[str, Any] = {}
    values: dict[str, Any] = {}
    known = {f.name: f for f in entity.fields}
    for key, raw in data.items():
        if key in allowed_extra:
            values[key] = raw
            continue
        fdef = known.get(key)
        if fdef is None:
            errors[key] = (
                msg("Set by Recordbase; it cannot be written.")
                if key in SYSTEM_READ_ONLY
                else msg("{entities} have no field named '{name}'.", entities=entity.label_plural,
                         name=key)
            )
            continue
        ftype = catalog.type_of(fdef)
        if ftype.read_only:
            errors[key] = msg("Set by Recordbase; it cannot be written.")
            continue
        try:
            value = ftype.parse_input(conn, fdef, catalog, raw)
        except ma.ValidationError as exc:
            errors[key] = flatten_messages(exc.messages)
            continue
        except ValidationError as exc:
            errors[key] = exc.fields or exc.message
            continue
        if fdef.required and ftype.empty(value):
            errors[key] = msg("A value is required.")
            continue
        problem = ftype.check_references(conn, fdef, catalog, value)
        if problem:
            errors[key] = problem
            continue
        values[key] = value
    if not partial:
        for fdef in entity.fields:
            ftype = catalog.type_of(fdef)
            if (
                fdef.required
                and not ftype.read_only
                and fdef.name not in data
                and ftype.default_for(fdef) is None
            ):
                errors[fdef.name] = msg("A value is required.")
    if errors:
        raise ValidationError(_sentence(entity, errors), fields=errors)
    return values


def _sentence(entity: EntityDef, errors: Mapping[str, Any]) -> str:
    if len(errors) == 1:
        key, problem = next(iter(errors.items()))
        text = problem if isinstance(problem, str) else flatten_messages(problem)
        return msg(
            "The {entity} was not saved: {field}: {problem}",
            entity=entity.label, field=key, problem=text,
        )
    names = ", ".join(sorted(errors))
    return msg(
        "The {entity} was not saved: {count} fields have problems ({names}).",
        entity=entity.label, count=len(errors), names=names,
    )
