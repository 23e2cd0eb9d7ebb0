"""Rules for the API names of entities and fields.

API names appear in URLs, JSON keys and configuration files; they never reach SQL
(physical names come from ids), yet they are kept to a plain, predictable shape so
that URLs and files stay readable and two names cannot differ only by case.
"""

from __future__ import annotations

import re

from recordbase.errors import ValidationError
from recordbase.model import SYSTEM_COLUMNS

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_NAME_LENGTH = 63
MAX_LABEL_LENGTH = 200
RESERVED_FIELD_NAMES = frozenset((*SYSTEM_COLUMNS, "parent", "children", "next", "items"))
RESERVED_ENTITY_NAMES = frozenset(("schema", "files", "auth", "users", "openapi"))


def check_name(name: object, what: str, *, reserved: frozenset[str] = frozenset()) -> str:
    """Return ``name`` if it is a valid API name, else raise a sentence saying why."""
    key = "name"
    if not isinstance(name, str) or not name:
        raise ValidationError(f"The {what} name is required.", fields={key: "Required."})
    if len(name) > MAX_NAME_LENGTH:
        msg = (
            f"The {what} name is {len(name)} characters long; "
            f"at most {MAX_NAME_LENGTH} are allowed."
        )
        raise ValidationError(msg, fields={key: msg})
    if not NAME_PATTERN.match(name):
        msg = (
            f"The {what} name {name!r} must start with a lowercase Latin letter and contain only "
            "lowercase Latin letters, digits and underscores."
        )
        raise ValidationError(msg, fields={key: msg})
    if name in reserved:
        msg = f"The {what} name {name!r} is reserved by Recordbase; choose another."
        raise ValidationError(msg, fields={key: msg})
    return name


def check_label(label: object, what: str, key: str = "label") -> str:
    if not isinstance(label, str) or not label.strip():
        raise ValidationError(f"The {what} {key} is required.", fields={key: "Required."})
    label = label.strip()
    if len(label) > MAX_LABEL_LENGTH:
        msg = (
            f"The {what} {key} is {len(label)} characters long; "
            f"at most {MAX_LABEL_LENGTH} are allowed."
        )
        raise ValidationError(msg, fields={key: msg})
    if any(ord(ch) < 32 for ch in label):
        msg = f"The {what} {key} must not contain control characters."
        raise ValidationError(msg, fields={key: msg})
    return label
