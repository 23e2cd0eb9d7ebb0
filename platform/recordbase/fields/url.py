"""Web addresses (http and https only). The server stores them and never fetches them."""

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

MAX_URL_LENGTH = 2000
SCHEMES = ("http", "https")


class UrlFieldType(BoundedTextFieldType):
    name = "url"
    widget = "url"
    max_length = MAX_URL_LENGTH
    value_schema: ClassVar[dict[str, Any]] = {"type": "string", "format": "uri"}

    def format_checks(self) -> list[Callable[[str], Any]]:
        return [
            no_control_characters,
            ma.validate.URL(
                schemes=set(SCHEMES),
                require_tld=True,
                error=(
                    "Not a valid web address: it starts with http:// or https:// "
                    "and names a site."
                ),
            ),
        ]

    def fake_value(self, field: FieldDef, rnd: random.Random) -> Any:
        sites = (
            "https://example.com",
            "http://пример.рф",
            "https://shop.example.am",
            "https://օրինակ.հայ",
        )
        paths = ("", "/", "/about", "/catalog?page=2&sort=price", "/контакты", "/docs#section-2")
        return rnd.choice(sites) + rnd.choice(paths)

    def strategy(self, field: FieldDef) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        label = st.from_regex(r"[a-z0-9яժ](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
        host = st.builds(
            lambda labels, top: ".".join([*labels, top]),
            st.lists(label, min_size=1, max_size=3),
            st.sampled_from(["com", "org", "ru", "am", "рф", "հայ"]),
        )
        path_chars = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp"))
        path = st.text(alphabet=path_chars, max_size=40).map(lambda p: "/" + p)
        port = st.sampled_from(["", ":8080", ":443"])
        return (
            st.builds(
                lambda scheme, h, pt, p: f"{scheme}://{h}{pt}{p}",
                st.sampled_from(SCHEMES),
                host,
                port,
                path,
            )
            | st.none()
        )
