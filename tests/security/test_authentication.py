"""Sign-in throttling, personal tokens, password change and reset, session lifetime."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from tests.security.conftest import PASSWORD, headers_of, make_user, rt_of, sign_in

from recordbase import db, systables, throttle


def test_an_account_is_throttled_after_repeated_failures(client: FlaskClient) -> None:
    for _ in range(throttle.ACCOUNT_FAILURES):
        assert sign_in(client, "admin", "wrong-password").status_code == 401
    refused = sign_in(client, "admin", "admin-password-123")  # even the right password waits
    assert refused.status_code == 429
    assert "Too many failed sign-ins from this account" in refused.json["detail"]
    assert 0 < refused.json["retry_after"] <= throttle.WINDOW.total_seconds() + 1
    # unknown accounts are throttled the same way: the answer reveals nothing
    for _ in range(throttle.ACCOUNT_FAILURES):
        sign_in(client, "ghost", "wrong-password")
    assert sign_in(client, "ghost", "wrong-password").status_code == 429
    # another account from another address is not affected
    other = client.post(
        "/api/v1/auth/token",
        json={"username": "user", "password": "user-password-123"},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert other.status_code == 201


def test_the_window_passes(client: FlaskClient, app: Flask) -> None:
    for _ in range(throttle.ACCOUNT_FAILURES):
        sign_in(client, "admin", "wrong-password")
    assert sign_in(client, "admin", "admin-password-123").status_code == 429
    t = systables.sign_in_attempts
    with db.write(rt_of(app).engine) as conn:
        conn.execute(sa.update(t).values(at=systables.utcnow() - throttle.WINDOW))
    assert sign_in(client, "admin", "admin-password-123").status_code == 201


def test_an_address_is_throttled_across_accounts(client: FlaskClient) -> None:
    for k in range(throttle.ADDRESS_FAILURES):
        assert sign_in(client, f"guess{k}", "wrong-password").status_code == 401
    refused = sign_in(client, "admin", "admin-password-123")
    assert refused.status_code == 429
    assert "from your address" in refused.json["detail"]
    elsewhere = client.post(
        "/api/v1/auth/token",
        json={"username": "admin", "password": "admin-password-123"},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert elsewhere.status_code == 201


def test_a_success_clears_the_account_count(client: FlaskClient) -> None:
    for _ in range(throttle.ACCOUNT_FAILURES - 1):
        sign_in(client, "admin", "wrong-password")
    assert sign_in(client, "admin", "admin-password-123").status_code == 201
    for _ in range(throttle.ACCOUNT_FAILURES - 1):
        sign_in(client, "admin", "wrong-password")
    assert sign_in(client, "admin", "admin-password-123").status_code == 201


def test_personal_tokens_work_until_revoked(
    client: FlaskClient, user: dict[str, str], admin: dict[str, str]
) -> None:
    made = client.post("/api/v1/auth/personal-tokens", json={"name": "Excel sync"}, headers=user)
    assert made.status_code == 201
    token = {"Authorization": f"Bearer {made.json['token']}"}
    assert client.get("/api/v1/entities", headers=token).status_code == 200
    listed = client.get("/api/v1/auth/personal-tokens", headers=user).json["items"]
    assert [(t["id"], t["name"]) for t in listed] == [(made.json["id"], "Excel sync")]
    assert "token" not in listed[0]
    # another user cannot revoke it, and cannot tell whether it exists
    other = client.delete(f"/api/v1/auth/personal-tokens/{made.json['id']}", headers=admin)
    assert other.status_code == 204  # an admin may revoke anyone's token
    assert client.get("/api/v1/entities", headers=token).status_code == 401


def test_a_user_cannot_revoke_someone_elses_token(
    client: FlaskClient, user: dict[str, str], admin: dict[str, str]
) -> None:
    made = client.post("/api/v1/auth/personal-tokens", json={"name": "mine"}, headers=admin)
    response = client.delete(f"/api/v1/auth/personal-tokens/{made.json['id']}", headers=user)
    assert response.status_code == 404
    token = {"Authorization": f"Bearer {made.json['token']}"}
    assert client.get("/api/v1/entities", headers=token).status_code == 200


def test_a_personal_token_takes_a_seat_only_while_in_use(
    client: FlaskClient, admin: dict[str, str], licensed: Any, app: Flask
) -> None:
    made = client.post("/api/v1/auth/personal-tokens", json={"name": "sync"}, headers=admin)
    licensed("simple")
    status = client.get("/api/v1/license", headers=admin).json
    assert status["seats_used"] == 1  # the admin's sign-in; the unused token holds none
    token = {"Authorization": f"Bearer {made.json['token']}"}
    assert client.get("/api/v1/entities", headers=token).status_code == 200
    assert client.get("/api/v1/license", headers=admin).json["seats_used"] == 2
    make_user(client, admin, "anna")
    headers_of(sign_in(client, "anna"))
    assert sign_in(client, "anna").status_code == 403  # 3 of 3


def test_password_change_needs_the_current_one_and_ends_other_sessions(
    client: FlaskClient, user: dict[str, str]
) -> None:
    second = headers_of(sign_in(client, "user", "user-password-123"))
    wrong = client.post(
        "/api/v1/auth/password",
        json={"current_password": "nope-nope-nope", "new_password": "new-password-456"},
        headers=user,
    )
    assert wrong.status_code == 401
    short = client.post(
        "/api/v1/auth/password",
        json={"current_password": "user-password-123", "new_password": "short"},
        headers=user,
    )
    assert short.status_code == 422
    done = client.post(
        "/api/v1/auth/password",
        json={"current_password": "user-password-123", "new_password": "new-password-456"},
        headers=user,
    )
    assert done.status_code == 204
    assert client.get("/api/v1/entities", headers=user).status_code == 200  # this one stays
    assert client.get("/api/v1/entities", headers=second).status_code == 401
    assert sign_in(client, "user", "user-password-123").status_code == 401
    assert sign_in(client, "user", "new-password-456").status_code == 201


def test_admin_reset_ends_every_session_of_the_user(
    client: FlaskClient, admin: dict[str, str], user: dict[str, str]
) -> None:
    me = client.get("/api/v1/auth/me", headers=user).json
    url = f"/api/v1/admin/users/{me['id']}/password"
    assert client.post(url, json={"password": "reset-pass-789"}, headers=user).status_code == 403
    assert client.post(url, json={"password": "user"}, headers=admin).status_code == 422
    assert client.post(url, json={"password": "reset-pass-789"}, headers=admin).status_code == 204
    assert client.get("/api/v1/entities", headers=user).status_code == 401
    assert sign_in(client, "user", "reset-pass-789").status_code == 201


def test_deactivated_users_lose_their_sessions_and_cannot_sign_in(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    anna = make_user(client, admin, "anna", email="anna@example.com", group="north")
    headers = headers_of(sign_in(client, "anna"))
    url = f"/api/v1/admin/users/{anna['id']}"
    changed = client.patch(url, json={"active": False}, headers=admin)
    assert changed.status_code == 200
    assert changed.json["active"] is False
    assert client.get("/api/v1/entities", headers=headers).status_code == 401
    assert sign_in(client, "anna").status_code == 401


def test_sessions_end_after_the_maximum_age(client: FlaskClient, app: Flask) -> None:
    headers = headers_of(sign_in(client, "user", "user-password-123"))
    s = systables.sessions
    with db.write(rt_of(app).engine) as conn:
        conn.execute(sa.update(s).values(created_at=systables.utcnow() - dt.timedelta(hours=13)))
    response = client.get("/api/v1/entities", headers=headers)
    assert response.status_code == 401
    assert "sign in again" in response.json["detail"]


def test_the_last_admin_cannot_be_demoted(client: FlaskClient, admin: dict[str, str]) -> None:
    me = client.get("/api/v1/auth/me", headers=admin).json
    url = f"/api/v1/admin/users/{me['id']}"
    for change in ({"role": "user"}, {"active": False}):
        response = client.patch(url, json=change, headers=admin)
        assert response.status_code == 409, change
        assert "last active administrator" in response.json["detail"]


def test_user_directory_fields(client: FlaskClient, admin: dict[str, str]) -> None:
    anna = make_user(
        client, admin, "anna", name="Anna Petrova", email="anna@example.com", group="north"
    )
    assert {k: anna[k] for k in ("login", "name", "email", "role", "group", "active")} == {
        "login": "anna",
        "name": "Anna Petrova",
        "email": "anna@example.com",
        "role": "user",
        "group": "north",
        "active": True,
    }
    bad = client.post(
        "/api/v1/admin/users",
        json={"login": "bob", "password": PASSWORD, "email": "not-an-address"},
        headers=admin,
    )
    assert bad.status_code == 422
    dup = client.post(
        "/api/v1/admin/users", json={"login": "anna", "password": PASSWORD}, headers=admin
    )
    assert dup.status_code == 409
    role = client.post(
        "/api/v1/admin/users",
        json={"login": "bob", "password": PASSWORD, "role": "nosuch"},
        headers=admin,
    )
    assert role.status_code == 422


def test_users_see_and_end_their_own_sessions(
    client: FlaskClient, user: dict[str, str], admin: dict[str, str]
) -> None:
    other = headers_of(sign_in(client, "user", "user-password-123"))
    mine = client.get("/api/v1/auth/sessions", headers=user).json["items"]
    assert len(mine) == 2
    assert [i["current"] for i in mine] == [True, False]
    admin_session = client.get("/api/v1/auth/me", headers=admin).json["session_id"]
    assert client.delete(
        f"/api/v1/auth/sessions/{admin_session}", headers=user
    ).status_code == 404
    assert client.delete(f"/api/v1/auth/sessions/{mine[1]['id']}", headers=user).status_code == 204
    assert client.get("/api/v1/entities", headers=other).status_code == 401
    assert client.get("/api/v1/entities", headers=admin).status_code == 200
