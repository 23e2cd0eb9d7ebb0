"""Computed fields brought up to date for the records that already exist.

A structure change can leave the stored values of a computed field stale: the
field is created computed or becomes computed, its computation or its decimal
places change, it comes back after a time removed (its inputs may have changed
meanwhile), or the values of one of its inputs were converted or cleared. The
operation that does it then recomputes every record's value in its own
transaction, as ``RecordService`` would on the record's next write (see
``recompute_sql``: set-based where the database computes exactly, else in
Python batches), and then the computed fields that depend on those (an invoice's
total sums its lines' amounts).

Nothing is lost: like a type conversion (``physical.swap_column``), the new values
fill a new column and the old one is kept under a backup name that the journal
entry names, so undo swaps it back. A value the field cannot hold (more digits
than its precision) is refused with the count and samples, or left empty when the
change says ``on_failure: "clear"``. A preview counts the records that would get
a new value and shows a few (old → new); it writes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from recordbase import db
from recordbase.catalog import Catalog
from recordbase.errors import Conflict, ValidationError
from recordbase.fields.computed import check_field, computation_of, computed_fields
from recordbase.messages import msg
from recordbase.model import EntityDef, FieldDef
from recordbase.schema import ddl, physical
from recordbase.schema.convert import BATCH, MAX_SAMPLES, Failure, Progress
from recordbase.schema.operation import OpContext, Outcome, refuse_if_changed_since
from recordbase.schema.recompute_sql import (
    Target,
    as_number,
    entity_table,
    expressions,
    fit_problem,
    python_values,
)

#: old → new examples a preview shows
MAX_CHANGES = 5


@dataclass
class Change:
    id: int
    old: Any
    new: Any

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "old": self.old, "new": self.new}


@dataclass
class RecomputeReport:
    entity: str
    field: str
    rows: int = 0
    #: records whose value changes (an empty value becoming a number counts)
    changed: int = 0
    #: records whose computed value does not fit the field
    failing: int = 0
    changes: list[Change] = dataclasses.field(default_factory=list)
    samples: list[Failure] = dataclasses.field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "field": self.field,
            "rows": self.rows,
            "changed": self.changed,
            "failing": self.failing,
            "changes": [c.as_json() for c in self.changes],
            "samples": [s.as_json() for s in self.samples],
        }


# --- which computed fields a change makes stale ------------------------------------------


def check_target(catalog: Catalog, entity: EntityDef, fdef: FieldDef) -> Target | None:
    """The field as a target when it is computed; a ValidationError (as ``check_computed``
    words it) when its computation refers to something missing or to itself."""
    pair = computation_of(fdef)
    if pair is None or not catalog.type_of(fdef).numeric:
        return None
    probe = _with_field(entity, fdef)
    check_field(catalog, probe, fdef, *pair)
    return Target(probe, fdef)


def preview_new(
    conn: sa.Connection, catalog: Catalog, entity: EntityDef, values: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The preview of adding a field (``values``: its ``rb_fields`` row), if computed."""
    probe = FieldDef(
        id=0, entity_id=entity.id, name=values["name"], label=values["label"],
        type=values["type"], options=values["options"],
    )
    target = check_target(catalog, entity, probe)
    if target is None:
        return []
    return [preview(conn, catalog, target, stored=None).as_json()]


def _with_field(entity: EntityDef, fdef: FieldDef) -> EntityDef:
    from dataclasses import replace

    others = tuple(f for f in entity.all_fields if f.id != fdef.id or fdef.id == 0)
    return replace(entity, all_fields=(*others, fdef))


def goes_stale(catalog: Catalog, old: FieldDef, new: FieldDef) -> bool:
    """Whether changing ``old`` into ``new`` changes what the computation of ``new`` gives."""
    if computation_of(new) is None:
        return False
    places = catalog.type_of(old).decimal_places(old), catalog.type_of(new).decimal_places(new)
    return (
        old.type != new.type
        or old.options.get("computed") != new.options.get("computed")
        or places[0] != places[1]
    )


def dependents(catalog: Catalog, entity: EntityDef, fdef: FieldDef) -> list[Target]:
    """Computed fields worked out from ``fdef``'s values: products of the same record
    that multiply it, sums of it over the lines of a parent's child table."""
    found = [
        Target(entity, g)
        for g, computation, spec in computed_fields(catalog, entity)
        if fdef.name in computation.operands(spec)
    ]
    for parent in catalog.live_entities():
        for g, computation, spec in computed_fields(catalog, parent):
            if computation.name != "sum" or spec["field"] != fdef.name:
                continue
            if not parent.has_field(spec["child"]):
                continue
            child = parent.field(spec["child"])
            lines = catalog.type_of(child).line_entity(child, catalog)
            if lines is not None and lines.id == entity.id:
                found.append(Target(parent, g))
    return found


def dependent_names(catalog: Catalog, entity: EntityDef, fdef: FieldDef) -> list[str]:
    """``entity.field`` names of what is recomputed when ``fdef``'s values are rewritten."""
    return [t.name for t in with_dependents(catalog, dependents(catalog, entity, fdef))]


def with_dependents(catalog: Catalog, targets: Sequence[Target]) -> list[Target]:
    """``targets`` and, after them, every computed field worked out from theirs."""
    order: list[Target] = []
    queue = list(targets)
    while queue:
        target = queue.pop(0)
        order = [t for t in order if t.field.id != target.field.id] + [target]
        if len(order) > 100:  # pragma: no cover - check_computed forbids loops
            raise ValidationError(msg("The computed fields depend on each other in a loop."))
        queue.extend(dependents(catalog, target.entity, target.field))
    return order


# --- preview --------------------------------------------------------------------------------


def preview(
    conn: sa.Connection, catalog: Catalog, target: Target, *, stored: FieldDef | None
) -> RecomputeReport:
    """Count (and sample) what recomputing ``target`` would change; writes nothing.

    ``stored`` is the definition the column holds now (None: the field has no column
    yet). When it stores values differently (another type or scale), old and new
    values are compared as JSON, in batches; else the database compares them."""
    table = entity_table(catalog, target.entity)
    exprs = expressions(catalog, target, table, conn.dialect.name)
    report = RecomputeReport(target.entity.name, target.field.name)
    report.rows = int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
    failing = sa.and_(exprs.exact, exprs.too_big)
    report.failing = _count(conn, table, failing)
    for row in conn.execute(
        sa.select(table.c.id, exprs.value).where(failing).order_by(table.c.id).limit(MAX_SAMPLES)
    ):
        number = as_number(catalog, target, row[1], conn.dialect.name)
        shown = None if number is None else format(number, "f")
        report.samples.append(Failure(int(row[0]), shown, fit_problem(catalog, target, number)))
    ok = sa.and_(exprs.exact, sa.not_(exprs.too_big))
    old_column = None if stored is None else table.c[stored.column]
    ftype = catalog.type_of(target.field)
    new_typed = sa.type_coerce(exprs.stored, ftype.column_type(target.field))
    if old_column is not None and not _same_storage(catalog, stored, target.field):
        _compare_in_python(conn, catalog, target, stored, table, ok, new_typed, report)
    else:
        differs = (
            new_typed.is_not(None)
            if old_column is None
            else sa.type_coerce(old_column, sa.BigInteger()).is_distinct_from(exprs.stored)
            if conn.dialect.name == "sqlite"
            else old_column.is_distinct_from(exprs.stored)
        )
        report.changed = _count(conn, table, sa.and_(ok, differs))
        old = old_column if old_column is not None else sa.null()
        for record_id, old_value, new_value in conn.execute(
            sa.select(table.c.id, old, new_typed)
            .where(ok, differs)
            .order_by(table.c.id)
            .limit(MAX_CHANGES)
        ):
            report.changes.append(Change(int(record_id), _json(catalog, stored, old_value),
                                         ftype.to_json(target.field, new_value)))
    _python_rows(conn, catalog, target, stored, table, exprs.exact, report)
    return report


def _same_storage(catalog: Catalog, old: FieldDef | None, new: FieldDef) -> bool:
    return old is None or catalog.type_of(new).storage_compatible(old, new)


def _json(catalog: Catalog, fdef: FieldDef | None, stored: Any) -> Any:
    return None if fdef is None or stored is None else catalog.type_of(fdef).to_json(fdef, stored)


def _count(conn: sa.Connection, table: sa.Table, where: sa.ColumnElement[bool]) -> int:
    query = sa.select(sa.func.count()).select_from(table).where(where)
    return int(conn.execute(query).scalar_one())


def _ids(
    conn: sa.Connection, table: sa.Table, where: sa.ColumnElement[bool], *, batch: int = BATCH
) -> Iterator[list[int]]:
    """Ids of the rows that match, in id order, in batches (keyset on id)."""
    last = 0
    while True:
        ids = [
            int(i)
            for i in conn.execute(
                sa.select(table.c.id)
                .where(table.c.id > last, where)
                .order_by(table.c.id)
                .limit(batch)
            ).scalars()
        ]
        if not ids:
            return
        yield ids
        last = ids[-1]


def _compare_in_python(
    conn: sa.Connection,
    catalog: Catalog,
    target: Target,
    stored: FieldDef | None,
    table: sa.Table,
    ok: sa.ColumnElement[bool],
    new_typed: sa.ColumnElement[Any],
    report: RecomputeReport,
) -> None:
    assert stored is not None
    ftype = catalog.type_of(target.field)
    old_column = table.c[stored.column]
    last = 0
    while True:
        rows = conn.execute(
            sa.select(table.c.id, old_column, new_typed)
            .where(table.c.id > last, ok)
            .order_by(table.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for record_id, old_value, new_value in rows:
            _note(report, int(record_id), _json(catalog, stored, old_value),
                  ftype.to_json(target.field, new_value))
        last = int(rows[-1][0])


def _note(report: RecomputeReport, record_id: int, old: Any, new: Any) -> None:
    if old == new:
        return
    report.changed += 1
    if len(report.changes) < MAX_CHANGES:
        report.changes.append(Change(record_id, old, new))


def _python_rows(
    conn: sa.Connection,
    catalog: Catalog,
    target: Target,
    stored: FieldDef | None,
    table: sa.Table,
    exact: sa.ColumnElement[bool],
    report: RecomputeReport,
) -> None:
    """The rows SQL could not work out exactly (SQLite beyond 64 bits): the write path's
    code decides them."""
    ftype = catalog.type_of(target.field)
    for ids in _ids(conn, table, sa.not_(exact)):
        old = _old_values(conn, catalog, table, stored, ids)
        found = python_values(conn, catalog, target, ids)
        for record_id, (value, problem) in sorted(found.items()):
            if problem is not None:
                report.failing += 1
                if len(report.samples) < MAX_SAMPLES:
                    report.samples.append(Failure(record_id, value, problem))
                continue
            _note(report, record_id, old.get(record_id), ftype.to_json(target.field, value))


def _old_values(
    conn: sa.Connection, catalog: Catalog, table: sa.Table, stored: FieldDef | None,
    ids: Sequence[int],
) -> dict[int, Any]:
    if stored is None:
        return {}
    column = table.c[stored.column]
    rows = conn.execute(sa.select(table.c.id, column).where(table.c.id.in_(ids))).all()
    return {int(r[0]): _json(catalog, stored, r[1]) for r in rows}


# --- applying ------------------------------------------------------------------------------


def refuse(report: RecomputeReport, *, on_failure: str | None, can_clear: bool = True) -> None:
    """Raise a Conflict with the count and samples when values do not fit and the change
    does not say to leave them empty."""
    if not report.failing or (on_failure == "clear" and can_clear):
        return
    summary = (
        msg(
            "{failing} of {rows} records of {entity} would get a computed value of '{field}' "
            "with more digits than the field holds",
            failing=report.failing, rows=report.rows, entity=report.entity, field=report.field,
        )
    )
    if not can_clear:
        sentence = msg(
            "{summary}. Nothing was changed: give the field a larger precision.",
            summary=summary,
        )
    elif on_failure == "abort":
        sentence = msg("{summary}; aborted as asked, nothing was changed.", summary=summary)
    else:
        sentence = (
            msg(
                "{summary}. Nothing was changed: give the field a larger precision, or choose "
                'on_failure "clear" (clear leaves those values empty and keeps the old ones, '
                "so undo brings them back).",
                summary=summary,
            )
        )
    raise Conflict(sentence, extra=report.as_json())


def refuse_duplicates(conn: sa.Connection, catalog: Catalog, target: Target) -> None:
    """A unique field: raise a Conflict when two records would get the same value."""
    table = entity_table(catalog, target.entity)
    exprs = expressions(catalog, target, table, conn.dialect.name)
    ok = sa.and_(exprs.exact, sa.not_(exprs.too_big), exprs.stored.is_not(None))
    same = conn.execute(
        sa.select(sa.func.count(), sa.func.min(table.c.id))
        .where(ok)
        .group_by(exprs.stored)
        .having(sa.func.count() > 1)
        .limit(1)
    ).first()
    if same is not None:
        raise Conflict(
            msg(
                "{count} records of {entity} (record {record_id} and others) would get the same "
                "computed value of '{field}', but it must be unique. Nothing was changed.",
                count=same[0], entity=target.entity.name, record_id=same[1],
                field=target.field.name,
            )
        )


def apply(
    conn: sa.Connection,
    catalog: Catalog,
    target: Target,
    report: RecomputeReport,
    *,
    keep_old: bool = True,
    progress: Progress | None = None,
) -> dict[str, Any] | None:
    """Store the recomputed values (a value that does not fit is left empty: ``refuse``
    ran first). ``keep_old``: the old values stay in a backup column, which the returned
    journal detail names; without it (a new, empty column) the column is filled as it is.
    Returns None when no record gets a new value."""
    if not report.changed and not report.failing:
        return None
    ftype = catalog.type_of(target.field)
    (column,) = ftype.columns(target.field, catalog)
    name = target.entity.table
    fill = target.field.column
    if keep_old:
        fill = physical.spare_name(conn, name, target.field.column, "n")
        ddl.add_column(conn, name, physical.renamed(column, fill))
    table = entity_table(
        catalog, target.entity, *([sa.Column(fill, column.type)] if keep_old else [])
    )
    exprs = expressions(catalog, target, table, conn.dialect.name)
    conn.execute(
        sa.update(table)
        .where(exprs.exact)
        .values({fill: sa.case((exprs.too_big, sa.null()), else_=exprs.stored)})
    )
    _store_python_rows(conn, catalog, target, table, fill, exprs.exact, progress)
    if not keep_old:
        return None
    physical.drop_field_indexes(conn, target.entity, target.field)
    backup = physical.spare_name(conn, name, target.field.column, "b")
    physical.rename_column(conn, name, target.field.column, backup)
    physical.rename_column(conn, name, fill, target.field.column)
    physical.create_field_indexes(conn, catalog, target.entity, target.field)
    return {"entity_id": target.entity.id, "field_id": target.field.id, "backup": backup}


def _store_python_rows(
    conn: sa.Connection,
    catalog: Catalog,
    target: Target,
    table: sa.Table,
    fill: str,
    exact: sa.ColumnElement[bool],
    progress: Progress | None,
) -> None:
    ftype = catalog.type_of(target.field)
    stmt = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("rid"))
        .values({fill: sa.bindparam("value", type_=ftype.column_type(target.field))})
    )
    done = 0
    with db.prepared_statements(conn):
        for ids in _ids(conn, table, sa.not_(exact)):
            values = python_values(conn, catalog, target, ids)
            conn.execute(stmt, [
                {"rid": rid, "value": None if problem else value}
                for rid, (value, problem) in values.items()
            ])
            done += len(ids)
            if progress is not None:
                progress(done, done)


def refresh(
    conn: sa.Connection,
    catalog: Catalog,
    targets: Sequence[Target],
    *,
    on_failure: str | None = None,
    can_clear: bool = True,
    stored: Mapping[int, FieldDef | None] | None = None,
    known: Mapping[int, RecomputeReport] | None = None,
    progress: Progress | None = None,
) -> tuple[list[dict[str, Any]], list[RecomputeReport]]:
    """Recompute ``targets`` and what depends on them, in order; the journal details of
    the backups made and the reports. ``stored``: field id → the definition its column
    holds when that is not the target's own (None: a new column, filled in place);
    ``known``: reports already made for this very state of the data."""
    stored = stored or {}
    known = known or {}
    details: list[dict[str, Any]] = []
    reports: list[RecomputeReport] = []
    for target in with_dependents(catalog, targets):
        before = stored.get(target.field.id, target.field)
        report = known.get(target.field.id) or preview(conn, catalog, target, stored=before)
        refuse(report, on_failure=on_failure, can_clear=can_clear)
        if target.field.unique:
            refuse_duplicates(conn, catalog, target)
        detail = apply(conn, catalog, target, report, keep_old=before is not None,
                       progress=progress)
        reports.append(report)
        if detail is not None:
            details.append(detail)
    return details, reports


def undo(conn: sa.Connection, catalog: Catalog, details: Sequence[Mapping[str, Any]],
         since: Any) -> None:
    """Bring back the values recomputing displaced, newest first; refuse when records of
    those tables were written since (their new values would be lost)."""
    for item in details:
        entity = catalog.entity_by_id(item["entity_id"])
        refuse_if_changed_since(conn, entity.name, catalog.table(entity), since)
    for item in reversed(details):
        entity = catalog.entity_by_id(item["entity_id"])
        fdef = entity.field_by_id(item["field_id"])
        physical.swap_back(conn, entity, fdef, item["backup"])
        physical.create_field_indexes(conn, catalog, entity, fdef)


# --- what the field operations call ----------------------------------------------------------


def _keep(outcome: Outcome, done: tuple[list[dict[str, Any]], list[RecomputeReport]]) -> None:
    outcome.details["recomputed"] = done[0]
    outcome.report["recompute"] = [r.as_json() for r in done[1]]


def after_add(ctx: OpContext, outcome: Outcome, entity: EntityDef, fdef: FieldDef) -> None:
    """A new field, if computed: its (empty) column filled; too many digits refused."""
    target = check_target(ctx.catalog, entity, fdef)
    if target is not None:
        _keep(outcome, refresh(ctx.conn, ctx.catalog, [target], stored={fdef.id: None},
                               can_clear=False, progress=ctx.progress))


def after_restore(ctx: OpContext, outcome: Outcome, entity: EntityDef, fdef: FieldDef) -> None:
    """A restored field, if computed, worked out again (its inputs may have changed)."""
    catalog = ctx.reload()
    target = check_target(catalog, catalog.entity_by_id(entity.id), fdef)
    if target is not None:
        _keep(outcome, refresh(ctx.conn, catalog, [target], progress=ctx.progress))


def after_change(
    ctx: OpContext,
    outcome: Outcome,
    old: FieldDef,
    first: RecomputeReport | None,
    *,
    rewrite: bool,
    on_failure: str | None,
) -> None:
    """After a field change (``ctx.catalog`` has the new definition): the field if its
    computation went stale (``first``: its preview), and what is computed from its values
    if they were rewritten (a conversion may have emptied some)."""
    catalog = ctx.catalog
    entity = catalog.entity_by_id(old.entity_id)
    current = entity.field_by_id(old.id)
    targets: list[Target] = []
    if first is not None:
        target = check_target(catalog, entity, current)
        targets += [] if target is None else [target]
    if rewrite:
        targets += dependents(catalog, entity, current)
    if not targets:
        return
    # the preview still holds when no value of the field was rewritten
    known = {current.id: first} if first is not None and not rewrite else {}
    _keep(outcome, refresh(ctx.conn, catalog, targets, on_failure=on_failure, known=known,
                           progress=ctx.progress))
