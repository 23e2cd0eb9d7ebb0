"""Reading a layout document from bytes: bounded in size and nesting before it is parsed.

A layout is small (a card of a few hundred elements is a few dozen kilobytes), so
anything over ``MAX_BYTES`` is refused unread, and brackets are counted before the
JSON parser sees the text: a document nested deeper than the format can be is
refused with a sentence instead of exhausting the parser (or Python's stack).
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from recordbase.errors import PayloadTooLarge, ValidationError
from recordbase.messages import msg

#: the largest layout document accepted (the API body, a form_layouts file)
MAX_BYTES = 256 * 1024
#: a form layout is at most 8 levels deep (layout, tabs, tab, sections, section,
#: elements, element, value); a little room above that for a clear message
MAX_DEPTH = 10
#: quoted JSON text, escapes included: its brackets do not count
QUOTED = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
BRACKETS = re.compile(rb"[\[\]{}]")

#: how sentences name the layout when no file name is known
THE_LAYOUT = msg("The layout")


def too_large(size: int, what: str = THE_LAYOUT) -> PayloadTooLarge:
    return PayloadTooLarge(
        msg(
            "{what} is {size:,} bytes; a layout may be at most {kib} KiB ({max_bytes:,} "
            "bytes).",
            what=what, size=size, kib=MAX_BYTES // 1024, max_bytes=MAX_BYTES,
        ),
        extra={"limit": MAX_BYTES},
    )


def too_deep(what: str = THE_LAYOUT) -> ValidationError:
    return ValidationError(
        msg(
            "{what} is nested more than {max_depth} levels deep; a layout never needs more "
            "than 8 (layout, tabs, tab, sections, section, elements, element, value).",
            what=what, max_depth=MAX_DEPTH,
        ),
        extra={"limit": MAX_DEPTH},
    )


def nesting(raw: bytes) -> int:
    """The deepest bracket nesting of a JSON text, ignoring brackets inside strings."""
    depth = peak = 0
    for match in BRACKETS.finditer(QUOTED.sub(b'""', raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            peak = max(peak, depth)
        else:
            depth -= 1
    return peak


def depth_of(value: Any, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of a decoded value, giving up once past ``limit`` (no recursion)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if level > limit:
            return level
        deepest = max(deepest, level)
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def parse_layout(raw: bytes, what: str = THE_LAYOUT) -> Any:
    """The decoded JSON of a layout document; raises a sentence for anything else.

    Too large: ``PayloadTooLarge`` (413); too deep, not UTF-8 or not JSON:
    ``ValidationError`` (422). ``what`` names the document in the sentences.
    """
    if len(raw) > MAX_BYTES:
        raise too_large(len(raw), what)
    if nesting(raw) > MAX_DEPTH:
        raise too_deep(what)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValidationError(
            msg(
                "{what} is not valid JSON: {why} at character {pos}.",
                what=what, why=exc.msg, pos=exc.pos,
            )
        ) from exc
