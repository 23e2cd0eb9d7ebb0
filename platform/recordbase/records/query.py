"""List queries as data: filters, sort, quick search and keyset cursors.

A request's filter, sort and search arrive here as names and texts; each name is
checked against the entity's metadata and each text is parsed by the field's
type, and only then do they become SQLAlchemy expressions.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
import sqlalchemy as sa

from recordbase.catalog import Catalog
from recordbase.errors import ConversionError, ValidationError
from recordbase.messages import msg, reason
from recordbase.model import EntityDef, FieldDef
from recordbase.records.operators import MAX_IN_VALUES, OPERATORS

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_FILTERS = 50
MAX_SORT_KEYS = 5
MAX_ID = 2**31 - 1  # the id column is a 32-bit integer on PostgreSQL
SYSTEM_SORTABLE = ("id", "created_at", "updated_at")


@dataclass(frozen=True)
class FilterSpec:
    field: str
    op: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class ListQuery:
    filters: tuple[FilterSpec, ...] = ()
    sort: tuple[str, ...] = ()
    q: str | None = None
    limit: int = DEFAULT_PAGE_SIZE
    after: str | None = None
    #: the page that ends just before this cursor (the "previous" link)
    before: str | None = None


@dataclass
class SortKey:
    name: str
    column: sa.ColumnElement[Any]
    descending: bool
    #: field columns may hold NULL; id and the timestamps never do
    nullable: bool = False


@dataclass
class CompiledQuery:
    where: list[sa.ColumnElement[bool]] = field(default_factory=list)
    keys: list[SortKey] = field(default_factory=list)


def _bad(param: str, message: str) -> ValidationError:
    return ValidationError(message, fields={param: message})


def resolve_column(
    entity: EntityDef, table: sa.Table, catalog: Catalog, name: str, param: str
) -> tuple[FieldDef | None, sa.ColumnElement[Any] | None]:
    if name in SYSTEM_SORTABLE:
        return None, table.c[name]
    if not entity.has_field(name):
        raise _bad(param, msg(
            "{entities} have no field named '{name}'.",
            entities=entity.label_plural, name=name,
        ))
    fdef = entity.field(name)
    source = catalog.type_of(fdef).source_column(fdef)
    return fdef, (table.c[source] if source else None)


def compile_filters(
    entity: EntityDef, table: sa.Table, catalog: Catalog, filters: tuple[FilterSpec, ...]
) -> list[sa.ColumnElement[bool]]:
    if len(filters) > MAX_FILTERS:
        raise _bad("filter", msg(
            "At most {max_filters} filters can be combined.",
            max_filters=MAX_FILTERS,
        ))
    out = []
    for spec in filters:
        param = f"filter[{spec.field}][{spec.op}]"
        fdef, column = resolve_column(entity, table, catalog, spec.field, param)
        if fdef is None:
            ops: tuple[str, ...] = ("eq", "ne", "lt", "lte", "gt", "gte", "between", "in")
            ftype = None
        else:
            ftype = catalog.type_of(fdef)
            ops = ftype.operators
        if spec.op not in ops:
            raise _bad(
                param,
                msg(
                    "The filter operator '{op}' does not apply to the field '{field}'; use one "
                    "of: {names}.",
                    op=spec.op, field=spec.field, names=', '.join(ops),
                ),
            )
        operator = OPERATORS.get(spec.op)
        value = _parse_operand(operator.arity, spec, fdef, ftype, param)
        if ftype is not None and fdef is not None:
            target = column if column is not None else table.c.id
            out.append(ftype.compile_filter(fdef, target, spec.op, value))
        else:
            assert column is not None
            out.append(operator.compile(column, value))
    return out


def _parse_operand(
    arity: str, spec: FilterSpec, fdef: FieldDef | None, ftype: Any, param: str
) -> Any:
    raw = list(spec.values)
    if arity in ("list", "pair") and len(raw) == 1:
        raw = raw[0].split(",") if raw[0] else []
    if arity == "flag":
        text = (raw[0] if raw else "true").strip().lower()
        if text not in ("true", "false", "1", "0"):
            raise _bad(param, msg("The filter {param} takes true or false.", param=param))
        return text in ("true", "1")
    if arity == "pair" and len(raw) != 2:
        raise _bad(param, msg("The filter {param} takes two values: from,to.", param=param))
    if arity == "list" and not 1 <= len(raw) <= MAX_IN_VALUES:
        raise _bad(param, msg(
            "The filter {param} takes 1 to {max_in_values} values.",
            param=param, max_in_values=MAX_IN_VALUES,
        ))
    if arity == "one" and len(raw) != 1:
        raise _bad(param, msg("The filter {param} takes exactly one value.", param=param))

    def parse(text: str) -> Any:
        try:
            if fdef is None:
                return _parse_system(spec.field, text)
            return ftype.filter_value(fdef, spec.op, text)
        except (ConversionError, ValueError) as exc:
            raise _bad(
                param, msg(
                    "The value {text} does not fit the field '{field}': {reason}",
                    text=repr(text), field=spec.field, reason=reason(exc),
                )
            ) from exc

    parsed = [parse(t) for t in raw]
    if arity == "one":
        return parsed[0]
    return parsed


def _parse_system(name: str, text: str) -> Any:
    if name == "id":
        return int(text)
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def compile_sort(
    entity: EntityDef, table: sa.Table, catalog: Catalog, sort: tuple[str, ...]
) -> list[SortKey]:
    if len(sort) > MAX_SORT_KEYS:
        raise _bad("sort", msg(
            "At most {max_sort_keys} sort keys can be given.",
            max_sort_keys=MAX_SORT_KEYS,
        ))
    keys: list[SortKey] = []
    for item in sort:
        descending = item.startswith("-")
        name = item.lstrip("-+")
        fdef, column = resolve_column(entity, table, catalog, name, "sort")
        if fdef is not None and (column is None or not catalog.type_of(fdef).sortable):
            raise _bad("sort", msg("The field '{name}' cannot be sorted on.", name=name))
        assert column is not None
        if name == "id":
            keys.append(SortKey("id", column, descending))
            break  # id is unique: later keys never matter
        keys.append(SortKey(name, column, descending, nullable=fdef is not None))
    if not keys:
        keys.append(SortKey("id", table.c.id, True))  # newest first
    elif keys[-1].name != "id":
        keys.append(SortKey("id", table.c.id, keys[0].descending))
    return keys


def order_by(keys: list[SortKey], dialect: str) -> list[sa.ColumnElement[Any]]:
    """ORDER BY with NULLs as the smallest values on both databases (SQLite's own rule)."""
    out: list[sa.ColumnElement[Any]] = []
    for key in keys:
        if not key.nullable or dialect == "sqlite":
            out.append(key.column.desc() if key.descending else key.column.asc())
        elif key.descending:
            out.append(key.column.desc().nulls_last())
        else:
            out.append(key.column.asc().nulls_first())
    return out


def walks_index(table: sa.Table, keys: list[SortKey]) -> bool:
    """Whether an index of ``table`` (or its primary key) leads with the first sort key."""
    first = keys[0].column
    if first is table.c.id:
        return True
    return any(next(iter(index.columns)) is first for index in table.indexes)


def keyset_condition(keys: list[SortKey], values: list[Any]) -> sa.ColumnElement[bool]:
    """Rows strictly after ``values`` in the order of ``keys`` (NULLs smallest)."""
    ors: list[sa.ColumnElement[bool]] = []
    for i, key in enumerate(keys):
        ands: list[sa.ColumnElement[bool]] = [
            _equal(k.column, v) for k, v in zip(keys[:i], values[:i], strict=False)
        ]
        after = _after(key, values[i])
        if after is None:
            continue
        ands.append(after)
        ors.append(sa.and_(*ands))
    condition = sa.or_(*ors) if ors else sa.false()
    first, value = keys[0], values[0]
    # a redundant bound on the first key lets the database start its index scan there
    if value is not None and len(keys) > 1:
        if first.descending:
            bound = (
                sa.or_(first.column <= value, first.column.is_(None))
                if first.nullable
                else first.column <= value
            )
        else:
            bound = first.column >= value
        condition = sa.and_(bound, condition)
    return condition


def _equal(column: sa.ColumnElement[Any], value: Any) -> sa.ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def _after(key: SortKey, value: Any) -> sa.ColumnElement[bool] | None:
    col = key.column
    if key.descending:
        if value is None:
            return None  # nothing sorts below NULL
        below: sa.ColumnElement[bool] = col < value
        return sa.or_(below, col.is_(None)) if key.nullable else below
    if value is None:
        return col.is_not(None)
    above: sa.ColumnElement[bool] = col > value
    return above


def page_rows(
    conn: sa.Connection,
    select: sa.Select[Any],
    keys: list[SortKey],
    after: list[Any] | None,
    limit: int,
) -> list[sa.RowMapping]:
    """Up to ``limit`` rows of ``select`` after the cursor values ``after``, in key order.

    When the first sort key may hold NULLs, one query cannot both keep NULLs at
    their end and walk an index on (key, id): ``key <= v OR key IS NULL`` is no
    index range, and PostgreSQL's index order puts NULLs where ``NULLS FIRST``
    does not want them. So the rows with a value and the rows without are read by
    two plain queries, each an index range in index order, the second only when
    the first did not fill the page.
    """
    first = keys[0]
    if not first.nullable:
        return _rows(conn, select, keys, after, limit)
    valued = (first.column.is_not(None), [replace(first, nullable=False), *keys[1:]])
    empty = (first.column.is_(None), keys[1:])
    Step = tuple[tuple[sa.ColumnElement[bool], list[SortKey]], list[Any] | None]
    plan: list[Step]
    if after is None:
        plan = [(valued, None), (empty, None)]
        if not first.descending:  # ascending: NULLs first
            plan.reverse()
    elif after[0] is None:  # the cursor is among the NULLs
        plan = [(empty, after[1:])]
        if not first.descending:
            plan.append((valued, None))
    else:  # the cursor is among the values
        plan = [(valued, after)]
        if first.descending:
            plan.append((empty, None))
    rows: list[sa.RowMapping] = []
    for (condition, order), cursor in plan:
        if len(rows) >= limit:
            break
        rows.extend(_rows(conn, select.where(condition), order, cursor, limit - len(rows)))
    return rows


def reversed_keys(keys: list[SortKey]) -> list[SortKey]:
    """The exact reverse of the order of ``keys``: NULLs count as the smallest values in
    both directions, so flipping every key's direction reverses NULLs too. Rows "after" a
    cursor in this order are the rows before it, read by walking the same index backwards."""
    return [replace(key, descending=not key.descending) for key in keys]


def _rows(
    conn: sa.Connection,
    select: sa.Select[Any],
    order: list[SortKey],
    cursor: list[Any] | None,
    limit: int,
) -> list[sa.RowMapping]:
    if cursor is not None:
        select = select.where(keyset_condition(order, cursor))
    stmt = select.order_by(*order_by(order, conn.dialect.name)).limit(limit)
    return list(conn.execute(stmt).mappings().all())


def compile_search(
    entity: EntityDef, table: sa.Table, catalog: Catalog, q: str
) -> sa.ColumnElement[bool] | None:
    q = q.strip()
    if not q:
        return None
    if len(q) > 200:
        raise _bad("q", msg("The search text is longer than 200 characters."))
    parts: list[sa.ColumnElement[bool]] = []
    for fdef in entity.fields:
        ftype = catalog.type_of(fdef)
        source = ftype.source_column(fdef)
        if ftype.searchable and source:
            parts.append(OPERATORS.get("contains").compile(table.c[source], q))
    if q.isdigit() and int(q) <= MAX_ID:  # an id: what the 32-bit id column can hold
        parts.append(table.c.id == int(q))
    return sa.or_(*parts) if parts else sa.false()


# --- cursors ---------------------------------------------------------------------


def encode_cursor(values: list[Any]) -> str:
    raw = orjson.dumps([_tag(v) for v in values])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, keys: list[SortKey]) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = orjson.loads(raw)
        if not isinstance(data, list) or len(data) != len(keys):
            raise ValueError("shape")
        return [_untag(v) for v in data]
    except (
        ValueError,
        binascii.Error,
        TypeError,
        decimal.InvalidOperation,
        orjson.JSONDecodeError,
    ) as exc:
        raise _bad(
            "after",
            msg(
                "The cursor is not valid for this list (it belongs to another sort or was "
                "altered)."
            ),
        ) from exc


def _tag(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return {"d": str(value)}
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, dt.date):
        return {"D": value.isoformat()}
    if value is None or isinstance(value, bool | int | str | float):
        return value
    return {"s": str(value)}


def _untag(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, text),) = value.items()
        if not isinstance(text, str):
            raise ValueError("tag")
        if tag == "d":
            return decimal.Decimal(text)
        if tag == "t":
            return dt.datetime.fromisoformat(text)
        if tag == "D":
            return dt.date.fromisoformat(text)
        if tag == "s":
            return text
        raise ValueError("tag")
    if value is None or isinstance(value, bool | int | str | float):
        return value
    raise ValueError("value")
