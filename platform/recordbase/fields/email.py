"""E-mail addresses: checked for shape, kept as typed (without surrounding spaces)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import marshmallow as ma

from recordbase.fields.bounded_text import BoundedTextFieldType
from recordbase.fields.text import no_control_characters
from recordbase.model import FieldDef

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

MAX_EMAIL_LENGTH = 320


class EmailFieldType(BoundedTextFieldType):
    name = "email"
    widget = "email"
    max_length = MAX_EMAIL_LENGTH
    value_schema: ClassVar[dict[str, Any]] = {"type": "string", "format": "email"}

    def format_checks(self) -> list[Callable[[str], Any]]:
        return [no_control_characters, ma.validate.Email(error="Not a valid e-mail address.")]

    def fake_value(self, field: FieldDef, rnd: random.Random) -> Any:
        users = ("info", "anna.petrova", "sales", "a.hakobyan", "ivanov+crm", "мария")
        domains = ("example.com", "пример.рф", "example.am", "mail.example.org", "օրինակ.հայ")
        return f"{rnd.choice(users)}@{rnd.choice(domains)}"

    def strategy(self, field: FieldDef) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        atom = st.text(alphabet="abcxyz019_-+" + "юфя" + "աբգ", min_size=1, max_size=12)
        local = st.lists(atom, min_size=1, max_size=3).map(".".join)
        label = st.from_regex(r"[a-z0-9гдеժէ](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
        tld = st.sampled_from(["com", "org", "ru", "am", "рф", "հայ", "museum"])
        labels = st.lists(label, min_size=1, max_size=3)
        domain = st.builds(lambda parts, top: ".".join([*parts, top]), labels, tld)
        return st.builds(lambda u, d: f"{u}@{d}", local, domain) | st.none()
