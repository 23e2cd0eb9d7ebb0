"""Signing in and out, the session cookie, CSRF and error pages."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from conftest import ADMIN_PASSWORD

from .conftest import Browser


def test_pages_need_a_signed_in_user(client: FlaskClient) -> None:
    response = client.get("/r/clients/?q=x")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_htmx_requests_are_sent_to_sign_in_by_header(client: FlaskClient) -> None:
    response = client.get("/", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login")


def test_sign_in_sets_a_secure_http_only_lax_cookie(browser: Browser) -> None:
    browser.get("/login")
    response = browser.post("/login", {"login": "admin", "password": ADMIN_PASSWORD, "next": "/"})
    assert response.status_code == 303
    cookies = response.headers.getlist("Set-Cookie")
    cookie = next(c for c in cookies if c.startswith("rb_session="))
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    page = browser.get("/")
    assert page.status_code == 200
    assert "Ada Admin" in page.get_data(as_text=True)


def test_a_wrong_password_is_a_sentence_not_a_page_of_errors(browser: Browser) -> None:
    browser.get("/login")
    response = browser.post("/login", {"login": "admin", "password": "wrong-password-1"})
    assert response.status_code == 401
    assert "The login or the password is wrong." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil", "javascript:alert(1)"]
)
def test_next_never_leaves_the_site(browser: Browser, target: str) -> None:
    browser.get("/login")
    form = {"login": "admin", "password": ADMIN_PASSWORD, "next": target}
    response = browser.post("/login", form)
    assert response.headers["Location"] == "/"


def test_forms_without_the_csrf_token_are_refused(client: FlaskClient) -> None:
    client.get("/login")
    response = client.post("/login", data={"login": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 403
    assert "did not come from this site" in response.get_data(as_text=True)
    forged = client.post(
        "/login", data={"login": "admin", "password": ADMIN_PASSWORD, "csrf_token": "0" * 64}
    )
    assert forged.status_code == 403


def test_the_token_of_another_session_does_not_work(app: Flask) -> None:
    one, two = Browser(app.test_client()), Browser(app.test_client())
    one.sign_in("admin", ADMIN_PASSWORD)
    two.sign_in("admin", ADMIN_PASSWORD)
    one.token = two.token
    response = one.post("/logout")
    assert response.status_code == 403


def test_sign_out_ends_the_session(browser: Browser) -> None:
    browser.sign_in("admin", ADMIN_PASSWORD)
    response = browser.post("/logout")
    assert response.status_code == 303
    assert browser.client.get("/").status_code == 302


def test_an_unknown_address_is_a_page_with_a_sentence(browser: Browser) -> None:
    browser.sign_in("admin", ADMIN_PASSWORD)
    response = browser.get("/no/such/page")
    assert response.status_code == 404
    assert "There is nothing at this address." in response.get_data(as_text=True)
    fragment = browser.get("/no/such/page", headers={"HX-Request": "true"})
    assert fragment.headers["HX-Retarget"] == "#messages"
    assert "<html" not in fragment.get_data(as_text=True)


def test_the_api_keeps_its_problem_documents(client: FlaskClient) -> None:
    response = client.get("/api/v1/nothing")
    assert response.mimetype == "application/problem+json"


def test_htmx_sends_the_token_in_a_header(browser: Browser) -> None:
    browser.sign_in("admin", ADMIN_PASSWORD)
    response = browser.client.post(
        "/logout", headers={"HX-Request": "true", "X-CSRF-Token": browser.token}
    )
    assert response.status_code == 303


def test_cookies_can_drop_secure_for_plain_http_on_a_local_network(db_url: str) -> None:
    from recordbase.app import create_app
    from recordbase.runtime import create_system_tables

    app = create_app({"DATABASE_URL": db_url, "PASSWORD_HASH_PROFILE": "cheapest",
                      "WEB_COOKIE_SECURE": False})
    rt = app.extensions["recordbase"]
    try:
        create_system_tables(rt.engine)
        rt.users.create("admin", ADMIN_PASSWORD, role="admin")
        web = Browser(app.test_client())
        web.get("/login")
        response = web.post("/login", {"login": "admin", "password": ADMIN_PASSWORD})
        cookie = next(c for c in response.headers.getlist("Set-Cookie") if "rb_session=" in c)
        assert "Secure" not in cookie
        assert "HttpOnly" in cookie
    finally:
        rt.dispose()


def test_pages_forbid_inline_scripts_and_framing(browser: Browser) -> None:
    response = browser.get("/login")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["Cache-Control"] == "no-store"
