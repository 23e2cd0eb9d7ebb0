"""Errors as messages: a page for a full request, a fragment for htmx, never a raw page.

The API keeps its problem documents; ``recordbase.api.problems`` hands every error
of a request outside ``/api/`` to ``render_error``.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from recordbase.api.problems import WEB_ERRORS
from recordbase.errors import AuthenticationError, RecordbaseError
from recordbase.web.common import is_htmx
from recordbase.web.i18n import localised_error

log = logging.getLogger(__name__)


def _title(status: int) -> str:
    titles = {
        400: _("The request cannot be understood"),
        401: _("Sign in first"),
        403: _("Not allowed"),
        404: _("Not found"),
        405: _("Not allowed here"),
        409: _("Conflict"),
        413: _("Too large"),
        422: _("Invalid input"),
        503: _("Busy, try again"),
    }
    return str(titles.get(status, _("Something went wrong")))


def _http_sentence(exc: HTTPException) -> str:
    sentences = {
        400: _("The request cannot be understood; go back and try again."),
        404: _("There is nothing at this address."),
        405: _("This address does not accept this kind of request."),
        413: _("The request is too large."),
    }
    return str(sentences.get(exc.code or 500, _("Something went wrong; nothing was changed.")))


def render_error(exc: Exception) -> Response:
    if isinstance(exc, RecordbaseError):
        localised_error(exc)
        status, message = exc.status, exc.message
        details = [str(v) for v in exc.fields.values() if isinstance(v, str) and v not in message]
    elif isinstance(exc, HTTPException):
        status, message, details = exc.code or 500, _http_sentence(exc), []
    else:
        log.exception("unexpected error on %s %s", request.method, request.path)
        status = 500
        message = _(
            "Something went wrong on the server; nothing was changed. The error has been logged."
        )
        details = []
    context = {
        "status": status,
        "title": _title(status),
        "message": message,
        "details": details[:20],
        "sign_in": isinstance(exc, AuthenticationError),
    }
    if is_htmx():
        body = render_template("_error.html", **context)
        headers = {"HX-Retarget": "#messages", "HX-Reswap": "innerHTML"}
        return Response(body, status=status, headers=headers, mimetype="text/html")
    try:
        body = render_template("error.html", **context)
    except Exception:
        log.exception("the error page failed")
        body = f"<!doctype html><title>{status}</title><p>{escape(message)}</p>"
    response = Response(body, status=status, mimetype="text/html")
    if isinstance(exc, HTTPException) and status == 405:
        allow = exc.get_response().headers.get("Allow")
        if allow:
            response.headers["Allow"] = allow
    return response


def init_app(app: Flask) -> None:
    app.extensions[WEB_ERRORS] = render_error
    app.jinja_env.globals["login_url"] = lambda: url_for("auth.login")
