"""The base of fields whose value is the id of a row of a system table (files, users)."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, ClassVar

import marshmallow as ma
import sqlalchemy as sa

from recordbase.fields.base import FieldType
from recordbase.fields.link import RecordId
from recordbase.messages import msg
from recordbase.model import FieldDef

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from recordbase.catalog import Catalog


def id_from_text(raw: Any) -> Any:
    """An id written as text (a query string, a spreadsheet cell) as the integer it names."""
    if isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
        return int(raw.strip())
    return raw


class RowReferenceFieldType(FieldType):
    """Subclasses set ``referenced`` (the table) and ``labels`` (the noun per locale)."""

    referenced: ClassVar[sa.Table]
    #: the columns ``check_row`` looks at (never a file's contents)
    checked_columns: ClassVar[tuple[str, ...]] = ("id",)
    #: what a value is called in messages, and its label per locale for display
    noun: ClassVar[str] = msg("record")
    labels: ClassVar[dict[str, str]] = {"en": "Record"}
    always_indexed = True  # deleting the row looks up the records that refer to it
    can_have_default = False

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.Integer()

    def columns(self, field: FieldDef, catalog: Catalog) -> list[sa.Column[Any]]:
        return [
            sa.Column(
                field.column,
                sa.Integer,
                sa.ForeignKey(f"{self.referenced.name}.id", ondelete="SET NULL"),
                nullable=True,
            )
        ]

    def value_field(self, field: FieldDef) -> ma.fields.Field[Any]:
        return RecordId(allow_none=True)

    def filter_value(self, field: FieldDef, op: str, raw: Any) -> Any:
        return super().filter_value(field, op, id_from_text(raw))

    def import_value(self, field: FieldDef, text: str) -> Any:
        return super().import_value(field, id_from_text(text))

    def check_references(
        self, conn: sa.Connection, field: FieldDef, catalog: Catalog, value: Any
    ) -> str | None:
        if value is None:
            return None
        columns = [self.referenced.c[name] for name in self.checked_columns]
        row = (
            conn.execute(sa.select(*columns).where(self.referenced.c.id == value))
            .mappings()
            .first()
        )
        if row is None:
            return msg("There is no {noun} with id {record_id}.", noun=self.noun, record_id=value)
        return self.check_row(value, row)

    def check_row(self, row_id: int, row: Any) -> str | None:
        """A sentence when the referenced row exists but does not suit this field."""
        return None

    def display(self, field: FieldDef, value: Any, locale: str = "en") -> str:
        if value is None:
            return ""
        return f"{self.labels.get(locale, self.labels['en'])} #{value}"

    def fake_value(self, field: FieldDef, rnd: random.Random) -> Any:
        return None  # the row must exist first; callers make one

    def strategy(self, field: FieldDef) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        return st.none()
