"""Self-service: changing one's password, personal API tokens, one's own sessions."""

from __future__ import annotations

import re

from flask import Flask

from conftest import USER_PASSWORD

from .admin_pages import rt_of, signed_in
from .conftest import Browser

NEW = "correct horse battery staple"


def _change(web: Browser, current: str, new: str, repeat: str | None = None):
    return web.post("/account/password", {
        "current_password": current, "new_password": new,
        "repeat_password": new if repeat is None else repeat,
    })


def test_the_account_page_is_for_every_signed_in_user(user_web: Browser) -> None:
    page = user_web.get("/account/").get_data(as_text=True)
    assert "Change the password" in page
    assert "Personal API tokens" in page
    assert "(this session)" in page
    assert 'minlength="12"' in page
    assert 'maxlength="128"' in page


def test_the_password_changes_with_the_current_one_and_ends_other_sessions(
    crm: Flask, user_web: Browser
) -> None:
    other = signed_in(crm, "user", USER_PASSWORD)
    response = _change(user_web, USER_PASSWORD, NEW)
    assert response.status_code == 303
    page = user_web.get(response.headers["Location"])
    assert page.status_code == 200  # this session goes on
    assert "Your password is changed" in page.get_data(as_text=True)
    assert other.get("/").status_code == 302  # the other one has ended
    assert signed_in(crm, "user", NEW).get("/").status_code == 200


def test_bad_changes_are_sentences_and_change_nothing(crm: Flask, user_web: Browser) -> None:
    cases = [
        ("wrong-password-9", NEW, None, 401, "The current password is wrong"),
        (USER_PASSWORD, NEW, NEW + "x", 422, "The two new passwords differ"),
        (USER_PASSWORD, "short-pass1", None, 422, "at least 12 characters"),
        (USER_PASSWORD, "password1234", None, 422, "too common or too easy to guess"),
        (USER_PASSWORD, "x" * 129, None, 422, "longer than 128 characters"),
        (USER_PASSWORD, USER_PASSWORD, None, 422, "the same as the current one"),
        ("", NEW, None, 422, "Enter your current password"),
    ]
    for current, new, repeat, status, sentence in cases:
        response = _change(user_web, current, new, repeat)
        assert response.status_code == status, sentence
        assert sentence in response.get_data(as_text=True), sentence
    assert signed_in(crm, "user", USER_PASSWORD).get("/").status_code == 200


def test_a_personal_token_is_shown_once_works_and_is_revoked(
    crm: Flask, user_web: Browser
) -> None:
    created = user_web.post("/account/tokens", {"name": "Nightly export"})
    assert created.status_code == 201
    html = created.get_data(as_text=True)
    token = re.search(r'id="new-token">([^<]+)<', html)
    assert token
    headers = {"Authorization": f"Bearer {token.group(1)}"}
    api = crm.test_client()
    assert api.get("/api/v1/records/clients", headers=headers).status_code == 200
    page = user_web.get("/account/").get_data(as_text=True)
    assert "Nightly export" in page
    assert token.group(1) not in page
    token_id = rt_of(crm).users.personal_tokens(rt_of(crm).users.resolve(token.group(1)))[0]["id"]
    revoked = user_web.post(f"/account/tokens/{token_id}/revoke")
    assert revoked.status_code == 303
    assert api.get("/api/v1/records/clients", headers=headers).status_code == 401
    assert "No personal tokens." in user_web.get("/account/").get_data(as_text=True)


def test_a_token_needs_a_name(user_web: Browser) -> None:
    response = user_web.post("/account/tokens", {"name": "  "})
    assert response.status_code == 422
    assert "Give the token a name" in response.get_data(as_text=True)


def test_nobody_ends_or_revokes_what_is_not_theirs(
    crm: Flask, admin_web: Browser, user_web: Browser
) -> None:
    admin_session = next(s["id"] for s in rt_of(crm).users.live_sessions()
                         if s["login"] == "admin")
    assert user_web.post(f"/account/sessions/{admin_session}/end").status_code == 404
    assert user_web.post(f"/account/tokens/{admin_session}/revoke").status_code == 404
    assert admin_web.get("/").status_code == 200


def test_a_user_ends_their_other_sessions(crm: Flask, user_web: Browser) -> None:
    laptop = signed_in(crm, "user", USER_PASSWORD)
    phone = signed_in(crm, "user", USER_PASSWORD)
    page = user_web.get("/account/").get_data(as_text=True)
    assert "End every other session" in page
    laptop_id = [s["id"] for s in rt_of(crm).users.live_sessions(user_id=2)][1]
    one = user_web.post(f"/account/sessions/{laptop_id}/end")
    assert one.status_code == 303
    assert laptop.get("/").status_code == 302
    assert phone.get("/").status_code == 200
    user_web.post("/account/sessions/end-others")
    assert phone.get("/").status_code == 302
    assert user_web.get("/").status_code == 200
