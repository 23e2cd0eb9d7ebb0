"""Rules for the API names of entities and fields.

API names appear in URLs, JSON keys and configuration files; they never reach SQL
(physical names come from ids), yet they are kept to a plain, predictable shape so
that URLs and files stay readable and two names cannot differ only by case.
"""

from __future__ import annotations

import re

from recordbase.errors import ValidationError
from recordbase.messages import msg
from recordbase.model import SYSTEM_COLUMNS

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_NAME_LENGTH = 63
MAX_LABEL_LENGTH = 200
RESERVED_FIELD_NAMES = frozenset((*SYSTEM_COLUMNS, "parent", "children", "next", "items"))
RESERVED_ENTITY_NAMES = frozenset(("schema", "files", "auth", "users", "openapi"))
# what a name or label belongs to, and which of its labels, as words of a sentence
_WHAT = {
    "entity": msg("entity"),
    "field": msg("field"),
    "user": msg("user"),
    "token": msg("token"),
    "template": msg("template"),
}
_KEYS = {"label": msg("label"), "label_plural": msg("plural label"), "name": msg("name")}


def check_name(name: object, what: str, *, reserved: frozenset[str] = frozenset()) -> str:
    """Return ``name`` if it is a valid API name, else raise a sentence saying why."""
    key, noun = "name", _WHAT.get(what, what)
    if not isinstance(name, str) or not name:
        raise ValidationError(
            msg("The {what} name is required.", what=noun), fields={key: msg("Required.")}
        )
    if len(name) > MAX_NAME_LENGTH:
        message = msg(
            "The {what} name is {count} characters long; at most {max} are allowed.",
            what=noun, count=len(name), max=MAX_NAME_LENGTH,
        )
        raise ValidationError(message, fields={key: message})
    if not NAME_PATTERN.match(name):
        message = msg(
            "The {what} name '{name}' must start with a lowercase Latin letter and contain "
            "only lowercase Latin letters, digits and underscores.",
            what=noun, name=name,
        )
        raise ValidationError(message, fields={key: message})
    if name in reserved:
        message = msg(
            "The {what} name '{name}' is reserved by Recordbase; choose another.",
            what=noun, name=name,
        )
        raise ValidationError(message, fields={key: message})
    return name


def check_label(label: object, what: str, key: str = "label") -> str:
    noun, word = _WHAT.get(what, what), _KEYS.get(key, key)
    if not isinstance(label, str) or not label.strip():
        raise ValidationError(
            msg("The {what} {key} is required.", what=noun, key=word),
            fields={key: msg("Required.")},
        )
    label = label.strip()
    if len(label) > MAX_LABEL_LENGTH:
        message = msg(
            "The {what} {key} is {count} characters long; at most {max} are allowed.",
            what=noun, key=word, count=len(label), max=MAX_LABEL_LENGTH,
        )
        raise ValidationError(message, fields={key: message})
    if any(ord(ch) < 32 for ch in label):
        message = msg(
            "The {what} {key} must not contain control characters.", what=noun, key=word
        )
        raise ValidationError(message, fields={key: message})
    return label
