"""Rights set on the admin pages, checked on the record pages as a manager sees them.

The role and the user are made through the administration pages; the manager then
uses the lists, cards, CSV export and filters, and forges the posts a page would
not offer.
"""

from __future__ import annotations

import pytest
from flask import Flask

from recordbase.records.query import ListQuery

from .admin_pages import create_user, rt_of, set_rights, signed_in
from .conftest import Browser

MANAGER_RIGHTS = [
    ("actions", "read"), ("actions", "create"), ("actions", "update"), ("actions", "export"),
    ("rows", "own"), ("others", "read"), ("owner_field", "manager"),
    ("field.inn", "hidden"), ("field.kpp", "read_only"),
]


@pytest.fixture
def manager(crm: Flask, admin_web: Browser) -> Browser:
    """Mara, a manager: clients read/create/update/export (no delete), her own clients
    editable and the others read-only, INN hidden and KPP read-only."""
    admin_web.post("/admin/roles/", {"name": "manager", "label": "Manager"})
    set_rights(admin_web, "manager", "clients", MANAGER_RIGHTS)
    password = create_user(admin_web, "mara", role="manager", name="Mara Manager")
    rt = rt_of(crm)
    mara = next(u["id"] for u in rt.users.list_users() if u["login"] == "mara")
    for name, owner in (("Own Client LLC", mara), ("Foreign Client LLC", 1)):
        rt.records.create(
            "clients",
            {"name": name, "kind": "legal", "inn": "7701234567", "kpp": "770101001",
             "manager": owner},
        )
    return signed_in(crm, "mara", password)


def _id(crm: Flask, name: str) -> int:
    items = rt_of(crm).records.list_page("clients", ListQuery(q=name, limit=5)).items
    return int(next(i["id"] for i in items if i["name"] == name))


def test_no_delete_button_and_a_forged_delete_is_403(crm: Flask, manager: Browser) -> None:
    own = _id(crm, "Own Client LLC")
    card = manager.get(f"/r/clients/{own}").get_data(as_text=True)
    assert ">Save</button>" in card
    assert "Delete this record" not in card
    listing = manager.get("/r/clients/").get_data(as_text=True)
    assert "Delete selected" not in listing
    forged = manager.post(f"/r/clients/{own}/delete", {"version": "1"})
    assert forged.status_code == 403
    assert "You may not delete Clients." in forged.get_data(as_text=True)
    bulk = manager.post("/r/clients/delete", {"ids": str(own), "confirm": "true"})
    assert bulk.status_code == 403
    assert rt_of(crm).records.get("clients", own)[0]["name"] == "Own Client LLC"


def test_hidden_fields_are_absent_everywhere(crm: Flask, manager: Browser) -> None:
    own = _id(crm, "Own Client LLC")
    card = manager.get(f"/r/clients/{own}").get_data(as_text=True)
    listing = manager.get("/r/clients/").get_data(as_text=True)
    for page in (card, listing):
        assert "INN / TIN" not in page
        assert "7701234567" not in page
        assert 'name="inn"' not in page
        assert "filter[inn]" not in page
    export = manager.get("/r/clients/export.csv")
    assert export.status_code == 200
    csv_text = export.get_data(as_text=True)
    assert "INN / TIN" not in csv_text
    assert "7701234567" not in csv_text
    assert "Own Client LLC" in csv_text
    probe = manager.get("/r/clients/?filter[inn][contains]=770")
    assert probe.status_code < 500
    assert "7701234567" not in probe.get_data(as_text=True)
    sorted_by = manager.get("/r/clients/?sort=inn")
    assert sorted_by.status_code < 500
    assert "7701234567" not in sorted_by.get_data(as_text=True)


def test_read_only_fields_are_text_and_a_forged_post_changes_nothing(
    crm: Flask, manager: Browser
) -> None:
    own = _id(crm, "Own Client LLC")
    card = manager.get(f"/r/clients/{own}").get_data(as_text=True)
    assert "KPP" in card
    assert "770101001" in card
    assert 'name="kpp"' not in card
    item = rt_of(crm).records.get("clients", own)[0]
    forged = manager.post(f"/r/clients/{own}", {
        "version": str(item["version"]), "_fields": "name,kpp",
        "name": "Own Client LLC", "kpp": "999999999",
    })
    assert forged.status_code in (303, 403)
    assert rt_of(crm).records.get("clients", own)[0]["kpp"] == "770101001"


def test_own_records_are_editable_and_others_read_only(crm: Flask, manager: Browser) -> None:
    own, foreign = _id(crm, "Own Client LLC"), _id(crm, "Foreign Client LLC")
    listing = manager.get("/r/clients/").get_data(as_text=True)
    assert "Own Client LLC" in listing
    assert "Foreign Client LLC" in listing
    card = manager.get(f"/r/clients/{foreign}").get_data(as_text=True)
    assert "Foreign Client LLC" in card
    assert ">Save</button>" not in card
    item = rt_of(crm).records.get("clients", foreign)[0]
    forged = manager.post(f"/r/clients/{foreign}", {
        "version": str(item["version"]), "_fields": "name", "name": "Taken Over",
    })
    assert forged.status_code == 403
    assert rt_of(crm).records.get("clients", foreign)[0]["name"] == "Foreign Client LLC"
    saved = manager.post(f"/r/clients/{own}", {
        "version": str(rt_of(crm).records.get("clients", own)[0]["version"]),
        "_fields": "name", "name": "Own Client Renamed",
    })
    assert saved.status_code == 303


def test_others_records_can_be_hidden(crm: Flask, admin_web: Browser, manager: Browser) -> None:
    foreign = _id(crm, "Foreign Client LLC")
    rights = [(k, "hidden" if k == "others" else v) for k, v in MANAGER_RIGHTS]
    set_rights(admin_web, "manager", "clients", rights)
    listing = manager.get("/r/clients/").get_data(as_text=True)
    assert "Own Client LLC" in listing
    assert "Foreign Client LLC" not in listing
    assert manager.get(f"/r/clients/{foreign}").status_code == 404
    csv_text = manager.get("/r/clients/export.csv").get_data(as_text=True)
    assert "Foreign Client LLC" not in csv_text


def test_an_entity_the_role_may_not_read_is_403(crm: Flask, manager: Browser) -> None:
    home = manager.get("/").get_data(as_text=True)
    assert "/r/clients/" in home
    assert "/r/invoices/" not in home
    refused = manager.get("/r/invoices/")
    assert refused.status_code == 403
    assert "You may not read Invoices." in refused.get_data(as_text=True)


def test_search_and_prints_leak_no_hidden_value_or_hidden_row(
    crm: Flask, admin_web: Browser, manager: Browser
) -> None:
    own, foreign = _id(crm, "Own Client LLC"), _id(crm, "Foreign Client LLC")
    rights = [(k, "hidden" if k == "others" else v) for k, v in MANAGER_RIGHTS]
    set_rights(admin_web, "manager", "clients", [*rights, ("actions", "print")])
    by_hidden_value = manager.get("/r/clients/?q=7701234567").get_data(as_text=True)
    assert "Own Client LLC" not in by_hidden_value  # a hidden field is not searched
    by_name = manager.get("/r/clients/?q=Client+LLC").get_data(as_text=True)
    assert "Own Client LLC" in by_name
    assert "Foreign Client LLC" not in by_name
    printed = manager.get(f"/print/clients/{own}/card?format=html")
    assert printed.status_code == 200, printed.get_data(as_text=True).split("<main")[-1][:700]
    page = printed.get_data(as_text=True)
    assert "Own Client LLC" in page
    assert "7701234567" not in page
    assert manager.get(f"/print/clients/{foreign}/card?format=html").status_code == 404
    assert manager.get(f"/print/clients/{foreign}/card").status_code == 404
