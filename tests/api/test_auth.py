"""Tokens: sign-in, wrong credentials, revocation, what is stored."""

from __future__ import annotations

import pytest
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


def test_production_hashing_uses_owasp_argon2id(app: Flask) -> None:
    """OWASP's 7 MiB x 5 passes: as strong as its 19 MiB x 2, with less memory held
    by each sign-in."""
    service = UserService(app.extensions["recordbase"].engine)
    assert service.hasher.memory_cost == 7 * 1024
    assert service.hasher.time_cost == 5
    assert service.hasher.parallelism == 1
    assert service.hasher.hash("correct horse battery").startswith("$argon2id$v=19$m=7168,t=5,p=1")


@pytest.mark.parametrize(
    ("profile", "prefix"),
    [("rfc9106_low_memory", "$argon2id$v=19$m=65536,t=3,p=4"),
     ("owasp_19mib", "$argon2id$v=19$m=19456,t=2,p=1")],
)
def test_a_hash_with_older_parameters_is_renewed_at_sign_in(
    app: Flask, profile: str, prefix: str
) -> None:
    engine = app.extensions["recordbase"].engine
    old = UserService(engine, hash_profile=profile)
    user = old.create("legacy", "an old but long passphrase", role="user")
    with engine.connect() as conn:
        before = conn.execute(
            sa.select(systables.users.c.password_hash).where(systables.users.c.id == user.id)
        ).scalar_one()
    assert before.startswith(prefix)
    service = UserService(engine)
    assert service.authenticate("legacy", "an old but long passphrase").id == user.id
    with engine.connect() as conn:
        after = conn.execute(
            sa.select(systables.users.c.password_hash).where(systables.users.c.id == user.id)
        ).scalar_one()
    assert after.startswith("$argon2id$v=19$m=7168,t=5,p=1")
    assert service.authenticate("legacy", "an old but long passphrase").id == user.id


