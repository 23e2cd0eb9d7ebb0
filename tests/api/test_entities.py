"""Entities and fields through the API, including hostile names and what reaches SQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from api.conftest import create

HOSTILE = 'x"; DROP TABLE clients;--'


@contextmanager
def captured_sql(app: Flask) -> Iterator[list[str]]:
    """Every statement text sent to the database while the block runs."""
    engine = app.extensions["recordbase"].engine
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)


def test_create_entity_and_read_it_back(client: FlaskClient, admin: dict[str, str]) -> None:
    body = {
        "name": "clients",
        "label": "Клиент",
        "label_plural": "Клиенты",
        "title_field": "name",
        "fields": [
            {
                "name": "name",
                "label": "Название",
                "type": "text",
                "required": True,
                "help": "Как в договоре",
            }
        ],
    }
    response = client.post("/api/v1/entities", json=body, headers=admin)
    assert response.status_code == 201, response.json
    assert response.headers["Location"].endswith("/api/v1/entities/clients")
    got = client.get("/api/v1/entities/clients", headers=admin).json
    assert got["label_plural"] == "Клиенты"
    assert got["fields"][0] == {
        "name": "name",
        "label": "Название",
        "type": "text",
        "options": {"max_length": 255},
        "required": True,
        "unique": False,
        "indexed": False,
        "default": None,
        "help": "Как в договоре",
    }
    listed = client.get("/api/v1/entities", headers=admin).json["items"]
    assert [e["name"] for e in listed] == ["clients"]


def test_add_field_to_a_table_with_rows(client: FlaskClient, admin: dict[str, str]) -> None:
    client.post(
        "/api/v1/entities",
        json={"name": "clients", "fields": [{"name": "name", "type": "text"}]},
        headers=admin,
    )
    for i in range(3):
        create(client, admin, "clients", name=f"c{i}")
    response = client.post(
        "/api/v1/entities/clients/fields",
        json={"name": "tier", "type": "integer", "default": 1, "fill_existing": True},
        headers=admin,
    )
    assert response.status_code == 201, response.json
    items = client.get("/api/v1/records/clients", headers=admin).json["items"]
    assert [item["tier"] for item in items] == [1, 1, 1]
    required = client.post(
        "/api/v1/entities/clients/fields",
        json={"name": "vat", "type": "text", "required": True},
        headers=admin,
    )
    assert required.status_code == 422
    assert "3 records" in required.json["detail"]
    assert "vat" not in [
        f["name"] for f in client.get("/api/v1/entities/clients", headers=admin).json["fields"]
    ]
    unique = client.post(
        "/api/v1/entities/clients/fields",
        json={
            "name": "code",
            "type": "text",
            "unique": True,
            "default": "X",
            "fill_existing": True,
        },
        headers=admin,
    )
    assert unique.status_code == 409


def test_rename_field_keeps_data(client: FlaskClient, admin: dict[str, str], app: Flask) -> None:
    client.post(
        "/api/v1/entities",
        json={
            "name": "clients",
            "title_field": "name",
            "fields": [{"name": "name", "type": "text"}],
        },
        headers=admin,
    )
    made = create(client, admin, "clients", name="Acme")
    table = app.extensions["recordbase"].cache.current().table("clients")
    response = client.patch(
        "/api/v1/entities/clients/fields/name",
        json={"name": "title", "label": "Title"},
        headers=admin,
    )
    assert response.status_code == 200, response.json
    got = client.get(f"/api/v1/records/clients/{made['id']}", headers=admin).json
    assert got["title"] == "Acme"
    assert "name" not in got
    assert client.get("/api/v1/entities/clients", headers=admin).json["title_field"] == "title"
    assert app.extensions["recordbase"].cache.current().table("clients").name == table.name


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        (HOSTILE, "must start with a lowercase Latin letter"),
        ("a" * 300, "300 characters long"),
        ("Clients", "must start with a lowercase Latin letter"),
        ("клиенты", "must start with a lowercase Latin letter"),
        ("", "required"),
        (None, "required"),
        (12, "required"),
        ("schema", "reserved"),
        ("_x", "must start with a lowercase Latin letter"),
    ],
)
def test_hostile_entity_names_are_refused(
    client: FlaskClient, admin: dict[str, str], name: Any, fragment: str
) -> None:
    response = client.post("/api/v1/entities", json={"name": name}, headers=admin)
    assert response.status_code == 422
    assert fragment in response.json["detail"]
    assert client.get("/api/v1/entities", headers=admin).json["items"] == []


@pytest.mark.parametrize(
    ("name", "status"),
    [
        (HOSTILE, 422),
        ("f" * 300, 422),
        ("Name", 422),
        ("id", 422),
        ("version", 422),
        ("created_by", 422),
        ("name", 409),
    ],
)
def test_hostile_field_names(
    client: FlaskClient, admin: dict[str, str], name: str, status: int
) -> None:
    client.post(
        "/api/v1/entities",
        json={"name": "clients", "fields": [{"name": "name", "type": "text"}]},
        headers=admin,
    )
    response = client.post(
        "/api/v1/entities/clients/fields", json={"name": name, "type": "text"}, headers=admin
    )
    assert response.status_code == status, response.json
    assert response.json["detail"]


def test_sql_keywords_are_stored_safely_and_user_text_never_reaches_sql(
    client: FlaskClient, admin: dict[str, str], app: Flask
) -> None:
    label = 'Robert"); DROP TABLE rb_users;--'
    with captured_sql(app) as statements:
        response = client.post(
            "/api/v1/entities",
            json={
                "name": "select",
                "label": label,
                "fields": [
                    {"name": "from", "label": label, "type": "text", "indexed": True},
                    {"name": "where", "type": "integer", "unique": True},
                    {"name": "order", "type": "text", "help": HOSTILE},
                ],
            },
            headers=admin,
        )
        assert response.status_code == 201, response.json
        made = create(client, admin, "select", **{"from": HOSTILE, "where": 1, "order": label})
        listed = client.get(
            f"/api/v1/records/select?filter[from][contains]={HOSTILE}&sort=-from,where&q={label}",
            headers=admin,
        )
        assert listed.status_code == 200
        patched = client.patch(
            f"/api/v1/records/select/{made['id']}",
            json={"from": label, "version": 1},
            headers=admin,
        )
        assert patched.status_code == 200
    assert statements
    for statement in statements:
        for text in ("DROP", 'select"', "Robert", 'from"', '"where"', '"order"'):
            assert text not in statement, statement
    assert made["from"] == HOSTILE
    assert client.get("/api/v1/records/select", headers=admin).json["items"][0]["from"] == label


def test_names_differing_by_case_cannot_both_exist(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    assert (
        client.post("/api/v1/entities", json={"name": "clients"}, headers=admin).status_code == 201
    )
    again = client.post("/api/v1/entities", json={"name": "Clients"}, headers=admin)
    assert again.status_code == 422
    same = client.post("/api/v1/entities", json={"name": "clients"}, headers=admin)
    assert same.status_code == 409


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"name": "x", "fields": [{"name": "a", "type": "nosuchtype"}]}, "fields[0].type"),
        (
            {"name": "x", "fields": [{"name": "a", "type": "text", "options": {"max_length": -1}}]},
            "fields[0].options",
        ),
        (
            {"name": "x", "fields": [{"name": "a", "type": "text", "options": {"bogus": 1}}]},
            "fields[0].options",
        ),
        (
            {"name": "x", "fields": [{"name": "a", "type": "link", "options": {"target": "none"}}]},
            "fields[0].options",
        ),
        (
            {"name": "x", "fields": [{"name": "a", "type": "text"}, {"name": "a", "type": "text"}]},
            "fields[1].name",
        ),
        (
            {"name": "x", "fields": [{"name": "a", "type": "text", "colour": "red"}]},
            "fields[0].colour",
        ),
        ({"name": "x", "title_field": "nope"}, "title_field"),
        ({"name": "x", "tree": True}, "tree"),
        ({"name": "x", "id": 5}, "id"),
        (
            {"name": "x", "fields": [{"name": "a", "type": "integer", "default": "abc"}]},
            "fields[0].default",
        ),
    ],
)
def test_bad_metadata_names_the_key(
    client: FlaskClient, admin: dict[str, str], body: dict[str, Any], key: str
) -> None:
    response = client.post("/api/v1/entities", json=body, headers=admin)
    assert 400 <= response.status_code < 500, response.json
    assert key in response.json.get("errors", {}), response.json
    assert client.get("/api/v1/entities", headers=admin).json["items"] == []


def test_only_admins_change_structure(client: FlaskClient, user: dict[str, str]) -> None:
    response = client.post("/api/v1/entities", json={"name": "x"}, headers=user)
    assert response.status_code == 403
    assert client.get("/api/v1/entities", headers=user).status_code == 200


def test_openapi_document_follows_the_metadata(client: FlaskClient, admin: dict[str, str]) -> None:
    client.post(
        "/api/v1/entities",
        json={
            "name": "clients",
            "fields": [
                {"name": "name", "type": "text", "required": True},
                {"name": "balance", "type": "decimal"},
            ],
        },
        headers=admin,
    )
    doc = client.get("/api/v1/openapi.json", headers=admin).json
    assert doc["openapi"].startswith("3.")
    assert "/records/clients" in doc["paths"]
    schema = doc["components"]["schemas"]["clients_input"]
    assert schema["required"] == ["name"]
    assert schema["properties"]["balance"]["type"] == "string"
    client.post(
        "/api/v1/entities/clients/fields", json={"name": "vip", "type": "integer"}, headers=admin
    )
    doc = client.get("/api/v1/openapi.json", headers=admin).json
    assert "vip" in doc["components"]["schemas"]["clients"]["properties"]
