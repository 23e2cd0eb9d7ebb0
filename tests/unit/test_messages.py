"""Message: English as a str, translated later with the same params, English on a bad
translation; library sentences recognised; the API's plain strings untouched."""

from __future__ import annotations

import json
import pickle

import marshmallow as ma
import pytest

from recordbase.errors import ConversionError, ValidationError
from recordbase.fields.base import flatten_messages
from recordbase.messages import Message, joined, localise, msg, placeholders, reason

RU = {
    "The field {field} is required.": "Поле {field} обязательно.",
    "There is no {noun} with id {record_id}.": "Не найдено: {noun} с id {record_id}.",
    "user": "пользователь",
    "{field}: {problem}": "{field} — {problem}",
    "Not a valid number.": "Это не число.",
    "Length must be between {min} and {max}.": "Длина от {min} до {max}.",
    "Bad {field}.": "Плохое {fild}.",  # a translator's typo: placeholders differ
    "Odd {field}.": "Странное {field!x}.",  # placeholders match, formatting fails
}


def ru(text: str) -> str:
    return RU.get(text, text)


def test_a_message_is_its_english_sentence() -> None:
    text = msg("The field {field} is required.", field="Name")
    assert isinstance(text, str)
    assert text == "The field Name is required."
    assert text.template == "The field {field} is required."
    assert text.params == {"field": "Name"}
    assert json.dumps({"detail": text}) == '{"detail": "The field Name is required."}'
    assert str(ValidationError(text)) == "The field Name is required."


def test_translated_formats_the_translation_with_the_same_params() -> None:
    assert msg("The field {field} is required.", field="Name").translated(ru) == (
        "Поле Name обязательно."
    )
    assert msg("Untranslated {x}.", x=1).translated(ru) == "Untranslated 1."


def test_nested_messages_are_translated_too() -> None:
    text = msg("There is no {noun} with id {record_id}.", noun=msg("user"), record_id=7)
    assert text == "There is no user with id 7."
    assert text.translated(ru) == "Не найдено: пользователь с id 7."
    both = joined([msg("{field}: {problem}", field="price", problem=msg("Not a valid number.")),
                   "plain"], "; ")
    assert both == "price: Not a valid number.; plain"
    assert both.translated(ru) == "price — Это не число.; plain"


@pytest.mark.parametrize("template", ["Bad {field}.", "Odd {field}."])
def test_a_bad_translation_falls_back_to_english(template: str) -> None:
    assert msg(template, field="x").translated(ru) == template.replace("{field}", "x")


def test_literal_braces_and_placeholders() -> None:
    text = msg("Tokens {{YYYY}} and {n}.", n=2)
    assert text == "Tokens {YYYY} and 2."
    assert placeholders(text.template) == {"n"}
    assert placeholders("broken {") == {"\x00unparsable"}


def test_localise_walks_fields_and_leaves_plain_text() -> None:
    fields = {
        "name": msg("Not a valid number."),
        "lines": {"0": {"price": msg("Not a valid number.")}},
        "tags": [msg("Not a valid number."), "as typed"],
        "count": 3,
    }
    assert localise(fields, ru) == {
        "name": "Это не число.",
        "lines": {"0": {"price": "Это не число."}},
        "tags": ["Это не число.", "as typed"],
        "count": 3,
    }
    assert localise("Already translated.", ru) == "Already translated."


def test_reason_keeps_the_message_of_an_exception() -> None:
    raised = ConversionError(msg("Not a valid number."))
    assert isinstance(reason(raised), Message)
    assert reason(ValueError("plain")) == "plain"


def test_a_message_survives_pickling() -> None:
    text = msg("There is no {noun} with id {record_id}.", noun=msg("user"), record_id=7)
    again = pickle.loads(pickle.dumps(text))
    assert again == text
    assert again.translated(ru) == "Не найдено: пользователь с id 7."


def test_marshmallow_sentences_are_recognised() -> None:
    field = ma.fields.String(validate=ma.validate.Length(min=2, max=5))
    with pytest.raises(ma.ValidationError) as caught:
        field.deserialize("much too long")
    flat = flatten_messages(caught.value.messages)
    assert flat == "Length must be between 2 and 5."
    assert flat.translated(ru) == "Длина от 2 до 5."
    nested = flatten_messages({"price": ["Not a valid number."]})
    assert nested.translated(ru) == "price — Это не число."
