"""Layout tests: the API tests' shop (customers, products, orders with lines) and helpers."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from api.conftest import ENTITIES, create, shop  # noqa: F401 (fixtures used by the tests)
from recordbase.runtime import Runtime


def rt_of(app: Flask) -> Runtime:
    rt: Runtime = app.extensions["recordbase"]
    return rt


def fid(app: Flask, entity: str, field: str) -> int:
    """The stable id of a live field."""
    return rt_of(app).cache.current().entity(entity).field(field).id


def element(ident: str, kind: str = "field", row: int = 0, col: int = 0, width: int = 6,
            **extra: Any) -> dict[str, Any]:
    return {"id": ident, "type": kind, "row": row, "col": col, "width": width, **extra}


def form(*elements: dict[str, Any], tabs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A form layout of one tab and one section holding ``elements``."""
    if tabs is None:
        tabs = [{"id": "t1", "label": "Main",
                 "sections": [{"id": "s1", "label": "", "elements": list(elements)}]}]
    return {"format": 1, "kind": "form", "tabs": tabs}


@pytest.fixture
def customer_form(app: Flask, shop: dict[str, str]) -> dict[str, Any]:  # noqa: F811
    """A designed customer card: name and code side by side, score below, a related list."""
    return form(
        element("e1", field=fid(app, "customers", "name"), width=8),
        element("e2", field=fid(app, "customers", "code"), col=8, width=4, label="Customer code"),
        element("e3", field=fid(app, "customers", "score"), row=1, width=3, required=True),
        element("e4", "heading", row=2, width=12, text="Orders"),
        element("e5", "related", row=3, width=12, entity="orders",
                field=fid(app, "orders", "customer")),
    )


__all__ = ["ENTITIES", "create", "element", "fid", "form", "rt_of"]
