"""The web application: server-rendered pages over the same services as the API.

One blueprint per area (``auth``, ``home``, ``lists``, ``cards``, ``structure``),
each module exposing ``bp``. Pages are Jinja templates; htmx swaps fragments (a
named block of the same template) when a request carries ``HX-Request``; every
form also works as a plain HTML form.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from recordbase.web import auth, cards, csrf, errors, home, i18n, lists, structure

    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    i18n.init_app(app)
    csrf.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    home.init_app(app)
    for module in (auth, home, lists, cards, structure):
        app.register_blueprint(module.bp)
