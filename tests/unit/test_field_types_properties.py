"""Property tests: random and extreme valid values of every type survive both databases.

Each value goes value_field → to_db → INSERT → SELECT → to_json and must come back
as its canonical JSON; its export text must import back to the same value.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from test_field_types_support import (
    REGISTRY,
    TYPE_NAMES,
    database,
    make_catalog,
    normalise,
    store_and_read,
)

from recordbase.fields.integer import INT64_MAX, INT64_MIN

UNICODE_TEXTS = ["Привет, мир", "Բարև, աշխարհ", "emoji 🎉👍🏽 and ZWJ 👩‍💻", "ǅ Ω ß ﬁ", "x"]
# Extreme values, by type: test data (the platform itself never branches on names).
EDGE_VALUES: dict[str, list[Any]] = {
    "text": [*UNICODE_TEXTS, "a" * 120, "tab\there"],
    "long_text": [*UNICODE_TEXTS, "line 1\nline 2\r\n\tindented", "я" * 5000],
    "integer": [INT64_MIN, INT64_MAX, 0, -1],
    "decimal": ["999999999999.99", "-999999999999.99", "0.01", "-0.01", "0", "-0.00", "1E+3"],
    "percent": ["999.99", "-999.99", "0.01", "100"],
    "money": ["999999999999.99", "-999999999999.99", "1234.5", "0.00"],
    "boolean": [True, False],
    "date": ["0001-01-01", "9999-12-31", "2000-02-29", "1970-01-01"],
    "datetime": [
        "0001-01-01T00:00:00+00:00",
        "9999-12-31T23:59:59.999999+00:00",
        "2026-11-27T09:41:00.123456+03:00",
        "2026-11-27T09:41:00.000001",
        "2026-03-29T01:30:00-09:30",
    ],
    "single_select": ["new", "Հաստատված", "won 🎉"],
    "multi_select": [["a,b", 'quote "q"', "back\\slash", "100%_"], ["won 🎉", "new"], []],
    "email": [
        "мария@пример.рф",
        "a.hakobyan@օրինակ.հայ",
        "x+tag@example.museum",
        " pad@example.com ",
    ],
    "phone": [
        "+7 (495) 123-45-67 доб. 305",
        "+374 10 123456",
        "12345",
        "1" * 20,
        "+1 202.555.0100 ext 12",
    ],
    "url": [
        "https://пример.рф/контакты?q=1#a",
        "http://օրինակ.հայ/",
        "https://example.com:8080/" + "p" * 1900,
    ],
    "autonumber": ["СЧ-2026/11-0001 ✓", "СЧ-0001/01-" + "9" * 19 + " ✓"],
    "created_at": ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59.999999+00:00"],
    "updated_at": ["2026-11-27T09:41:00.123456+00:00"],
}

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


def check_round_trips(type_name: str, db_url: str, values: list[Any] | None) -> None:
    catalog, owner, fdef = make_catalog(type_name)
    ftype = REGISTRY.get(type_name)
    with database(db_url, catalog) as engine, engine.connect() as conn:

        def check(value: Any) -> None:
            normal = normalise(ftype, fdef, value)
            if values is None:
                # strategies give canonical values: what is written is what is read
                assert normal == value
            assert normalise(ftype, fdef, normal) == normal
            assert ftype.import_value(fdef, ftype.export_value(fdef, normal)) == normal
            with conn.begin() as tx:
                got = store_and_read(conn, catalog, owner, fdef, value)
                tx.rollback()
            assert got == normal

        if values is not None:
            for value in values:
                check(value)
        else:
            SETTINGS(given(ftype.strategy(fdef))(check))()


@pytest.mark.parametrize("type_name", sorted(EDGE_VALUES))
def test_edge_values_round_trip(type_name: str, db_url: str) -> None:
    check_round_trips(type_name, db_url, EDGE_VALUES[type_name])


@pytest.mark.parametrize("type_name", [n for n in TYPE_NAMES if n != "child_table"])
def test_random_values_round_trip(type_name: str, db_url: str) -> None:
    check_round_trips(type_name, db_url, None)


def test_edge_values_cover_every_type_with_values() -> None:
    # types whose values refer to other rows are covered in test_field_types_references
    refs = {
        "link",
        "file",
        "image",
        "user",
        "created_by",
        "updated_by",
        "many_to_many",
        "child_table",
    }
    assert set(TYPE_NAMES) - refs <= set(EDGE_VALUES)
