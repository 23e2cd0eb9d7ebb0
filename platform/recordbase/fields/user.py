"""A user of Recordbase (an assignee, a manager): the id of a row of ``rb_users``."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, ClassVar

import marshmallow as ma
import sqlalchemy as sa

from recordbase import systables
from recordbase.fields.base import FieldType
from recordbase.fields.file import id_from_text
from recordbase.fields.link import RecordId
from recordbase.model import FieldDef

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from recordbase.catalog import Catalog

USER_LABELS = {"en": "User", "ru": "Пользователь", "hy": "Օգտատեր"}


class UserFieldType(FieldType):
    name = "user"
    converts_to: ClassVar[frozenset[str]] = frozenset({"integer"})
    widget = "user_picker"
    operators = ("eq", "ne", "in", "isnull")
    always_indexed = True
    can_have_default = False
    value_schema: ClassVar[dict[str, Any]] = {"type": "integer", "description": "id of a user"}

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.Integer()

    def columns(self, field: FieldDef, catalog: Catalog) -> list[sa.Column[Any]]:
        return [
            sa.Column(
                field.column,
                sa.Integer,
                sa.ForeignKey(f"{systables.users.name}.id", ondelete="SET NULL"),
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
        users = systables.users
        found = conn.execute(sa.select(users.c.id).where(users.c.id == value)).first()
        return None if found is not None else f"There is no user with id {value}."

    def display(self, field: FieldDef, value: Any, locale: str = "en") -> str:
        if value is None:
            return ""
        return f"{USER_LABELS.get(locale, USER_LABELS['en'])} #{value}"

    def fake_value(self, field: FieldDef, rnd: random.Random) -> Any:
        return None  # a user must exist first; callers pick one

    def strategy(self, field: FieldDef) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        return st.none()
