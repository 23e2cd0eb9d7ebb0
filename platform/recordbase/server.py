"""Serving with gunicorn: several worker processes, each with its own app and pool."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


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


def run_gunicorn(database_url: str, *, host: str, port: int, workers: int, threads: int) -> None:
    options = {
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
    RecordbaseServer(database_url, options).run()
