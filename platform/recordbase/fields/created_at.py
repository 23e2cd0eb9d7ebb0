"""When the record was created: shows the system column ``created_at``."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar

from recordbase.fields.datetime import DatetimeFieldType, utc_json
from recordbase.model import FieldDef

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy


class CreatedAtFieldType(DatetimeFieldType):
    name = "created_at"
    widget = "readonly_datetime"
    owns_column = False
    read_only = True
    can_be_unique = False
    can_have_default = False
    value_schema: ClassVar[dict[str, Any]] = {
        "type": "string",
        "format": "date-time",
        "readOnly": True,
    }
    #: the system column of every entity table the value is read from
    system_column: ClassVar[str] = "created_at"

    def source_column(self, field: FieldDef) -> str | None:
        return self.system_column

    def strategy(self, field: FieldDef) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        # the system column is NOT NULL: there is always a value
        return st.datetimes(
            min_value=dt.datetime(1, 1, 2),
            max_value=dt.datetime(9999, 12, 30),
            timezones=st.just(dt.UTC),
        ).map(utc_json)
