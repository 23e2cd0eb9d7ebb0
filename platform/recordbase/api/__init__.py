"""The JSON API under /api/v1: one blueprint, one module per area."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def init_app(app: Flask) -> None:
    from recordbase.api import (  # noqa: F401
        admin,
        auth,
        entities,
        files,
        layouts,
        licence,
        openapi,
        prints,
        problems,
        records,
        sessions,
    )
    from recordbase.api.jsonio import OrjsonProvider

    app.json = OrjsonProvider(app)
    problems.init_app(app)
    app.register_blueprint(bp)
