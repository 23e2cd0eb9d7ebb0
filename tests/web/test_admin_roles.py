"""The roles pages: create, rename, delete, the matrix of actions, rows and fields."""

from __future__ import annotations

from flask import Flask

from .admin_pages import create_user, rt_of, set_rights
from .conftest import Browser


def _manager(admin_web: Browser) -> None:
    response = admin_web.post(
        "/admin/roles/", {"name": "manager", "label": "Manager", "default_access": "none"}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/roles/manager?done=role_created")


def test_a_role_is_created_renamed_and_deleted(crm: Flask, admin_web: Browser) -> None:
    _manager(admin_web)
    page = admin_web.get("/admin/roles/manager?done=role_created").get_data(as_text=True)
    assert "The role is created." in page
    assert 'aria-label="Clients: delete"' in page
    renamed = admin_web.post("/admin/roles/manager", {"name": "sales", "label": "Sales",
                                                       "default_access": "none"})
    assert renamed.headers["Location"].endswith("/admin/roles/sales?done=role_saved")
    assert rt_of(crm).access.role("sales")["label"] == "Sales"
    deleted = admin_web.post("/admin/roles/sales/delete")
    assert deleted.status_code == 303
    assert "sales" not in [r["name"] for r in rt_of(crm).access.roles()]


def test_renaming_a_role_keeps_its_users(crm: Flask, admin_web: Browser) -> None:
    _manager(admin_web)
    create_user(admin_web, "mara", role="manager")
    admin_web.post("/admin/roles/manager", {"name": "sales", "label": "Sales"})
    assert rt_of(crm).users.get(3)["role"] == "sales"


def test_refusals_are_sentences(crm: Flask, admin_web: Browser) -> None:
    _manager(admin_web)
    create_user(admin_web, "mara", role="manager")
    taken = admin_web.post("/admin/roles/", {"name": "manager"})
    assert taken.status_code == 409
    assert "A role named" in taken.get_data(as_text=True)
    bad = admin_web.post("/admin/roles/", {"name": "two words"})
    assert bad.status_code == 422
    assert "A role name is 1 to 40 letters" in bad.get_data(as_text=True)
    in_use = admin_web.post("/admin/roles/manager/delete")
    assert in_use.status_code == 409
    assert "1 users have the role" in in_use.get_data(as_text=True)
    builtin = admin_web.post("/admin/roles/user", {"name": "people", "label": "User"})
    assert builtin.status_code == 409
    assert "cannot be renamed" in builtin.get_data(as_text=True)
    assert admin_web.post("/admin/roles/user/delete").status_code == 409


def test_the_matrix_saves_every_entity_at_once(crm: Flask, admin_web: Browser) -> None:
    _manager(admin_web)
    form = [("actions.clients", "read"), ("actions.clients", "update"),
            ("actions.invoices", "read"), ("actions.invoices", "print")]
    response = admin_web.post("/admin/roles/manager/rights", form)
    assert response.status_code == 303
    perms = rt_of(crm).access.role("manager")["permissions"]
    assert perms["clients"]["actions"] == ["read", "update"]
    assert perms["invoices"]["actions"] == ["read", "print"]
    assert perms["payments"]["actions"] == []
    page = admin_web.get("/admin/roles/manager").get_data(as_text=True)
    assert 'value="update" aria-label="Clients: change" checked' in page
    assert 'value="delete" aria-label="Clients: delete">' in page


def test_an_action_without_read_is_refused_and_nothing_is_saved(
    crm: Flask, admin_web: Browser
) -> None:
    _manager(admin_web)
    form = [("actions.clients", "read"), ("actions.invoices", "delete")]
    response = admin_web.post("/admin/roles/manager/rights", form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Invoices: every other action needs read" in html
    assert 'value="delete" aria-label="Invoices: delete" checked' in html  # the form is kept
    assert rt_of(crm).access.role("manager")["permissions"] == {}


def test_the_matrix_keeps_row_and_field_rules(crm: Flask, admin_web: Browser) -> None:
    _manager(admin_web)
    set_rights(admin_web, "manager", "clients", [
        ("actions", "read"), ("rows", "own"), ("others", "read"), ("owner_field", "manager"),
        ("field.inn", "hidden"), ("field.kpp", "read_only"),
    ])
    admin_web.post("/admin/roles/manager/rights",
                   [("actions.clients", "read"), ("actions.clients", "export")])
    clients = rt_of(crm).access.role("manager")["permissions"]["clients"]
    assert clients == {"actions": ["read", "export"], "rows": "own", "others": "read",
                       "owner_field": "manager",
                       "fields": {"inn": "hidden", "kpp": "read_only"}}
    page = admin_web.get("/admin/roles/manager").get_data(as_text=True)
    assert "own records, 2 field rules" in page


def test_the_entity_page_shows_and_resets_the_rules(crm: Flask, admin_web: Browser) -> None:
    _manager(admin_web)
    set_rights(admin_web, "manager", "clients", [
        ("actions", "read"), ("rows", "group"), ("others", "hidden"), ("field.inn", "hidden"),
    ])
    page = admin_web.get("/admin/roles/manager/entities/clients").get_data(as_text=True)
    assert '<option value="group" selected>' in page
    assert 'name="field.inn" value="hidden" checked' in page
    assert "The rights are saved." not in page
    admin_web.post("/admin/roles/manager/entities/clients", {"reset": "true"})
    assert "clients" not in rt_of(crm).access.role("manager")["permissions"]


def test_a_hidden_owner_field_is_refused_with_a_sentence(crm: Flask, admin_web: Browser) -> None:
    _manager(admin_web)
    response = admin_web.post("/admin/roles/manager/entities/clients", [
        ("actions", "read"), ("rows", "own"), ("owner_field", "manager"),
        ("field.manager", "hidden"),
    ])
    assert response.status_code == 422
    assert "The owner field of a row rule cannot be hidden." in response.get_data(as_text=True)
    assert rt_of(crm).access.role("manager")["permissions"] == {}


def test_the_admin_role_takes_no_rules(admin_web: Browser) -> None:
    page = admin_web.get("/admin/roles/admin").get_data(as_text=True)
    assert "always has every right" in page
    assert 'name="actions.clients"' not in page
    refused = admin_web.post("/admin/roles/admin/rights", [("actions.clients", "read")])
    assert refused.status_code == 409
