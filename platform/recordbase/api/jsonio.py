"""JSON in and out: fast encoding, and bounded decoding of request bodies."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import orjson
from flask import current_app, request
from flask.json.provider import JSONProvider

from recordbase.errors import PayloadTooLarge, ValidationError
from recordbase.layouts.parse import depth_of as depth


def _default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class OrjsonProvider(JSONProvider):
    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj, default=_default, option=orjson.OPT_NON_STR_KEYS).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)


def json_body() -> Any:
    """The request's JSON body, refused with a sentence when it is not JSON or too deep."""
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise ValidationError("Send the body as JSON with the Content-Type application/json.")
    raw = request.get_data(cache=True)
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if limit and len(raw) > limit:
        raise PayloadTooLarge(f"The body is larger than {limit} bytes.")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValidationError(
            f"The body is not valid JSON: {exc.msg} at character {exc.pos}."
        ) from exc
    max_depth = int(current_app.config["JSON_MAX_DEPTH"])
    if depth(data, max_depth) > max_depth:
        raise PayloadTooLarge(f"The JSON body is nested more than {max_depth} levels deep.")
    return data
