"""Whole numbers (64-bit)."""

from __future__ import annotations

import decimal
import random
from typing import TYPE_CHECKING, Any, ClassVar

import marshmallow as ma
import sqlalchemy as sa

from recordbase.errors import ConversionError
from recordbase.fields.base import FieldType, plain_placeholder
from recordbase.fields.computed import NumericOptions
from recordbase.messages import msg
from recordbase.model import FieldDef

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


class StrictInteger(ma.fields.Integer):
    """An integer that refuses booleans and numbers with a fraction instead of truncating them.

    Whole numbers written as text ("42", from a query string or a spreadsheet) and
    floats without a fraction (42.0) are accepted; 1.5 is an error, never 1.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error_messages["invalid"] = "Not a whole number."

    def _validated(self, value: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid", input=value)
        if isinstance(value, str):
            text = value.strip()
            if not text.isascii() or not text.lstrip("+-").isdigit() or len(text) > 21:
                raise self.make_error("invalid", input=value)
            value = text
        return super()._validated(value)


class IntegerFieldType(FieldType):
    name = "integer"
    converts_to: ClassVar[frozenset[str]] = frozenset(
        {
            "boolean",
            "decimal",
            "link",
            "long_text",
            "money",
            "percent",
            "single_select",
            "text",
            "user",
        }
    )
    widget = "number"
    operators = ("eq", "ne", "lt", "lte", "gt", "gte", "between", "in", "isnull")
    value_schema: ClassVar[dict[str, Any]] = {"type": "integer", "format": "int64"}
    options_schema: ClassVar[type[ma.Schema]] = NumericOptions
    numeric = True
    total_by_default = True

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.BigInteger()

    def value_field(self, field: FieldDef) -> ma.fields.Field[Any]:
        return StrictInteger(
            strict=False,
            allow_none=True,
            validate=ma.validate.Range(
                min=INT64_MIN,
                max=INT64_MAX,
                error="The number must be between -9223372036854775808 and 9223372036854775807.",
            ),
        )

    def convert_value(
        self, field: FieldDef, source_type: FieldType, source: FieldDef, value: Any
    ) -> Any:
        # true/false and decimals without a fraction are whole numbers; 12.50 is not
        if isinstance(value, bool):
            return int(value)
        text = source_type.export_value(source, value).strip().replace("\u00a0", "")
        try:
            number = decimal.Decimal(text)
        except decimal.InvalidOperation:
            return self.import_value(field, text)
        if not number.is_finite() or number != number.to_integral_value():
            raise ConversionError(msg("{text} is not a whole number.", text=text))
        return self.import_value(field, str(int(number)))

    def print_placeholder(self, field: FieldDef, record: str) -> str:
        return plain_placeholder(field, record)  # digits without grouping

    def display(self, field: FieldDef, value: Any, locale: str = "en") -> str:
        if value is None:
            return ""
        return f"{value:,}".replace(",", "\u00a0") if locale != "en" else f"{value:,}"

    def fake_value(self, field: FieldDef, rnd: random.Random) -> Any:
        return rnd.randint(-1000, 100000)

    def strategy(self, field: FieldDef) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        return st.integers(min_value=INT64_MIN, max_value=INT64_MAX) | st.none()
