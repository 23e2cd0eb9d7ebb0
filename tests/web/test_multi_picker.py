"""The many-to-many picker in the card: chips of the chosen records (titles only of those
the user may read) and a type-ahead search that adds to them; without JavaScript, ids."""

from __future__ import annotations

import re
from html import escape

from flask import Flask

from recordbase.records.query import ListQuery
from recordbase.runtime import Runtime

from .conftest import Browser, card_form


def _participants(crm: Flask) -> tuple[int, list[dict[str, object]]]:
    """A many-to-many field events.participants → contacts, and one event using it."""
    rt: Runtime = crm.extensions["recordbase"]
    rt.schema.add_field("events", {"name": "participants", "label": "Participants",
                                   "type": "many_to_many", "options": {"target": "contacts"}})
    contacts = rt.records.list_page("contacts", ListQuery(sort=("id",), limit=3)).items
    event = rt.records.list_page("events", ListQuery(sort=("id",), limit=1)).items[0]
    rt.records.update("events", int(event["id"]), {"participants": [contacts[0]["id"]]},
                      expected_version=int(event["version"]))
    return int(event["id"]), contacts


def test_the_card_shows_chips_and_a_search(crm: Flask, admin_web: Browser) -> None:
    event, contacts = _participants(crm)
    card = admin_web.get(f"/r/events/{event}").get_data(as_text=True)
    assert "data-multi-picker" in card
    chip = re.search(
        r'<li class="chip" data-id="(\d+)"><a href="/r/contacts/\d+">([^<]*)</a>', card
    )
    assert chip is not None
    assert int(chip.group(1)) == contacts[0]["id"]
    assert chip.group(2) == escape(str(contacts[0]["full_name"]))
    assert 'aria-label="Add: Participants"' in card
    assert 'hx-get="/r/contacts/pick"' in card
    assert f'value="{contacts[0]["id"]}"' in card  # the ids, for the form without JavaScript


def test_the_card_saves_several_and_refuses_unknown_ones(crm: Flask, admin_web: Browser) -> None:
    event, contacts = _participants(crm)
    page = admin_web.get(f"/r/events/{event}").get_data(as_text=True)
    fields = card_form(page)
    chosen = f"{contacts[1]['id']}; {contacts[2]['id']}"
    response = admin_web.post(f"/r/events/{event}", {**fields, "_fields": "participants",
                                                      "participants": chosen})
    assert response.status_code == 303, re.findall(r'field-error[^>]*>([^<]*)',
                                                   response.get_data(as_text=True))
    rt: Runtime = crm.extensions["recordbase"]
    item, _ = rt.records.get("events", event)
    assert sorted(item["participants"]) == sorted([contacts[1]["id"], contacts[2]["id"]])
    fields = card_form(admin_web.get(f"/r/events/{event}").get_data(as_text=True))
    bad = admin_web.post(f"/r/events/{event}", {**fields, "_fields": "participants",
                                                 "participants": "999999"})
    assert bad.status_code == 422
    assert "999999" in bad.get_data(as_text=True)
