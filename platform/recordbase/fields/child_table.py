"""Child table: lines that belong to one parent record and are saved with it.

The lines live in the table of a ``child`` entity (so their fields are ordinary
metadata, changeable at runtime). This field adds two columns to that table: the
parent's id (a real foreign key, ON DELETE CASCADE, indexed) and the line's
position. A record carries its lines as a list of row objects; saving the record
saves the list: lines with an ``id`` are updated, new ones inserted, missing ones
deleted, all in the record's transaction.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import marshmallow as ma
import sqlalchemy as sa

from recordbase import systables
from recordbase.errors import ConversionError, ValidationError
from recordbase.fields.base import FieldType
from recordbase.messages import msg
from recordbase.model import EntityDef, FieldDef

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from recordbase.catalog import Catalog

MAX_LINES = 1000


class ChildTableOptions(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    target = ma.fields.String(required=True)


def parent_column(field: FieldDef) -> str:
    return f"p_{field.id}"


def position_column(field: FieldDef) -> str:
    return f"p_{field.id}_pos"


class ChildTableFieldType(FieldType):
    name = "child_table"
    widget = "child_table"
    operators = ()
    owns_column = False
    sortable = False
    can_be_unique = False
    can_be_indexed = False
    can_have_default = False
    options_schema: ClassVar[type[ma.Schema]] = ChildTableOptions
    value_schema: ClassVar[dict[str, Any]] = {"type": "array", "items": {"type": "object"}}

    def clean_options(self, options: Any, catalog: Catalog) -> dict[str, Any]:
        cleaned = super().clean_options(options, catalog)
        target = catalog.entities.get(cleaned["target"])
        if target is None or target.removed:
            message = msg(
            "The target entity '{target}' does not exist.", target=cleaned["target"]
        )
            raise ValidationError(message, fields={"options": message})
        if not target.child:
            message = msg(
                "The entity '{target}' is not an entity of child-table lines (child: true).",
                target=target.name,
            )
            raise ValidationError(message, fields={"options": message})
        for owner, other in catalog.fields_targeting(target):
            if other.type == self.name and not other.removed:
                message = msg(
                    "The lines of '{target}' already belong to {owner}.{other}.",
                    target=target.name, owner=owner.name, other=other.name,
                )
                raise ValidationError(message, fields={"options": message})
        return cleaned

    def columns_in_target(self, field: FieldDef, owner: EntityDef) -> list[sa.Column[Any]]:
        return [
            sa.Column(
                parent_column(field),
                sa.Integer,
                sa.ForeignKey(f"{owner.table}.id", ondelete="CASCADE"),
                nullable=True,
                index=True,
            ),
            sa.Column(position_column(field), sa.Integer, nullable=True),
        ]

    def source_column(self, field: FieldDef) -> str | None:
        return None

    def value_field(self, field: FieldDef) -> ma.fields.Field[Any]:
        return ma.fields.List(
            ma.fields.Dict(), allow_none=True, validate=ma.validate.Length(max=MAX_LINES)
        )

    def to_json(self, field: FieldDef, value: Any) -> Any:
        return [] if value is None else value

    def empty(self, value: Any) -> bool:
        return not value

    def line_entity(self, field: FieldDef, catalog: Catalog) -> EntityDef | None:
        target = catalog.entities.get(str(field.options.get("target")))
        return target if target is not None and not target.removed else None

    def _target(self, field: FieldDef, catalog: Catalog) -> tuple[EntityDef, sa.Table]:
        target = catalog.entity(str(field.options["target"]))
        return target, catalog.table(target)

    def parse_input(self, conn: sa.Connection, field: FieldDef, catalog: Catalog, raw: Any) -> Any:
        from recordbase.records.rows import validate_values

        lines = self.value_field(field).deserialize(raw) or []
        target, _ = self._target(field, catalog)
        parsed: list[dict[str, Any]] = []
        errors: dict[str, Any] = {}
        for index, line in enumerate(lines):
            line_id = line.get("id")
            if line_id is not None and (isinstance(line_id, bool) or not isinstance(line_id, int)):
                errors[f"{index}"] = {"id": "A line id is an integer."}
                continue
            try:
                values = validate_values(
                    conn,
                    catalog,
                    target,
                    line,
                    partial=line_id is not None,
                    allowed_extra=frozenset({"id"}),
                )
            except ValidationError as exc:
                errors[f"{index}"] = exc.fields
                continue
            parsed.append(values)
        if errors:
            first = next(iter(errors))
            raise ValidationError(
                msg(
                    "Line {line} of {field} has problems.",
                    line=int(first) + 1, field=field.label,
                ),
                fields={k: v for k, v in errors.items()},
            )
        return parsed

    def load(
        self, conn: sa.Connection, field: FieldDef, catalog: Catalog, ids: Sequence[int]
    ) -> dict[int, Any]:
        from recordbase.records.rows import rows_to_json, select_columns

        target, table = self._target(field, catalog)
        parent = table.c[parent_column(field)]
        rows = (
            conn.execute(
                sa.select(*select_columns(target, table, catalog), parent.label("_parent"))
                .where(parent.in_(list(ids)))
                .order_by(parent, table.c[position_column(field)], table.c.id)
            )
            .mappings()
            .all()
        )
        out: dict[int, list[Any]] = {}
        for row, item in zip(rows, rows_to_json(conn, catalog, target, rows), strict=True):
            out.setdefault(row["_parent"], []).append(item)
        return out

    def save(
        self, conn: sa.Connection, field: FieldDef, catalog: Catalog, record_id: int, value: Any
    ) -> None:
        target, table = self._target(field, catalog)
        parent = table.c[parent_column(field)]
        existing = set(conn.execute(sa.select(table.c.id).where(parent == record_id)).scalars())
        kept = {line["id"] for line in value or [] if line.get("id") is not None}
        foreign = kept - existing
        if foreign:
            raise ValidationError(
                msg(
                    "{field}: lines {ids} do not belong to this record.",
                    field=field.label, ids=sorted(foreign),
                ),
                fields={field.name: msg("Unknown line ids.")},
            )
        if existing - kept:
            conn.execute(sa.delete(table).where(table.c.id.in_(sorted(existing - kept))))
        now = systables.utcnow()
        for index, line in enumerate(value or []):
            row = {self._column(catalog, target, k): v for k, v in line.items() if k != "id"}
            row.update({position_column(field): index, "updated_at": now})
            if line.get("id") is not None:
                row["version"] = table.c.version + 1
                conn.execute(sa.update(table).where(table.c.id == line["id"]).values(row))
            else:
                row.update({parent_column(field): record_id, "version": 1, "created_at": now})
                for fdef in target.fields:
                    ftype = catalog.type_of(fdef)
                    source = ftype.source_column(fdef)
                    if fdef.name in line or source is None:
                        continue
                    if ftype.read_only:
                        generated = ftype.generate(conn, fdef, target)
                        if generated is not None:
                            row[source] = generated
                    elif fdef.default is not None:
                        row[source] = ftype.to_db(
                            fdef, ftype.value_field(fdef).deserialize(fdef.default)
                        )
                conn.execute(sa.insert(table).values(row))

    def _column(self, catalog: Catalog, target: EntityDef, name: str) -> str:
        fdef = target.field(name)
        source = catalog.type_of(fdef).source_column(fdef)
        if source is None:
            raise ValidationError(msg(
                "The field '{name}' cannot be used inside child-table lines.",
                name=name,
            ))
        return source

    def export_value(self, field: FieldDef, value: Any) -> str:
        """The lines as one JSON cell, without their ids (which belong to this database)."""
        lines = [
            {k: v for k, v in line.items() if k not in ("id", "version")} for line in value or []
        ]
        return json.dumps(lines, ensure_ascii=False, separators=(",", ":")) if lines else ""

    def import_value(self, field: FieldDef, text: str) -> Any:
        if not text.strip():
            return []
        try:
            lines = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConversionError(msg("The lines are not valid JSON: {why}.", why=exc.msg)) from exc
        if not isinstance(lines, list) or not all(isinstance(x, dict) for x in lines):
            raise ConversionError(msg("The lines are a JSON list of objects."))
        if len(lines) > MAX_LINES:
            raise ConversionError(msg("At most {max_lines} lines.", max_lines=MAX_LINES))
        return lines

    def print_placeholder(self, field: FieldDef, record: str) -> str:
        # the lines are printed by a loop (the palette's lines group); alone: how many
        return f"{{{{ {record}.{field.name}|length }}}}"

    def display(self, field: FieldDef, value: Any, locale: str = "en") -> str:
        count = len(value or [])
        if not count:
            return ""
        return {"ru": f"строк: {count}", "hy": f"տողեր՝ {count}"}.get(locale, f"{count} lines")

    def fake_value(self, field: FieldDef, rnd: random.Random) -> Any:
        return []

    def strategy(self, field: FieldDef) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        return st.just([])

    def sample_options(self) -> dict[str, Any]:
        return {"target": "__child__"}
