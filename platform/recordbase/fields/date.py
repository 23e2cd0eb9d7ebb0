"""Calendar dates without a time of day, years 1 to 9999."""

from __future__ import annotations

import datetime as dt
import random
import re
from typing import TYPE_CHECKING, Any, ClassVar

import marshmallow as ma
import sqlalchemy as sa

from recordbase.errors import ConversionError
from recordbase.fields.base import FieldType
from recordbase.messages import msg
from recordbase.model import FieldDef

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class IsoDate(ma.fields.Field[dt.date]):
    """A date written exactly as YYYY-MM-DD."""

    default_error_messages = {  # noqa: RUF012 (marshmallow merges it per class)
        "invalid": "Not a valid date: write it as YYYY-MM-DD, for example 2026-11-27.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.date:
        if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
            raise self.make_error("invalid")
        try:
            return dt.date.fromisoformat(value)
        except ValueError as exc:
            raise self.make_error("invalid") from exc


def as_date(value: Any) -> dt.date:
    """A stored or JSON date as a ``date`` (drivers may hand back datetimes)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


class DateFieldType(FieldType):
    name = "date"
    print_helper = "date"
    converts_to: ClassVar[frozenset[str]] = frozenset({"datetime", "long_text", "text"})
    widget = "date"
    operators = ("eq", "ne", "lt", "lte", "gt", "gte", "between", "in", "isnull")
    value_schema: ClassVar[dict[str, Any]] = {"type": "string", "format": "date"}

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.Date()

    def value_field(self, field: FieldDef) -> ma.fields.Field[Any]:
        return IsoDate(allow_none=True)

    def to_json(self, field: FieldDef, value: Any) -> Any:
        return None if value is None else as_date(value).isoformat()

    def display(self, field: FieldDef, value: Any, locale: str = "en") -> str:
        if value is None:
            return ""
        day = as_date(value)
        if locale == "en":
            return f"{MONTHS_EN[day.month - 1]} {day.day}, {day.year:04d}"
        return f"{day.day:02d}.{day.month:02d}.{day.year:04d}"

    def convert_value(
        self, field: FieldDef, source_type: FieldType, source: FieldDef, value: Any
    ) -> Any:
        # a moment in time keeps its (UTC) calendar day
        text = source_type.export_value(source, value)
        try:
            return self.import_value(field, text)
        except ConversionError:
            try:
                moment = dt.datetime.fromisoformat(text.strip())
            except ValueError:
                raise ConversionError(msg("{text} is not a date.", text=repr(text))) from None
            if moment.tzinfo is not None:
                moment = moment.astimezone(dt.UTC)
            return moment.date().isoformat()

    def fake_value(self, field: FieldDef, rnd: random.Random) -> Any:
        start = dt.date(2015, 1, 1).toordinal()
        return dt.date.fromordinal(rnd.randint(start, start + 365 * 20)).isoformat()

    def strategy(self, field: FieldDef) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        edges = st.sampled_from([dt.date.min, dt.date.max, dt.date(2000, 2, 29)])
        return (st.dates() | edges).map(dt.date.isoformat) | st.none()
