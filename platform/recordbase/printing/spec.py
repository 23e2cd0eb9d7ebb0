"""The shape of a print template as the API and files give it, and its page CSS.

``{"name", "label", "body", "css", "page": {"size", "orientation", "margins"},
"scope", "locale"}``: ``scope`` is ``record`` (one record per document, or one
per page in a batch) or ``list`` (one document for a list of records);
``margins`` are millimetres, one number for all four sides or
``{"top", "right", "bottom", "left"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import marshmallow as ma

from recordbase.errors import ValidationError
from recordbase.fields.base import flatten_messages
from recordbase.messages import msg
from recordbase.names import check_label, check_name

PAGE_SIZES = ("A3", "A4", "A5", "A6", "B5", "Letter", "Legal")
ORIENTATIONS = ("portrait", "landscape")
SCOPES = ("record", "list")
LOCALES = ("ru", "en", "hy")
SIDES = ("top", "right", "bottom", "left")
MAX_BODY = 200_000
MAX_CSS = 100_000
MAX_MARGIN_MM = 100
BUILTIN_NAMES = frozenset({"generic_record", "generic_list"})
DEFAULT_MARGINS = {"top": 15.0, "right": 10.0, "bottom": 15.0, "left": 20.0}


class Margins(ma.fields.Field[dict[str, float]]):
    default_error_messages = {  # noqa: RUF012 (marshmallow merges it per class)
        "invalid": (
            # doubled braces: marshmallow formats its messages with str.format
            "Margins are millimetres: one number for every side, or "
            '{{"top": …, "right": …, "bottom": …, "left": …}}.'
        ),
        "range": f"A margin is between 0 and {MAX_MARGIN_MM} mm.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> dict[str, float]:
        if isinstance(value, int | float) and not isinstance(value, bool):
            sides = dict.fromkeys(SIDES, value)
        elif isinstance(value, Mapping) and set(value) <= set(SIDES):
            sides = {**DEFAULT_MARGINS, **value}
        else:
            raise self.make_error("invalid")
        out: dict[str, float] = {}
        for side, mm in sides.items():
            if isinstance(mm, bool) or not isinstance(mm, int | float):
                raise self.make_error("invalid")
            if not 0 <= mm <= MAX_MARGIN_MM:
                raise self.make_error("range")
            out[side] = float(mm)
        return out


class PageSpec(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    size = ma.fields.String(load_default="A4", validate=ma.validate.OneOf(PAGE_SIZES))
    orientation = ma.fields.String(
        load_default="portrait", validate=ma.validate.OneOf(ORIENTATIONS)
    )
    margins = Margins(load_default=lambda: dict(DEFAULT_MARGINS))


class TemplateSpec(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    name = ma.fields.Raw(required=True)
    label = ma.fields.Raw(load_default=None)
    body = ma.fields.String(required=True, validate=ma.validate.Length(max=MAX_BODY))
    css = ma.fields.String(load_default="", validate=ma.validate.Length(max=MAX_CSS))
    page = ma.fields.Nested(PageSpec, load_default=lambda: PageSpec().load({}))
    scope = ma.fields.String(load_default="record", validate=ma.validate.OneOf(SCOPES))
    locale = ma.fields.String(load_default="ru", validate=ma.validate.OneOf(LOCALES))


@dataclass
class TemplateData:
    name: str
    label: str
    body: str
    css: str = ""
    page: dict[str, Any] = field(default_factory=lambda: PageSpec().load({}))
    scope: str = "record"
    locale: str = "ru"


def parse_spec(data: Any, *, kind: str = "html") -> TemplateData:
    """A checked template from the API's JSON (or a file's header); raise a sentence."""
    if not isinstance(data, Mapping):
        raise ValidationError(msg("A print template is sent as a JSON object."))
    if kind == "docx":
        data = {"body": "", **data}
    try:
        loaded = TemplateSpec().load(dict(data))
    except ma.ValidationError as exc:
        raise ValidationError(
            msg(
                "The print template is not valid: {problem}",
                problem=flatten_messages(exc.messages),
            ),
            fields={str(k): flatten_messages(v) for k, v in _messages(exc.messages).items()},
        ) from exc
    name = check_name(loaded["name"], "template", reserved=BUILTIN_NAMES)
    label = check_label(loaded["label"] if loaded["label"] is not None else name, "template")
    css = loaded["css"]
    if "<" in css:
        raise ValidationError(
            msg("The CSS of a print template may not contain '<'."),
            fields={"css": msg("No '<' here.")}
        )
    return TemplateData(
        name=name,
        label=label,
        body=loaded["body"],
        css=css,
        page=loaded["page"],
        scope=loaded["scope"],
        locale=loaded["locale"],
    )


def _messages(messages: Any) -> dict[str, Any]:
    return dict(messages) if isinstance(messages, Mapping) else {"_schema": messages}


def page_css(page: Mapping[str, Any]) -> str:
    """``@page`` for a page spec: size, orientation and margins in millimetres."""
    margins = page.get("margins") or DEFAULT_MARGINS
    margin = " ".join(f"{float(margins[side]):g}mm" for side in SIDES)
    size = str(page.get("size", "A4")).lower()
    orientation = str(page.get("orientation", "portrait"))
    return f"@page {{ size: {size} {orientation}; margin: {margin}; }}\n"
