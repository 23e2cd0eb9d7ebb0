"""Several values from a fixed list of choices.

The value is kept as the text of a JSON array in choice order, without duplicates
(``["new","won 🎉"]``), and NULL when nothing is chosen. "Has this choice" is a LIKE
on the quoted element between its separators, so one choice never matches inside
another.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import marshmallow as ma
import sqlalchemy as sa

from recordbase.errors import ConversionError, ValidationError
from recordbase.fields.base import FieldType, flatten_messages
from recordbase.fields.single_select import (
    SelectOptions,
    choice_labels,
    choice_values,
    one_of_choices,
    sample_choices,
    value_by_label,
)
from recordbase.messages import msg
from recordbase.model import FieldDef
from recordbase.records.operators import escape_like

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from recordbase.catalog import Catalog

SEPARATOR = "; "


def element(value: str) -> str:
    """One choice as it appears inside the stored JSON array."""
    return json.dumps(value, ensure_ascii=False)


class MultiSelectFieldType(FieldType):
    name = "multi_select"
    converts_to: ClassVar[frozenset[str]] = frozenset({"long_text", "single_select", "text"})
    widget = "multi_select"
    operators = ("contains", "isnull")
    sortable = False
    can_be_unique = False
    can_be_indexed = False
    options_schema: ClassVar[type[ma.Schema]] = SelectOptions
    value_schema: ClassVar[dict[str, Any]] = {
        "type": "array",
        "items": {"type": "string", "description": "a choice value"},
    }

    def clean_options(self, options: Any, catalog: Catalog) -> dict[str, Any]:
        cleaned = super().clean_options(options, catalog)
        for choice in cleaned["choices"]:
            if ";" in choice["value"]:
                message = (
                    msg(
                        "The choice '{choice}' contains ';', which separates the choices of a "
                        "multiple select in exported files.",
                        choice=choice["value"],
                    )
                )
                raise ValidationError(message, fields={"options": message})
        return cleaned

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.Text()

    def canonical(self, field: FieldDef, values: Sequence[str] | None) -> list[str]:
        chosen = set(values or ())
        return [v for v in choice_values(field) if v in chosen]

    def value_field(self, field: FieldDef) -> ma.fields.Field[Any]:
        return ma.fields.List(
            ma.fields.String(validate=one_of_choices(choice_values(field))),
            allow_none=True,
            post_load=lambda values: self.canonical(field, values),
        )

    def to_db(self, field: FieldDef, value: Any) -> Any:
        values = self.canonical(field, value)
        return "[" + ",".join(element(v) for v in values) + "]" if values else None

    def to_json(self, field: FieldDef, value: Any) -> Any:
        if value is None:
            return []
        return list(json.loads(value)) if isinstance(value, str) else list(value)

    def empty(self, value: Any) -> bool:
        return value is None or value == "" or value == []

    def filter_value(self, field: FieldDef, op: str, raw: Any) -> Any:
        check = ma.fields.String(validate=one_of_choices(choice_values(field)))
        try:
            return check.deserialize(raw)
        except ma.ValidationError as exc:
            raise ConversionError(flatten_messages(exc.messages)) from exc

    def compile_filter(
        self, field: FieldDef, column: sa.ColumnElement[Any], op: str, value: Any
    ) -> sa.ColumnElement[bool]:
        if op != "contains":
            return super().compile_filter(field, column, op, value)
        # ',"a","b",' from '["a","b"]': every element sits between two commas
        inner = sa.func.substr(column, 2, sa.func.length(column) - 2, type_=sa.Text)
        haystack = sa.literal(",", sa.Text) + inner + sa.literal(",", sa.Text)
        return haystack.like(f"%,{escape_like(element(str(value)))},%", escape="\\")

    def export_value(self, field: FieldDef, value: Any) -> str:
        return SEPARATOR.join(value or ())

    def import_value(self, field: FieldDef, text: str) -> Any:
        parts = [value_by_label(field, p.strip()) for p in text.split(";") if p.strip()]
        try:
            values = self.value_field(field).deserialize(parts)
            return self.to_json(field, self.to_db(field, values))
        except ma.ValidationError as exc:
            raise ConversionError(flatten_messages(exc.messages)) from exc

    def display(self, field: FieldDef, value: Any, locale: str = "en") -> str:
        labels = choice_labels(field)
        return ", ".join(labels.get(v, v) for v in value or ())

    def fake_value(self, field: FieldDef, rnd: random.Random) -> Any:
        values = choice_values(field)
        return self.canonical(field, rnd.sample(values, rnd.randint(0, min(3, len(values)))))

    def strategy(self, field: FieldDef) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        values = choice_values(field)
        chosen = st.lists(st.sampled_from(values), unique=True, max_size=len(values))
        return chosen.map(lambda v: self.canonical(field, v))

    def sample_options(self) -> dict[str, Any]:
        return {"choices": [*sample_choices(), "a,b", 'quote "q"', "back\\slash", "100%_"]}
