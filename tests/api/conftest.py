"""A small schema for API tests: customers, orders with lines, products."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

ENTITIES: list[dict[str, Any]] = [
    {
        "name": "customers",
        "label": "Customer",
        "label_plural": "Customers",
        "title_field": "name",
        "fields": [
            {"name": "name", "type": "text", "required": True, "indexed": True},
            {"name": "code", "type": "text", "unique": True, "options": {"max_length": 20}},
            {"name": "score", "type": "integer", "indexed": True},
            {"name": "rank", "type": "integer"},
            {"name": "balance", "type": "decimal", "options": {"precision": 12, "scale": 2}},
        ],
    },
    {
        "name": "products",
        "label": "Product",
        "label_plural": "Products",
        "fields": [{"name": "title", "type": "text", "required": True}],
    },
    {
        "name": "order_lines",
        "label": "Order line",
        "label_plural": "Order lines",
        "child": True,
        "fields": [
            {"name": "product", "type": "link", "options": {"target": "products"}},
            {"name": "qty", "type": "integer", "required": True},
            {"name": "price", "type": "decimal", "options": {"precision": 12, "scale": 2}},
        ],
    },
    {
        "name": "orders",
        "label": "Order",
        "label_plural": "Orders",
        "fields": [
            {"name": "number", "type": "text", "unique": True},
            {
                "name": "customer",
                "type": "link",
                "required": True,
                "options": {"target": "customers", "on_delete": "restrict"},
            },
            {"name": "lines", "type": "child_table", "options": {"target": "order_lines"}},
        ],
    },
]


@pytest.fixture
def shop(client: FlaskClient, admin: dict[str, str]) -> dict[str, str]:
    for entity in ENTITIES:
        response = client.post("/api/v1/entities", json=entity, headers=admin)
        assert response.status_code == 201, response.json
    return admin


def create(client: FlaskClient, headers: dict[str, str], entity: str, **values: Any) -> Any:
    response = client.post(f"/api/v1/records/{entity}", json=values, headers=headers)
    assert response.status_code == 201, response.json
    return response.json
