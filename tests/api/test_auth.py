"""Tokens: sign-in, wrong credentials, revocation, what is stored."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from recordbase import systables
from recordbase.users import UserService


def test_wrong_password_and_unknown_user_read_the_same(client: FlaskClient) -> None:
    wrong = client.post("/api/v1/auth/token", json={"username": "admin", "password": "nope"})
    unknown = client.post("/api/v1/auth/token", json={"username": "ghost", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json["detail"] == unknown.json["detail"] == "The login or the password is wrong."


def test_token_request_shape(client: FlaskClient) -> None:
    for body in (
        {},
        {"username": "admin"},
        {"username": 1, "password": 2},
        {"username": "admin", "password": "x", "role": "admin"},
    ):
        response = client.post("/api/v1/auth/token", json=body)
        assert response.status_code == 422, body


def test_missing_or_malformed_credentials(client: FlaskClient, admin: dict[str, str]) -> None:
    for headers in (
        {},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer not-a-token"},
    ):
        response = client.get("/api/v1/entities", headers=headers)
        assert response.status_code == 401, headers
        assert response.mimetype == "application/problem+json"


def test_revoked_token_is_dead(client: FlaskClient, admin: dict[str, str]) -> None:
    assert client.get("/api/v1/entities", headers=admin).status_code == 200
    assert client.delete("/api/v1/auth/token", headers=admin).status_code == 204
    response = client.get("/api/v1/entities", headers=admin)
    assert response.status_code == 401
    assert "ended" in response.json["detail"]


def test_only_token_digests_and_argon2id_hashes_are_stored(
    client: FlaskClient, admin: dict[str, str], app: Flask
) -> None:
    token = admin["Authorization"].split()[1]
    engine = app.extensions["recordbase"].engine
    with engine.connect() as conn:
        digests = conn.execute(sa.select(systables.sessions.c.token_hash)).scalars().all()
        hashes = conn.execute(sa.select(systables.users.c.password_hash)).scalars().all()
    assert token not in digests
    assert len(digests) == 1
    assert all(h.startswith("$argon2id$") for h in hashes)


def test_production_hashing_uses_rfc9106_low_memory(app: Flask) -> None:
    service = UserService(app.extensions["recordbase"].engine)
    assert service.hasher.memory_cost == 65536
    assert service.hasher.time_cost == 3
    assert service.hasher.hash("correct horse battery").startswith("$argon2id$v=19$m=65536,t=3")
