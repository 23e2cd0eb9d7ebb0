"""Many-to-many links: a list of target record ids kept in a junction table.

The junction ``m2m_{field id}`` holds (record_id, target_id, position); deleting either
record removes the link (ON DELETE CASCADE). Values are read a page at a time by
``load`` and written by ``save`` in the caller's transaction.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import marshmallow as ma
import sqlalchemy as sa

from recordbase.errors import ConversionError
from recordbase.fields.base import FieldType, flatten_messages
from recordbase.fields.link import RecordId, check_target, existing_ids
from recordbase.fields.row_reference import id_from_text
from recordbase.messages import msg
from recordbase.model import EntityDef, FieldDef

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from recordbase.catalog import Catalog

MAX_LINKS = 1000
SEPARATOR = "; "


class ManyToManyOptions(ma.Schema):
    """Only a target: a junction row goes with either of its records (no on_delete)."""

    class Meta:
        unknown = ma.RAISE

    target = ma.fields.String(required=True)


def junction_name(field: FieldDef) -> str:
    return f"m2m_{field.id}"


def unique_ids(values: list[int]) -> None:
    twice = [value for value, count in Counter(values).items() if count > 1]
    if twice:
        raise ma.ValidationError(msg("The record {record_id} is listed twice.", record_id=twice[0]))


class ManyToManyFieldType(FieldType):
    name = "many_to_many"
    widget = "multi_link_picker"
    operators = ("contains", "isnull")
    owns_column = False
    sortable = False
    can_be_unique = False
    can_be_indexed = False
    can_have_default = False
    options_schema: ClassVar[type[ma.Schema]] = ManyToManyOptions
    value_schema: ClassVar[dict[str, Any]] = {
        "type": "array",
        "items": {"type": "integer", "description": "id of a linked record"},
        "maxItems": MAX_LINKS,
    }

    def clean_options(self, options: Any, catalog: Catalog) -> dict[str, Any]:
        cleaned = super().clean_options(options, catalog)
        check_target(cleaned, catalog, allow_child=False)
        return cleaned

    def extra_tables(
        self, field: FieldDef, entity: EntityDef, catalog: Catalog, metadata: sa.MetaData
    ) -> list[sa.Table]:
        target = catalog.entities[field.options["target"]]
        name = junction_name(field)
        table = sa.Table(
            name,
            metadata,
            sa.Column(
                "record_id",
                sa.Integer,
                sa.ForeignKey(f"{entity.table}.id", ondelete="CASCADE"),
                primary_key=True,
            ),
            sa.Column(
                "target_id",
                sa.Integer,
                sa.ForeignKey(f"{target.table}.id", ondelete="CASCADE"),
                primary_key=True,
            ),
            sa.Column("position", sa.Integer, nullable=False, default=0),
            sa.Index(f"ix_{name}_target_id", "target_id"),
        )
        return [table]

    def reference_target(self, field: FieldDef) -> str | None:
        return str(field.options["target"])

    def referenced_ids(self, field: FieldDef, value: Any) -> list[int]:
        return [v for v in value or () if isinstance(v, int)]

    def value_field(self, field: FieldDef) -> ma.fields.Field[Any]:
        return ma.fields.List(
            RecordId(),
            allow_none=True,
            validate=[
                ma.validate.Length(max=MAX_LINKS, error=f"At most {MAX_LINKS} linked records."),
                unique_ids,
            ],
        )

    def to_db(self, field: FieldDef, value: Any) -> Any:
        return list(value or ())

    to_json = to_db

    def empty(self, value: Any) -> bool:
        return value is None or value == []

    def load(
        self, conn: sa.Connection, field: FieldDef, catalog: Catalog, ids: Sequence[int]
    ) -> dict[int, Any]:
        out: dict[int, Any] = {i: [] for i in ids}
        if not ids:
            return out
        table = catalog.extra_tables[field.id]
        rows = conn.execute(
            sa.select(table.c.record_id, table.c.target_id)
            .where(table.c.record_id.in_(list(ids)))
            .order_by(table.c.record_id, table.c.position, table.c.target_id)
        )
        for record_id, target_id in rows:
            out[record_id].append(target_id)
        return out

    def save(
        self, conn: sa.Connection, field: FieldDef, catalog: Catalog, record_id: int, value: Any
    ) -> None:
        table = catalog.extra_tables[field.id]
        conn.execute(sa.delete(table).where(table.c.record_id == record_id))
        rows = [
            {"record_id": record_id, "target_id": t, "position": i}
            for i, t in enumerate(value or ())
        ]
        if rows:
            conn.execute(sa.insert(table), rows)

    def check_references(
        self, conn: sa.Connection, field: FieldDef, catalog: Catalog, value: Any
    ) -> str | None:
        if not value:
            return None
        target = catalog.entity(field.options["target"])
        missing = sorted(set(value) - existing_ids(conn, catalog.table(target), list(value)))
        if not missing:
            return None
        if len(missing) == 1:
            return msg(
                "There is no {entity} with id {record_id}.",
                entity=target.label, record_id=missing[0],
            )
        shown = ", ".join(map(str, missing[:20])) + (" …" if len(missing) > 20 else "")
        return msg(
            "There are no {entities} with ids {ids}.", entities=target.label_plural, ids=shown
        )

    def filter_value(self, field: FieldDef, op: str, raw: Any) -> Any:
        try:
            return RecordId().deserialize(id_from_text(raw))
        except ma.ValidationError as exc:
            raise ConversionError(flatten_messages(exc.messages)) from exc

    def compile_filter(
        self, field: FieldDef, column: sa.ColumnElement[Any], op: str, value: Any
    ) -> sa.ColumnElement[bool]:
        # ``column`` is the owner table's id; the junction is named after the field
        junction = sa.table(junction_name(field), sa.column("record_id"), sa.column("target_id"))
        links = sa.select(sa.literal(1)).select_from(junction).where(junction.c.record_id == column)
        if op == "contains":
            return links.where(junction.c.target_id == value).exists()
        if op == "isnull":
            return ~links.exists() if value else links.exists()
        return super().compile_filter(field, column, op, value)

    def export_value(self, field: FieldDef, value: Any) -> str:
        return SEPARATOR.join(str(v) for v in value or ())

    def import_value(self, field: FieldDef, text: str) -> Any:
        parts = [id_from_text(p.strip()) for p in text.split(";") if p.strip()]
        try:
            return self.to_json(field, self.value_field(field).deserialize(parts))
        except ma.ValidationError as exc:
            raise ConversionError(flatten_messages(exc.messages)) from exc

    def print_placeholder(self, field: FieldDef, record: str) -> str:
        # the value is a list of records: their titles, comma-separated
        return (f"{{% for x in {record}.{field.name} %}}{{{{ x }}}}{{% if not loop.last %}}, "
                "{% endif %}{% endfor %}")

    def display(self, field: FieldDef, value: Any, locale: str = "en") -> str:
        return ", ".join(f"#{v}" for v in value or ())

    def fake_value(self, field: FieldDef, rnd: random.Random) -> Any:
        return []  # linked records must exist first; callers make them

    def strategy(self, field: FieldDef) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        return st.just([])  # None reads back as []; linked records must exist first

    def sample_options(self) -> dict[str, Any]:
        return {"target": "__target__"}
