"""SchemaService: every change to entities and fields goes through here.

Each change runs in one write transaction: the metadata version row is bumped
first (which also serialises structural changes: a row lock on PostgreSQL, the
write lock on SQLite), the metadata rows are written, the DDL runs, and a journal
entry records before and after. PostgreSQL's DDL is transactional and SQLite's is
too once the driver stops committing on its own (see ``recordbase.db``), so a
failure anywhere leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from recordbase import db, systables
from recordbase.catalog import Catalog, CatalogCache, load_catalog
from recordbase.errors import Conflict, ValidationError
from recordbase.fields.base import flatten_messages
from recordbase.model import EntityDef, FieldDef
from recordbase.names import (
    RESERVED_ENTITY_NAMES,
    RESERVED_FIELD_NAMES,
    check_label,
    check_name,
)
from recordbase.schema import ddl
from recordbase.schema.policy import StructurePolicy
from recordbase.schema.specs import (
    EntityPatch,
    EntitySpec,
    FieldSpec,
    entity_to_json,
    field_to_json,
    humanize,
    load_spec,
)
from recordbase.schema.tables import field_indexes

PG_LOCK_TIMEOUT = "3s"


class SchemaService:
    def __init__(self, engine: sa.Engine, cache: CatalogCache, policy: StructurePolicy) -> None:
        self.engine = engine
        self.cache = cache
        self.registry = cache.registry
        self.policy = policy

    # --- transaction frame ------------------------------------------------------

    def _begin_change(self, conn: sa.Connection) -> Catalog:
        """Take the structure lock, check the licence, and read the catalog afresh."""
        if conn.dialect.name == "postgresql":
            # a long report must not make every user queue behind our ALTER
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{PG_LOCK_TIMEOUT}'")
        bumped = conn.execute(
            sa.update(systables.meta_version)
            .where(systables.meta_version.c.id == 1)
            .values(version=systables.meta_version.c.version + 1, changed_at=systables.utcnow())
        )
        if bumped.rowcount == 0:
            conn.execute(
                sa.insert(systables.meta_version).values(
                    id=1, version=1, changed_at=systables.utcnow()
                )
            )
        self.policy.check_structure_change(conn)
        return load_catalog(conn, self.registry)

    def _journal(
        self,
        conn: sa.Connection,
        operation: str,
        user_id: int | None,
        entity: str | None,
        field: str | None,
        before: Any,
        after: Any,
    ) -> None:
        conn.execute(
            sa.insert(systables.journal).values(
                operation=operation,
                user_id=user_id,
                entity=entity,
                field=field,
                before=before,
                after=after,
            )
        )

    # --- entities -----------------------------------------------------------------

    def create_entity(self, data: Any, *, user_id: int | None = None) -> EntityDef:
        spec = load_spec(EntitySpec(), data, "entity")
        with db.write(self.engine) as conn:
            catalog = self._begin_change(conn)
            entity = self._create_entity(conn, catalog, spec)
            self._journal(
                conn, "create_entity", user_id, entity.name, None, None, entity_to_json(entity)
            )
        self.cache.invalidate()
        return entity

    def _create_entity(
        self, conn: sa.Connection, catalog: Catalog, spec: dict[str, Any]
    ) -> EntityDef:
        name = check_name(spec["name"], "entity", reserved=RESERVED_ENTITY_NAMES)
        if name in catalog.entities:
            raise Conflict(
                f"An entity named {name!r} already exists.", fields={"name": "Already taken."}
            )
        label = check_label(spec["label"] or humanize(name), "entity")
        plural = check_label(spec["label_plural"] or label, "entity", "label_plural")
        if spec["tree"] and not spec["directory"]:
            raise ValidationError(
                "Only a directory can be a tree (set directory to true).",
                fields={"tree": "Only directories can be trees."},
            )
        if spec["child"] and (spec["directory"] or spec["tree"]):
            raise ValidationError("An entity of child-table lines cannot be a directory.")
        position = len(catalog.entities)
        entity_id = conn.execute(
            sa.insert(systables.entities)
            .values(
                name=name,
                label=label,
                label_plural=plural,
                directory=spec["directory"],
                tree=spec["tree"],
                child=spec["child"],
                title_field=None,
                position=position,
                removed=False,
            )
            .returning(systables.entities.c.id)
        ).scalar_one()
        catalog = load_catalog(conn, self.registry)
        seen: set[str] = set()
        for index, raw in enumerate(spec["field_list"]):
            try:
                values = self._field_values(raw, catalog.entity(name), catalog)
            except ValidationError as exc:
                raise ValidationError(
                    f"Field {index + 1} of {name!r}: {exc.message}",
                    fields={f"fields[{index}].{k}": v for k, v in exc.fields.items()},
                ) from exc
            if values["name"] in seen:
                raise ValidationError(
                    f"The entity {name!r} lists the field {values['name']!r} twice.",
                    fields={f"fields[{index}].name": "Duplicate name."},
                )
            seen.add(values["name"])
            values.pop("fill_existing")
            conn.execute(
                sa.insert(systables.fields).values(entity_id=entity_id, position=index, **values)
            )
        catalog = load_catalog(conn, self.registry)
        entity = catalog.entity(name)
        if spec["title_field"] is not None:
            self._check_title_field(entity, spec["title_field"])
            conn.execute(
                sa.update(systables.entities)
                .where(systables.entities.c.id == entity_id)
                .values(title_field=spec["title_field"])
            )
            catalog = load_catalog(conn, self.registry)
            entity = catalog.entity(name)
        catalog.table(entity).create(conn)
        for fdef in entity.fields:
            self._create_field_storage(conn, catalog, entity, fdef, own_columns=False)
        return entity

    def update_entity(self, name: str, data: Any, *, user_id: int | None = None) -> EntityDef:
        spec = load_spec(EntityPatch(), data, "entity")
        with db.write(self.engine) as conn:
            catalog = self._begin_change(conn)
            entity = catalog.entity(name)
            values: dict[str, Any] = {}
            if "label" in spec:
                values["label"] = check_label(spec["label"], "entity")
            if "label_plural" in spec:
                values["label_plural"] = check_label(spec["label_plural"], "entity", "label_plural")
            if "title_field" in spec:
                if spec["title_field"] is not None:
                    self._check_title_field(entity, spec["title_field"])
                values["title_field"] = spec["title_field"]
            if values:
                conn.execute(
                    sa.update(systables.entities)
                    .where(systables.entities.c.id == entity.id)
                    .values(**values)
                )
            after = load_catalog(conn, self.registry).entity(name)
            self._journal(
                conn,
                "update_entity",
                user_id,
                name,
                None,
                entity_to_json(entity, with_fields=False),
                entity_to_json(after, with_fields=False),
            )
        self.cache.invalidate()
        return after

    def _check_title_field(self, entity: EntityDef, title_field: str) -> None:
        if not entity.has_field(title_field):
            msg = f"The title field {title_field!r} is not a field of {entity.name!r}."
            raise ValidationError(msg, fields={"title_field": msg})

    # --- fields -------------------------------------------------------------------

    def add_field(self, entity_name: str, data: Any, *, user_id: int | None = None) -> FieldDef:
        with db.write(self.engine) as conn:
            catalog = self._begin_change(conn)
            entity = catalog.entity(entity_name)
            values = self._field_values(data, entity, catalog)
            fill = values.pop("fill_existing")
            position = max((f.position for f in entity.all_fields), default=-1) + 1
            field_id = conn.execute(
                sa.insert(systables.fields)
                .values(entity_id=entity.id, position=position, **values)
                .returning(systables.fields.c.id)
            ).scalar_one()
            catalog = load_catalog(conn, self.registry)
            entity = catalog.entity(entity_name)
            fdef = entity.field_by_id(field_id)
            self._create_field_storage(conn, catalog, entity, fdef, own_columns=True)
            self._fill_new_field(conn, catalog, entity, fdef, fill)
            self._journal(
                conn, "add_field", user_id, entity.name, fdef.name, None, field_to_json(fdef)
            )
        self.cache.invalidate()
        return fdef

    def _field_values(self, data: Any, entity: EntityDef, catalog: Catalog) -> dict[str, Any]:
        spec = load_spec(FieldSpec(), data, "field")
        name = check_name(spec["name"], "field", reserved=RESERVED_FIELD_NAMES)
        if any(f.name == name for f in entity.all_fields):
            hidden = any(f.name == name and f.removed for f in entity.all_fields)
            msg = (
                f"The entity {entity.name!r} has a removed field named {name!r}; restore or "
                "purge it first."
                if hidden
                else f"The entity {entity.name!r} already has a field named {name!r}."
            )
            raise Conflict(msg, fields={"name": msg})
        ftype = self.registry.get(spec["type"]) if spec["type"] in self.registry else None
        if ftype is None:
            msg = (
                f"Unknown field type {spec['type']!r}; the types are: "
                f"{', '.join(self.registry.names())}."
            )
            raise ValidationError(msg, fields={"type": msg})
        options = ftype.clean_options(spec["options"], catalog)
        if spec["unique"] and not ftype.can_be_unique:
            raise ValidationError(
                f"A {ftype.name} field cannot be unique.",
                fields={"unique": "Not available for this type."},
            )
        if spec["indexed"] and not ftype.can_be_indexed:
            raise ValidationError(
                f"A {ftype.name} field cannot be indexed.",
                fields={"indexed": "Not available for this type."},
            )
        default = spec["default"]
        if default is not None:
            if not ftype.can_have_default or ftype.read_only:
                raise ValidationError(
                    f"A {ftype.name} field cannot have a default value.",
                    fields={"default": "Not available for this type."},
                )
            probe = FieldDef(
                id=0, entity_id=entity.id, name=name, label=name, type=ftype.name, options=options
            )
            try:
                parsed = ftype.value_field(probe).deserialize(default)
            except ma.ValidationError as exc:
                msg = f"The default value is not valid: {flatten_messages(exc.messages)}"
                raise ValidationError(msg, fields={"default": msg}) from exc
            default = ftype.to_json(probe, ftype.to_db(probe, parsed))
        return {
            "name": name,
            "label": check_label(spec["label"] or humanize(name), "field"),
            "type": ftype.name,
            "options": options,
            "required": spec["required"],
            "is_unique": spec["unique"],
            "indexed": spec["indexed"],
            "default": default,
            "help": spec["help"],
            "removed": False,
            "fill_existing": spec["fill_existing"],
        }

    def _create_field_storage(
        self,
        conn: sa.Connection,
        catalog: Catalog,
        entity: EntityDef,
        fdef: FieldDef,
        *,
        own_columns: bool,
    ) -> None:
        """Columns (unless the table was just made with them), target columns, tables, indexes."""
        ftype = catalog.type_of(fdef)
        if own_columns:
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
        if own_columns:
            table = catalog.table(entity)
            wanted = {ix.name for ix in field_indexes(entity, fdef, catalog)}
            for index in table.indexes:
                if index.name in wanted:
                    ddl.create_index(conn, index)

    def _fill_new_field(
        self, conn: sa.Connection, catalog: Catalog, entity: EntityDef, fdef: FieldDef, fill: bool
    ) -> None:
        ftype = catalog.type_of(fdef)
        column = ftype.source_column(fdef)
        if column is None:
            return
        table = catalog.table(entity)
        rows = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        if not rows:
            return
        if fill and fdef.default is not None:
            if fdef.unique and rows > 1:
                raise Conflict(
                    f"{rows} existing rows would all get the same value, but {fdef.name!r} "
                    "must be unique."
                )
            value = ftype.to_db(fdef, ftype.value_field(fdef).deserialize(fdef.default))
            conn.execute(sa.update(table).values({column: value}))
        elif fdef.required:
            raise ValidationError(
                f"The entity {entity.name!r} has {rows} records that would have no value for "
                f"the required field {fdef.name!r}; give a default and set fill_existing.",
                fields={"required": "Existing records would be empty."},
            )

    def update_field(
        self,
        entity_name: str,
        field_name: str,
        data: Mapping[str, Any],
        *,
        user_id: int | None = None,
    ) -> FieldDef:
        """Rename a field (API name and label) or change its help text: metadata only."""
        allowed = {"name", "label", "help"}
        if not isinstance(data, Mapping):
            raise ValidationError("The field change must be a JSON object.")
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ValidationError(
                f"This version changes only the name, label and help of a field; "
                f"{', '.join(unknown)} cannot be changed here.",
                fields={k: "Cannot be changed here." for k in unknown},
            )
        with db.write(self.engine) as conn:
            catalog = self._begin_change(conn)
            entity = catalog.entity(entity_name)
            fdef = entity.field(field_name)
            values: dict[str, Any] = {}
            if "name" in data and data["name"] != fdef.name:
                new = check_name(data["name"], "field", reserved=RESERVED_FIELD_NAMES)
                if any(f.name == new for f in entity.all_fields):
                    raise Conflict(
                        f"The entity {entity.name!r} already has a field named {new!r}.",
                        fields={"name": "Already taken."},
                    )
                values["name"] = new
            if "label" in data:
                values["label"] = check_label(data["label"], "field")
            if "help" in data:
                if not isinstance(data["help"], str) or len(data["help"]) > 2000:
                    raise ValidationError(
                        "The help text must be text of at most 2000 characters.",
                        fields={"help": "At most 2000 characters."},
                    )
                values["help"] = data["help"]
            if values:
                conn.execute(
                    sa.update(systables.fields)
                    .where(systables.fields.c.id == fdef.id)
                    .values(**values)
                )
                if "name" in values and entity.title_field == fdef.name:
                    conn.execute(
                        sa.update(systables.entities)
                        .where(systables.entities.c.id == entity.id)
                        .values(title_field=values["name"])
                    )
            after = load_catalog(conn, self.registry).entity(entity_name).field_by_id(fdef.id)
            self._journal(
                conn,
                "update_field",
                user_id,
                entity.name,
                after.name,
                field_to_json(fdef),
                field_to_json(after),
            )
        self.cache.invalidate()
        return after
