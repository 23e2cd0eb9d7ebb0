"""Telephone numbers, kept as typed: digits, spaces, + ( ) - . and an extension."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import marshmallow as ma

from recordbase.fields.bounded_text import BoundedTextFieldType
from recordbase.messages import msg
from recordbase.model import FieldDef

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

MAX_PHONE_LENGTH = 40
MIN_DIGITS, MAX_DIGITS = 5, 20
PHONE = re.compile(
    r"(?P<number>\+?[0-9 ().\-]+?)(?:\s*(?:ext\.?|доб\.?)\s*(?P<ext>[0-9]{1,6}))?",
    re.IGNORECASE,
)


def check_phone(value: str) -> None:
    match = PHONE.fullmatch(value)
    digits = sum(ch.isascii() and ch.isdigit() for ch in match["number"]) if match else 0
    if match is None or not MIN_DIGITS <= digits <= MAX_DIGITS:
        raise ma.ValidationError(
            msg(
                "Not a valid phone number: use {min_digits} to {max_digits} digits with "
                'spaces, + ( ) - or dots, and optionally an extension such as "ext. 12" or '
                '"доб. 12".',
                min_digits=MIN_DIGITS, max_digits=MAX_DIGITS,
            )
        )


class PhoneFieldType(BoundedTextFieldType):
    name = "phone"
    widget = "phone"
    max_length = MAX_PHONE_LENGTH
    value_schema: ClassVar[dict[str, Any]] = {"type": "string", "format": "phone"}

    def format_checks(self) -> list[Callable[[str], Any]]:
        return [check_phone]

    def fake_value(self, field: FieldDef, rnd: random.Random) -> Any:
        number = "".join(str(rnd.randint(0, 9)) for _ in range(7))
        shape = rnd.choice(
            ("+7 (495) {a}-{b}-{c}", "+374 10 {a}{b}{c}", "8-800-{a}-{b}{c}", "+1 202.{a}.{b}{c}")
        )
        text = shape.format(a=number[:3], b=number[3:5], c=number[5:])
        return text + rnd.choice(("", "", " ext. 12", " доб. 305"))

    def strategy(self, field: FieldDef) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        number = st.from_regex(r"\+?[0-9]{2,4}([ .\-]?[0-9]{1,4}){1,4}", fullmatch=True).filter(
            lambda s: MIN_DIGITS <= sum(c.isdigit() for c in s) <= MAX_DIGITS
        )
        ext = st.sampled_from(["", " ext. 7", " EXT 1234", " доб. 305", "доб.99"])
        return st.builds(lambda n, e: n + e, number, ext) | st.none()
