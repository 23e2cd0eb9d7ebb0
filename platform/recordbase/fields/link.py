"""A many-to-one link: a real foreign key to another entity's record, with an index."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import marshmallow as ma
import sqlalchemy as sa

from recordbase.errors import ValidationError
from recordbase.fields.base import FieldType, plain_placeholder
from recordbase.fields.integer import StrictInteger
from recordbase.messages import msg
from recordbase.model import FieldDef

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from recordbase.catalog import Catalog

ON_DELETE_SQL = {"restrict": "RESTRICT", "set_null": "SET NULL", "cascade": "CASCADE"}


class LinkOptions(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    target = ma.fields.String(required=True)
    on_delete = ma.fields.String(
        load_default="restrict", validate=ma.validate.OneOf(sorted(ON_DELETE_SQL))
    )


def check_target(cleaned: dict[str, Any], catalog: Catalog, *, allow_child: bool) -> None:
    target = catalog.entities.get(cleaned["target"])
    if target is None or target.removed:
        message = msg(
            "The target entity '{target}' does not exist.", target=cleaned["target"]
        )
        raise ValidationError(message, fields={"options": message})
    if target.child and not allow_child:
        message = (
            msg(
                "The entity '{target}' holds the lines of a child table and cannot be linked "
                "to.",
                target=target.name,
            )
        )
        raise ValidationError(message, fields={"options": message})


class RecordId(StrictInteger):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            strict=True,
            validate=ma.validate.Range(min=1, error="A record id is a positive integer."),
            **kwargs,
        )


class LinkFieldType(FieldType):
    name = "link"
    converts_to: ClassVar[frozenset[str]] = frozenset({"integer", "text"})
    widget = "link_picker"
    operators = ("eq", "ne", "in", "isnull")
    always_indexed = True
    can_have_default = False
    options_schema: ClassVar[type[ma.Schema]] = LinkOptions
    value_schema: ClassVar[dict[str, Any]] = {
        "type": "integer",
        "description": "id of the linked record",
    }

    def clean_options(self, options: Any, catalog: Catalog) -> dict[str, Any]:
        cleaned = super().clean_options(options, catalog)
        check_target(cleaned, catalog, allow_child=False)
        return cleaned

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.Integer()

    def columns(self, field: FieldDef, catalog: Catalog) -> list[sa.Column[Any]]:
        target = catalog.entities[field.options["target"]]
        ondelete = ON_DELETE_SQL[field.options.get("on_delete", "restrict")]
        return [
            sa.Column(
                field.column,
                sa.Integer,
                sa.ForeignKey(f"{target.table}.id", ondelete=ondelete),
                nullable=True,
            )
        ]

    def value_field(self, field: FieldDef) -> ma.fields.Field[Any]:
        return RecordId(allow_none=True)

    def filter_value(self, field: FieldDef, op: str, raw: Any) -> Any:
        return super().filter_value(
            field, op, int(raw) if isinstance(raw, str) and raw.isdigit() else raw
        )

    def import_value(self, field: FieldDef, text: str) -> Any:
        # a cell holds the id as text; the API's strict integer would refuse it
        digits = text.strip()
        return super().import_value(
            field,
            int(digits) if digits.isascii() and digits.isdigit() else text,  # type: ignore[arg-type]
        )

    column_is_reference = True

    def reference_target(self, field: FieldDef) -> str | None:
        return str(field.options["target"])

    def referenced_ids(self, field: FieldDef, value: Any) -> list[int]:
        return [value] if isinstance(value, int) else []

    def check_references(
        self, conn: sa.Connection, field: FieldDef, catalog: Catalog, value: Any
    ) -> str | None:
        if value is None:
            return None
        target = catalog.entity(field.options["target"])
        table = catalog.table(target)
        found = conn.execute(sa.select(table.c.id).where(table.c.id == value)).first()
        if found is None:
            return msg(
                "There is no {entity} with id {record_id}.", entity=target.label, record_id=value
            )
        return None

    def print_placeholder(self, field: FieldDef, record: str) -> str:
        return plain_placeholder(field, record)  # a linked record prints as its title

    def fake_value(self, field: FieldDef, rnd: random.Random) -> Any:
        return None  # a link needs a real record; callers make one

    def strategy(self, field: FieldDef) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        return st.none()

    def sample_options(self) -> dict[str, Any]:
        return {"target": "__target__", "on_delete": "restrict"}


def existing_ids(conn: sa.Connection, table: sa.Table, ids: Sequence[int]) -> set[int]:
    if not ids:
        return set()
    return set(conn.execute(sa.select(table.c.id).where(table.c.id.in_(list(ids)))).scalars())
