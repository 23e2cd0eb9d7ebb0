"""Numbers Recordbase assigns on insert from a pattern such as ``INV-{YYYY}-{####}``.

Tokens: ``{YYYY}`` ``{YY}`` ``{MM}`` ``{DD}`` (today, UTC) and one counter ``{#…}``
(1 to 12 ``#``: the zero-padded width; bigger numbers just grow). With a date token
the counter restarts each period, the period being the text of the date tokens
("2026" for ``{YYYY}``); without one it never restarts. The counter is a row of
``rb_sequences`` incremented in the inserting transaction: concurrent inserts wait
for each other, and a rolled-back insert gives its number back, so there are
neither duplicates nor gaps.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from typing import TYPE_CHECKING, Any, ClassVar

import marshmallow as ma
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from recordbase import systables
from recordbase.fields.base import FieldType, plain_placeholder
from recordbase.fields.text import no_control_characters
from recordbase.messages import msg
from recordbase.model import EntityDef, FieldDef

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

MAX_VALUE_LENGTH = 100
MAX_PATTERN_LENGTH = 60  # leaves room for a counter of 19 digits and the dates
TOKEN = re.compile(r"\{(YYYY|YY|MM|DD|#{1,12})\}")
DATE_TOKENS = {"YYYY": "%Y", "YY": "%y", "MM": "%m", "DD": "%d"}
DEFAULT_PATTERN = "{#####}"


def check_pattern(pattern: str) -> None:
    counters = [m for m in TOKEN.findall(pattern) if m.startswith("#")]
    if len(counters) != 1:
        raise ma.ValidationError(
            msg("The pattern needs exactly one counter, such as {{####}} (1 to 12 #).")
        )
    if "{" in TOKEN.sub("", pattern) or "}" in TOKEN.sub("", pattern):
        raise ma.ValidationError(
            msg("Braces only surround the tokens {{YYYY}}, {{YY}}, {{MM}}, {{DD}} and {{#…}}.")
        )


class AutonumberOptions(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    pattern = ma.fields.String(
        load_default=DEFAULT_PATTERN,
        validate=[
            ma.validate.Length(min=1, max=MAX_PATTERN_LENGTH),
            no_control_characters,
            check_pattern,
        ],
    )


def format_number(pattern: str, day: dt.date, counter: int) -> str:
    def token(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("#"):
            return f"{counter:0{len(name)}d}"
        return f"{day.year:04d}" if name == "YYYY" else day.strftime(DATE_TOKENS[name])

    return TOKEN.sub(token, pattern)


def period_key(pattern: str, day: dt.date) -> str:
    """The text of the date tokens: the counter restarts when it changes."""
    dates = [t for t in TOKEN.findall(pattern) if not t.startswith("#")]
    return "-".join(format_number(f"{{{t}}}", day, 0) for t in dates)


class AutonumberFieldType(FieldType):
    name = "autonumber"
    converts_to: ClassVar[frozenset[str]] = frozenset({"text"})
    widget = "readonly_text"
    operators = ("eq", "ne", "contains", "startswith", "in", "isnull")
    read_only = True
    searchable = True
    can_have_default = False
    always_unique = True
    options_schema: ClassVar[type[ma.Schema]] = AutonumberOptions
    value_schema: ClassVar[dict[str, Any]] = {"type": "string", "readOnly": True}

    def pattern(self, field: FieldDef) -> str:
        return str(field.options.get("pattern", DEFAULT_PATTERN))

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.String(MAX_VALUE_LENGTH)

    def value_field(self, field: FieldDef) -> ma.fields.Field[Any]:
        # for moving data between databases: input through the API is refused earlier
        return ma.fields.String(
            allow_none=True,
            validate=[ma.validate.Length(min=1, max=MAX_VALUE_LENGTH), no_control_characters],
        )

    def filter_value(self, field: FieldDef, op: str, raw: Any) -> Any:
        return str(raw)

    def today(self) -> dt.date:
        return systables.utcnow().date()

    def generate(self, conn: sa.Connection, field: FieldDef, entity: EntityDef) -> Any:
        day = self.today()
        pattern = self.pattern(field)
        counter = next_value(conn, f"{field.id}:{period_key(pattern, day)}")
        return format_number(pattern, day, counter)

    def print_placeholder(self, field: FieldDef, record: str) -> str:
        return plain_placeholder(field, record)  # the number as assigned

    def fake_value(self, field: FieldDef, rnd: random.Random) -> Any:
        day = dt.date(rnd.randint(2020, 2030), rnd.randint(1, 12), rnd.randint(1, 28))
        return format_number(self.pattern(field), day, rnd.randint(1, 99_999))

    def strategy(self, field: FieldDef) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        return (
            st.builds(
                lambda day, n: format_number(self.pattern(field), day, n),
                st.dates(),
                st.integers(min_value=1, max_value=2**63 - 1),
            )
            | st.none()
        )

    def sample_options(self) -> dict[str, Any]:
        return {"pattern": "СЧ-{YYYY}/{MM}-{####} ✓"}


def next_value(conn: sa.Connection, name: str) -> int:
    """Increment the sequence ``name`` (creating it at 1) in the caller's transaction.

    The upsert takes the row's lock on PostgreSQL until the transaction ends; on
    SQLite the write transaction (BEGIN IMMEDIATE) already serialises writers.
    """
    seq = systables.sequences
    if conn.dialect.name == "postgresql":
        pg_stmt = postgresql.insert(seq).values(name=name, value=1)
        stmt: sa.Executable = pg_stmt.on_conflict_do_update(
            index_elements=[seq.c.name], set_={"value": seq.c.value + 1}
        ).returning(seq.c.value)
    else:
        lite_stmt = sqlite.insert(seq).values(name=name, value=1)
        stmt = lite_stmt.on_conflict_do_update(
            index_elements=[seq.c.name], set_={"value": seq.c.value + 1}
        ).returning(seq.c.value)
    return int(conn.execute(stmt).scalar_one())
