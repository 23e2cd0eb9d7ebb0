"""One value chosen from a fixed list of choices, each with a label and an optional colour."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import marshmallow as ma
import sqlalchemy as sa

from recordbase.fields.base import FieldType
from recordbase.fields.text import no_control_characters
from recordbase.messages import msg
from recordbase.model import FieldDef

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

MAX_CHOICES = 500
MAX_VALUE_LENGTH = 100
LISTED_IN_MESSAGES = 10


class ChoiceSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    error_messages = {  # noqa: RUF012 (marshmallow merges it per class)
        "type": 'A choice is a text or an object such as {"value": "new", "label": "New"}.'
    }

    value = ma.fields.String(
        required=True,
        validate=[
            ma.validate.Length(
                min=1, max=MAX_VALUE_LENGTH, error="A choice value has 1 to 100 characters."
            ),
            no_control_characters,
        ],
    )
    label = ma.fields.String(validate=[ma.validate.Length(min=1, max=200), no_control_characters])
    color = ma.fields.String(
        validate=ma.validate.Regexp(
            r"^#[0-9a-fA-F]{6}\Z", error="A colour is written #rrggbb, for example #1e88e5."
        )
    )

    @ma.pre_load
    def from_plain_string(self, data: Any, **kwargs: Any) -> Any:
        return {"value": data} if isinstance(data, str) else data

    @ma.post_load
    def complete(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["value"] = data["value"].strip()
        if not data["value"]:
            raise ma.ValidationError(msg("A choice value cannot be blank."), "value")
        data["label"] = data.get("label", data["value"])
        if "color" in data:
            data["color"] = data["color"].lower()
        return data


class SelectOptions(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    choices = ma.fields.List(
        ma.fields.Nested(ChoiceSchema),
        required=True,
        validate=ma.validate.Length(
            min=1, max=MAX_CHOICES, error=f"Give between 1 and {MAX_CHOICES} choices."
        ),
    )

    @ma.validates("choices")
    def unique_values(self, choices: list[dict[str, Any]], **kwargs: Any) -> None:
        seen: set[str] = set()
        for choice in choices:
            if not isinstance(choice, dict) or "value" not in choice:
                continue  # an invalid choice, already reported by its own schema
            # case-insensitive: SQLite's LIKE (multi-select filters) does not tell them apart
            key = choice["value"].casefold()
            if key in seen:
                raise ma.ValidationError(msg(
                    "The choice {choice} is given twice.",
                    choice=repr(choice['value']),
                ))
            seen.add(key)


def choice_values(field: FieldDef) -> list[str]:
    return [str(c["value"]) for c in field.options.get("choices", ())]


def choice_labels(field: FieldDef) -> dict[str, str]:
    choices = field.options.get("choices", ())
    return {str(c["value"]): str(c.get("label", c["value"])) for c in choices}


def allowed_list(values: Sequence[str]) -> str:
    shown = ", ".join(values[:LISTED_IN_MESSAGES])
    more = len(values) - LISTED_IN_MESSAGES
    return shown + (f" and {more} more" if more > 0 else "")


def one_of_choices(values: Sequence[str]) -> Callable[[str], None]:
    allowed = frozenset(values)

    def check(value: str) -> None:
        if value not in allowed:
            raise ma.ValidationError(
                msg(
                    "{value} is not one of the choices: {choices}.",
                    value=repr(value[:MAX_VALUE_LENGTH]), choices=allowed_list(values),
                )
            )

    return check


def value_by_label(field: FieldDef, text: str) -> str:
    """Import accepts a choice's label where it is not also another choice's value."""
    if text in choice_values(field):
        return text
    for value, label in choice_labels(field).items():
        if label.casefold() == text.casefold():
            return value
    return text


class SingleSelectFieldType(FieldType):
    name = "single_select"
    converts_to: ClassVar[frozenset[str]] = frozenset({"long_text", "multi_select", "text"})
    widget = "select"
    operators = ("eq", "ne", "in", "isnull")
    options_schema: ClassVar[type[ma.Schema]] = SelectOptions
    value_schema: ClassVar[dict[str, Any]] = {"type": "string", "description": "a choice value"}

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.String(MAX_VALUE_LENGTH)

    def value_field(self, field: FieldDef) -> ma.fields.Field[Any]:
        return ma.fields.String(allow_none=True, validate=one_of_choices(choice_values(field)))

    def import_value(self, field: FieldDef, text: str) -> Any:
        return super().import_value(field, value_by_label(field, text.strip()))

    def display(self, field: FieldDef, value: Any, locale: str = "en") -> str:
        return "" if value is None else choice_labels(field).get(value, str(value))

    def fake_value(self, field: FieldDef, rnd: random.Random) -> Any:
        return rnd.choice(choice_values(field))

    def strategy(self, field: FieldDef) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        return st.sampled_from(choice_values(field)) | st.none()

    def sample_options(self) -> dict[str, Any]:
        return {"choices": sample_choices()}


def sample_choices() -> list[Any]:
    return [
        {"value": "new", "label": "Новый", "color": "#1E88E5"},
        {"value": "in_progress", "label": "В работе"},
        "Հաստատված",
        {"value": "won 🎉", "label": "Won 🎉", "color": "#43a047"},
        "lost",
    ]
