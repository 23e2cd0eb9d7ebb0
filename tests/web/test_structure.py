"""The structure editor: entities, fields, previews before a change, the journal, undo."""

from __future__ import annotations

from flask import Flask

from recordbase.runtime import Runtime

from .conftest import Browser


def test_only_administrators_see_it(user_web: Browser) -> None:
    response = user_web.get("/structure/")
    assert response.status_code == 403
    assert "administrator" in response.get_data(as_text=True)


def test_create_an_entity_and_add_fields(crm: Flask, admin_web: Browser) -> None:
    response = admin_web.post(
        "/structure/entities", {"name": "suppliers", "label": "Supplier", "kind": "records"}
    )
    assert response.status_code == 303
    added = admin_web.post(
        "/structure/suppliers/fields",
        {"name": "title", "type": "text", "options": '{"max_length": 80}', "required": "true"},
    )
    assert added.status_code == 303
    admin_web.post("/structure/suppliers/fields", {"name": "rating", "type": "integer",
                                                    "default": "5"})
    rt: Runtime = crm.extensions["recordbase"]
    entity = rt.cache.current().entity("suppliers")
    assert [f.name for f in entity.fields] == ["title", "rating"]
    assert entity.field("rating").default == 5
    assert "Suppliers" in admin_web.get("/").get_data(as_text=True) or "Supplier" in (
        admin_web.get("/").get_data(as_text=True))


def test_a_bad_field_is_a_sentence(admin_web: Browser) -> None:
    response = admin_web.post("/structure/clients/fields", {"name": "Bad Name", "type": "text"})
    assert response.status_code == 422
    assert "lowercase Latin letter" in response.get_data(as_text=True)
    response = admin_web.post("/structure/clients/fields",
                              {"name": "x", "type": "text", "options": "{oops"})
    assert "not valid JSON" in response.get_data(as_text=True)


def test_a_type_change_is_previewed_before_it_is_applied(crm: Flask, admin_web: Browser) -> None:
    rt: Runtime = crm.extensions["recordbase"]
    preview = admin_web.post(
        "/structure/clients/fields/inn", {"name": "inn", "label": "INN / TIN", "type": "integer",
                                          "options": "{}"}
    )
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Preview of the change" in page
    assert rt.cache.current().entity("clients").field("inn").type == "text"  # nothing yet
    confirmed = admin_web.post(
        "/structure/clients/fields/inn",
        {"name": "inn", "label": "INN / TIN", "type": "integer", "options": "{}",
         "confirm": "true", "on_failure": "abort"},
    )
    assert confirmed.status_code in (303, 409)
    if confirmed.status_code == 303:
        assert rt.cache.current().entity("clients").field("inn").type == "integer"


def test_rename_remove_restore_and_undo(crm: Flask, admin_web: Browser) -> None:
    rt: Runtime = crm.extensions["recordbase"]
    rt.records.update("clients", 1, {"kpp": "123456789"}, expected_version=None or rt.records.get(
        "clients", 1)[0]["version"])
    admin_web.post("/structure/clients/fields/kpp",
                   {"name": "tax_code", "label": "Tax code", "type": "text",
                    "options": '{"max_length": 9}', "confirm": "true"})
    assert rt.records.get("clients", 1)[0]["tax_code"] == "123456789"
    assert admin_web.post("/structure/clients/fields/tax_code/remove").status_code == 303
    assert "tax_code" not in rt.records.get("clients", 1)[0]
    assert admin_web.post("/structure/clients/fields/tax_code/restore").status_code == 303
    assert rt.records.get("clients", 1)[0]["tax_code"] == "123456789"
    journal = admin_web.get("/structure/journal").get_data(as_text=True)
    assert "restore field" in journal
    entry = rt.schema.journal(limit=1)[0]
    assert admin_web.post(f"/structure/journal/{entry['id']}/undo").status_code == 303
    assert "tax_code" not in rt.records.get("clients", 1)[0]


def test_the_free_tier_journal_offers_no_undo(crm: Flask, admin_web: Browser) -> None:
    rt: Runtime = crm.extensions["recordbase"]
    assert admin_web.post("/structure/clients/fields/kpp/remove").status_code == 303
    entry = rt.schema.journal(limit=1)[0]
    demo = admin_web.get("/structure/journal").get_data(as_text=True)
    assert f'aria-label="Undo change {entry["id"]}"' in demo
    rt.licence.end_demo()
    free = admin_web.get("/structure/journal").get_data(as_text=True)
    assert "On the free tier the structure cannot be changed" in free
    assert "Undo change" not in free
    assert ">Undo<" not in free
    assert "remove field" in free  # the journal itself is still shown
    refused = admin_web.post(f"/structure/journal/{entry['id']}/undo")
    assert refused.status_code == 403
    assert not rt.cache.current().entity("clients").has_field("kpp")
