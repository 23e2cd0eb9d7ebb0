"""Exact decimal numbers with a fixed precision and scale.

PostgreSQL keeps them as ``numeric(p, s)``. SQLite has no exact decimal type (its
NUMERIC affinity turns fractions into binary floats), so there the value is kept
as a scaled 64-bit integer: 1234.50 at scale 2 is stored as 123450. Order,
equality and range filters work the same on the scaled value, and nothing is
ever rounded by the database.
"""

from __future__ import annotations

import decimal
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import marshmallow as ma
import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from recordbase.errors import ValidationError
from recordbase.fields.base import FieldType
from recordbase.fields.computed import NumericOptions
from recordbase.messages import msg
from recordbase.model import FieldDef

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from recordbase.catalog import Catalog

MAX_PRECISION = 18  # what a scaled value fits in a signed 64-bit integer


class ScaledDecimal(sa.types.TypeDecorator[decimal.Decimal]):
    impl = sa.Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision = precision
        self.scale = scale
        self.quantum = decimal.Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.BigInteger())
        return dialect.type_descriptor(sa.Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = decimal.Decimal(value)
        if dialect.name == "sqlite":
            return int(value.scaleb(self.scale).to_integral_value(decimal.ROUND_HALF_EVEN))
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> decimal.Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return decimal.Decimal(int(value)).scaleb(-self.scale).quantize(self.quantum)
        return decimal.Decimal(value).quantize(self.quantum)


class DecimalOptions(NumericOptions):
    class Meta:
        unknown = ma.RAISE

    precision = ma.fields.Integer(load_default=12, validate=ma.validate.Range(1, MAX_PRECISION))
    scale = ma.fields.Integer(load_default=2, validate=ma.validate.Range(0, MAX_PRECISION))


class ExactDecimal(ma.fields.Decimal):
    """A decimal that fits ``precision``/``scale`` exactly: extra digits are an error."""

    def __init__(self, precision: int, scale: int, **kwargs: Any) -> None:
        super().__init__(as_string=True, allow_nan=False, **kwargs)
        self.precision = precision
        self.scale = scale

    def _validated(self, value: Any) -> decimal.Decimal:
        if isinstance(value, bool | float):
            # floats already lost digits; ask for a string or an integer
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise ma.ValidationError(
                    msg(
                        'Send decimal numbers as strings (for example "1234.50") so no digit '
                        "is lost."
                    )
                )
        result = super()._validated(value)
        # digit counting only: arithmetic on "1e999999999" would overflow the context
        _, digits, exponent = result.as_tuple()
        assert isinstance(exponent, int)
        significant = "".join(map(str, digits)).rstrip("0")
        if not significant:
            return result
        if -(exponent + len(digits) - len(significant)) > self.scale:
            raise ma.ValidationError(msg(
                "At most {scale} digits after the decimal point.",
                scale=self.scale,
            ))
        integer_digits = self.precision - self.scale
        if result.adjusted() >= integer_digits:
            raise ma.ValidationError(msg(
                "At most {integer_digits} digits before the decimal point.",
                integer_digits=integer_digits,
            ))
        return result


class DecimalFieldType(FieldType):
    name = "decimal"
    converts_to: ClassVar[frozenset[str]] = frozenset(
        {"integer", "long_text", "money", "percent", "text"}
    )
    widget = "decimal"
    operators = ("eq", "ne", "lt", "lte", "gt", "gte", "between", "in", "isnull")
    options_schema: ClassVar[type[ma.Schema]] = DecimalOptions
    value_schema: ClassVar[dict[str, Any]] = {"type": "string", "format": "decimal"}

    def clean_options(self, options: Any, catalog: Catalog) -> dict[str, Any]:
        cleaned = super().clean_options(options, catalog)
        if cleaned["scale"] > cleaned["precision"]:
            raise ValidationError(
                msg("The scale of a decimal field cannot exceed its precision."),
                fields={"options": msg("scale must not exceed precision.")},
            )
        return cleaned

    #: what a field of this type has when its options do not say
    default_precision: ClassVar[int] = 12
    default_scale: ClassVar[int] = 2

    numeric = True
    total_by_default = True

    def decimal_places(self, field: FieldDef) -> int:
        return self.precision_scale(field)[1]

    def precision_scale(self, field: FieldDef) -> tuple[int, int]:
        return (
            int(field.options.get("precision", self.default_precision)),
            int(field.options.get("scale", self.default_scale)),
        )

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return ScaledDecimal(*self.precision_scale(field))

    def value_field(self, field: FieldDef) -> ma.fields.Field[Any]:
        return ExactDecimal(*self.precision_scale(field), allow_none=True)

    def to_json(self, field: FieldDef, value: Any) -> Any:
        return self.json_converter(field)(value)

    def json_converter(self, field: FieldDef) -> Callable[[Any], Any]:
        _, scale = self.precision_scale(field)
        quantum = decimal.Decimal(1).scaleb(-scale)

        def convert(value: Any) -> str | None:
            if value is None:
                return None
            number = decimal.Decimal(value).quantize(quantum)
            # the databases keep no negative zero: "-0.00" would not come back as written
            return format(number.copy_abs() if number.is_zero() else number, "f")

        return convert

    def to_db(self, field: FieldDef, value: Any) -> Any:
        return None if value is None else decimal.Decimal(value)

    def display(self, field: FieldDef, value: Any, locale: str = "en") -> str:
        if value is None:
            return ""
        whole, _, frac = str(value).partition(".")
        sign = "-" if whole.startswith("-") else ""
        grouped = f"{int(whole.lstrip('-') or 0):,}"
        if locale == "en":
            return sign + grouped + ("." + frac if frac else "")
        return sign + grouped.replace(",", "\u00a0") + ("," + frac if frac else "")

    def fake_value(self, field: FieldDef, rnd: random.Random) -> Any:
        precision, scale = self.precision_scale(field)
        top = min(10 ** (precision - scale) - 1, 10**6)
        value = decimal.Decimal(rnd.randint(0, top * 10**scale)).scaleb(-scale)
        return self.to_json(field, value)

    def strategy(self, field: FieldDef) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        precision, scale = self.precision_scale(field)
        limit = 10 ** (precision - scale) - decimal.Decimal(1).scaleb(-scale)
        return (
            st.decimals(min_value=-limit, max_value=limit, places=scale, allow_nan=False).map(
                lambda d: self.to_json(field, d)
            )
            | st.none()
        )

    def sample_options(self) -> dict[str, Any]:
        return {"precision": 14, "scale": 2}
