"""The web application: server-rendered pages over the same services as the API.

One blueprint per area (``auth``, ``home``, ``lists``, ``cards``, ``structure``),
each module exposing ``bp``. Pages are Jinja templates; htmx swaps fragments (a
named block of the same template) when a request carries ``HX-Request``; every
form also works as a plain HTML form.
"""

from __future__ import annotations

import os

from flask import Flask, Response, request

#: pages load only their own scripts and styles: no inline script, no eval, no framing
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def _security_headers(response: Response) -> Response:
    if request.path.startswith("/api/") or response.mimetype != "text/html":
        return response
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    # pages show personal data: never from a shared cache, and back shows them afresh
    response.headers.setdefault("Cache-Control", "no-store")
    response.vary.add("HX-Request")
    return response


def init_app(app: Flask) -> None:
    from recordbase.web import (  # noqa: F401 (routes)
        account,
        admin,
        admin_audit,
        admin_roles,
        auth,
        cards,
        csrf,
        designer,
        designer_list,
        designer_versions,
        errors,
        home,
        i18n,
        lists,
        print_templates,
        printouts,
        structure,
    )

    app.config.setdefault(
        "WEB_COOKIE_SECURE", os.environ.get("RECORDBASE_COOKIE_SECURE", "1").strip() != "0"
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    i18n.init_app(app)
    csrf.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    home.init_app(app)
    printouts.init_app(app)
    admin.init_app(app)
    app.after_request(_security_headers)
    for module in (auth, home, lists, cards, structure, designer, print_templates, printouts):
        app.register_blueprint(module.bp)
    for module in (admin, admin_roles, admin_audit, account):
        app.register_blueprint(module.bp)
