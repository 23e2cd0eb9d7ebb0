"""Pages pass the signed-in user to the services: rights decide what is shown and allowed."""

from __future__ import annotations

from flask import Flask

from recordbase.runtime import Runtime

from .conftest import Browser


def _limit(crm: Flask) -> None:
    rt: Runtime = crm.extensions["recordbase"]
    rt.access.set_permission(
        "user", "clients", {"actions": ["read"], "fields": {"inn": "hidden", "kpp": "read_only"}}
    )


def test_a_read_only_user_gets_no_buttons_and_no_hidden_fields(
    crm: Flask, user_web: Browser
) -> None:
    _limit(crm)
    listing = user_web.get("/r/clients/").get_data(as_text=True)
    assert "Add: Client" not in listing
    assert "Delete selected" not in listing
    assert "INN / TIN" not in listing
    card = user_web.get("/r/clients/1").get_data(as_text=True)
    assert ">Save</button>" not in card
    assert "Delete this record" not in card
    assert 'name="inn"' not in card
    assert 'name="kpp"' not in card  # read-only: shown as text, not a control


def test_a_forbidden_write_is_a_sentence(crm: Flask, user_web: Browser) -> None:
    _limit(crm)
    response = user_web.post("/r/clients/1", {"version": "1", "_fields": "name", "name": "X"})
    assert response.status_code == 403
    assert "<html" in response.get_data(as_text=True)


def test_an_entity_the_user_may_not_read_leaves_the_navigation(
    crm: Flask, user_web: Browser
) -> None:
    rt: Runtime = crm.extensions["recordbase"]
    rt.access.set_permission("user", "payments", {"actions": []})
    home = user_web.get("/").get_data(as_text=True)
    assert "/r/payments/" not in home
    assert user_web.get("/r/payments/").status_code == 403
