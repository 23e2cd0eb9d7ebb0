"""The application factory."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask

from recordbase.db import default_database_url
from recordbase.runtime import Runtime, make_runtime

MAX_BODY_BYTES = 2 * 1024 * 1024


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
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
    return app


def runtime_of(app: Flask) -> Runtime:
    runtime: Runtime = app.extensions["recordbase"]
    return runtime
