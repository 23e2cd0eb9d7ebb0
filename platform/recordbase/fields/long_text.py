"""Multi-line text: notes, descriptions, addresses."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, ClassVar

import marshmallow as ma
import sqlalchemy as sa

from recordbase.fields.base import FieldType, plain_placeholder
from recordbase.fields.text import empty_to_none
from recordbase.messages import msg
from recordbase.model import FieldDef

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

MAX_LONG_TEXT_LENGTH = 1_000_000
DEFAULT_LONG_TEXT_LENGTH = 100_000
LINE_BREAKS = "\t\n\r"


class LongTextOptions(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    max_length = ma.fields.Integer(
        load_default=DEFAULT_LONG_TEXT_LENGTH,
        validate=ma.validate.Range(min=1, max=MAX_LONG_TEXT_LENGTH),
    )


def no_control_characters_but_line_breaks(value: str) -> None:
    if any(ord(ch) < 32 and ch not in LINE_BREAKS for ch in value):
        raise ma.ValidationError(
            msg("Control characters other than line breaks and tabs are not allowed.")
        )


class LongTextFieldType(FieldType):
    name = "long_text"
    converts_to: ClassVar[frozenset[str]] = frozenset(
        {
            "boolean",
            "date",
            "datetime",
            "decimal",
            "email",
            "integer",
            "money",
            "multi_select",
            "percent",
            "phone",
            "single_select",
            "text",
            "url",
        }
    )
    widget = "textarea"
    operators = ("contains", "startswith", "isnull")
    searchable = True
    can_be_unique = False
    # a b-tree entry cannot hold a long text (PostgreSQL refuses rows over ~2.7 kB)
    can_be_indexed = False
    options_schema: ClassVar[type[ma.Schema]] = LongTextOptions
    value_schema: ClassVar[dict[str, Any]] = {"type": "string"}

    def max_length(self, field: FieldDef) -> int:
        return int(field.options.get("max_length", DEFAULT_LONG_TEXT_LENGTH))

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.Text()

    def value_field(self, field: FieldDef) -> ma.fields.Field[Any]:
        limit = self.max_length(field)
        return ma.fields.String(
            allow_none=True,
            pre_load=empty_to_none,
            validate=[
                ma.validate.Length(max=limit, error=f"At most {limit} characters."),
                no_control_characters_but_line_breaks,
            ],
        )

    def filter_value(self, field: FieldDef, op: str, raw: Any) -> Any:
        return str(raw)

    def print_placeholder(self, field: FieldDef, record: str) -> str:
        return plain_placeholder(field, record)  # the text as typed

    def fake_value(self, field: FieldDef, rnd: random.Random) -> Any:
        lines = (
            "Call back after the holidays.",
            "Перезвонить после праздников.",
            "Զանգահարել տոներից հետո։",
            "Delivery to the back entrance, 2nd floor.",
            "Доставка к заднему входу, 2-й этаж.",
        )
        text = "\n".join(rnd.choice(lines) for _ in range(rnd.randint(1, 3)))
        return text[: self.max_length(field)]

    def strategy(self, field: FieldDef) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        alphabet = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")) | st.sampled_from(
            LINE_BREAKS
        )
        return (
            st.text(alphabet=alphabet, min_size=1, max_size=min(self.max_length(field), 300))
            | st.none()
        )

    def sample_options(self) -> dict[str, Any]:
        return {"max_length": 5000}
