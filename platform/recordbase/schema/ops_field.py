"""Field operations: add, change (rename, type, options, flags), remove, restore, purge."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from recordbase import systables
from recordbase.errors import Conflict, NotFound, ValidationError
from recordbase.fields.computed import VALUE_OPTIONS, computation_of
from recordbase.messages import msg
from recordbase.model import EntityDef, FieldDef
from recordbase.names import check_label
from recordbase.schema import ddl, physical, recompute
from recordbase.schema.convert import ConversionReport, convert_field
from recordbase.schema.dependents import delete_owned_rows, field_dependents
from recordbase.schema.fieldspec import (
    check_default,
    check_flags,
    check_new_name,
    field_from_json,
    field_type,
    new_field_values,
    row_values,
)
from recordbase.schema.operation import (
    OPERATIONS,
    OpContext,
    Operation,
    Outcome,
    refuse_if_changed_since,
)
from recordbase.schema.specs import field_to_json

CHANGEABLE = (
    "name",
    "label",
    "help",
    "type",
    "options",
    "required",
    "unique",
    "indexed",
    "default",
)
ON_FAILURE = ("abort", "clear")


def _details(entity: EntityDef, fdef: FieldDef, **extra: Any) -> dict[str, Any]:
    return {"entity_id": entity.id, "field_id": fdef.id, **extra}


def _write_row(conn: sa.Connection, fdef: FieldDef) -> None:
    conn.execute(
        sa.update(systables.fields)
        .where(systables.fields.c.id == fdef.id)
        .values(**row_values(fdef))
    )


def _set_title(conn: sa.Connection, entity_id: int, title: str | None) -> None:
    conn.execute(
        sa.update(systables.entities)
        .where(systables.entities.c.id == entity_id)
        .values(title_field=title)
    )


def create_storage(ctx: OpContext, entity: EntityDef, fdef: FieldDef, *, own: bool) -> None:
    """The field's columns (unless its table was just created with them), its columns in
    a target table, its own tables and its indexes."""
    catalog, conn = ctx.catalog, ctx.conn
    ftype = catalog.type_of(fdef)
    if own:
        for column in ftype.columns(fdef, catalog):
            ddl.add_column(conn, entity.table, column)
    target_columns = ftype.columns_in_target(fdef, entity)
    if target_columns:
        target = catalog.table(str(fdef.options["target"]))
        for column in target_columns:
            ddl.add_column(conn, target.name, column)
        names = {c.name for c in target_columns}
        for index in target.indexes:
            if names & {c.name for c in index.columns}:
                ddl.create_index(conn, index)
    extra = catalog.extra_tables.get(fdef.id)
    if extra is not None:
        ddl.create_table(conn, extra)
    if own:
        physical.create_field_indexes(conn, catalog, entity, fdef)


def drop_storage(ctx: OpContext, entity: EntityDef, fdef: FieldDef) -> None:
    """Remove every physical trace of a field: columns and backups, target columns, tables."""
    conn, catalog = ctx.conn, ctx.catalog
    ftype = catalog.type_of(fdef)
    extra = catalog.extra_tables.get(fdef.id)
    if extra is not None:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {physical.quote(conn, extra.name)}")
    target_columns = ftype.columns_in_target(fdef, entity)
    if target_columns:
        target = catalog.entities[str(fdef.options["target"])]
        physical.drop_columns(conn, target.table, [c.name for c in target_columns])
    physical.drop_field_indexes(conn, entity, fdef)
    physical.drop_columns(
        conn, entity.table, physical.field_columns_in_table(conn, entity.table, fdef)
    )


def values_held(ctx: OpContext, entity: EntityDef, fdef: FieldDef) -> int:
    """How many records hold a value in the field (a relation counts its rows)."""
    ftype = ctx.catalog.type_of(fdef)
    source = ftype.source_column(fdef)
    if source is not None:
        return physical.count_values(ctx.conn, ctx.catalog.table(entity), source)
    ids = [int(i) for i in ctx.conn.execute(sa.select(ctx.catalog.table(entity).c.id)).scalars()]
    loaded = ftype.load(ctx.conn, fdef, ctx.catalog, ids) if ids else {}
    return sum(1 for v in loaded.values() if not ftype.empty(v))


@OPERATIONS.register
class AddField(Operation):
    name = "add_field"

    def __init__(self, entity: str, spec: Any) -> None:
        self.entity, self.spec = entity, spec

    def run(self, ctx: OpContext) -> Outcome:
        entity = ctx.catalog.entity(self.entity)
        values = new_field_values(self.spec, entity, ctx.catalog)
        fill = values.pop("fill_existing")
        if ctx.dry_run:
            preview = recompute.preview_new(ctx.conn, ctx.catalog, entity, values)
            return Outcome(self.name, entity.name, values["name"],
                           report={"field": values, "recompute": preview})
        position = max((f.position for f in entity.all_fields), default=-1) + 1
        field_id = ctx.conn.execute(
            sa.insert(systables.fields)
            .values(entity_id=entity.id, position=position, **values)
            .returning(systables.fields.c.id)
        ).scalar_one()
        entity = ctx.reload().entity(self.entity)
        fdef = entity.field_by_id(field_id)
        create_storage(ctx, entity, fdef, own=True)
        self._fill(ctx, entity, fdef, fill)
        outcome = Outcome(
            self.name,
            entity.name,
            fdef.name,
            None,
            field_to_json(fdef),
            details=_details(entity, fdef),
            result=fdef,
        )
        # a new column: filled as it is, nothing displaced; too many digits are refused
        recompute.after_add(ctx, outcome, entity, fdef)
        return outcome

    def _fill(self, ctx: OpContext, entity: EntityDef, fdef: FieldDef, fill: bool) -> None:
        ftype = ctx.catalog.type_of(fdef)
        column = ftype.source_column(fdef)
        wants_rows = fdef.required or (fill and fdef.default is not None)
        if column is None or not wants_rows:
            return  # nothing touches the rows: the same cost on any table size
        table = ctx.catalog.table(entity)
        rows = int(ctx.conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
        if not rows:
            return
        if fill and fdef.default is not None:
            if fdef.unique and rows > 1:
                raise Conflict(
                    msg(
                        "{rows} existing records would all get the same value, but '{field}' "
                        "must be unique.",
                        rows=rows, field=fdef.name,
                    )
                )
            value = ftype.to_db(fdef, ftype.value_field(fdef).deserialize(fdef.default))
            ctx.conn.execute(sa.update(table).values({column: value}))
        elif fdef.required:
            raise ValidationError(
                msg(
                    "The entity '{entity}' has {rows} records that would have no value for the "
                    "required field '{field}'; give a default and set fill_existing.",
                    entity=entity.name, rows=rows, field=fdef.name,
                ),
                fields={"required": msg("Existing records would be empty.")},
            )

    @classmethod
    def undo(cls, ctx: OpContext, entry: Mapping[str, Any]) -> Outcome:
        details = entry["details"]
        entity = ctx.catalog.entity_by_id(details["entity_id"])
        fdef = entity.field_by_id(details["field_id"])
        # a computed field's values are worked out from others: dropping them loses nothing
        held = 0 if computation_of(fdef) else values_held(ctx, entity, fdef)
        if held:
            raise Conflict(
                msg(
                    "{held} records have values in {entity}.{field}; undoing its creation "
                    "would lose them. Remove the field instead: it keeps its values.",
                    held=held, entity=entity.name, field=fdef.name,
                )
            )
        recompute.undo(ctx.conn, ctx.catalog, details.get("recomputed", []), entry["created_at"])
        drop_storage(ctx, entity, fdef)
        delete_owned_rows(ctx.conn, field_ids=[fdef.id])
        ctx.conn.execute(sa.delete(systables.fields).where(systables.fields.c.id == fdef.id))
        return Outcome(
            "undo_add_field",
            entity.name,
            fdef.name,
            field_to_json(fdef),
            None,
            details=dict(details),
            undoable=False,
        )


@OPERATIONS.register
class ChangeField(Operation):
    """Rename, relabel, change type, options, required/unique/indexed, default."""

    name = "change_field"

    def __init__(self, entity: str, field: str, changes: Mapping[str, Any]) -> None:
        self.entity, self.field, self.changes = entity, field, changes

    def run(self, ctx: OpContext) -> Outcome:
        if not isinstance(self.changes, Mapping):
            raise ValidationError(msg("The field change must be a JSON object."))
        changes = dict(self.changes)
        on_failure = changes.pop("on_failure", None)
        unknown = sorted(set(changes) - set(CHANGEABLE))
        if unknown:
            raise ValidationError(
                msg("These keys cannot be changed: {names}.", names=', '.join(unknown)),
                fields={k: msg("Unknown key.") for k in unknown},
            )
        if on_failure not in (None, *ON_FAILURE):
            raise ValidationError(
                msg('on_failure is "abort" or "clear".'),
                fields={"on_failure": msg('Use "abort" or "clear".')},
            )
        entity = ctx.catalog.entity(self.entity)
        old = entity.field(self.field)
        new = self._new_definition(ctx, entity, old, changes)
        stale = recompute.goes_stale(ctx.catalog, old, new)
        target = recompute.check_target(ctx.catalog, entity, new) if stale else None
        report = self._check_data(ctx, entity, old, new)
        first = None if target is None else recompute.preview(
            ctx.conn, ctx.catalog, target, stored=old
        )
        outcome = Outcome(
            self.name,
            entity.name,
            new.name,
            field_to_json(old),
            field_to_json(new),
            details=_details(entity, old),
        )
        outcome.report = {
            **report.as_json(),
            "dependents": field_dependents(ctx.catalog, entity, old),
            "recompute": [] if first is None else [first.as_json()],
            "recompute_dependents": recompute.dependent_names(ctx.catalog, entity, old)
            if report.changed or report.failing else [],
        }
        if ctx.dry_run:
            return outcome
        if first is not None:
            recompute.refuse(first, on_failure=on_failure)
        if report.failing:
            if first is None:  # a recomputed field's old values give way anyway (kept)
                self._refuse_or_clear(entity, old, new, report, on_failure)
            outcome.displaced = {str(k): v for k, v in report.displaced.items()}
        rewrite = self._apply(ctx, entity, old, new, report, outcome)
        recompute.after_change(ctx, outcome, old, first, rewrite=rewrite, on_failure=on_failure)
        outcome.result = ctx.catalog.entity(entity.name).field_by_id(old.id)
        return outcome

    def _new_definition(
        self, ctx: OpContext, entity: EntityDef, old: FieldDef, changes: dict[str, Any]
    ) -> FieldDef:
        new = old
        if "name" in changes and changes["name"] != old.name:
            new = replace(new, name=check_new_name(entity, changes["name"], except_id=old.id))
        if "label" in changes:
            new = replace(new, label=check_label(changes["label"], "field"))
        if "help" in changes:
            if not isinstance(changes["help"], str) or len(changes["help"]) > 2000:
                raise ValidationError(
                    msg("The help text is text of at most 2000 characters."),
                    fields={"help": msg("At most 2000 characters.")},
                )
            new = replace(new, help=changes["help"])
        old_type = ctx.catalog.type_of(old)
        new_type = field_type(ctx.catalog, changes.get("type", old.type))
        if new_type.name != old.type and new_type.name not in old_type.converts_to:
            allowed = ", ".join(sorted(old_type.converts_to)) or "no other type"
            message = (
                msg(
                    "A {type} field cannot become a {new_type} field; it can become: {allowed}.",
                    type=old.type, new_type=new_type.name, allowed=allowed,
                )
            )
            raise ValidationError(message, fields={"type": message})
        if "options" in changes or new_type.name != old.type:
            options = changes.get("options", old.options if new_type.name == old.type else {})
            if not isinstance(options, Mapping):
                raise ValidationError(
                    msg("The options are a JSON object."), fields={"options": msg("An object.")}
                )
            new = replace(
                new, type=new_type.name, options=new_type.clean_options(options, ctx.catalog)
            )
        for flag in ("required", "unique", "indexed"):
            if flag in changes:
                if not isinstance(changes[flag], bool):
                    raise ValidationError(
                        msg("{flag} is true or false.", flag=flag),
                        fields={flag: msg("true or false")}
                    )
                new = replace(new, **{flag: changes[flag]})
        check_flags(new_type, new.unique, new.indexed)
        default = changes.get("default", old.default if new_type.name == old.type else None)
        return replace(new, default=check_default(new_type, new, default))

    def _check_data(
        self, ctx: OpContext, entity: EntityDef, old: FieldDef, new: FieldDef
    ) -> ConversionReport:
        keys = {*old.options, *new.options}
        options = {k for k in keys if old.options.get(k) != new.options.get(k)}
        needs = (
            new.type != old.type
            or bool(options - VALUE_OPTIONS)  # a computation is not a conversion: see recompute
            or (new.required and not old.required)
            or (new.unique and not old.unique)
        )
        if not needs or ctx.catalog.type_of(old).source_column(old) is None:
            if not ctx.dry_run:
                return ConversionReport()  # metadata only: the same cost on any table size
            table = ctx.catalog.table(entity)
            rows = int(ctx.conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
            return ConversionReport(rows=rows, convertible=rows)
        return convert_field(ctx.conn, ctx.catalog, entity, old, new, progress=ctx.progress)

    def _refuse_or_clear(
        self,
        entity: EntityDef,
        old: FieldDef,
        new: FieldDef,
        report: ConversionReport,
        on_failure: str | None,
    ) -> None:
        summary = (
            msg(
                "{failing} of {rows} records of {entity} have values of '{old}' that the new "
                "definition cannot hold",
                failing=report.failing, rows=report.rows, entity=entity.name, old=old.name,
            )
        )
        extra = report.as_json()
        if on_failure is None:
            raise Conflict(
                msg(
                    '{summary}. Nothing was changed: choose on_failure "abort" or "clear" '
                    "(clear empties those values and keeps the old ones in the journal, so "
                    "undo brings them back).",
                    summary=summary,
                ),
                extra=extra,
            )
        if on_failure == "abort":
            raise Conflict(msg(
                "{summary}; aborted as asked, nothing was changed.",
                summary=summary,
            ), extra=extra)
        if new.required:
            raise Conflict(
                msg(
                    "{summary}, and a required field cannot be emptied; fix those records "
                    "first.",
                    summary=summary,
                ),
                extra=extra,
            )

    def _apply(
        self,
        ctx: OpContext,
        entity: EntityDef,
        old: FieldDef,
        new: FieldDef,
        report: ConversionReport,
        outcome: Outcome,
    ) -> bool:
        """Write the new definition and rewrite the column where needed; whether it was."""
        conn = ctx.conn
        old_type, new_type = ctx.catalog.type_of(old), ctx.catalog.type_of(new)
        rewrite = old_type.source_column(old) is not None and (
            new.type != old.type
            or report.changed > 0
            or report.failing > 0
            or not new_type.storage_compatible(old, new)
        )
        _write_row(conn, new)
        if entity.title_field == old.name and new.name != old.name:
            _set_title(conn, entity.id, new.name)
            outcome.details["title_renamed"] = True
        catalog = ctx.reload()
        entity = catalog.entity(entity.name)
        if rewrite:
            outcome.details["backup"] = physical.swap_column(
                conn, catalog, entity, new, report.values, progress=ctx.progress
            )
        else:
            if not same_indexes(old, new):
                physical.drop_field_indexes(conn, entity, old)
            physical.widen_column(conn, catalog, entity, old, new)
        physical.create_field_indexes(conn, catalog, entity, new)
        return rewrite

    @classmethod
    def undo(cls, ctx: OpContext, entry: Mapping[str, Any]) -> Outcome:
        details, conn = entry["details"], ctx.conn
        entity = ctx.catalog.entity_by_id(details["entity_id"])
        current = entity.field_by_id(details["field_id"])
        before = field_from_json(current, entry["before"])
        backup = details.get("backup")
        if backup is not None or dict(before.options) != dict(current.options):
            refuse_if_changed_since(
                conn, entity.name, ctx.catalog.table(entity), entry["created_at"]
            )
        if any(f.name == before.name and f.id != current.id for f in entity.all_fields):
            raise Conflict(msg(
                "Another field of {entity} is now named '{before}'.",
                entity=entity.name, before=before.name,
            ))
        recompute.undo(conn, ctx.catalog, details.get("recomputed", []), entry["created_at"])
        _write_row(conn, before)
        if details.get("title_renamed"):
            _set_title(conn, entity.id, before.name)
        catalog = ctx.reload()
        entity = catalog.entity_by_id(entity.id)
        if backup is not None:
            physical.swap_back(conn, entity, before, backup)
        else:
            if not same_indexes(current, before):
                physical.drop_field_indexes(conn, entity, current)
            physical.widen_column(conn, catalog, entity, current, before)
        physical.create_field_indexes(conn, catalog, entity, before)
        return Outcome(
            "undo_change_field",
            entity.name,
            before.name,
            field_to_json(current),
            field_to_json(before),
            details=dict(details),
            undoable=False,
        )


def same_indexes(old: FieldDef, new: FieldDef) -> bool:
    """The field keeps its indexes as they are: their names come from the table and the
    column, never from the field's name, so a rename or relabel must not rebuild them."""
    return (old.type, old.unique, old.indexed) == (new.type, new.unique, new.indexed)


def find_field(entity: EntityDef, name: str, *, removed: bool) -> FieldDef:
    matches = [f for f in entity.all_fields if f.name == name and f.removed == removed]
    if not matches:
        if removed:
            raise NotFound(msg(
                "The entity '{entity}' has no removed field named '{name}'.",
                entity=entity.name, name=name,
            ))
        raise NotFound(msg(
            "The entity '{entity}' has no field named '{name}'.", entity=entity.name, name=name
        ))
    return matches[-1]


@OPERATIONS.register
class RemoveField(Operation):
    """Hide a field: it leaves forms, lists and the API; its values stay until purged."""

    name = "remove_field"

    def __init__(self, entity: str, field: str) -> None:
        self.entity, self.field = entity, field

    def run(self, ctx: OpContext) -> Outcome:
        entity = ctx.catalog.entity(self.entity)
        fdef = entity.field(self.field)
        outcome = Outcome(
            self.name,
            entity.name,
            fdef.name,
            field_to_json(fdef),
            None,
            details=_details(entity, fdef),
            report={"dependents": field_dependents(ctx.catalog, entity, fdef)},
        )
        if ctx.dry_run:
            # counting reads every row: only the preview pays for it
            outcome.report["values"] = values_held(ctx, entity, fdef)
            return outcome
        _write_row(ctx.conn, replace(fdef, removed=True))
        if entity.title_field == fdef.name:
            _set_title(ctx.conn, entity.id, None)
            outcome.details["was_title"] = True
        outcome.result = fdef
        return outcome

    @classmethod
    def undo(cls, ctx: OpContext, entry: Mapping[str, Any]) -> Outcome:
        return RestoreField.restore(ctx, entry["details"], title=entry["details"].get("was_title"))


@OPERATIONS.register
class RestoreField(Operation):
    name = "restore_field"

    def __init__(self, entity: str, field: str) -> None:
        self.entity, self.field = entity, field

    def run(self, ctx: OpContext) -> Outcome:
        entity = ctx.catalog.entity(self.entity)
        fdef = find_field(entity, self.field, removed=True)
        details = _details(entity, fdef)
        if ctx.dry_run:
            return Outcome(self.name, entity.name, fdef.name, details=details)
        return RestoreField.restore(ctx, details, title=False, operation=self.name)

    @staticmethod
    def restore(
        ctx: OpContext,
        details: Mapping[str, Any],
        *,
        title: bool | None,
        operation: str = "undo_remove_field",
    ) -> Outcome:
        entity = ctx.catalog.entity_by_id(details["entity_id"])
        fdef = entity.field_by_id(details["field_id"])
        if entity.has_field(fdef.name):
            raise Conflict(
                msg(
                    "The entity '{entity}' has another field named '{field}' now; rename it "
                    "first.",
                    entity=entity.name, field=fdef.name,
                )
            )
        _write_row(ctx.conn, replace(fdef, removed=False))
        if title:
            _set_title(ctx.conn, entity.id, fdef.name)
        restored = replace(fdef, removed=False)
        outcome = Outcome(
            operation,
            entity.name,
            fdef.name,
            None,
            field_to_json(restored),
            details=dict(details),
            undoable=operation == "restore_field",
            result=restored,
        )
        # its inputs may have changed while it was hidden: its values are worked out again
        recompute.after_restore(ctx, outcome, entity, restored)
        return outcome

    @classmethod
    def undo(cls, ctx: OpContext, entry: Mapping[str, Any]) -> Outcome:
        details = entry["details"]
        entity = ctx.catalog.entity_by_id(details["entity_id"])
        fdef = entity.field_by_id(details["field_id"])
        recompute.undo(ctx.conn, ctx.catalog, details.get("recomputed", []), entry["created_at"])
        _write_row(ctx.conn, replace(fdef, removed=True))
        return Outcome(
            "undo_restore_field", entity.name, fdef.name, details=dict(details), undoable=False
        )


@OPERATIONS.register
class PurgeField(Operation):
    """Delete a removed field and its values for good (not undoable)."""

    name = "purge_field"
    rebuilds = True

    def __init__(self, entity: str, field: str, *, confirmed: bool) -> None:
        self.entity, self.field, self.confirmed = entity, field, confirmed

    def run(self, ctx: OpContext) -> Outcome:
        entity = ctx.catalog.entity(self.entity)
        fdef = find_field(entity, self.field, removed=True)
        held = values_held(ctx, entity, fdef)
        outcome = Outcome(
            self.name,
            entity.name,
            fdef.name,
            field_to_json(fdef),
            None,
            details=_details(entity, fdef),
            report={"values": held},
            undoable=False,
        )
        if ctx.dry_run:
            return outcome
        if not self.confirmed:
            raise Conflict(
                msg(
                    "Purging {entity}.{field} deletes {held} values for good; confirm it to go "
                    "ahead.",
                    entity=entity.name, field=fdef.name, held=held,
                ),
                extra={"values": held},
            )
        drop_storage(ctx, entity, fdef)
        delete_owned_rows(ctx.conn, field_ids=[fdef.id])
        ctx.conn.execute(sa.delete(systables.fields).where(systables.fields.c.id == fdef.id))
        return outcome
