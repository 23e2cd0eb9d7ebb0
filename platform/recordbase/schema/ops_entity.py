"""Entity operations: create, change (rename, labels, title field, navigation), remove,
restore, purge."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from recordbase import systables
from recordbase.errors import Conflict, ValidationError
from recordbase.messages import msg
from recordbase.model import EntityDef, NavSetting
from recordbase.names import RESERVED_ENTITY_NAMES, check_label, check_name
from recordbase.schema.dependents import delete_owned_rows, entity_dependents
from recordbase.schema.fieldspec import new_field_values
from recordbase.schema.operation import OPERATIONS, OpContext, Operation, Outcome
from recordbase.schema.ops_field import create_storage, drop_storage, values_held
from recordbase.schema.physical import quote
from recordbase.schema.specs import (
    EntityPatch,
    EntitySpec,
    entity_to_json,
    humanize,
    load_spec,
    merged_nav,
)

ENTITY_KEYS = ("name", "label", "label_plural", "title_field", "nav")


def _check_title(entity: EntityDef, title: Any) -> None:
    if title is not None and not entity.has_field(str(title)):
        message = msg(
            "The title field '{title}' is not a field of '{entity}'.",
            title=title, entity=entity.name,
        )
        raise ValidationError(message, fields={"title_field": message})


def _entity_values(conn: sa.Connection, entity_id: int, **values: Any) -> None:
    conn.execute(
        sa.update(systables.entities).where(systables.entities.c.id == entity_id).values(**values)
    )


def _retarget(conn: sa.Connection, old: str, new: str) -> list[int]:
    """Rewrite the ``target`` option of every field that points at entity ``old``."""
    fields = systables.fields
    changed = []
    for fid, options in conn.execute(sa.select(fields.c.id, fields.c.options)).all():
        if isinstance(options, dict) and options.get("target") == old:
            conn.execute(
                sa.update(fields)
                .where(fields.c.id == fid)
                .values(options={**options, "target": new})
            )
            changed.append(int(fid))
    return changed


@OPERATIONS.register
class CreateEntity(Operation):
    name = "create_entity"

    def __init__(self, spec: Any) -> None:
        self.spec = spec

    def run(self, ctx: OpContext) -> Outcome:
        spec = load_spec(EntitySpec(), self.spec, "entity")
        name = check_name(spec["name"], "entity", reserved=RESERVED_ENTITY_NAMES)
        if name in ctx.catalog.entities:
            raise Conflict(
                msg("An entity named '{name}' already exists.", name=name),
                fields={"name": msg("Already taken.")}
            )
        label = check_label(spec["label"] or humanize(name), "entity")
        plural = check_label(spec["label_plural"] or label, "entity", "label_plural")
        if spec["tree"] and not spec["directory"]:
            raise ValidationError(
                msg("Only a directory can be a tree (set directory to true)."),
                fields={"tree": msg("Only directories can be trees.")},
            )
        if spec["child"] and (spec["directory"] or spec["tree"]):
            raise ValidationError(
                msg("An entity of child-table lines cannot be a directory."),
                fields={"child": msg("Not with directory or tree.")},
            )
        entity_id = ctx.conn.execute(
            sa.insert(systables.entities)
            .values(
                name=name,
                label=label,
                label_plural=plural,
                directory=spec["directory"],
                tree=spec["tree"],
                child=spec["child"],
                title_field=None,
                position=len(ctx.catalog.entities),
                removed=False,
                nav=merged_nav(NavSetting(), spec["nav"]),
            )
            .returning(systables.entities.c.id)
        ).scalar_one()
        self._insert_fields(ctx, name, entity_id, spec["field_list"])
        entity = ctx.reload().entity(name)
        if spec["title_field"] is not None:
            _check_title(entity, spec["title_field"])
            _entity_values(ctx.conn, entity_id, title_field=spec["title_field"])
            entity = ctx.reload().entity(name)
        if ctx.dry_run:
            return Outcome(self.name, name, report={"entity": entity_to_json(entity)})
        ctx.catalog.table(entity).create(ctx.conn)
        for fdef in entity.fields:
            create_storage(ctx, entity, fdef, own=False)
        return Outcome(
            self.name,
            name,
            None,
            None,
            entity_to_json(entity),
            details={"entity_id": entity_id},
            result=entity,
        )

    def _insert_fields(self, ctx: OpContext, name: str, entity_id: int, specs: list[Any]) -> None:
        catalog = ctx.reload()
        seen: set[str] = set()
        for index, raw in enumerate(specs):
            try:
                values = new_field_values(raw, catalog.entity(name), catalog)
            except ValidationError as exc:
                raise ValidationError(
                    msg(
                        "Field {number} of '{name}': {problem}",
                        number=index + 1, name=name, problem=exc.message,
                    ),
                    fields={f"fields[{index}].{k}": v for k, v in exc.fields.items()},
                ) from exc
            if values["name"] in seen:
                raise ValidationError(
                    msg(
                        "The entity '{name}' lists the field '{field}' twice.",
                        name=name, field=values['name'],
                    ),
                    fields={f"fields[{index}].name": msg("Duplicate name.")},
                )
            seen.add(values["name"])
            values.pop("fill_existing")
            ctx.conn.execute(
                sa.insert(systables.fields).values(entity_id=entity_id, position=index, **values)
            )

    @classmethod
    def undo(cls, ctx: OpContext, entry: Mapping[str, Any]) -> Outcome:
        entity = ctx.catalog.entity_by_id(entry["details"]["entity_id"])
        PurgeEntity.check_empty(ctx, entity, msg("undoing its creation"))
        PurgeEntity.drop(ctx, entity)
        return Outcome(
            "undo_create_entity",
            entity.name,
            None,
            entity_to_json(entity),
            None,
            details=dict(entry["details"]),
            undoable=False,
        )


@OPERATIONS.register
class ChangeEntity(Operation):
    name = "change_entity"

    def __init__(self, entity: str, changes: Any) -> None:
        self.entity, self.changes = entity, changes

    def run(self, ctx: OpContext) -> Outcome:
        spec = load_spec(EntityPatch(), self.changes, "entity")
        entity = ctx.catalog.entity(self.entity)
        values: dict[str, Any] = {}
        if "name" in spec and spec["name"] != entity.name:
            values["name"] = check_name(spec["name"], "entity", reserved=RESERVED_ENTITY_NAMES)
            if values["name"] in ctx.catalog.entities:
                raise Conflict(
                    msg("An entity named '{name}' already exists.", name=values['name']),
                    fields={"name": msg("Already taken.")},
                )
        if "label" in spec:
            values["label"] = check_label(spec["label"], "entity")
        if "label_plural" in spec:
            values["label_plural"] = check_label(spec["label_plural"], "entity", "label_plural")
        if "title_field" in spec:
            _check_title(entity, spec["title_field"])
            values["title_field"] = spec["title_field"]
        if "nav" in spec:
            nav = merged_nav(entity.nav, spec["nav"])
            if nav != entity.nav.to_json():
                values["nav"] = nav
        before = entity_to_json(entity, with_fields=False)
        outcome = Outcome(
            self.name,
            entity.name,
            None,
            before,
            {**before, **values},
            details={"entity_id": entity.id},
            report={"dependents": entity_dependents(ctx.catalog, entity)},
        )
        if ctx.dry_run or not values:
            outcome.result = entity
            return outcome
        apply_entity_values(ctx, entity, values)
        outcome.result = ctx.reload().entity_by_id(entity.id)
        return outcome

    @classmethod
    def undo(cls, ctx: OpContext, entry: Mapping[str, Any]) -> Outcome:
        entity = ctx.catalog.entity_by_id(entry["details"]["entity_id"])
        # journal entries written before the navigation setting existed have no "nav"
        before = {k: entry["before"][k] for k in ENTITY_KEYS if k in entry["before"]}
        if before["name"] != entity.name and before["name"] in ctx.catalog.entities:
            raise Conflict(msg("Another entity is now named '{name}'.", name=before['name']))
        apply_entity_values(ctx, entity, before)
        return Outcome(
            "undo_change_entity",
            before["name"],
            None,
            entry["after"],
            before,
            details=dict(entry["details"]),
            undoable=False,
        )


def apply_entity_values(ctx: OpContext, entity: EntityDef, values: Mapping[str, Any]) -> None:
    _entity_values(ctx.conn, entity.id, **values)
    if values.get("name", entity.name) != entity.name:
        _retarget(ctx.conn, entity.name, str(values["name"]))


def _undo_removed_flag(
    ctx: OpContext, entry: Mapping[str, Any], *, removed: bool, operation: str
) -> Outcome:
    """The undo of a removal or a restore: the entity's ``removed`` flag goes back."""
    entity = ctx.catalog.entity_by_id(entry["details"]["entity_id"])
    _entity_values(ctx.conn, entity.id, removed=removed)
    return Outcome(operation, entity.name, details=dict(entry["details"]), undoable=False)


@OPERATIONS.register
class RemoveEntity(Operation):
    """Hide an entity: its table and rows stay until it is purged."""

    name = "remove_entity"

    def __init__(self, entity: str) -> None:
        self.entity = entity

    def run(self, ctx: OpContext) -> Outcome:
        entity = ctx.catalog.entity(self.entity)
        dependents = entity_dependents(ctx.catalog, entity)
        outcome = Outcome(
            self.name,
            entity.name,
            None,
            entity_to_json(entity),
            None,
            details={"entity_id": entity.id},
            report={"dependents": dependents},
        )
        if ctx.dry_run:
            return outcome
        blocking = [d["text"] for d in dependents if d.get("kind") == "field"]
        if blocking:
            raise Conflict(
                msg(
                    "{entity} cannot be removed while other fields point at it: {names}. "
                    "Remove those fields first.",
                    entity=entity.name, names='; '.join(blocking),
                ),
                extra={"dependents": dependents},
            )
        _entity_values(ctx.conn, entity.id, removed=True)
        return outcome

    @classmethod
    def undo(cls, ctx: OpContext, entry: Mapping[str, Any]) -> Outcome:
        return _undo_removed_flag(ctx, entry, removed=False, operation="undo_remove_entity")


@OPERATIONS.register
class RestoreEntity(Operation):
    name = "restore_entity"

    def __init__(self, entity: str) -> None:
        self.entity = entity

    def run(self, ctx: OpContext) -> Outcome:
        entity = ctx.catalog.entities.get(self.entity)
        if entity is None or not entity.removed:
            raise ValidationError(msg(
                "There is no removed entity named '{entity}'.",
                entity=self.entity,
            ))
        if not ctx.dry_run:
            _entity_values(ctx.conn, entity.id, removed=False)
        return Outcome(self.name, entity.name, details={"entity_id": entity.id})

    @classmethod
    def undo(cls, ctx: OpContext, entry: Mapping[str, Any]) -> Outcome:
        return _undo_removed_flag(ctx, entry, removed=True, operation="undo_restore_entity")


@OPERATIONS.register
class PurgeEntity(Operation):
    """Delete a removed entity, its table and its rows for good (not undoable)."""

    name = "purge_entity"
    rebuilds = True

    def __init__(self, entity: str, *, confirmed: bool) -> None:
        self.entity, self.confirmed = entity, confirmed

    def run(self, ctx: OpContext) -> Outcome:
        entity = ctx.catalog.entities.get(self.entity)
        if entity is None or not entity.removed:
            raise ValidationError(
                msg(
                    "Only a removed entity can be purged; '{entity}' is not one.",
                    entity=self.entity,
                )
            )
        rows = int(
            ctx.conn.execute(
                sa.select(sa.func.count()).select_from(ctx.catalog.table(entity))
            ).scalar_one()
        )
        outcome = Outcome(
            self.name,
            entity.name,
            None,
            entity_to_json(entity),
            None,
            details={"entity_id": entity.id},
            report={"rows": rows},
            undoable=False,
        )
        if ctx.dry_run:
            return outcome
        if not self.confirmed:
            raise Conflict(
                msg(
                    "Purging {entity} deletes its {rows} records for good; confirm it to go "
                    "ahead.",
                    entity=entity.name, rows=rows,
                ),
                extra={"rows": rows},
            )
        PurgeEntity.drop(ctx, entity)
        return outcome

    @staticmethod
    def check_empty(ctx: OpContext, entity: EntityDef, doing: str) -> None:
        rows = int(
            ctx.conn.execute(
                sa.select(sa.func.count()).select_from(ctx.catalog.table(entity))
            ).scalar_one()
        )
        if rows:
            raise Conflict(
                msg(
                    "{entity} has {rows} records; {doing} would delete them. Remove the entity "
                    "instead: it keeps them.",
                    entity=entity.name, rows=rows, doing=doing,
                )
            )

    @staticmethod
    def drop(ctx: OpContext, entity: EntityDef) -> None:
        pointing = [
            f"{o.name}.{f.name}"
            for o, f in ctx.catalog.fields_targeting(entity)
            if o.id != entity.id
        ]
        if pointing:
            raise Conflict(
                msg(
                    "Fields still point at {entity}: {names}; purge them first.",
                    entity=entity.name, names=', '.join(pointing),
                )
            )
        for fdef in entity.all_fields:
            if (
                ctx.catalog.type_of(fdef).columns_in_target(fdef, entity)
                or fdef.id in ctx.catalog.extra_tables
            ):
                if values_held(ctx, entity, fdef) and not ctx.catalog.type_of(fdef).owns_column:
                    pass  # the rows go with the entity
                drop_storage(ctx, entity, fdef)
        ctx.conn.exec_driver_sql(f"DROP TABLE {quote(ctx.conn, entity.table)}")
        # SQLite runs a purge with foreign keys off: remove what cascades would remove
        delete_owned_rows(
            ctx.conn, entity_id=entity.id, field_ids=[f.id for f in entity.all_fields]
        )
        ctx.conn.execute(
            sa.delete(systables.fields).where(systables.fields.c.entity_id == entity.id)
        )
        ctx.conn.execute(sa.delete(systables.entities).where(systables.entities.c.id == entity.id))
