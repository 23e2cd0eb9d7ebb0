"""The smallest servers the records benchmark measures next to the platform.

The first two answer the platform's floor request (a record read without a token) with
a 401 problem document of the same size, under the same gunicorn settings as
``recordbase serve``: what any request costs on this machine before Recordbase does
anything.

- ``bare``: a WSGI function, no framework;
- ``flask_app``: Flask with that one route.

The third, ``page_app``, is the least a Flask application can do for the benchmark's
first page: the benchmark's own direct SELECT (``first_page``) and its rows as JSON. No
token, no rights, no link titles, no typed JSON: what the first page would cost over
HTTP if Recordbase added nothing to the query but Flask and a JSON encoder.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import orjson
import sqlalchemy as sa
from flask import Flask, Response

PAGE = 50
SYSTEM_COLUMNS = ("id", "version", "created_at", "updated_at", "created_by", "updated_by")

BODY = json.dumps(
    {
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": "Sign in first: send Authorization: Bearer <token> (POST /api/v1/auth/token).",
    }
).encode()
HEADERS = [("Content-Type", "application/problem+json"), ("Content-Length", str(len(BODY)))]


def bare(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("401 UNAUTHORIZED", HEADERS)
    return [BODY]


flask_app = Flask(__name__)


@flask_app.get("/api/v1/records/<entity>/<int:record_id>")
def record(entity: str, record_id: int) -> Response:
    return Response(BODY, status=401, content_type="application/problem+json")


def first_page(table: sa.Table, columns: Iterable[str]) -> sa.Select[Any]:
    """The first page in the default order (newest first), and one row more: the SELECT
    the benchmark runs directly; ``columns`` are the physical names of its fields."""
    cols = [table.c[n] for n in (*SYSTEM_COLUMNS, *columns)]
    return sa.select(*cols).order_by(table.c.id.desc()).limit(PAGE + 1)


def page_app(database_url: str) -> Flask:
    """Flask, one route: ``first_page`` of the benchmark's items on a pooled connection,
    its first 50 rows as a JSON list of objects (physical column names; decimals as
    strings, dates ISO 8601, as orjson writes them)."""
    import benchdata

    from recordbase.runtime import make_runtime

    runtime = make_runtime(database_url, pool_pre_ping=False)
    catalog = runtime.cache.current()
    entity = catalog.entity(benchdata.ITEMS)
    table = catalog.table(entity)
    stmt = first_page(table, [f.column for f in entity.fields])
    keys = [str(c.key) for c in stmt.selected_columns]  # plain str: orjson's keys
    engine = runtime.engine
    app = Flask(__name__)

    @app.get("/api/v1/records/<entity>")
    def records(entity: str) -> Response:
        with engine.connect() as conn:
            rows = conn.execute(stmt).all()
        items = [dict(zip(keys, row, strict=True)) for row in rows[:PAGE]]
        return Response(orjson.dumps({"items": items}, default=str),
                        content_type="application/json")

    return app


def main(argv: list[str]) -> None:
    """``python floorapps.py bare|flask|page PORT WORKERS THREADS [DATABASE_URL]``: gunicorn
    with the options ``recordbase serve`` uses (recordbase.server.gunicorn_options); the
    page app reads the benchmark's database at DATABASE_URL."""
    from recordbase.server import RecordbaseServer, gunicorn_options

    name, port, workers, threads = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    database_url = argv[4] if len(argv) > 4 else ""

    class Floor(RecordbaseServer):
        def load(self) -> Any:  # the floor app instead of Recordbase's (after the fork)
            if name == "page":
                return page_app(database_url)
            return {"bare": bare, "flask": flask_app}[name]

    options = gunicorn_options(host="127.0.0.1", port=port, workers=workers, threads=threads)
    Floor("", options).run()


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
