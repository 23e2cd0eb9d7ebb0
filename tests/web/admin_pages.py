"""Helpers for the administration page tests: set up roles and users through the pages."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from recordbase.runtime import Runtime

from .conftest import Browser

ONE_TIME = re.compile(r'id="one-time-password">([^<]+)<')


def rt_of(app: Flask) -> Runtime:
    runtime: Runtime = app.extensions["recordbase"]
    return runtime


def one_time_password(html: str) -> str:
    match = ONE_TIME.search(html)
    assert match, "no one-time password on the page"
    return match.group(1)


def create_user(admin_web: Browser, login: str, role: str = "user", **extra: str) -> str:
    """Create a user on the users page; the one-time password it shows."""
    response = admin_web.post("/admin/users", {"login": login, "role": role, **extra})
    assert response.status_code == 201, response.get_data(as_text=True)
    return one_time_password(response.get_data(as_text=True))


def set_rights(admin_web: Browser, role: str, entity: str, form: list[tuple[str, str]]) -> Any:
    response = admin_web.post(f"/admin/roles/{role}/entities/{entity}", form)
    assert response.status_code == 303, response.get_data(as_text=True)
    return response


def signed_in(app: Flask, login: str, password: str) -> Browser:
    web = Browser(app.test_client())
    web.sign_in(login, password)
    return web
