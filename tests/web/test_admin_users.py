"""The users directory pages: who may see them, creating, editing, resetting passwords."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from recordbase.audit import AuditFilter
from recordbase.users import check_password_rules

from .admin_pages import create_user, one_time_password, rt_of, signed_in
from .conftest import Browser

ADMIN_PAGES = [
    "/admin/",
    "/admin/users",
    "/admin/users/1",
    "/admin/roles/",
    "/admin/roles/user",
    "/admin/roles/user/entities/clients",
    "/admin/sessions",
    "/admin/licence",
    "/admin/audit/",
]
ADMIN_FORMS = [
    "/admin/users",
    "/admin/users/1",
    "/admin/users/1/password",
    "/admin/roles/",
    "/admin/roles/user",
    "/admin/roles/user/rights",
    "/admin/roles/user/entities/clients",
    "/admin/sessions/1/end",
    "/admin/licence",
    "/admin/licence/end-demo",
]


def test_a_non_admin_gets_403_with_a_sentence_on_every_admin_page(user_web: Browser) -> None:
    for url in ADMIN_PAGES:
        response = user_web.get(url)
        assert response.status_code == 403, url
        assert "Only an administrator may manage users" in response.get_data(as_text=True), url
    for url in ADMIN_FORMS:
        response = user_web.post(url, {"login": "x", "role": "admin", "key": "x"})
        assert response.status_code == 403, url
    assert rt_of(user_web.client.application).users.get(1)["role"] == "admin"


def test_a_visitor_is_sent_to_sign_in(client: FlaskClient) -> None:
    for url in ADMIN_PAGES[1:]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login?next=" in response.headers["Location"], url


def test_only_admins_get_the_administration_entry(admin_web: Browser, user_web: Browser) -> None:
    assert 'href="/admin/users">Administration</a>' in admin_web.get("/").get_data(as_text=True)
    home = user_web.get("/").get_data(as_text=True)
    assert "/admin/" not in home
    assert 'href="/account/"' in home


def test_a_new_user_gets_a_one_time_password_that_signs_in(crm: Flask, admin_web: Browser) -> None:
    page = admin_web.post(
        "/admin/users",
        {"login": "mara", "name": "Mara Manager", "email": "mara@example.com", "group": "north"},
    )
    assert page.status_code == 201
    html = page.get_data(as_text=True)
    password = one_time_password(html)
    assert "shown only this once" in html
    check_password_rules(password, login="mara")  # the policy holds for generated ones
    listing = admin_web.get("/admin/users").get_data(as_text=True)
    assert "mara@example.com" in listing
    assert password not in listing
    mara = signed_in(crm, "mara", password)
    assert "Mara Manager" in mara.get("/").get_data(as_text=True)


def test_a_taken_login_is_a_sentence_and_nothing_is_created(crm: Flask, admin_web: Browser) -> None:
    before = rt_of(crm).users.count()
    page = admin_web.post("/admin/users", {"login": "user", "name": "Again"})
    assert page.status_code == 409
    assert "A user with the login &#39;user&#39; already exists." in page.get_data(as_text=True)
    assert rt_of(crm).users.count() == before


def test_the_licence_user_limit_is_shown_and_enforced(crm: Flask, admin_web: Browser) -> None:
    rt_of(crm).licence.end_demo()  # the free tier: one user; admin and user exist already
    page = admin_web.get("/admin/users").get_data(as_text=True)
    assert "Active users: 2 of the 1 allowed by the free tier." in page
    assert "Every place for an active user that the free tier allows (1) is taken" in page
    refused = admin_web.post("/admin/users", {"login": "extra"})
    assert refused.status_code == 403
    assert "The free tier allows 1 active user" in refused.get_data(as_text=True)
    assert all(u["login"] != "extra" for u in rt_of(crm).users.list_users())


def test_the_admin_edits_every_attribute(crm: Flask, admin_web: Browser) -> None:
    form = {"login": "ulla", "name": "Ulla Changed", "email": "ulla@example.com",
            "group": "south", "role": "admin", "active": "true"}
    response = admin_web.post("/admin/users/2", form)
    assert response.status_code == 303
    assert "done=user_saved" in response.headers["Location"]
    saved = rt_of(crm).users.get(2)
    assert (saved["login"], saved["name"], saved["email"], saved["group"], saved["role"]) == (
        "ulla", "Ulla Changed", "ulla@example.com", "south", "admin"
    )
    page = admin_web.get(response.headers["Location"]).get_data(as_text=True)
    assert "The user is saved." in page
    response = admin_web.post("/admin/users/2", {**form, "active": ""})
    assert rt_of(crm).users.get(2)["active"] is False


def test_bad_edits_are_sentences_and_change_nothing(crm: Flask, admin_web: Browser) -> None:
    base = {"login": "user", "name": "Ulla User", "role": "user", "active": "true"}
    taken = admin_web.post("/admin/users/2", {**base, "login": "admin"})
    assert taken.status_code == 409
    assert "already exists" in taken.get_data(as_text=True)
    mail = admin_web.post("/admin/users/2", {**base, "email": "not-an-address", "name": "New"})
    assert mail.status_code == 422
    assert "The e-mail address is not valid." in mail.get_data(as_text=True)
    assert rt_of(crm).users.get(2)["name"] == "Ulla User"
    last = admin_web.post("/admin/users/1", {"login": "admin", "name": "Ada Admin",
                                             "role": "user", "active": "true"})
    assert last.status_code == 409
    assert "last active administrator" in last.get_data(as_text=True)


def test_a_password_reset_ends_the_users_sessions(crm: Flask, admin_web: Browser,
                                                  user_web: Browser) -> None:
    assert user_web.get("/").status_code == 200
    page = admin_web.post("/admin/users/2/password")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Every session of this user has ended." in html
    password = one_time_password(html)
    gone = user_web.get("/")
    assert gone.status_code == 302
    assert "/login" in gone.headers["Location"]
    assert signed_in(crm, "user", password).get("/").status_code == 200
    actions = [e["action"] for e in rt_of(crm).audit.entries(AuditFilter(action="user"))]
    assert "user.password_reset" in actions


@pytest.mark.parametrize("login", ["", "with space", "x" * 151])
def test_a_bad_login_is_a_sentence(admin_web: Browser, login: str) -> None:
    page = admin_web.post("/admin/users", {"login": login})
    assert page.status_code == 422
    assert "The login must be 1 to 150 characters without spaces." in page.get_data(as_text=True)


def test_created_users_can_be_given_a_new_role(crm: Flask, admin_web: Browser) -> None:
    admin_web.post("/admin/roles/", {"name": "manager", "label": "Manager"})
    password = create_user(admin_web, "mara", role="manager")
    assert rt_of(crm).users.get(3)["role"] == "manager"
    assert signed_in(crm, "mara", password).get("/").status_code == 200
