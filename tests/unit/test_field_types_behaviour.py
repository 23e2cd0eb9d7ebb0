"""What particular types promise beyond the contract: formats, options, filters."""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from test_field_types_support import REGISTRY, database, make_catalog, message_of, normalise

from recordbase.errors import ConversionError, ValidationError

NBSP = "\u00a0"


def _normal(type_name: str, value: Any, options: dict[str, Any] | None = None) -> Any:
    _, _, fdef = make_catalog(type_name, options)
    return normalise(REGISTRY.get(type_name), fdef, value)


def _display(type_name: str, value: Any, locale: str, options: dict[str, Any] | None = None) -> str:
    _, _, fdef = make_catalog(type_name, options)
    return REGISTRY.get(type_name).display(fdef, value, locale)


def test_money_display_by_locale() -> None:
    assert _display("money", "1234.50", "ru", {}) == f"1{NBSP}234,50{NBSP}₽"
    assert _display("money", "1234.50", "hy", {}) == f"1{NBSP}234,50{NBSP}₽"
    assert _display("money", "1234.50", "en", {}) == f"RUB{NBSP}1,234.50"
    assert _display("money", "-5.00", "en", {"currency": "USD"}) == f"USD{NBSP}-5.00"
    assert (
        _display("money", "1000000.00", "hy", {"currency": "AMD"})
        == f"1{NBSP}000{NBSP}000,00{NBSP}֏"
    )
    assert _display("money", "7.00", "ru", {"currency": "CHF"}) == f"7,00{NBSP}CHF"


def test_money_options() -> None:
    _, _, fdef = make_catalog("money", {})
    assert dict(fdef.options) == {"precision": 14, "scale": 2, "currency": "RUB"}
    for bad in ("rub", "RUBL", "R1B", ""):
        with pytest.raises(ValidationError, match="ISO 4217"):
            make_catalog("money", {"currency": bad})
    with pytest.raises(ValidationError, match="scale"):
        make_catalog("money", {"precision": 4, "scale": 6})
    assert _normal("money", "1234.5", {}) == "1234.50"


def test_percent_defaults_and_display() -> None:
    _, _, fdef = make_catalog("percent", {})
    assert dict(fdef.options) == {"precision": 5, "scale": 2}
    assert _display("percent", "12.50", "en", {}) == "12.50%"
    assert _display("percent", "12.50", "ru", {}) == f"12,50{NBSP}%"
    with pytest.raises(ma.ValidationError, match="before the decimal point"):
        REGISTRY.get("percent").value_field(fdef).deserialize("1000")


def test_boolean_api_is_strict_import_is_lenient() -> None:
    _, _, fdef = make_catalog("boolean")
    ftype = REGISTRY.get("boolean")
    for word in ("true", "TRUE", "Yes", "1", "да", "ДА", " yes "):
        assert ftype.import_value(fdef, word) is True
    for word in ("false", "No", "0", "нет", "Нет"):
        assert ftype.import_value(fdef, word) is False
    assert ftype.import_value(fdef, "") is None
    with pytest.raises(ConversionError, match="yes/no"):
        ftype.import_value(fdef, "maybe")
    assert ftype.filter_value(fdef, "eq", "true") is True
    assert ftype.filter_value(fdef, "eq", "false") is False
    assert [ftype.display(fdef, v, "en") for v in (True, False)] == ["Yes", "No"]
    assert [ftype.display(fdef, v, "ru") for v in (True, False)] == ["Да", "Нет"]


def test_date_formats() -> None:
    assert _normal("date", "0001-01-01") == "0001-01-01"
    assert _display("date", "2026-11-27", "en") == "Nov 27, 2026"
    assert _display("date", "2026-11-27", "ru") == "27.11.2026"
    assert _display("date", "0005-01-02", "hy") == "02.01.0005"
    _, _, fdef = make_catalog("date")
    assert REGISTRY.get("date").filter_value(fdef, "gte", "2026-01-01").isoformat() == "2026-01-01"


def test_datetime_is_kept_in_utc_with_microseconds() -> None:
    assert (
        _normal("datetime", "2026-11-27T12:41:00.123456+03:00")
        == "2026-11-27T09:41:00.123456+00:00"
    )
    assert _normal("datetime", "2026-11-27T09:41:00") == "2026-11-27T09:41:00.000000+00:00"
    assert _normal("datetime", "2026-11-27T09:41:00Z") == "2026-11-27T09:41:00.000000+00:00"
    assert _normal("datetime", "2026-11-27 23:30-05:00") == "2026-11-28T04:30:00.000000+00:00"
    assert _display("datetime", "2026-11-27T09:41:00.000000+00:00", "ru") == "27.11.2026 09:41 UTC"
    with pytest.raises(ma.ValidationError, match="years 1 to 9999"):
        _normal("datetime", "9999-12-31T23:00:00-05:00")


def test_single_select_options_are_normalised() -> None:
    _, _, fdef = make_catalog(
        "single_select", {"choices": ["  open ", {"value": "x", "color": "#ABCDEF"}]}
    )
    assert fdef.options["choices"] == [
        {"value": "open", "label": "open"},
        {"value": "x", "label": "x", "color": "#abcdef"},
    ]
    assert _display("single_select", "new", "en") == "Новый"
    _, _, sample = make_catalog("single_select")
    assert REGISTRY.get("single_select").import_value(sample, "в работе") == "in_progress"


@pytest.mark.parametrize(
    ("choices", "words"),
    [
        ([], "between 1 and 500"),
        ([str(i) for i in range(501)], "between 1 and 500"),
        (["a", "A"], "twice"),
        (["a", " a "], "twice"),
        (["x" * 101], "1 to 100 characters"),
        ([{"value": "a", "color": "red"}], "#rrggbb"),
        ([{"value": "a", "shade": "red"}], "shade"),
        (["   "], "blank"),
        ([1], "A choice is a text or an object"),
        ("a,b", "Not a valid list"),
    ],
)
def test_select_options_refused(choices: Any, words: str) -> None:
    for type_name in ("single_select", "multi_select"):
        with pytest.raises(ValidationError) as info:
            make_catalog(type_name, {"choices": choices})
        assert words in info.value.message


def test_multi_select_refuses_the_export_separator() -> None:
    with pytest.raises(ValidationError, match="';'"):
        make_catalog("multi_select", {"choices": ["a;b", "c"]})


def test_multi_select_canonical_order_and_cells() -> None:
    options = {"choices": ["red", "green", "blue"]}
    _, _, fdef = make_catalog("multi_select", options)
    ftype = REGISTRY.get("multi_select")
    assert _normal("multi_select", ["blue", "red", "blue"], options) == ["red", "blue"]
    assert _normal("multi_select", [], options) == []
    assert _normal("multi_select", None, options) == []
    assert ftype.to_db(fdef, []) is None
    assert ftype.export_value(fdef, ["red", "blue"]) == "red; blue"
    assert ftype.import_value(fdef, "blue;red ; ") == ["red", "blue"]
    assert ftype.display(fdef, ["red", "blue"], "en") == "red, blue"
    assert ftype.empty([])


def test_multi_select_contains_matches_whole_choices_only(db_url: str) -> None:
    choices = ["a", "b", "a,b", 'q "x"', '"', "back\\", "100%", "_", "ß", "Я"]
    catalog, owner, fdef = make_catalog("multi_select", {"choices": choices})
    ftype = REGISTRY.get("multi_select")
    table = catalog.table(owner)
    rows = [["a,b"], ["a"], ['q "x"', "back\\"], ['"'], ["100%"], ["_", "ß"], ["Я"], []]
    with database(db_url, catalog) as engine, engine.begin() as conn:
        ids = {}
        for row in rows:
            stored = ftype.to_db(fdef, ftype.value_field(fdef).deserialize(row))
            new_id = conn.execute(
                sa.insert(table).values({fdef.column: stored}).returning(table.c.id)
            ).scalar_one()
            ids[new_id] = row

        def having(op: str, value: Any) -> list[list[str]]:
            expr = ftype.compile_filter(fdef, table.c[fdef.column], op, value)
            found = conn.execute(sa.select(table.c.id).where(expr).order_by(table.c.id)).scalars()
            return [ids[i] for i in found]

        for choice in choices:
            expected = [r for r in rows if choice in r]
            assert having("contains", ftype.filter_value(fdef, "contains", choice)) == expected, (
                choice
            )
        assert having("isnull", True) == [[]]
    with pytest.raises(ConversionError, match="not one of the choices"):
        ftype.filter_value(fdef, "contains", "c")


def test_email_phone_url_are_trimmed_and_kept_as_typed() -> None:
    assert _normal("email", "  Anna.Petrova@Example.COM ") == "Anna.Petrova@Example.COM"
    assert _normal("email", "   ") is None
    assert _normal("phone", " +7 (495) 123-45-67 доб. 12 ") == "+7 (495) 123-45-67 доб. 12"
    assert _normal("url", " https://example.com/a?b=c ") == "https://example.com/a?b=c"


@pytest.mark.parametrize(
    ("type_name", "value", "words"),
    [
        ("phone", "12 34", "5 to 20 digits"),
        ("phone", "+7 495 abc", "5 to 20 digits"),
        ("email", "nobody", "e-mail"),
        ("url", "ftp://example.com/file", "http:// or https://"),
        ("long_text", "bell\x07", "Control characters"),
        ("single_select", "nope", "not one of the choices: new, in_progress"),
    ],
)
def test_messages_are_sentences(type_name: str, value: Any, words: str) -> None:
    _, _, fdef = make_catalog(type_name)
    with pytest.raises(ma.ValidationError) as info:
        REGISTRY.get(type_name).value_field(fdef).deserialize(value)
    assert words in message_of(info.value)


def test_long_text_keeps_line_breaks_and_its_limit() -> None:
    assert _normal("long_text", "a\r\nb\tc") == "a\r\nb\tc"
    _, _, fdef = make_catalog("long_text", {})
    assert fdef.options["max_length"] == 100_000
    with pytest.raises(ma.ValidationError, match="At most 100000"):
        REGISTRY.get("long_text").value_field(fdef).deserialize("я" * 100_001)


def test_text_stores_empty_as_null() -> None:
    assert _normal("text", "") is None


@settings(max_examples=60, deadline=None, database=None)
@given(
    st.datetimes(
        min_value=dt.datetime(1, 1, 2),
        max_value=dt.datetime(9999, 12, 30),
        timezones=st.one_of(
            st.none(),
            st.integers(min_value=-1439, max_value=1439).map(
                lambda m: dt.timezone(dt.timedelta(minutes=m))
            ),
        ),
    )
)
def test_datetime_input_with_any_offset_is_the_same_instant_in_utc(moment: dt.datetime) -> None:
    normal = _normal("datetime", moment.isoformat())
    instant = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    assert dt.datetime.fromisoformat(normal) == instant
    assert normal.endswith("+00:00")
    assert len(normal) == len("2026-11-27T09:41:00.123456+00:00")
