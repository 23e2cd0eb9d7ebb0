"""The two smallest servers the records benchmark measures next to the platform's floor.

Both answer the platform's floor request (a record read without a token) with a 401
problem document of the same size, under the same gunicorn settings as ``recordbase
serve``: what any request costs on this machine before Recordbase does anything.

- ``bare``: a WSGI function, no framework;
- ``flask_app``: Flask with that one route.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response

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


def main(argv: list[str]) -> None:
    """``python floorapps.py bare|flask PORT WORKERS THREADS``: gunicorn with the options
    ``recordbase serve`` uses (recordbase.server.gunicorn_options)."""
    from recordbase.server import RecordbaseServer, gunicorn_options

    name, port, workers, threads = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    app = {"bare": bare, "flask": flask_app}[name]

    class Floor(RecordbaseServer):
        def load(self) -> Any:  # the floor app instead of Recordbase's
            return app

    options = gunicorn_options(host="127.0.0.1", port=port, workers=workers, threads=threads)
    Floor("", options).run()


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
