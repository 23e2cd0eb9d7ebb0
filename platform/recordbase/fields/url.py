"""Web addresses (http and https only). The server stores them and never fetches them."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, ClassVar

import marshmallow as ma
import sqlalchemy as sa

from recordbase.fields.base import FieldType
from recordbase.fields.email import blank_to_none
from recordbase.fields.text import no_control_characters
from recordbase.model import FieldDef

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

MAX_URL_LENGTH = 2000
SCHEMES = ("http", "https")


class UrlFieldType(FieldType):
    name = "url"
    converts_to: ClassVar[frozenset[str]] = frozenset({"long_text", "text"})
    widget = "url"
    operators = ("eq", "ne", "contains", "startswith", "endswith", "in", "isnull")
    searchable = True
    value_schema: ClassVar[dict[str, Any]] = {"type": "string", "format": "uri"}

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.String(MAX_URL_LENGTH)

    def value_field(self, field: FieldDef) -> ma.fields.Field[Any]:
        return ma.fields.String(
            allow_none=True,
            pre_load=blank_to_none,
            validate=[
                ma.validate.Length(
                    max=MAX_URL_LENGTH, error=f"At most {MAX_URL_LENGTH} characters."
                ),
                no_control_characters,
                ma.validate.URL(
                    schemes=set(SCHEMES),
                    require_tld=True,
                    error=(
                        "Not a valid web address: it starts with http:// or https:// "
                        "and names a site."
                    ),
                ),
            ],
        )

    def filter_value(self, field: FieldDef, op: str, raw: Any) -> Any:
        return str(raw).strip()

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
