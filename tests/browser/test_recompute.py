"""The structure editor with a real browser: a computation given to a money field of
invoice lines is previewed (how many records get a new value, old → new), at desktop
and tablet width, then confirmed, and every line holds quantity × price."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from recordbase.records.query import ListQuery
from recordbase.runtime import Runtime

from .conftest import serve_crm

NET = {"currency": "RUB", "computed": {"multiply": ["quantity", "price"]}}


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Runtime]]:
    with serve_crm(tmp_path_factory.mktemp("recompute")) as served:
        yield served


@pytest.fixture
def server(crm: tuple[str, Runtime]) -> str:
    return crm[0]


def lines(rt: Runtime) -> list[dict[str, Any]]:
    found = []
    for invoice in rt.records.list_page("invoices", ListQuery(limit=500)).items:
        item, _ = rt.records.get("invoices", invoice["id"])
        found += item["lines"]
    return found


def test_a_computation_is_previewed_then_recomputes(
    page: Page, server: str, crm: tuple[str, Runtime], shot: Any
) -> None:
    rt = crm[1]
    page.goto(server + "/structure/invoice_lines")
    form = page.locator("#add-field-form")
    form.get_by_label("API name").fill("net")
    form.get_by_label("Label").fill("Net")
    form.get_by_label("Type").select_option("money")
    form.get_by_role("button", name="Add the field").click()
    expect(page.locator("#messages")).to_contain_text("The structure is changed.")
    count = len(lines(rt))
    page.goto(server + "/structure/invoice_lines/fields/net")
    page.get_by_label("Options (JSON)").fill(json.dumps(NET))
    page.get_by_role("button", name="Preview the change").click()
    section = page.get_by_role("region", name="Computed values of invoice_lines.net")
    expect(section).to_contain_text(f"{count} of {count} records will get a new value.")
    expect(section.locator("li").first).to_contain_text("empty →")
    shot(page, "preview")
    page.set_viewport_size({"width": 768, "height": 1000})
    expect(page.get_by_role("button", name="Confirm the change")).to_be_visible()
    shot(page, "tablet")
    assert all(line["net"] is None for line in lines(rt))
    page.get_by_role("button", name="Confirm the change").click()
    expect(page.locator("#messages")).to_contain_text("The structure is changed.")
    assert all(line["net"] == line["amount"] for line in lines(rt))


def test_values_that_do_not_fit_are_shown_and_can_be_emptied(
    page: Page, server: str, crm: tuple[str, Runtime], shot: Any
) -> None:
    rt = crm[1]
    small = {**NET, "precision": 6, "scale": 2}  # at most 9,999.99
    page.goto(server + "/structure/invoice_lines")
    form = page.locator("#add-field-form")
    form.get_by_label("API name").fill("capped")
    form.get_by_label("Type").select_option("money")
    form.get_by_role("button", name="Add the field").click()
    expect(page.locator("#messages")).to_contain_text("The structure is changed.")
    page.goto(server + "/structure/invoice_lines/fields/capped")
    page.get_by_label("Options (JSON)").fill(json.dumps(small))
    page.get_by_role("button", name="Preview the change").click()
    section = page.get_by_role("region", name="Computed values of invoice_lines.capped")
    too_big = [line for line in lines(rt)
               if line["amount"] is not None and float(line["amount"]) >= 10_000]
    assert too_big, "the demo data has a line of 10,000 or more"
    expect(section).to_contain_text(f"{len(too_big)} computed values do not fit the field")
    expect(section).to_contain_text("At most 4 digits before the decimal point.")
    page.get_by_label("empty those values (the journal keeps them for undo)").check()
    shot(page)
    page.get_by_role("button", name="Confirm the change").click()
    expect(page.locator("#messages")).to_contain_text("The structure is changed.")
    for line in lines(rt):
        assert line["capped"] == (None if line in too_big else line["amount"])
