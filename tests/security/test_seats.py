"""Seats: sessions count across processes; refusals name the tier, the limit and holders."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from tests.security.conftest import PASSWORD, headers_of, make_user, rt_of, sign_in

from recordbase import db, systables
from recordbase.app import create_app
from recordbase.runtime import Runtime
from recordbase.sessions import SESSION_IDLE


def _age_sessions(rt: Runtime, delta: dt.timedelta, *ids: int) -> None:
    s = systables.sessions
    with db.write(rt.engine) as conn:
        stmt = sa.update(s).values(last_seen=systables.utcnow() - delta)
        if ids:
            stmt = stmt.where(s.c.id.in_(ids))
        conn.execute(stmt)


@pytest.fixture
def three_seats(client: FlaskClient, admin: dict[str, str], app: Flask, licensed: Any) -> Any:
    """A simple licence (3 seats, 3 users): admin holds one seat; anna exists."""
    make_user(client, admin, "anna")
    licensed("simple")
    return admin


def test_the_fourth_sign_in_is_refused_naming_tier_limit_and_holders(
    client: FlaskClient, three_seats: dict[str, str]
) -> None:
    headers_of(sign_in(client, "anna"))
    headers_of(sign_in(client, "user", "user-password-123"))
    refused = sign_in(client, "anna")
    assert refused.status_code == 403
    detail = refused.json["detail"]
    assert "All 3 seats of the simple tier are in use" in detail
    for login in ("admin", "anna", "user"):
        assert login in detail
    assert refused.json["seats"] == 3
    assert {h["login"] for h in refused.json["holders"]} == {"admin", "anna", "user"}
    assert not refused.json.get("can_take_over")


def test_a_copied_token_is_the_same_seat_and_signing_out_frees_it_everywhere(
    app: Flask, three_seats: dict[str, str]
) -> None:
    one, two = app.test_client(), app.test_client()
    anna = headers_of(sign_in(one, "anna"))
    for client in (one, two):  # the same token from two clients
        assert client.get("/api/v1/entities", headers=anna).status_code == 200
    status = one.get("/api/v1/license", headers=anna).json
    assert status["seats_used"] == 2
    assert two.delete("/api/v1/auth/token", headers=anna).status_code == 204
    assert one.get("/api/v1/entities", headers=anna).status_code == 401
    assert one.get("/api/v1/license", headers=three_seats).json["seats_used"] == 1


def test_an_idle_seat_can_be_taken_over(
    client: FlaskClient, app: Flask, three_seats: dict[str, str]
) -> None:
    anna = headers_of(sign_in(client, "anna"))
    headers_of(sign_in(client, "user", "user-password-123"))
    rt = rt_of(app)
    anna_session = client.get("/api/v1/auth/me", headers=anna).json["session_id"]
    _age_sessions(rt, dt.timedelta(minutes=45), anna_session)
    refused = sign_in(client, "anna")
    assert refused.status_code == 403
    assert refused.json["can_take_over"] is True
    assert "can be taken over" in refused.json["detail"]
    taken = sign_in(client, "anna", take_over=True)
    assert taken.status_code == 201
    assert client.get("/api/v1/entities", headers=anna).status_code == 401


def test_expired_sessions_free_their_seats(
    client: FlaskClient, app: Flask, three_seats: dict[str, str]
) -> None:
    anna = headers_of(sign_in(client, "anna"))
    headers_of(sign_in(client, "user", "user-password-123"))
    assert sign_in(client, "anna").status_code == 403
    anna_session = client.get("/api/v1/auth/me", headers=anna).json["session_id"]
    _age_sessions(rt_of(app), SESSION_IDLE + dt.timedelta(minutes=1), anna_session)
    assert sign_in(client, "anna").status_code == 201
    assert client.get("/api/v1/entities", headers=anna).status_code == 401


def test_admins_list_and_end_sessions(
    client: FlaskClient, three_seats: dict[str, str], user: dict[str, str]
) -> None:
    anna = headers_of(sign_in(client, "anna"))
    items = client.get("/api/v1/sessions", headers=three_seats).json["items"]
    assert sorted(i["login"] for i in items) == ["admin", "anna", "user"]
    assert all(i["holds_seat"] and i["address"] and i["since"] for i in items)
    assert client.get("/api/v1/sessions", headers=user).status_code == 403
    anna_id = next(i["id"] for i in items if i["login"] == "anna")
    assert client.delete(f"/api/v1/sessions/{anna_id}", headers=user).status_code == 403
    assert client.delete(f"/api/v1/sessions/{anna_id}", headers=three_seats).status_code == 204
    assert client.get("/api/v1/entities", headers=anna).status_code == 401
    assert client.delete(f"/api/v1/sessions/{anna_id}", headers=three_seats).status_code == 404
    assert client.delete("/api/v1/sessions/999999", headers=three_seats).status_code == 404


def test_the_free_tier_has_one_seat_and_one_user(client: FlaskClient, app: Flask) -> None:
    rt_of(app).licence.end_demo()
    first = headers_of(sign_in(client, "admin", "admin-password-123"))
    refused = sign_in(client, "admin", "admin-password-123")
    assert refused.status_code == 403
    assert "All 1 seat of the free tier" in refused.json["detail"]
    client.delete("/api/v1/auth/token", headers=first)
    beyond = sign_in(client, "user", "user-password-123")
    assert beyond.status_code == 403
    assert "free tier allows 1 active user " in beyond.json["detail"]
    assert sign_in(client, "admin", "admin-password-123").status_code == 201


def test_two_processes_share_the_seats(db_url: str, vendor: Any) -> None:
    """Two application instances with their own engines on one database (3 seats):
    concurrent sign-ins get exactly 3 seats whichever instance receives them; ending or
    expiring a session frees one for either instance."""
    config = {"DATABASE_URL": db_url, "TESTING": True, "PASSWORD_HASH_PROFILE": "cheapest"}
    first = create_app(config)
    second = create_app(config)
    try:
        rt = rt_of(first)
        from recordbase.runtime import create_system_tables

        create_system_tables(rt.engine)
        for login in ("u1", "u2", "u3"):
            rt.users.create(login, PASSWORD)
        rt.licence.install(vendor.issue("simple"))
        apps = [first, second]
        results: list[tuple[int, int]] = []
        lock = threading.Lock()
        barrier = threading.Barrier(8)

        def attempt(k: int) -> None:
            client = apps[k % 2].test_client()
            barrier.wait(timeout=30)
            response = sign_in(client, f"u{k % 3 + 1}")
            with lock:
                results.append((k % 2, response.status_code))

        threads = [threading.Thread(target=attempt, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(code for _, code in results) == [201] * 3 + [403] * 5
        for app in apps:  # the fourth is refused by either process
            refused = sign_in(app.test_client(), "u1")
            assert refused.status_code == 403
            assert "simple" in refused.json["detail"]
        sessions = rt.users.live_sessions()
        assert len(sessions) == 3
        # an admin ends one through the first process: the second can sign in
        rt.users.end_session(sessions[0]["id"], reason="ended_by_admin")
        assert sign_in(second.test_client(), "u2").status_code == 201
        assert sign_in(first.test_client(), "u2").status_code == 403
        # one expires: the first process can sign in
        _age_sessions(rt, SESSION_IDLE + dt.timedelta(seconds=5), sessions[1]["id"])
        assert sign_in(first.test_client(), "u3").status_code == 201
        assert sign_in(second.test_client(), "u3").status_code == 403
    finally:
        rt_of(first).dispose()
        rt_of(second).dispose()


def test_a_shorter_idle_limit_ends_sessions_and_frees_seats(
    client: FlaskClient, app: Flask, three_seats: dict[str, str]
) -> None:
    response = client.patch(
        "/api/v1/admin/settings", json={"session_idle_minutes": 30}, headers=three_seats
    )
    assert response.json["session_idle_minutes"] == 30
    anna = headers_of(sign_in(client, "anna"))
    headers_of(sign_in(client, "user", "user-password-123"))
    assert sign_in(client, "anna").status_code == 403
    anna_session = client.get("/api/v1/auth/me", headers=anna).json["session_id"]
    _age_sessions(rt_of(app), dt.timedelta(minutes=31), anna_session)
    assert client.get("/api/v1/license", headers=three_seats).json["seats_used"] == 2
    assert client.get("/api/v1/entities", headers=anna).status_code == 401
    assert sign_in(client, "anna").status_code == 201
    too_long = client.patch(
        "/api/v1/admin/settings", json={"session_idle_minutes": 721}, headers=three_seats
    )
    assert too_long.status_code == 422
