"""Percentages: exact decimals shown with a percent sign ("12.50" is 12.5 %)."""

from __future__ import annotations

from typing import Any, ClassVar

import marshmallow as ma

from recordbase.fields.computed import NumericOptions
from recordbase.fields.decimal import MAX_PRECISION, DecimalFieldType
from recordbase.model import FieldDef

DEFAULT_PRECISION = 5
DEFAULT_SCALE = 2


class PercentOptions(NumericOptions):
    class Meta:
        unknown = ma.RAISE

    precision = ma.fields.Integer(
        load_default=DEFAULT_PRECISION, validate=ma.validate.Range(1, MAX_PRECISION)
    )
    scale = ma.fields.Integer(
        load_default=DEFAULT_SCALE, validate=ma.validate.Range(0, MAX_PRECISION)
    )


class PercentFieldType(DecimalFieldType):
    name = "percent"
    converts_to: ClassVar[frozenset[str]] = frozenset(
        {"decimal", "integer", "long_text", "money", "text"}
    )
    widget = "percent"
    options_schema: ClassVar[type[ma.Schema]] = PercentOptions
    #: rates do not add up: a column of them is not summed unless the field says so
    total_by_default = False
    value_schema: ClassVar[dict[str, Any]] = {
        "type": "string",
        "format": "decimal",
        "description": 'a percentage: "12.50" is 12.5 %',
    }

    default_precision = DEFAULT_PRECISION
    default_scale = DEFAULT_SCALE

    def display(self, field: FieldDef, value: Any, locale: str = "en") -> str:
        number = super().display(field, value, locale)
        if not number:
            return ""
        # English writes 12.5%; Russian and Armenian put a (non-breaking) space before it
        return f"{number}%" if locale == "en" else f"{number}\u00a0%"

    def sample_options(self) -> dict[str, Any]:
        return {"precision": 5, "scale": 2}
