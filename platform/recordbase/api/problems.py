"""Errors as RFC 9457 problem documents (application/problem+json)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, json, request
from werkzeug.exceptions import HTTPException

from recordbase.errors import RecordbaseError

log = logging.getLogger(__name__)

HTTP_SENTENCES = {
    404: "There is nothing at this address.",
    405: "This address does not accept the {method} method.",
    413: "The request body is too large.",
}


def problem(status: int, title: str, detail: str, **extra: Any) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update({k: v for k, v in extra.items() if v})
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    return response


#: where the web application registers its renderer of errors as pages and fragments
WEB_ERRORS = "recordbase.web_errors"


def _web_renderer() -> Callable[[Exception], Response] | None:
    """The web application's error page renderer, for requests outside /api/."""
    if request.path.startswith("/api/"):
        return None
    renderer: Callable[[Exception], Response] | None = current_app.extensions.get(WEB_ERRORS)
    return renderer


def init_app(app: Flask) -> None:
    @app.errorhandler(RecordbaseError)
    def _domain(exc: RecordbaseError) -> Response:
        web = _web_renderer()
        if web is not None:
            return web(exc)
        return problem(exc.status, exc.title, exc.message, errors=exc.fields, **exc.extra)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response | HTTPException:
        if not request.path.startswith("/api/"):
            web = _web_renderer()
            return exc if web is None else web(exc)
        status = exc.code or 500
        template = HTTP_SENTENCES.get(status)
        detail = template.format(method=request.method) if template else (exc.description or "")
        response = problem(status, exc.name, detail)
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.path)
        web = _web_renderer()
        if web is not None:
            return web(exc)
        return problem(
            500,
            "Internal error",
            "Something went wrong on the server; nothing was changed. The error has been logged.",
        )
