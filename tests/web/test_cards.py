"""Record cards: create, change, validation next to fields, stale edits, lines, tabs."""

from __future__ import annotations

import re

from flask import Flask

from recordbase.records.query import ListQuery
from recordbase.runtime import Runtime

from .conftest import Browser, card_form


def test_create_a_client_and_read_it_back(crm: Flask, admin_web: Browser) -> None:
    page = admin_web.get("/r/clients/new").get_data(as_text=True)
    fields = card_form(page)
    response = admin_web.post(
        "/r/clients/new",
        {**fields, "name": "Web Client", "kind": "individual", "phone": "+374 10 000000"},
    )
    assert response.status_code == 303
    card = admin_web.get(response.headers["Location"]).get_data(as_text=True)
    assert "Created." in card
    assert 'value="Web Client"' in card


def test_validation_errors_sit_next_to_their_fields(admin_web: Browser) -> None:
    fields = card_form(admin_web.get("/r/clients/new").get_data(as_text=True))
    response = admin_web.post(
        "/r/clients/new", {**fields, "name": "", "kind": "legal", "email": "not an e-mail"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="f-name-error">A value is required', page)
    assert 'id="f-email-error"' in page
    assert 'value="not an e-mail"' in page  # what was typed stays


def test_a_stale_save_shows_who_changed_it_and_keeps_the_typing(
    crm: Flask, admin_web: Browser
) -> None:
    card = admin_web.get("/r/clients/1").get_data(as_text=True)
    fields = card_form(card)
    rt: Runtime = crm.extensions["recordbase"]
    rt.records.update("clients", 1, {"notes": "changed elsewhere"}, expected_version=int(
        fields["version"]))
    response = admin_web.post("/r/clients/1", {**fields, "name": "My new name", "kind": "legal"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'id="conflict"' in page
    assert "after you opened it" in page
    assert 'value="My new name"' in page
    assert 'href="/r/clients/1"' in page


def test_an_invoice_with_lines_is_saved_with_them(crm: Flask, admin_web: Browser) -> None:
    fields = card_form(admin_web.get("/r/invoices/new").get_data(as_text=True))
    form = [(k, v) for k, v in fields.items() if k not in ("lines.rows", "lines.n0.id")]
    form += [("client", "1"), ("date", "2026-11-27"), ("status", "draft")]
    for key, (text, qty, price) in {"a": ("Service", "2", "100,50"), "b": ("Good", "1", "9"),
                                    "c": ("", "", "")}.items():
        form += [("lines.rows", key), (f"lines.{key}.id", ""),
                 (f"lines.{key}.description", text), (f"lines.{key}.quantity", qty),
                 (f"lines.{key}.price", price), (f"lines.{key}.amount", price)]
    response = admin_web.post("/r/invoices/new", form)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    record = int(response.headers["Location"].split("/")[3].split("?")[0])
    rt: Runtime = crm.extensions["recordbase"]
    item, _ = rt.records.get("invoices", record)
    assert [line["description"] for line in item["lines"]] == ["Service", "Good"]
    assert item["lines"][0]["price"] == "100.50"
    card = admin_web.get(f"/r/invoices/{record}").get_data(as_text=True)
    # the amounts are computed (2 × 100.50 and 1 × 9): a posted amount is not read
    assert [line["amount"] for line in item["lines"]] == ["201.00", "9.00"]
    assert item["total"] == "210.00"
    assert re.search(r'data-sum-for="amount"[^>]*>210\.00<', card)


def test_a_line_error_is_shown_in_its_row(admin_web: Browser) -> None:
    fields = card_form(admin_web.get("/r/invoices/new").get_data(as_text=True))
    form = [(k, v) for k, v in fields.items() if not k.startswith("lines.")]
    form += [("client", "1"), ("date", "2026-11-27"), ("status", "draft"),
             ("lines.rows", "x"), ("lines.x.id", ""), ("lines.x.description", ""),
             ("lines.x.quantity", "2"), ("lines.x.price", "lots")]
    response = admin_web.post("/r/invoices/new", form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="f-lines-x-price-error"' in page
    assert 'value="lots"' in page


def test_linked_records_appear_as_tabs_and_add_prefills_the_link(admin_web: Browser) -> None:
    card = admin_web.get("/r/clients/1").get_data(as_text=True)
    assert 'role="tab"' in card
    fragment = admin_web.get("/r/clients/1/related/contacts/client").get_data(as_text=True)
    assert "/r/contacts/new?client=1" in fragment
    new = admin_web.get("/r/contacts/new?client=1").get_data(as_text=True)
    assert re.search(r'name="client" value="1"', new)


def test_delete_from_the_card(crm: Flask, admin_web: Browser) -> None:
    rt: Runtime = crm.extensions["recordbase"]
    made = rt.records.create("products", {"name": "Disposable", "kind": "good"})
    card = admin_web.get(f"/r/products/{made['id']}").get_data(as_text=True)
    assert "Delete this record" in card
    response = admin_web.post(f"/r/products/{made['id']}/delete", {"version": "1"})
    assert response.status_code == 303
    assert admin_web.get(f"/r/products/{made['id']}").status_code == 404
    assert not rt.records.list_page("products", ListQuery(q="Disposable")).items


def test_a_tree_entry_is_placed_under_its_parent(crm: Flask, admin_web: Browser) -> None:
    fields = card_form(admin_web.get("/r/product_categories/new?parent=1").get_data(
        as_text=True))
    response = admin_web.post(
        "/r/product_categories/new", {**fields, "name": "Sub-category", "parent": "1"}
    )
    assert response.status_code == 303
    rt: Runtime = crm.extensions["recordbase"]
    found = rt.records.list_page("product_categories", ListQuery(q="Sub-category")).items
    assert found[0]["parent"] == 1
