"""Moments in time: stored in UTC, written as ISO 8601 with the offset +00:00."""

from __future__ import annotations

import datetime as dt
import random
from typing import TYPE_CHECKING, Any, ClassVar

import marshmallow as ma
import sqlalchemy as sa

from recordbase.fields.base import FieldType
from recordbase.fields.date import MONTHS_EN
from recordbase.model import FieldDef
from recordbase.systables import UTCDateTime

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

MAX_INPUT_LENGTH = 64


class IsoDateTime(ma.fields.Field[dt.datetime]):
    """An ISO 8601 date and time; an offset is converted to UTC, no offset means UTC."""

    default_error_messages = {  # noqa: RUF012 (marshmallow merges it per class)
        "invalid": (
            "Not a valid date and time: write it in ISO 8601, "
            "for example 2026-11-27T09:41:00+03:00."
        ),
        "range": "The date and time is outside the years 1 to 9999 once converted to UTC.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        if not isinstance(value, str) or len(value) > MAX_INPUT_LENGTH or len(value) < 10:
            raise self.make_error("invalid")
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise self.make_error("invalid") from exc
        return to_utc(moment, self)


def to_utc(moment: dt.datetime, field: ma.fields.Field[Any] | None = None) -> dt.datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError as exc:
        if field is None:
            raise
        raise field.make_error("range") from exc


def utc_json(value: Any) -> str | None:
    """A stored moment as canonical JSON text: UTC, microseconds, offset +00:00."""
    if value is None:
        return None
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return to_utc(moment).isoformat(timespec="microseconds")


def utc_display(value: Any, locale: str) -> str:
    if value is None:
        return ""
    moment = to_utc(value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value))
    clock = f"{moment.hour:02d}:{moment.minute:02d}"
    if locale == "en":
        return f"{MONTHS_EN[moment.month - 1]} {moment.day}, {moment.year:04d} {clock} UTC"
    return f"{moment.day:02d}.{moment.month:02d}.{moment.year:04d} {clock} UTC"


class DatetimeFieldType(FieldType):
    name = "datetime"
    print_helper = "date"
    converts_to: ClassVar[frozenset[str]] = frozenset({"date", "long_text", "text"})
    widget = "datetime"
    operators = ("eq", "ne", "lt", "lte", "gt", "gte", "between", "in", "isnull")
    value_schema: ClassVar[dict[str, Any]] = {"type": "string", "format": "date-time"}

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return UTCDateTime()

    def value_field(self, field: FieldDef) -> ma.fields.Field[Any]:
        return IsoDateTime(allow_none=True)

    def to_json(self, field: FieldDef, value: Any) -> Any:
        return utc_json(value)

    def display(self, field: FieldDef, value: Any, locale: str = "en") -> str:
        return utc_display(value, locale)

    def fake_value(self, field: FieldDef, rnd: random.Random) -> Any:
        start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        moment = start + dt.timedelta(
            seconds=rnd.randint(0, 10 * 365 * 86400), microseconds=rnd.randint(0, 999_999)
        )
        return utc_json(moment)

    def strategy(self, field: FieldDef) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        offsets: SearchStrategy[dt.tzinfo | None] = st.integers(
            min_value=-23 * 60 - 59, max_value=23 * 60 + 59
        ).map(lambda minutes: dt.timezone(dt.timedelta(minutes=minutes)))
        moments = st.datetimes(
            min_value=dt.datetime(1, 1, 2),
            max_value=dt.datetime(9999, 12, 30, 23, 59, 59, 999_999),
            timezones=st.one_of(st.none(), st.just(dt.UTC), offsets),
        )
        # canonical values (UTC, microseconds): callers compare what they read back
        return moments.map(utc_json) | st.none()
