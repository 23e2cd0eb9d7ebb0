"""Hostile input: wrong JSON types, oversized text, NUL bytes, nonsense in cells and filters.

Every type answers with a marshmallow ValidationError (API), a ConversionError
(imports and filters) carrying a sentence, or accepts the value; nothing else
ever escapes.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import pytest
from test_field_types_support import REGISTRY, TYPE_NAMES, make_catalog, message_of

from recordbase.errors import ConversionError

HOSTILE_JSON: list[Any] = [
    1.5,
    -1,
    0,
    10**30,
    -(10**30),
    True,
    False,
    "abc",
    "",
    " ",
    "x\x00y",
    "\x00",
    "a" * 100_001,
    "1e999999999",
    "NaN",
    "Infinity",
    "-0",
    "2026-02-30",
    "9999-12-31T23:59:59-01:00",
    {"a": 1},
    {"$ne": None},
    [1, [2]],
    [None],
    ["a", "a"],
    [1, 1],
    [{"x": 1}],
    [-1],
    [0],
    list(range(1001)),
    float("nan"),
    float("inf"),
    "☃" * 5000,
    "\ud800",
    "<script>alert(1)</script>",
]

HOSTILE_TEXT = [
    "abc",
    "\x00",
    "x\x00y",
    "1e999999999",
    "-",
    "+",
    "9" * 40,
    "-9" * 20,
    "да",
    "maybe",
    ";;;",
    "; ;",
    "1; 1",
    "0",
    "-1",
    "1.5",
    "NaN",
    "2026-13-01",
    "T",
    "{}",
    "[]",
    "null",
    "ＡＢＣ",
    "٣",
    "１２",
    "\ud800",
    "a" * 100_001,
    " 12 ",
    "12345678901234567890123456789.123",
]

# Values each type must refuse (on top of "never crash"): test data, by type.
MUST_REFUSE: dict[str, list[Any]] = {
    "text": [1, 1.5, {"a": 1}, ["x"], "x\x00y", "a" * 121, "line\nbreak"],
    "long_text": [1, {"a": 1}, "x\x00y", "a" * 5001],
    "integer": [1.5, "abc", True, 2**63, -(2**63) - 1, {"a": 1}, "1.5"],
    "decimal": [1.5, "abc", "NaN", "Infinity", "1e999999999", "0.001", True, {"a": 1}, "1" * 13],
    "percent": [12.5, "1000", "0.001", "abc"],
    "money": [0.1, "abc", "1" * 13, "0.001", {"amount": "1"}],
    "boolean": ["maybe", "true", 1, 0, "", {"a": 1}, [True]],
    "date": [
        "abc",
        "2026-13-01",
        "2026-02-30",
        20260101,
        "2026-1-1",
        "20260101",
        "0000-01-01",
        {"a": 1},
    ],
    "datetime": [
        "abc",
        1700000000,
        "2026-13-01T00:00",
        "0001-01-01T00:00:00+01:00",
        "x\x00",
        "2026",
    ],
    "single_select": ["nope", "NEW", 1, ["new"], {"value": "new"}, "new\x00"],
    "multi_select": ["new", ["nope"], [1], [["new"]], {"a": 1}, [{"value": "new"}]],
    "email": [
        "abc",
        "a@",
        "@b.com",
        "a@b",
        1,
        "a b@c.com",
        "x\x00@y.com",
        "a@" + "b" * 320 + ".com",
    ],
    "phone": ["abc", "1234", "1" * 21, "+7 (495) 123-45-67 ext", 79991234567, "12\x0045678"],
    "url": [
        "abc",
        "ftp://example.com",
        "javascript:alert(1)",
        "http://",
        "//example.com",
        "https://example.com/\x00",
        "https://exa mple.com",
        1,
    ],
    "file": [0, -1, "1", 1.5, True, [1], {"id": 1}],
    "image": [0, "1", [1]],
    "user": [0, -5, "1", 1.5, False],
    "many_to_many": [[0], [-1], ["1"], [1, 1], 1, "1", list(range(1, 1002)), [1.5], [True]],
    "link": [0, -1, "1", 1.5, True],
    "autonumber": [1, "", "a" * 101, "x\x00"],
    "created_at": ["abc", 1],
    "updated_at": ["abc"],
    "created_by": ["1", 0],
    "updated_by": ["1", 0],
    "child_table": [1, "x", {"a": 1}],
}


def _sentence(message: str) -> None:
    assert isinstance(message, str)
    assert message.strip()


@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_hostile_json_never_crashes(type_name: str) -> None:
    _, _, fdef = make_catalog(type_name)
    ftype = REGISTRY.get(type_name)
    field = ftype.value_field(fdef)
    for value in HOSTILE_JSON:
        try:
            parsed = field.deserialize(value)
        except ma.ValidationError as exc:
            _sentence(message_of(exc))
            continue
        ftype.to_json(fdef, ftype.to_db(fdef, parsed))  # an accepted value converts


@pytest.mark.parametrize("type_name", sorted(MUST_REFUSE))
def test_wrong_values_are_refused_with_a_sentence(type_name: str) -> None:
    _, _, fdef = make_catalog(type_name)
    ftype = REGISTRY.get(type_name)
    for value in MUST_REFUSE[type_name]:
        with pytest.raises(ma.ValidationError) as info:
            ftype.value_field(fdef).deserialize(value)
        _sentence(message_of(info.value))


def test_every_type_has_refusal_cases() -> None:
    assert set(TYPE_NAMES) <= set(MUST_REFUSE)


@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_hostile_cells_and_filters_raise_conversion_errors(type_name: str) -> None:
    _, _, fdef = make_catalog(type_name)
    ftype = REGISTRY.get(type_name)
    for text in HOSTILE_TEXT:
        try:
            ftype.import_value(fdef, text)
        except ConversionError as exc:
            _sentence(str(exc))
        for op in ftype.operators:
            try:
                ftype.filter_value(fdef, op, text)
            except (ConversionError, ValueError) as exc:
                _sentence(str(exc))


def test_select_refusal_lists_the_allowed_values_truncated() -> None:
    choices = [f"choice {i}" for i in range(25)]
    _, _, fdef = make_catalog("single_select", {"choices": choices})
    field = REGISTRY.get("single_select").value_field(fdef)
    with pytest.raises(ma.ValidationError) as info:
        field.deserialize("nope")
    message = message_of(info.value)
    assert "choice 0, choice 1" in message
    assert "choice 9" in message
    assert "choice 10," not in message
    assert "15 more" in message
