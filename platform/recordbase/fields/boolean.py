"""Yes/no values."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, ClassVar

import marshmallow as ma
import sqlalchemy as sa

from recordbase.errors import ConversionError
from recordbase.fields.base import FieldType
from recordbase.messages import msg
from recordbase.model import FieldDef

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

#: words a spreadsheet cell or a query string may use (compared in lower case)
TRUE_WORDS = frozenset({"true", "yes", "1", "да", "այո"})
FALSE_WORDS = frozenset({"false", "no", "0", "нет", "ոչ"})
LABELS = {"en": ("Yes", "No"), "ru": ("Да", "Нет"), "hy": ("Այո", "Ոչ")}


class StrictBoolean(ma.fields.Field[bool]):
    """JSON true or false only: no strings, no numbers."""

    default_error_messages = {"invalid": "Use true or false."}  # noqa: RUF012 (marshmallow merges it per class)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def parse_word(text: str) -> bool | None:
    word = text.strip().lower()
    if word == "":
        return None
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConversionError(
        msg(
            "{text} is not a yes/no value: use true/false, yes/no, 1/0 or да/нет.",
            text=repr(text[:40]),
        )
    )


class BooleanFieldType(FieldType):
    name = "boolean"
    converts_to: ClassVar[frozenset[str]] = frozenset({"integer", "long_text", "text"})
    widget = "checkbox"
    operators = ("eq", "ne", "isnull")
    can_be_unique = False
    value_schema: ClassVar[dict[str, Any]] = {"type": "boolean"}

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.Boolean()

    def value_field(self, field: FieldDef) -> ma.fields.Field[Any]:
        return StrictBoolean(allow_none=True)

    def to_json(self, field: FieldDef, value: Any) -> Any:
        return None if value is None else bool(value)

    def filter_value(self, field: FieldDef, op: str, raw: Any) -> Any:
        if isinstance(raw, bool):
            return raw
        value = parse_word(str(raw))
        if value is None:
            raise ConversionError(msg("Give true or false."))
        return value

    def export_value(self, field: FieldDef, value: Any) -> str:
        return "" if value is None else ("true" if value else "false")

    def import_value(self, field: FieldDef, text: str) -> Any:
        return parse_word(text)

    def display(self, field: FieldDef, value: Any, locale: str = "en") -> str:
        if value is None:
            return ""
        yes, no = LABELS.get(locale, LABELS["en"])
        return yes if value else no

    def fake_value(self, field: FieldDef, rnd: random.Random) -> Any:
        return rnd.random() < 0.5

    def strategy(self, field: FieldDef) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        return st.booleans() | st.none()
