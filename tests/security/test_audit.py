"""The audit log: records, structure, sign-ins, licences; filters, history, retention."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from tests.security.conftest import headers_of, make_user, rt_of, sign_in

from recordbase import db, systables


def actions(client: FlaskClient, admin: dict[str, str], query: str = "") -> list[str]:
    response = client.get(f"/api/v1/audit{query}", headers=admin)
    assert response.status_code == 200, response.json
    return [e["action"] for e in response.json["items"]]


def test_record_changes_are_logged_field_by_field(
    client: FlaskClient, crm: dict[str, str]
) -> None:
    admin = crm
    made = client.post(
        "/api/v1/records/clients", json={"name": "Acme", "discount": 5}, headers=admin
    ).json
    url = f"/api/v1/records/clients/{made['id']}"
    client.patch(url, json={"discount": 10, "inn": "7701", "version": 1}, headers=admin)
    client.patch(url, json={"discount": 10, "version": 2}, headers=admin)  # no change: no entry
    history = client.get(f"{url}/history", headers=admin).json["items"]
    assert [h["action"] for h in history] == ["record.create", "record.update"]
    assert history[0]["details"]["values"]["name"] == "Acme"
    change = history[1]
    assert change["details"]["changes"] == {"discount": [5, 10], "inn": [None, "7701"]}
    assert change["login"] == "admin"
    assert change["address"] == "127.0.0.1"
    assert client.delete(url, headers=admin).status_code == 204
    entries = client.get(
        f"/api/v1/audit?entity=clients&record={made['id']}", headers=admin
    ).json["items"]
    assert entries[0]["action"] == "record.delete"
    assert entries[0]["details"]["values"]["discount"] == 10


def test_history_hides_the_fields_the_reader_may_not_see(
    client: FlaskClient, crm: dict[str, str]
) -> None:
    admin = crm
    client.post("/api/v1/admin/roles", json={"name": "manager"}, headers=admin)
    client.put(
        "/api/v1/admin/roles/manager/permissions/clients",
        json={"actions": ["read", "update"], "fields": {"secret_note": "hidden"}},
        headers=admin,
    )
    make_user(client, admin, "anna", role="manager")
    anna = headers_of(sign_in(client, "anna"))
    made = client.post(
        "/api/v1/records/clients", json={"name": "A", "secret_note": "s1"}, headers=admin
    ).json
    url = f"/api/v1/records/clients/{made['id']}"
    client.patch(url, json={"secret_note": "s2", "name": "B", "version": 1}, headers=admin)
    history = client.get(f"{url}/history", headers=anna).json["items"]
    assert "secret_note" not in history[0]["details"]["values"]
    assert history[1]["details"]["changes"] == {"name": ["A", "B"]}
    assert client.get("/api/v1/audit", headers=anna).status_code == 403


def test_sign_ins_failures_sessions_structure_and_licences_are_logged(
    client: FlaskClient, admin: dict[str, str], app: Flask, vendor: Any
) -> None:
    sign_in(client, "user", "wrong-password")
    user = headers_of(sign_in(client, "user", "user-password-123"))
    client.delete("/api/v1/auth/token", headers=user)
    client.post("/api/v1/entities", json={"name": "things", "fields": []}, headers=admin)
    client.post("/api/v1/license", json={"key": vendor.issue("simple")}, headers=admin)
    client.post("/api/v1/license", json={"key": "broken"}, headers=admin)
    logged = actions(client, admin)
    for expected in (
        "auth.sign_in_failed",
        "auth.sign_in",
        "auth.sign_out",
        "structure.create_entity",
        "licence.install",
        "licence.rejected",
    ):
        assert expected in logged, expected
    failed = client.get("/api/v1/audit?action=auth.sign_in_failed", headers=admin).json["items"]
    assert [(e["login"], e["user_id"]) for e in failed] == [("user", None)]
    assert actions(client, admin, "?action=structure") == ["structure.create_entity"]
    assert set(actions(client, admin, "?action=licence")) == {"licence.install", "licence.rejected"}


def test_filters_by_user_entity_and_period(
    client: FlaskClient, crm: dict[str, str], user: dict[str, str], app: Flask
) -> None:
    admin = crm
    client.post("/api/v1/records/deals", json={"title": "by admin"}, headers=admin)
    client.post("/api/v1/records/deals", json={"title": "by user"}, headers=user)
    client.post("/api/v1/records/clients", json={"name": "by user"}, headers=user)
    me = client.get("/api/v1/auth/me", headers=user).json
    by_user = client.get(f"/api/v1/audit?user={me['id']}&action=record", headers=admin).json
    assert sorted(e["entity"] for e in by_user["items"]) == ["clients", "deals"]
    deals = client.get("/api/v1/audit?entity=deals&action=record", headers=admin).json["items"]
    assert len(deals) == 2
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date().isoformat()
    assert actions(client, admin, f"?since={tomorrow}") == []
    assert len(actions(client, admin, f"?until={tomorrow}&action=record")) == 3
    assert client.get("/api/v1/audit?since=yesterday", headers=admin).status_code == 422
    assert client.get("/api/v1/audit?who=1", headers=admin).status_code == 422


def test_the_log_is_read_only(client: FlaskClient, admin: dict[str, str]) -> None:
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)("/api/v1/audit", headers=admin).status_code == 405


def test_retention_removes_old_entries(
    client: FlaskClient, admin: dict[str, str], app: Flask
) -> None:
    rt = rt_of(app)
    assert client.get("/api/v1/admin/settings", headers=admin).json["audit_retention_days"] == 730
    response = client.patch(
        "/api/v1/admin/settings", json={"audit_retention_days": 30}, headers=admin
    )
    assert response.json["audit_retention_days"] == 30
    bad = client.patch("/api/v1/admin/settings", json={"audit_retention_days": 0}, headers=admin)
    assert bad.status_code == 422
    a = systables.audit
    with db.write(rt.engine) as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(a)).scalar_one()
        oldest = conn.execute(sa.select(sa.func.min(a.c.id))).scalar_one()
        conn.execute(
            sa.update(a).where(a.c.id == oldest).values(
                at=systables.utcnow() - dt.timedelta(days=31)
            )
        )
    assert rt.audit.apply_retention() == 1
    with db.read(rt.engine) as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(a)).scalar_one() == total - 1
    client.patch("/api/v1/admin/settings", json={"audit_retention_days": None}, headers=admin)
    assert rt.audit.apply_retention() == 0


def test_user_administration_is_logged(client: FlaskClient, admin: dict[str, str]) -> None:
    anna = make_user(client, admin, "anna")
    client.patch(f"/api/v1/admin/users/{anna['id']}", json={"group": "north"}, headers=admin)
    client.post(
        f"/api/v1/admin/users/{anna['id']}/password", json={"password": "new-pass-12345"},
        headers=admin,
    )
    logged = actions(client, admin, "?action=user")
    assert logged[:3] == ["user.password_reset", "user.update", "user.create"]
    update = client.get("/api/v1/audit?action=user.update", headers=admin).json["items"][0]
    assert update["details"]["changes"] == {"group_name": [None, "north"]}


def test_refused_sign_ins_are_logged(
    client: FlaskClient, admin: dict[str, str], licensed: Any
) -> None:
    make_user(client, admin, "anna")
    make_user(client, admin, "bob")  # admin, user, anna, bob: one beyond the simple tier
    licensed("simple")
    headers_of(sign_in(client, "anna"))
    headers_of(sign_in(client, "user", "user-password-123"))
    assert sign_in(client, "anna").status_code == 403  # no seat
    assert sign_in(client, "bob").status_code == 403  # beyond the users
    refused = client.get(
        "/api/v1/audit?action=auth.sign_in_refused", headers=admin
    ).json["items"]
    assert [e["login"] for e in refused] == ["bob", "anna"]
    assert "beyond" in refused[0]["details"]["reason"]
    assert "seats" in refused[1]["details"]["reason"]
