"""Licence keys, licences and a small CRM for the security tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from recordbase.licence import PUBLIC_KEY_ENV, generate_key_pair, issue_key
from recordbase.runtime import Runtime

PASSWORD = "a-long-password-1"


@dataclass(frozen=True)
class VendorKeys:
    private_pem: bytes
    private_path: Path
    public_path: Path

    def issue(self, tier: str, licensee: str = "Test Ltd") -> str:
        return issue_key(self.private_pem, tier=tier, licensee=licensee)


@pytest.fixture(scope="session")
def vendor_pair(tmp_path_factory: pytest.TempPathFactory) -> VendorKeys:
    private, public = generate_key_pair(tmp_path_factory.mktemp("vendor"))
    return VendorKeys(private.read_bytes(), private, public)


@pytest.fixture
def vendor(vendor_pair: VendorKeys, monkeypatch: pytest.MonkeyPatch) -> VendorKeys:
    """A throwaway vendor key pair; the verifier trusts its public key."""
    monkeypatch.setenv(PUBLIC_KEY_ENV, str(vendor_pair.public_path))
    return vendor_pair


def rt_of(app: Flask) -> Runtime:
    runtime: Runtime = app.extensions["recordbase"]
    return runtime


@pytest.fixture
def licensed(app: Flask, vendor: VendorKeys) -> Any:
    """Install a licence of a tier: licensed("simple")."""

    def install(tier: str) -> None:
        rt_of(app).licence.install(vendor.issue(tier))

    return install


def sign_in(
    client: FlaskClient, login: str, password: str = PASSWORD, **extra: Any
) -> Any:
    return client.post(
        "/api/v1/auth/token", json={"username": login, "password": password, **extra}
    )


def headers_of(response: Any) -> dict[str, str]:
    assert response.status_code == 201, response.json
    return {"Authorization": f"Bearer {response.json['token']}"}


CLIENTS: dict[str, Any] = {
    "name": "clients",
    "label": "Client",
    "label_plural": "Clients",
    "title_field": "name",
    "fields": [
        {"name": "name", "type": "text", "required": True},
        {"name": "inn", "type": "text"},
        {"name": "secret_note", "type": "text"},
        {"name": "discount", "type": "integer"},
        {"name": "manager", "type": "user"},
    ],
}
DEALS: dict[str, Any] = {
    "name": "deals",
    "label": "Deal",
    "label_plural": "Deals",
    "title_field": "title",
    "fields": [
        {"name": "title", "type": "text", "required": True},
        {"name": "client", "type": "link", "options": {"target": "clients"}},
    ],
}


@pytest.fixture
def crm(client: FlaskClient, admin: dict[str, str]) -> dict[str, str]:
    """Clients (with a manager user field) and deals linking to them; admin headers."""
    for entity in (CLIENTS, DEALS):
        response = client.post("/api/v1/entities", json=entity, headers=admin)
        assert response.status_code == 201, response.json
    return admin


def make_user(
    client: FlaskClient, admin: dict[str, str], login: str, **extra: Any
) -> dict[str, Any]:
    response = client.post(
        "/api/v1/admin/users", json={"login": login, "password": PASSWORD, **extra}, headers=admin
    )
    assert response.status_code == 201, response.json
    result: dict[str, Any] = response.json
    return result
