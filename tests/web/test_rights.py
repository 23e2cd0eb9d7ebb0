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


def _own_clients_only(crm: Flask) -> tuple[str, str]:
    """The user's role sees only the clients it manages; the user manages one of them.
    Returns (the user's client's name, another client's name)."""
    from recordbase.records.query import ListQuery

    rt: Runtime = crm.extensions["recordbase"]
    user_id = next(u["id"] for u in rt.users.list_users() if u["login"] == "user")
    clients = rt.records.list_page("clients", ListQuery(sort=("id",), limit=10)).items
    mine, other = clients[1], clients[0]
    rt.records.update("clients", mine["id"], {"manager": user_id},
                      expected_version=mine["version"])
    rt.access.set_permission(
        "user", "clients",
        {"actions": ["read", "create", "update"], "rows": "own", "others": "hidden",
         "owner_field": "manager"},
    )
    return mine["name"], other["name"]


def test_pickers_offer_only_records_the_user_may_see(crm: Flask, user_web: Browser) -> None:
    mine, other = _own_clients_only(crm)
    offered = user_web.get("/r/clients/pick?q=").get_data(as_text=True)
    assert f'data-pick-title="{mine}"' in offered
    assert other not in offered
    searched = user_web.get("/r/clients/pick", query_string={"q": other[:6]})
    assert other not in searched.get_data(as_text=True)


def test_link_titles_of_hidden_records_are_not_shown(crm: Flask, user_web: Browser) -> None:
    from html import escape

    mine, other = _own_clients_only(crm)
    rt: Runtime = crm.extensions["recordbase"]
    from recordbase.records.query import ListQuery

    contacts = rt.records.list_page("contacts", ListQuery(sort=("id",), limit=50)).items
    hidden = next(c for c in contacts if c["client"] == 1)
    listing = user_web.get("/r/contacts/").get_data(as_text=True)
    assert escape(other) not in listing
    assert escape(mine) in listing
    card = user_web.get(f"/r/contacts/{hidden['id']}").get_data(as_text=True)
    assert escape(other) not in card  # the link shows the id only
    assert '-title">#1</span>' in card
