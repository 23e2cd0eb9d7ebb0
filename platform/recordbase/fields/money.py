"""Money: an exact amount in one currency fixed per field (ISO 4217 code)."""

from __future__ import annotations

from typing import Any, ClassVar

import marshmallow as ma

from recordbase.fields.computed import NumericOptions
from recordbase.fields.decimal import MAX_PRECISION, DecimalFieldType
from recordbase.model import FieldDef

DEFAULT_PRECISION = 14
DEFAULT_SCALE = 2
DEFAULT_CURRENCY = "RUB"
#: signs written after the amount in Russian and Armenian; other codes are written as is
CURRENCY_SIGNS = {
    "RUB": "₽",
    "AMD": "֏",
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "CNY": "¥",
    "JPY": "¥",
    "KZT": "₸",
    "UAH": "₴",
    "BYN": "Br",
    "GEL": "₾",
    "TRY": "₺",
    "INR": "₹",
}


class MoneyOptions(NumericOptions):
    class Meta:
        unknown = ma.RAISE

    precision = ma.fields.Integer(
        load_default=DEFAULT_PRECISION, validate=ma.validate.Range(1, MAX_PRECISION)
    )
    scale = ma.fields.Integer(
        load_default=DEFAULT_SCALE, validate=ma.validate.Range(0, MAX_PRECISION)
    )
    currency = ma.fields.String(
        load_default=DEFAULT_CURRENCY,
        validate=ma.validate.Regexp(
            r"^[A-Z]{3}\Z",
            error="The currency is a three-letter ISO 4217 code in capitals, such as RUB or USD.",
        ),
    )


class MoneyFieldType(DecimalFieldType):
    name = "money"
    print_helper = "money"
    converts_to: ClassVar[frozenset[str]] = frozenset(
        {"decimal", "integer", "long_text", "percent", "text"}
    )
    widget = "money"
    options_schema: ClassVar[type[ma.Schema]] = MoneyOptions
    value_schema: ClassVar[dict[str, Any]] = {
        "type": "string",
        "format": "decimal",
        "description": 'the amount, for example "1234.50"; the currency is a field option',
    }

    default_precision = DEFAULT_PRECISION
    default_scale = DEFAULT_SCALE

    def currency(self, field: FieldDef) -> str:
        return str(field.options.get("currency", DEFAULT_CURRENCY))

    def display(self, field: FieldDef, value: Any, locale: str = "en") -> str:
        amount = super().display(field, value, locale)
        if not amount:
            return ""
        code = self.currency(field)
        if locale == "en":
            return f"{code}\u00a0{amount}"
        return f"{amount}\u00a0{CURRENCY_SIGNS.get(code, code)}"

    def sample_options(self) -> dict[str, Any]:
        return {"precision": 14, "scale": 2, "currency": "AMD"}
