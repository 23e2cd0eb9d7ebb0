"""Computed numbers: invoice line amount = quantity × price, invoice total = the sum of the
line amounts, worked out by RecordService in the write's transaction; which child-table
columns are summed is the field's ``total`` option."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from recordbase.runtime import Runtime

from .conftest import Browser, card_form

LINES = [
    {"description": "Consulting", "quantity": "2", "price": "1500.00"},
    {"description": "Delivery", "quantity": "0.333", "price": "1.50"},  # 0.4995 → 0.50
    {"description": "Paper", "quantity": "3", "price": "0.10"},  # never 0.30000000000000004
]


def new_invoice(client: FlaskClient, admin: dict[str, str], **extra: Any) -> Any:
    body = {"client": 1, "date": "2026-11-27", "lines": LINES, **extra}
    return client.post("/api/v1/records/invoices", json=body, headers=admin)


def count(crm: Flask, entity: str) -> int:
    rt: Runtime = crm.extensions["recordbase"]
    return rt.records.list_page(entity, _all()).items.__len__()


def _all() -> Any:
    from recordbase.records.query import ListQuery

    return ListQuery(limit=500)


@pytest.fixture
def invoice(crm: Flask, client: FlaskClient, admin: dict[str, str]) -> dict[str, Any]:
    created = new_invoice(client, admin)
    assert created.status_code == 201, created.get_json()
    item: dict[str, Any] = created.get_json()
    return item


def test_amounts_and_total_after_create(invoice: dict[str, Any]) -> None:
    assert [line["amount"] for line in invoice["lines"]] == ["3000.00", "0.50", "0.30"]
    assert invoice["total"] == "3000.80"


def test_after_editing_and_removing_lines(
    client: FlaskClient, admin: dict[str, str], invoice: dict[str, Any]
) -> None:
    first, second, third = invoice["lines"]
    # a line sent with its id and only the changed value: the stored price is multiplied
    changed = client.patch(
        f"/api/v1/records/invoices/{invoice['id']}",
        json={"version": invoice["version"],
              "lines": [{"id": first["id"], "quantity": "2.5"}, {"id": second["id"]},
                        {"id": third["id"], "price": "0.20"}]},
        headers=admin,
    )
    assert changed.status_code == 200, changed.get_json()
    item = changed.get_json()
    assert [line["amount"] for line in item["lines"]] == ["3750.00", "0.50", "0.60"]
    assert item["total"] == "3751.10"
    removed = client.patch(
        f"/api/v1/records/invoices/{invoice['id']}",
        json={"version": item["version"], "lines": [{"id": first["id"]}, {"id": third["id"]}]},
        headers=admin,
    )
    assert removed.status_code == 200, removed.get_json()
    assert removed.get_json()["total"] == "3750.60"
    emptied = client.patch(
        f"/api/v1/records/invoices/{invoice['id']}",
        json={"version": removed.get_json()["version"], "lines": []},
        headers=admin,
    )
    assert emptied.get_json()["total"] == "0.00"


def test_a_posted_total_must_be_the_computed_one(
    crm: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    before = count(crm, "invoices")
    wrong = new_invoice(client, admin, total="1.00")
    assert wrong.status_code == 422
    problem = wrong.get_json()
    assert "Total is computed by Recordbase" in problem["detail"]
    assert "3,000.80" in problem["detail"] or "3000.80" in problem["detail"]
    assert count(crm, "invoices") == before  # nothing half-written
    bad_line = new_invoice(client, admin, lines=[{**LINES[0], "amount": "1.00"}])
    assert bad_line.status_code == 422
    assert "Amount is computed by Recordbase" in bad_line.get_json()["detail"]
    assert bad_line.get_json()["errors"]["lines"]["0"]["amount"].startswith("Amount is")
    assert count(crm, "invoices") == before
    # the right value (as the sample data sends it) is accepted
    right = new_invoice(client, admin, total="3000.8")
    assert right.status_code == 201, right.get_json()


def test_computations_are_checked_with_the_metadata(
    crm: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    def add(entity: str, options: dict[str, Any], ftype: str = "money") -> Any:
        return client.post(f"/api/v1/entities/{entity}/fields",
                           json={"name": "extra", "type": ftype, "options": options},
                           headers=admin)

    missing = add("invoice_lines", {"computed": {"multiply": ["quantity", "weight"]}})
    assert missing.status_code == 422
    assert "no field named 'weight'" in missing.get_json()["detail"]
    text = add("invoice_lines", {"computed": {"multiply": ["quantity", "description"]}})
    assert "not a number" in text.get_json()["detail"]
    not_child = add("invoices", {"computed": {"sum": {"child": "client", "field": "amount"}}})
    assert "is not a child table" in not_child.get_json()["detail"]
    shape = add("invoices", {"computed": {"divide": ["a", "b"]}})
    assert shape.status_code == 422
    assert "no computation 'divide'" in shape.get_json()["detail"]
    on_text = add("invoices", {"computed": {"multiply": ["a", "b"]}}, ftype="text")
    assert on_text.status_code == 422
    # an operand cannot go while a computation uses it
    gone = client.delete("/api/v1/entities/invoice_lines/fields/quantity", headers=admin)
    assert gone.status_code == 422
    assert "invoice_lines.amount" in gone.get_json()["detail"]
    rt: Runtime = crm.extensions["recordbase"]
    assert rt.cache.current().entity("invoice_lines").has_field("quantity")


def test_the_footer_sums_only_what_adds_up(admin_web: Browser, invoice: dict[str, Any]) -> None:
    card = admin_web.get(f"/r/invoices/{invoice['id']}").get_data(as_text=True)
    assert re.search(r'data-sum-for="amount"[^>]*>3,000\.80<', card)
    assert re.search(r'data-sum-for="quantity"[^>]*>5\.333<', card)
    assert 'data-sum-for="price"' not in card  # a unit price: total: false
    # computed values are shown, not offered for typing
    assert re.search(r'<output id="f-total"[^>]*data-value="3000\.80"[^>]*>3,000\.80<', card)
    assert 'name="total"' not in card
    assert not re.search(r'name="lines\.[^"]*\.amount"', card)
    assert 'data-computed="{&#34;multiply&#34;: [&#34;quantity&#34;, &#34;price&#34;]}"' in card


def test_a_form_cannot_write_a_computed_value(crm: Flask, admin_web: Browser) -> None:
    fields = card_form(admin_web.get("/r/invoices/new").get_data(as_text=True))
    form = [(k, v) for k, v in fields.items() if not k.startswith("lines.")]
    form += [("client", "1"), ("date", "2026-11-27"), ("status", "draft"), ("total", "999"),
            ("lines.rows", "a"), ("lines.a.id", ""), ("lines.a.description", "Work"),
            ("lines.a.quantity", "1,5"), ("lines.a.price", "10"), ("lines.a.amount", "1")]
    response = admin_web.post("/r/invoices/new", form)
    assert response.status_code == 303, re.findall(r'class="(?:field-error|message)[^"]*">([^<]*)',
                                                   response.get_data(as_text=True))
    record = int(response.headers["Location"].split("/")[3].split("?")[0])
    rt: Runtime = crm.extensions["recordbase"]
    item, _ = rt.records.get("invoices", record)
    assert item["lines"][0]["amount"] == "15.00"
    assert item["total"] == "15.00"
