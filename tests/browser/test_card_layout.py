"""A designed record card in real Chromium: tabs, grid positions at 1280 px, stacking at 768 px."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from browser.conftest import new_context, sign_in
from conftest import ADMIN_PASSWORD

LAYOUT_URL = "/api/v1/entities/products/layouts/form"


def _el(ident: str, field: int, row: int, col: int, width: int, **extra: Any) -> dict[str, Any]:
    return {"id": ident, "type": "field", "field": field, "row": row, "col": col, "width": width,
            **extra}


@pytest.fixture
def designed(page: Page, server: str) -> str:
    """Save a two-tab product card through the API; the URL of a product's card."""
    token = page.request.post(server + "/api/v1/auth/token", data=json.dumps(
        {"username": "admin", "password": ADMIN_PASSWORD}),
        headers={"Content-Type": "application/json"}).json()["token"]
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    fields = page.request.get(server + LAYOUT_URL, headers=auth).json()["fields"]
    ids = {v["name"]: int(k) for k, v in fields.items()}
    body = {"format": 1, "kind": "form", "tabs": [
        {"id": "main", "label": "Main", "sections": [{"id": "basics", "label": "Basics",
            "elements": [
                _el("name", ids["name"], 0, 0, 8),
                _el("kind", ids["kind"], 0, 8, 4),
                _el("price", ids["price"], 1, 6, 6, label="List price"),
            ]}]},
        {"id": "more", "label": "More", "sections": [{"id": "stock", "label": "Stock",
            "elements": [_el("sku", ids["sku"], 0, 0, 4), _el("unit", ids["unit"], 0, 4, 4)]}]},
    ]}
    saved = page.request.put(server + LAYOUT_URL, data=json.dumps(body), headers=auth)
    assert saved.status == 201, saved.text()
    return server + "/r/products/1"


def _box(page: Page, label: str) -> dict[str, float]:
    control = page.get_by_label(label, exact=True)
    expect(control).to_be_visible()
    box = control.locator("xpath=ancestor::*[@data-element][1]").bounding_box()
    assert box is not None
    return box


def test_the_card_follows_the_grid_and_its_tabs(designed: str, page: Page, shot: Any) -> None:
    page.goto(designed)
    name, kind, price = _box(page, "Name"), _box(page, "Kind"), _box(page, "List price")
    assert abs(name["y"] - kind["y"]) < 2  # one row
    assert kind["x"] > name["x"] + name["width"] * 0.9  # kind to the right of name
    assert kind["width"] < name["width"] * 0.6  # width 4 against width 8
    assert price["y"] > name["y"] + 10  # the next row
    assert price["x"] > name["x"] + name["width"] * 0.6  # starting at column 6 of 12
    expect(page.get_by_label("SKU", exact=True)).to_be_hidden()  # on the other tab
    shot(page, "main")
    tab = page.get_by_role("tab", name="More")
    page.get_by_role("tab", name="Main").focus()
    page.keyboard.press("ArrowRight")  # the keyboard moves between the card's tabs
    expect(tab).to_have_attribute("aria-selected", "true")
    sku, unit = _box(page, "SKU"), _box(page, "Unit")
    assert abs(sku["y"] - unit["y"]) < 2
    assert unit["x"] > sku["x"]
    expect(page.get_by_label("Name", exact=True)).to_be_hidden()
    shot(page, "more")


def test_at_tablet_width_the_cells_stack(designed: str, chromium: Browser, server: str,
                                         shot: Any) -> None:
    context = new_context(chromium)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.set_viewport_size({"width": 768, "height": 1024})
        sign_in(page, server)
        page.goto(designed)
        name, kind, price = _box(page, "Name"), _box(page, "Kind"), _box(page, "List price")
        assert kind["y"] > name["y"] + 10  # one under another
        assert price["y"] > kind["y"] + 10
        assert abs(kind["width"] - name["width"]) < 2  # each the full width
        assert abs(kind["x"] - name["x"]) < 2
        assert page.evaluate("document.documentElement.scrollWidth") <= 768
        shot(page)
    finally:
        context.close()
