"""Web tests: the sales CRM configuration with its demo records, and signed-in clients."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from recordbase import configio
from recordbase.runtime import Runtime

CRM = Path(__file__).resolve().parents[2] / "sample_configs" / "sales_crm"
TOKEN = re.compile(r'name="csrf-token" content="([0-9a-f]{64})"')


@pytest.fixture
def crm(app: Flask) -> Flask:
    """The app on a database holding the sales CRM and its demo records."""
    rt: Runtime = app.extensions["recordbase"]
    configio.apply_config(rt, configio.load_config(CRM))
    configio.load_demo_data(rt, CRM, user_id=None)
    return app


def card_form(html: str) -> dict[str, str]:
    """The hidden fields of a record card's form (version, ids), without the CSRF token."""
    form = re.search(r'<form method="post" enctype="multipart/form-data".*?</form>', html, re.S)
    assert form is not None
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0)))
    fields.pop("csrf_token", None)
    return fields


class Browser:
    """A test client that signs in and sends the CSRF token the way a page would."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token = ""

    def refresh_token(self, html: str) -> None:
        match = TOKEN.search(html)
        if match:
            self.token = match.group(1)

    def get(self, url: str, **kwargs: object):
        response = self.client.get(url, **kwargs)
        if response.mimetype == "text/html":
            self.refresh_token(response.get_data(as_text=True))
        return response

    def post(self, url: str, data: dict | list | None = None, **kwargs: object):
        if not self.token:
            self.get("/login")
        if isinstance(data, list):
            data = [*data, ("csrf_token", self.token)]
        else:
            data = {**(data or {}), "csrf_token": self.token}
        from werkzeug.datastructures import MultiDict

        return self.client.post(url, data=MultiDict(data), **kwargs)

    def sign_in(self, login: str, password: str) -> None:
        self.get("/login")
        response = self.post("/login", {"login": login, "password": password})
        assert response.status_code == 303, response.get_data(as_text=True)
        self.get("/")


@pytest.fixture
def browser(client: FlaskClient) -> Browser:
    return Browser(client)


@pytest.fixture
def admin_web(crm: Flask) -> Browser:
    from conftest import ADMIN_PASSWORD

    web = Browser(crm.test_client())
    web.sign_in("admin", ADMIN_PASSWORD)
    return web


@pytest.fixture
def user_web(crm: Flask) -> Browser:
    from conftest import USER_PASSWORD

    web = Browser(crm.test_client())
    web.sign_in("user", USER_PASSWORD)
    return web
