"""The layout JSON Schema (``metadata/layout.schema.json``) and its messages as sentences."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from recordbase.errors import ValidationError
from recordbase.messages import msg, reason

SCHEMA_FILE = "layout.schema.json"


def schema_path() -> Path:
    """``metadata/layout.schema.json`` at the top of the source tree (as configio reads its
    schemas)."""
    return Path(__file__).resolve().parents[3] / "metadata" / SCHEMA_FILE


@lru_cache(maxsize=1)
def validator() -> Any:
    # imported at the first layout checked, not when a server process starts: it is
    # about 10 MB of every worker's memory, and most workers never check a layout
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

    path = schema_path()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValidationError(msg(
            "The JSON Schema {path} cannot be read: {reason}.",
            path=path, reason=reason(exc),
        )) from exc
    return Draft202012Validator(document)


def place(parts: Sequence[Any]) -> str:
    """``tabs[0].sections[1].elements[3].width`` from a sequence of keys and indexes."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(the layout)"


def schema_problems(body: Any) -> Iterator[tuple[str, str]]:
    """(place, sentence) for each place where ``body`` breaks the schema, in document order.

    Of the errors at one place only the first is kept: an unknown element type also
    fails every ``then`` branch, and one sentence per place is what a reader needs.
    """
    seen: set[str] = set()
    errors = sorted(validator().iter_errors(body), key=lambda e: _order(e.absolute_path))
    for error in errors:
        path = list(error.absolute_path)
        if error.validator == "required":
            missing = _missing(error)
            path = [*path, missing] if missing else path
        where = place(path)
        if where in seen:
            continue
        seen.add(where)
        yield where, _sentence(error)


def _order(path: Any) -> list[tuple[int, int | str]]:
    return [(0, p) if isinstance(p, int) else (1, str(p)) for p in path]


def _missing(error: Any) -> str | None:
    for key in error.validator_value:
        if isinstance(error.instance, dict) and key not in error.instance:
            return str(key)
    return None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "...'"


def _sentence(error: Any) -> str:
    keyword, value, rule = error.validator, error.instance, error.validator_value
    bounds = error.schema
    if keyword in ("minimum", "maximum") and "minimum" in bounds and "maximum" in bounds:
        return f"must be between {bounds['minimum']} and {bounds['maximum']}, not {_shown(value)}"
    if keyword == "required":
        return "is missing"
    if keyword == "enum":
        if error.absolute_path and error.absolute_path[-1] == "type":
            return f"{_shown(value)} is not an element type; one of: {', '.join(rule)}"
        return f"{_shown(value)} is not one of: {', '.join(str(r) for r in rule)}"
    if keyword == "const":
        return f"must be {rule!r}, not {_shown(value)}"
    if keyword == "maxLength":
        return f"is {len(value)} characters long; at most {rule} are allowed"
    if keyword == "minLength":
        return "must not be empty"
    if keyword == "maxItems":
        return f"has {len(value)} items; at most {rule} are allowed"
    if keyword == "pattern":
        description = bounds.get("description") or f"must match {rule}"
        return f"{_shown(value)} is not allowed: {description}"
    if keyword == "additionalProperties":
        extra = sorted(k for k in value if k not in bounds.get("properties", {}))
        return f"has unknown keys: {', '.join(extra)}"
    if keyword == "type":
        kinds = rule if isinstance(rule, list) else [rule]
        return f"{_shown(value)} is not {' or '.join(_article(k) for k in kinds)}"
    if keyword == "anyOf" and "field" in [str(p) for p in error.absolute_path][-1:]:
        return f"{_shown(value)} is not a field id (a whole number) or a field's API name"
    message = str(error.message)
    return message if len(message) <= 300 else message[:297] + "..."


def _article(kind: str) -> str:
    return {
        "integer": "a whole number",
        "string": "text",
        "object": "an object",
        "array": "a list",
        "boolean": "true or false",
        "null": "null",
    }.get(kind, kind)
