"""Serving with gunicorn: several worker processes, each with its own app and pool.

``recordbase serve`` checks the database, counts the launch and then replaces itself
(``exec``) with ``python -m recordbase.server``: a master that imports gunicorn only.
The CLI process had imported Flask, SQLAlchemy and the whole package (about 35 MB
that a master never uses); each worker imports them after the fork instead and
builds its own app, engine and pool, so nothing is shared between processes. The
database URL travels in the environment, never on the command line where `ps`
would show a PostgreSQL password.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication

if TYPE_CHECKING:
    from flask import Flask

DATABASE_ENV = "RECORDBASE_DATABASE_URL"


class RecordbaseServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, database_url: str, options: dict[str, Any]) -> None:
        self.database_url = database_url
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        # runs in each worker after the fork: no engine or pool is shared
        from recordbase.app import create_app

        return create_app({"DATABASE_URL": self.database_url})


def gunicorn_options(*, host: str, port: int, workers: int, threads: int) -> dict[str, Any]:
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "accesslog": "-",
        "errorlog": "-",
        "timeout": 60,
        "graceful_timeout": 10,
        "limit_request_line": 8190,
        "limit_request_fields": 100,
    }


def exec_server(database_url: str, *, host: str, port: int, workers: int, threads: int) -> None:
    """Replace this process by a lean gunicorn master (same pid, same signals)."""
    sys.stdout.flush()
    sys.stderr.flush()
    env = {**os.environ, DATABASE_ENV: database_url}
    args = [
        sys.executable, "-m", "recordbase.server",
        "--host", host, "--port", str(port),
        "--workers", str(workers), "--threads", str(threads),
    ]
    os.execve(sys.executable, args, env)  # noqa: S606 (our own interpreter, no shell)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m recordbase.server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    database_url = os.environ.get(DATABASE_ENV)
    if not database_url:
        parser.error(f"{DATABASE_ENV} is not set; start the server with `recordbase serve`")
    options = gunicorn_options(
        host=args.host, port=args.port, workers=args.workers, threads=args.threads
    )
    RecordbaseServer(database_url, options).run()


if __name__ == "__main__":
    main()
