"""The base of single-line texts with a fixed limit and a format (e-mail, phone, URL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import marshmallow as ma
import sqlalchemy as sa

from recordbase.fields.base import FieldType, plain_placeholder
from recordbase.model import FieldDef


def blank_to_none(value: Any) -> Any:
    """Surrounding spaces go; a blank text means no value."""
    if isinstance(value, str):
        return value.strip() or None
    return value


class BoundedTextFieldType(FieldType):
    """Subclasses set ``name``, ``widget``, ``max_length`` and their format checks."""

    converts_to: ClassVar[frozenset[str]] = frozenset({"long_text", "text"})
    operators = ("eq", "ne", "contains", "startswith", "endswith", "in", "isnull")
    searchable = True
    max_length: ClassVar[int] = 255

    def format_checks(self) -> list[Callable[[str], Any]]:
        """Validators that say, in a sentence, why a text is not of this format."""
        return []

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.String(self.max_length)

    def value_field(self, field: FieldDef) -> ma.fields.Field[Any]:
        limit = ma.validate.Length(
            max=self.max_length, error=f"At most {self.max_length} characters."
        )
        return ma.fields.String(
            allow_none=True, pre_load=blank_to_none, validate=[limit, *self.format_checks()]
        )

    def print_placeholder(self, field: FieldDef, record: str) -> str:
        return plain_placeholder(field, record)  # an address or number as typed

    def filter_value(self, field: FieldDef, op: str, raw: Any) -> Any:
        # a filter may look for any part of an address, valid on its own or not
        return str(raw).strip()
