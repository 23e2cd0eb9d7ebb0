"""Cross-site request forgery protection for every form and htmx request.

The token is the SHA-256 of a secret the browser holds in an HTTP-only cookie:
the session token once signed in, before that a random pre-session value. A
forged request from another site can make the browser send the cookie but cannot
read it, so it cannot produce the token, which must come back in the form field
``csrf_token`` or the header ``X-CSRF-Token`` (htmx sends it from a meta tag).
Deriving the token from the cookie keeps it valid across server processes
without a shared secret key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Flask, Response, g, request
from flask_babel import gettext as _

from recordbase.errors import PermissionDenied

PRE_SESSION_COOKIE = "rb_csrf"
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def _digest(secret: str) -> str:
    return hashlib.sha256(b"recordbase-csrf:" + secret.encode()).hexdigest()


def _secret() -> str:
    from recordbase.web.auth import SESSION_COOKIE

    if g.get("user") is not None:
        return str(request.cookies.get(SESSION_COOKIE, ""))
    existing = request.cookies.get(PRE_SESSION_COOKIE)
    if existing and 20 <= len(existing) <= 100:
        return existing
    if "new_csrf_secret" not in g:
        g.new_csrf_secret = secrets.token_urlsafe(32)
    return str(g.new_csrf_secret)


def csrf_token() -> str:
    return _digest(_secret())


def check_request() -> None:
    if request.method in SAFE_METHODS or request.path.startswith("/api/"):
        return
    sent = request.headers.get(HEADER) or request.form.get(FIELD) or ""
    if "new_csrf_secret" in g or not hmac.compare_digest(sent.encode(), csrf_token().encode()):
        raise PermissionDenied(
            _(
                "The form has expired or did not come from this site; nothing was changed. "
                "Reload the page and try again."
            )
        )


def _set_cookie(response: Response) -> Response:
    secret = g.pop("new_csrf_secret", None)
    if secret is not None:
        from recordbase.web.common import set_cookie

        set_cookie(response, PRE_SESSION_COOKIE, secret)
    return response


def init_app(app: Flask) -> None:
    app.after_request(_set_cookie)
    app.jinja_env.globals["csrf_token"] = csrf_token
