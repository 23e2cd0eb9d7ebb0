"""The records API: CRUD, validation, optimistic locking, links and child tables."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from api.conftest import create


def count_rows(app: Flask, entity: str) -> int:
    rt = app.extensions["recordbase"]
    table = rt.cache.current().table(entity)
    with rt.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_create_read_update_delete(client: FlaskClient, shop: dict[str, str]) -> None:
    made = create(client, shop, "customers", name="Ёлка ООО", code="C1", balance="1234.50")
    assert made["version"] == 1
    assert made["balance"] == "1234.50"
    got = client.get(f"/api/v1/records/customers/{made['id']}", headers=shop)
    assert got.status_code == 200
    assert got.headers["ETag"] == '"1"'
    assert got.json == made
    changed = client.patch(
        f"/api/v1/records/customers/{made['id']}",
        json={"score": 7},
        headers={**shop, "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["score"] == 7
    assert changed.json["version"] == 2
    gone = client.delete(f"/api/v1/records/customers/{made['id']}", headers=shop)
    assert gone.status_code == 204
    assert client.get(f"/api/v1/records/customers/{made['id']}", headers=shop).status_code == 404


def test_stale_update_is_refused_with_who_and_when(
    client: FlaskClient, shop: dict[str, str]
) -> None:
    made = create(client, shop, "customers", name="Acme")
    first = client.patch(
        f"/api/v1/records/customers/{made['id']}",
        json={"name": "Acme 2", "version": 1},
        headers=shop,
    )
    assert first.status_code == 200
    stale = client.patch(
        f"/api/v1/records/customers/{made['id']}",
        json={"name": "Acme 3", "version": 1},
        headers=shop,
    )
    assert stale.status_code == 409
    assert stale.mimetype == "application/problem+json"
    assert "Ada Admin" in stale.json["detail"]
    assert "nothing was saved" in stale.json["detail"]
    assert stale.json["current_version"] == 2
    again = client.get(f"/api/v1/records/customers/{made['id']}", headers=shop).json
    assert again["name"] == "Acme 2"


def test_update_without_a_version_is_refused(client: FlaskClient, shop: dict[str, str]) -> None:
    made = create(client, shop, "customers", name="Acme")
    response = client.patch(
        f"/api/v1/records/customers/{made['id']}", json={"name": "B"}, headers=shop
    )
    assert response.status_code == 422
    assert "version" in response.json["errors"]


def test_mass_assignment_and_unknown_keys_are_refused(
    client: FlaskClient, shop: dict[str, str], app: Flask
) -> None:
    for body in (
        {"name": "X", "id": 99},
        {"name": "X", "version": 5},
        {"name": "X", "created_by": 1},
        {"name": "X", "updated_at": "2020-01-01T00:00:00Z"},
        {"name": "X", "nickname": "Y"},
    ):
        response = client.post("/api/v1/records/customers", json=body, headers=shop)
        assert response.status_code == 422, body
        key = next(k for k in body if k != "name")
        assert key in response.json["errors"]
    assert count_rows(app, "customers") == 0


def test_wrong_types_name_each_field(client: FlaskClient, shop: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/records/customers",
        json={"name": 5, "score": 1.5, "balance": 0.1, "rank": "many"},
        headers=shop,
    )
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"name", "score", "balance", "rank"}
    assert "4 fields" in response.json["detail"]


def test_decimal_precision_is_never_rounded(client: FlaskClient, shop: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/records/customers", json={"name": "A", "balance": "1.005"}, headers=shop
    )
    assert response.status_code == 422
    assert "digits after the decimal point" in response.json["errors"]["balance"]
    big = create(client, shop, "customers", name="B", balance="9999999999.99")
    assert big["balance"] == "9999999999.99"
    over = client.post(
        "/api/v1/records/customers", json={"name": "C", "balance": "99999999999"}, headers=shop
    )
    assert over.status_code == 422


def test_required_field(client: FlaskClient, shop: dict[str, str]) -> None:
    response = client.post("/api/v1/records/customers", json={"code": "X"}, headers=shop)
    assert response.status_code == 422
    assert response.json["errors"] == {"name": "A value is required."}
    response = client.post("/api/v1/records/customers", json={"name": ""}, headers=shop)
    assert response.status_code == 422


def test_duplicate_unique_value(client: FlaskClient, shop: dict[str, str], app: Flask) -> None:
    create(client, shop, "customers", name="A", code="SAME")
    response = client.post(
        "/api/v1/records/customers", json={"name": "B", "code": "SAME"}, headers=shop
    )
    assert response.status_code == 409
    assert response.json["errors"] == {"code": "This value is already taken."}
    assert count_rows(app, "customers") == 1


def test_broken_link_is_refused(client: FlaskClient, shop: dict[str, str], app: Flask) -> None:
    response = client.post(
        "/api/v1/records/orders", json={"number": "1", "customer": 12345}, headers=shop
    )
    assert response.status_code == 422
    assert response.json["errors"]["customer"] == "There is no Customer with id 12345."
    for bad in ("1", True, -3, 0, 1.5, [1], {"id": 1}):
        response = client.post(
            "/api/v1/records/orders", json={"number": "1", "customer": bad}, headers=shop
        )
        assert response.status_code == 422, bad
    assert count_rows(app, "orders") == 0


def test_restrict_delete_names_the_referrers(client: FlaskClient, shop: dict[str, str]) -> None:
    customer = create(client, shop, "customers", name="A")
    create(client, shop, "orders", number="1", customer=customer["id"])
    response = client.delete(f"/api/v1/records/customers/{customer['id']}", headers=shop)
    assert response.status_code == 409
    assert "1 Orders refer to it" in response.json["detail"]


def test_child_lines_are_saved_with_the_record(
    client: FlaskClient, shop: dict[str, str], app: Flask
) -> None:
    customer = create(client, shop, "customers", name="A")
    product = create(client, shop, "products", title="Widget")
    order = create(
        client,
        shop,
        "orders",
        number="1",
        customer=customer["id"],
        lines=[{"product": product["id"], "qty": 2, "price": "10.00"}, {"qty": 1}],
    )
    assert [line["qty"] for line in order["lines"]] == [2, 1]
    first, second = order["lines"]
    changed = client.patch(
        f"/api/v1/records/orders/{order['id']}",
        json={"version": 1, "lines": [{"id": second["id"], "qty": 5}, {"qty": 3}]},
        headers=shop,
    )
    assert changed.status_code == 200, changed.json
    lines = changed.json["lines"]
    assert [line["qty"] for line in lines] == [5, 3]
    assert lines[0]["id"] == second["id"]
    assert first["id"] not in {line["id"] for line in lines}
    assert count_rows(app, "order_lines") == 2
    # the audit entry has the lines as they were before this save and as they are after
    history = client.get(f"/api/v1/records/orders/{order['id']}/history", headers=shop).json
    old_lines, new_lines = history["items"][-1]["details"]["changes"]["lines"]
    assert [(line["id"], line["qty"]) for line in old_lines] == [
        (first["id"], 2), (second["id"], 1)
    ]
    assert [line["qty"] for line in new_lines] == [5, 3]
    assert client.delete(f"/api/v1/records/orders/{order['id']}", headers=shop).status_code == 204
    assert count_rows(app, "order_lines") == 0


def test_a_bad_line_leaves_nothing_written(
    client: FlaskClient, shop: dict[str, str], app: Flask
) -> None:
    customer = create(client, shop, "customers", name="A")
    response = client.post(
        "/api/v1/records/orders",
        json={"number": "1", "customer": customer["id"], "lines": [{"qty": 1}, {"qty": "x"}]},
        headers=shop,
    )
    assert response.status_code == 422
    assert response.json["errors"]["lines"] == {"1": {"qty": "Not a whole number."}}
    assert count_rows(app, "orders") == 0
    assert count_rows(app, "order_lines") == 0


def test_lines_of_another_record_cannot_be_taken(client: FlaskClient, shop: dict[str, str]) -> None:
    customer = create(client, shop, "customers", name="A")
    one = create(client, shop, "orders", number="1", customer=customer["id"], lines=[{"qty": 1}])
    two = create(client, shop, "orders", number="2", customer=customer["id"])
    stolen = one["lines"][0]["id"]
    response = client.patch(
        f"/api/v1/records/orders/{two['id']}",
        json={"version": 1, "lines": [{"id": stolen, "qty": 9}]},
        headers=shop,
    )
    assert response.status_code == 422
    again = client.get(f"/api/v1/records/orders/{one['id']}", headers=shop).json
    assert again["lines"][0]["qty"] == 1


def test_unknown_entity_and_record(client: FlaskClient, shop: dict[str, str]) -> None:
    assert client.get("/api/v1/records/nothing", headers=shop).status_code == 404
    assert client.get("/api/v1/records/customers/999", headers=shop).status_code == 404
    huge = client.get(f"/api/v1/records/customers/{2**70}", headers=shop)
    assert huge.status_code in (404, 422)
    assert client.delete("/api/v1/records/customers/999", headers=shop).status_code == 404
    # an update of a record that is not there: the input is checked first, then the record
    # (the same answers on both databases), and nothing is written
    missing = "/api/v1/records/customers/999"
    answer = client.patch(missing, json={"name": "A", "version": 1}, headers=shop)
    assert answer.status_code == 404, answer.json
    assert answer.json["detail"] == "There is no Customer with id 999."
    answer = client.patch(missing, json={"name": ["not", "text"], "version": 1}, headers=shop)
    assert answer.status_code == 422, answer.json
    assert set(answer.json["errors"]) == {"name"}
    assert client.get("/api/v1/records/customers", headers=shop).json["items"] == []


def test_body_limits(client: FlaskClient, shop: dict[str, str]) -> None:
    big = "x" * (3 * 1024 * 1024)
    response = client.post(
        "/api/v1/records/customers",
        data=f'{{"name": "{big}"}}',
        content_type="application/json",
        headers=shop,
    )
    assert response.status_code == 413
    deep = "[" * 100 + "]" * 100
    response = client.post(
        "/api/v1/records/customers",
        data=f'{{"name": {deep}}}',
        content_type="application/json",
        headers=shop,
    )
    assert response.status_code == 413
    assert "nested" in response.json["detail"]
    response = client.post(
        "/api/v1/records/customers",
        data="{not json",
        content_type="application/json",
        headers=shop,
    )
    assert response.status_code == 422
    response = client.post("/api/v1/records/customers", data="name=x", headers=shop)
    assert response.status_code == 422
    response = client.post("/api/v1/records/customers", json=["a"], headers=shop)
    assert response.status_code == 422


def test_every_error_is_a_problem_document(client: FlaskClient, shop: dict[str, str]) -> None:
    for response in (
        client.get("/api/v1/nowhere", headers=shop),
        client.put("/api/v1/records/customers", headers=shop),
        client.get("/api/v1/records/customers"),
        client.get("/api/v1/records/customers?limit=abc", headers=shop),
    ):
        assert response.mimetype == "application/problem+json"
        assert response.json["detail"]
        assert 400 <= response.status_code < 500
