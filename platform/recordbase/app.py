"""The application factory."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from recordbase.db import default_database_url, shared_reads
from recordbase.runtime import Runtime, make_runtime

MAX_BODY_BYTES = 2 * 1024 * 1024


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer made once per key.

    Flask opens the session of every request, API calls included, and builds a new
    serializer (key derivation set-up included) each time: about 0.05-0.09 ms a
    request. Recordbase keeps its sessions in the database and its own cookies; this
    only makes the unused default cheap.
    """

    def __init__(self) -> None:
        self._serializers: dict[tuple[Any, ...], URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        key = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        found = self._serializers.get(key)
        if found is None:
            found = super().get_signing_serializer(app)
            if found is not None:
                self._serializers[key] = found
        return found


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.session_interface = CookieSessions()
    app.config.from_mapping(
        DATABASE_URL=default_database_url(),
        SECRET_KEY=os.environ.get("RECORDBASE_SECRET_KEY") or secrets.token_hex(32),
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        JSON_MAX_DEPTH=32,
        PASSWORD_HASH_PROFILE="owasp",  # noqa: S106 (a profile name)
    )
    if test_config is not None:
        app.config.from_mapping(test_config)
    runtime = make_runtime(
        app.config["DATABASE_URL"], hash_profile=app.config["PASSWORD_HASH_PROFILE"]
    )
    app.extensions["recordbase"] = runtime

    from recordbase.api import init_app as init_api
    from recordbase.web import init_app as init_web

    init_api(app)
    init_web(app)
    app.wsgi_app = SharedReads(app.wsgi_app, runtime)  # type: ignore[method-assign]
    return app


class SharedReads:
    """WSGI middleware: the reads of one request share one read connection.

    Checking the token (which reads the catalog version too) and reading a page then
    take one connection checkout instead of one each, and on SQLite one read
    transaction (``db.shared_reads``).
    The scope ends when the application returns, before the server sends a streamed
    body; reads made while streaming use connections of their own.
    """

    def __init__(self, wsgi_app: Any, runtime: Runtime) -> None:
        self.wsgi_app = wsgi_app
        self.runtime = runtime

    def __call__(self, environ: Any, start_response: Any) -> Any:
        with shared_reads(self.runtime.engine):
            return self.wsgi_app(environ, start_response)


def runtime_of(app: Flask) -> Runtime:
    runtime: Runtime = app.extensions["recordbase"]
    return runtime
