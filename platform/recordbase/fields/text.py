"""Single-line text."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, ClassVar

import marshmallow as ma
import sqlalchemy as sa

from recordbase.fields.base import FieldType, plain_placeholder
from recordbase.messages import msg
from recordbase.model import FieldDef

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

MAX_TEXT_LENGTH = 4000


class TextOptions(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    max_length = ma.fields.Integer(
        load_default=255, validate=ma.validate.Range(min=1, max=MAX_TEXT_LENGTH)
    )


def no_control_characters(value: str) -> None:
    if any(ord(ch) < 32 and ch not in "\t" for ch in value) or "\x00" in value:
        raise ma.ValidationError(msg("Control characters and line breaks are not allowed here."))


def empty_to_none(value: Any) -> Any:
    """An empty string means no value: stored as NULL, so ``isnull`` and exports agree."""
    return None if value == "" else value


class TextFieldType(FieldType):
    name = "text"
    converts_to: ClassVar[frozenset[str]] = frozenset(
        {
            "boolean",
            "date",
            "datetime",
            "decimal",
            "email",
            "integer",
            "long_text",
            "money",
            "multi_select",
            "percent",
            "phone",
            "single_select",
            "url",
        }
    )
    widget = "text"
    operators = ("eq", "ne", "contains", "startswith", "endswith", "in", "isnull")
    searchable = True
    options_schema = TextOptions
    value_schema: ClassVar[dict[str, Any]] = {"type": "string"}

    def max_length(self, field: FieldDef) -> int:
        return int(field.options.get("max_length", 255))

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.String(self.max_length(field))

    def value_field(self, field: FieldDef) -> ma.fields.Field[Any]:
        return ma.fields.String(
            allow_none=True,
            pre_load=empty_to_none,
            validate=[
                ma.validate.Length(max=self.max_length(field)),
                no_control_characters,
            ],
        )

    def storage_compatible(self, old: FieldDef, new: FieldDef) -> bool:
        # a longer limit keeps every stored value as it is
        return old.type == new.type and self.max_length(new) >= self.max_length(old)

    def filter_value(self, field: FieldDef, op: str, raw: Any) -> Any:
        # a filter may look for any text, even longer than the column holds
        return str(raw)

    def print_placeholder(self, field: FieldDef, record: str) -> str:
        return plain_placeholder(field, record)  # the text as typed

    def fake_value(self, field: FieldDef, rnd: random.Random) -> Any:
        words = ("Alpha", "Бета", "Գամմա", "Delta", "Север", "Երևան", "Omega", "Ltd")
        text = " ".join(rnd.choice(words) for _ in range(rnd.randint(1, 4)))
        return text[: self.max_length(field)]

    def strategy(self, field: FieldDef) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        alphabet = st.characters(
            codec="utf-8", exclude_categories=("Cc", "Cs"), exclude_characters="\x00"
        )
        # "" is stored as NULL: the canonical empty value is None
        return (
            st.text(alphabet=alphabet, min_size=1, max_size=min(self.max_length(field), 60))
            | st.none()
        )

    def sample_options(self) -> dict[str, Any]:
        return {"max_length": 120}
