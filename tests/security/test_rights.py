"""Roles, per-entity and per-field permissions, row rules: every action through the API."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from tests.security.conftest import headers_of, make_user, rt_of, sign_in

from recordbase.records.query import ListQuery


def put_permission(
    client: FlaskClient, admin: dict[str, str], role: str, entity: str, **rule: Any
) -> Any:
    response = client.put(
        f"/api/v1/admin/roles/{role}/permissions/{entity}", json=rule, headers=admin
    )
    assert response.status_code == 200, response.json
    return response.json


@pytest.fixture
def managers(client: FlaskClient, crm: dict[str, str]) -> dict[str, Any]:
    """Role "manager": clients by group (others read-only), INN read-only, the secret hidden.

    anna and boris are in group north, vera in south; each has clients."""
    admin = crm
    assert client.post(
        "/api/v1/admin/roles", json={"name": "manager", "label": "Manager"}, headers=admin
    ).status_code == 201
    put_permission(
        client, admin, "manager", "clients",
        actions=["read", "create", "update", "delete", "export", "print"],
        rows="group", others="read", owner_field="manager",
        fields={"secret_note": "hidden", "inn": "read_only"},
    )
    put_permission(client, admin, "manager", "deals", actions=["read"])
    out: dict[str, Any] = {"admin": admin}
    for login, group in (("anna", "north"), ("boris", "north"), ("vera", "south")):
        user = make_user(client, admin, login, role="manager", group=group)
        out[login] = headers_of(sign_in(client, login))
        out[f"{login}_id"] = user["id"]
    for login in ("anna", "boris", "vera"):
        for k in (1, 2):
            response = client.post(
                "/api/v1/records/clients",
                json={
                    "name": f"{login}-client-{k}",
                    "inn": f"77{k}",
                    "secret_note": f"secret of {login} {k}",
                    "manager": out[f"{login}_id"],
                },
                headers=admin,
            )
            assert response.status_code == 201, response.json
            out[f"{login}{k}"] = response.json["id"]
    return out


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.json
    return sorted(item["name"] for item in response.json["items"])


def test_hidden_fields_never_leave_the_server(
    client: FlaskClient, managers: dict[str, Any]
) -> None:
    anna = managers["anna"]
    listed = client.get("/api/v1/records/clients", headers=anna).json["items"]
    assert listed
    assert all("secret_note" not in item for item in listed)
    one = client.get(f"/api/v1/records/clients/{managers['vera1']}", headers=anna).json
    assert "secret_note" not in one
    assert one["name"] == "vera-client-1"  # others' rows are readable ("others": "read")
    # searching, filtering or sorting by the hidden field reveals nothing
    assert client.get("/api/v1/records/clients?q=secret", headers=anna).json["items"] == []
    for url in (
        "/api/v1/records/clients?filter[secret_note][contains]=secret",
        "/api/v1/records/clients?sort=secret_note",
    ):
        response = client.get(url, headers=anna)
        assert response.status_code == 422
        assert "no field named 'secret_note'" in response.json["detail"]
    # the entity description leaves it out too
    fields = client.get("/api/v1/entities/clients", headers=anna).json["fields"]
    assert "secret_note" not in [f["name"] for f in fields]
    hidden = client.get("/api/v1/entities/clients/fields/secret_note", headers=anna)
    assert hidden.status_code == 404
    # and it cannot be written
    response = client.post(
        "/api/v1/records/clients", json={"name": "x", "secret_note": "mine"}, headers=anna
    )
    assert response.status_code == 422
    # admins see everything
    admin_one = client.get(
        f"/api/v1/records/clients/{managers['vera1']}", headers=managers["admin"]
    ).json
    assert admin_one["secret_note"] == "secret of vera 1"


def test_read_only_fields_are_read_but_not_written(
    client: FlaskClient, managers: dict[str, Any]
) -> None:
    anna = managers["anna"]
    url = f"/api/v1/records/clients/{managers['anna1']}"
    record = client.get(url, headers=anna).json
    assert record["inn"] == "771"
    response = client.patch(url, json={"inn": "999", "version": record["version"]}, headers=anna)
    assert response.status_code == 403
    assert "inn" in response.json["errors"]
    response = client.post("/api/v1/records/clients", json={"name": "n", "inn": "1"}, headers=anna)
    assert response.status_code == 403


def test_group_rule_edits_own_group_and_only_reads_the_others(
    client: FlaskClient, managers: dict[str, Any]
) -> None:
    anna = managers["anna"]
    for key in ("anna1", "boris1"):  # anna's and her group's
        url = f"/api/v1/records/clients/{managers[key]}"
        version = client.get(url, headers=anna).json["version"]
        response = client.patch(url, json={"discount": 5, "version": version}, headers=anna)
        assert response.status_code == 200, (key, response.json)
    url = f"/api/v1/records/clients/{managers['vera1']}"
    version = client.get(url, headers=anna).json["version"]
    response = client.patch(url, json={"discount": 5, "version": version}, headers=anna)
    assert response.status_code == 403
    assert "not one of your records" in response.json["detail"]
    assert client.delete(url, headers=anna).status_code == 403
    assert client.delete(
        f"/api/v1/records/clients/{managers['boris2']}", headers=anna
    ).status_code == 204


def test_own_rule_with_others_hidden(client: FlaskClient, managers: dict[str, Any]) -> None:
    put_permission(
        client, managers["admin"], "manager", "clients",
        actions=["read", "create", "update", "export"], rows="own", others="hidden",
        owner_field="manager",
    )
    anna = managers["anna"]
    assert names(client.get("/api/v1/records/clients", headers=anna)) == [
        "anna-client-1", "anna-client-2",
    ]
    # search, filters and paging stay within her rows
    assert names(client.get("/api/v1/records/clients?q=client", headers=anna)) == [
        "anna-client-1", "anna-client-2",
    ]
    assert names(
        client.get("/api/v1/records/clients?filter[name][contains]=vera", headers=anna)
    ) == []
    page = client.get("/api/v1/records/clients?limit=1", headers=anna).json
    rest = client.get(f"/api/v1/records/clients?limit=1&after={page['next']}", headers=anna).json
    assert rest["next"] is None
    assert len(page["items"]) + len(rest["items"]) == 2
    # someone else's record is not there at all, the same as a missing one
    other = client.get(f"/api/v1/records/clients/{managers['boris1']}", headers=anna)
    missing = client.get("/api/v1/records/clients/999999", headers=anna)
    assert other.status_code == missing.status_code == 404
    assert client.get(
        f"/api/v1/records/clients/{managers['boris1']}/history", headers=anna
    ).status_code == 404
    # a new record is hers; she cannot give it to someone else
    made = client.post("/api/v1/records/clients", json={"name": "new one"}, headers=anna)
    assert made.status_code == 201
    assert made.json["manager"] == managers["anna_id"]
    given = client.post(
        "/api/v1/records/clients",
        json={"name": "gift", "manager": managers["vera_id"]},
        headers=anna,
    )
    assert given.status_code == 403
    # delete is not granted
    assert client.delete(
        f"/api/v1/records/clients/{made.json['id']}", headers=anna
    ).status_code == 403


def test_link_titles_do_not_leak_hidden_rows(
    client: FlaskClient, managers: dict[str, Any]
) -> None:
    admin = managers["admin"]
    put_permission(
        client, admin, "manager", "clients", actions=["read"], rows="own", others="hidden",
        owner_field="manager",
    )
    for key in ("anna1", "vera1"):
        response = client.post(
            "/api/v1/records/deals",
            json={"title": f"deal with {key}", "client": managers[key]},
            headers=admin,
        )
        assert response.status_code == 201
    page = client.get("/api/v1/records/deals", headers=managers["anna"]).json
    titles = page["titles"]["clients"]
    assert titles == {str(managers["anna1"]): "anna-client-1"}


@pytest.mark.parametrize(
    ("method", "action"),
    [("get", "read"), ("post", "create"), ("patch", "update"), ("delete", "delete")],
)
def test_each_action_needs_its_right(
    client: FlaskClient, managers: dict[str, Any], method: str, action: str
) -> None:
    admin = managers["admin"]
    deal = client.post("/api/v1/records/deals", json={"title": "d"}, headers=admin).json
    granted = ["read", "create", "update", "delete"]
    url = "/api/v1/records/deals" if method == "post" else f"/api/v1/records/deals/{deal['id']}"
    body = {"title": "t"} if method == "post" else {"title": "t", "version": 1}
    if method in ("get", "delete"):
        body = None
    put_permission(client, admin, "manager", "deals", actions=granted)
    allowed = getattr(client, method)(url, json=body, headers=managers["anna"])
    assert allowed.status_code in (200, 201, 204), allowed.json
    if method == "delete":
        deal = client.post("/api/v1/records/deals", json={"title": "d"}, headers=admin).json
        url = f"/api/v1/records/deals/{deal['id']}"
    if method == "patch":
        body = {"title": "t2", "version": 2}
    rest = [a for a in granted if a != action] if action != "read" else []
    put_permission(client, admin, "manager", "deals", actions=rest)
    refused = getattr(client, method)(url, json=body, headers=managers["anna"])
    assert refused.status_code == 403, refused.json
    assert "You may not" in refused.json["detail"]


def test_export_and_print_need_their_rights_and_filter_like_reads(
    app: Flask, client: FlaskClient, managers: dict[str, Any]
) -> None:
    rt = rt_of(app)
    anna_user = rt.users.resolve(managers["anna"]["Authorization"].split()[1])
    page = rt.records.list_page("clients", ListQuery(limit=50), actor=anna_user, purpose="export")
    assert page.items
    assert all("secret_note" not in item for item in page.items)
    item, _ = rt.records.get("clients", managers["vera1"], actor=anna_user, purpose="print")
    assert "secret_note" not in item
    put_permission(
        client, managers["admin"], "manager", "clients", actions=["read"], rows="own",
        others="hidden", owner_field="manager",
    )
    from recordbase.errors import NotFound, PermissionDenied

    with pytest.raises(PermissionDenied, match="export"):
        rt.records.list_page("clients", ListQuery(), actor=anna_user, purpose="export")
    with pytest.raises(PermissionDenied, match="print"):
        rt.records.get("clients", managers["anna1"], actor=anna_user, purpose="print")
    put_permission(
        client, managers["admin"], "manager", "clients", actions=["read", "create"],
        rows="own", others="hidden", owner_field="manager",
    )
    with pytest.raises(PermissionDenied, match="import"):
        rt.records.create("clients", {"name": "i"}, actor=anna_user, purpose="import")
    put_permission(
        client, managers["admin"], "manager", "clients",
        actions=["read", "create", "export", "print", "import"], rows="own",
        others="hidden", owner_field="manager",
    )
    exported = rt.records.list_page(
        "clients", ListQuery(limit=50), actor=anna_user, purpose="export"
    )
    assert sorted(i["name"] for i in exported.items) == ["anna-client-1", "anna-client-2"]
    with pytest.raises(NotFound):
        rt.records.get("clients", managers["vera1"], actor=anna_user, purpose="print")
    imported = rt.records.create("clients", {"name": "i"}, actor=anna_user, purpose="import")
    assert imported["manager"] == anna_user.id


def test_new_roles_see_nothing_until_granted(client: FlaskClient, crm: dict[str, str]) -> None:
    admin = crm
    client.post("/api/v1/admin/roles", json={"name": "clerk"}, headers=admin)
    make_user(client, admin, "kim", role="clerk")
    kim = headers_of(sign_in(client, "kim"))
    assert client.get("/api/v1/entities", headers=kim).json["items"] == []
    assert client.get("/api/v1/records/clients", headers=kim).status_code == 403
    assert client.get("/api/v1/entities/clients", headers=kim).status_code == 404
    put_permission(client, admin, "clerk", "deals", actions=["read"])
    entities = client.get("/api/v1/entities", headers=kim).json["items"]
    assert [e["name"] for e in entities] == ["deals"]
    assert client.get("/api/v1/records/deals", headers=kim).status_code == 200
    assert client.post("/api/v1/records/deals", json={"title": "x"}, headers=kim).status_code == 403


def test_the_builtin_user_role_can_be_locked_down(
    client: FlaskClient, crm: dict[str, str], user: dict[str, str]
) -> None:
    assert client.get("/api/v1/records/clients", headers=user).status_code == 200
    response = client.patch(
        "/api/v1/admin/roles/user", json={"default_access": "none"}, headers=crm
    )
    assert response.status_code == 200
    assert client.get("/api/v1/records/clients", headers=user).status_code == 403


def test_admin_endpoints_refuse_non_admins(client: FlaskClient, user: dict[str, str]) -> None:
    for method, url in (
        ("get", "/api/v1/admin/users"),
        ("post", "/api/v1/admin/users"),
        ("patch", "/api/v1/admin/users/1"),
        ("post", "/api/v1/admin/users/1/password"),
        ("get", "/api/v1/admin/roles"),
        ("post", "/api/v1/admin/roles"),
        ("put", "/api/v1/admin/roles/user/permissions/clients"),
        ("delete", "/api/v1/admin/roles/user"),
        ("get", "/api/v1/audit"),
        ("get", "/api/v1/admin/settings"),
        ("patch", "/api/v1/admin/settings"),
        ("get", "/api/v1/sessions"),
        ("post", "/api/v1/entities"),
    ):
        response = getattr(client, method)(url, json={}, headers=user)
        assert response.status_code == 403, (method, url)
    # and a user cannot make themselves admin through their own endpoints
    me = client.get("/api/v1/auth/me", headers=user).json
    assert me["role"] == "user"


def test_permission_rules_are_checked(client: FlaskClient, crm: dict[str, str]) -> None:
    client.post("/api/v1/admin/roles", json={"name": "clerk"}, headers=crm)
    url = "/api/v1/admin/roles/clerk/permissions/clients"
    for bad in (
        {"actions": ["fly"]},
        {"actions": ["update"]},
        {"rows": "mine"},
        {"others": "maybe"},
        {"owner_field": "name", "rows": "own"},
        {"fields": {"nosuch": "hidden"}},
        {"fields": {"name": "invisible"}},
        {"extra": 1},
    ):
        response = client.put(url, json=bad, headers=crm)
        assert response.status_code == 422, bad
    assert client.put(
        "/api/v1/admin/roles/admin/permissions/clients", json={"actions": []}, headers=crm
    ).status_code == 409
    assert client.delete("/api/v1/admin/roles/user", headers=crm).status_code == 409
    role = put_permission(client, crm, "clerk", "clients", actions=["read"])
    assert role["permissions"]["clients"]["actions"] == ["read"]
    removed = client.delete(url, headers=crm)
    assert removed.json["permissions"] == {}
    assert client.delete("/api/v1/admin/roles/clerk", headers=crm).status_code == 204


def test_links_cannot_point_at_hidden_rows(client: FlaskClient, managers: dict[str, Any]) -> None:
    admin, anna = managers["admin"], managers["anna"]
    put_permission(
        client, admin, "manager", "clients", actions=["read"], rows="own", others="hidden",
        owner_field="manager",
    )
    put_permission(client, admin, "manager", "deals", actions=["read", "create", "update"])
    hidden = client.post(
        "/api/v1/records/deals", json={"title": "t", "client": managers["vera1"]}, headers=anna
    )
    missing = client.post(
        "/api/v1/records/deals", json={"title": "t", "client": 999999}, headers=anna
    )
    assert hidden.status_code == missing.status_code == 422
    assert hidden.json["errors"]["client"] == f"There is no Client with id {managers['vera1']}."
    own = client.post(
        "/api/v1/records/deals", json={"title": "t", "client": managers["anna1"]}, headers=anna
    )
    assert own.status_code == 201
    changed = client.patch(
        f"/api/v1/records/deals/{own.json['id']}",
        json={"client": managers["boris1"], "version": 1},
        headers=anna,
    )
    assert changed.status_code == 422


def test_prints_leave_out_hidden_fields(client: FlaskClient, managers: dict[str, Any]) -> None:
    body = {
        "name": "card_secret",
        "label": "Card",
        "body": "<p>NAME={{ record.name }}</p><p>SECRET={{ record.secret_note or '' }}</p>",
        "css": "",
        "page": {"size": "A4", "orientation": "portrait", "margins": "15mm"},
    }
    refused = client.post("/api/v1/entities/clients/templates", json=body,
                          headers=managers["admin"])
    assert refused.status_code == 422, refused.json
    assert "millimetres" in refused.json["detail"]
    body["page"]["margins"] = 15
    made = client.post("/api/v1/entities/clients/templates", json=body,
                       headers=managers["admin"])
    assert made.status_code in (200, 201), made.json
    url = f"/api/v1/records/clients/{managers['anna1']}/print/card_secret?format=html"
    as_admin = client.get(url, headers=managers["admin"])
    assert as_admin.status_code == 200, as_admin.data[:300]
    assert b"secret of anna 1" in as_admin.data
    as_anna = client.get(url, headers=managers["anna"])
    assert as_anna.status_code == 200, as_anna.data[:300]
    assert b"NAME=anna-client-1" in as_anna.data
    assert b"secret of" not in as_anna.data


def test_the_api_description_hides_what_the_caller_cannot_see(
    client: FlaskClient, managers: dict[str, Any]
) -> None:
    full = client.get("/api/v1/openapi.json", headers=managers["admin"]).json
    assert "secret_note" in full["components"]["schemas"]["clients"]["properties"]
    mine = client.get("/api/v1/openapi.json", headers=managers["anna"]).json
    assert "secret_note" not in mine["components"]["schemas"]["clients"]["properties"]
    assert "name" in mine["components"]["schemas"]["clients"]["properties"]
    readable = {p.split("/")[2] for p in mine["paths"] if p.startswith("/records/")}
    assert readable <= set(full["components"]["schemas"])
