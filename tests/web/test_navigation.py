"""Sections in the navigation: hidden, renamed and reordered per configuration.

The setting is entity metadata (``nav``: hidden, position; the name shown is the
plural label), changed through the API, the structure editor or config apply, and
journaled like every structure change.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from recordbase import configio
from recordbase.errors import RecordbaseError
from recordbase.runtime import Runtime

from .conftest import CRM, Browser

MENU = re.compile(r'<nav class="sections"[^>]*>(.*?)</nav>', re.S)
LINK = re.compile(r'<a href="/r/([a-z_]+)/"[^>]*>([^<]+)</a>')


def menu(web: Browser) -> list[tuple[str, str]]:
    """The (entity, label) pairs of the top menu, in order (directories included)."""
    page = web.get("/").get_data(as_text=True)
    found = MENU.search(page)
    assert found, page
    return LINK.findall(found.group(1))


def home_tiles(web: Browser) -> list[str]:
    page = web.get("/").get_data(as_text=True)
    main = page.split('<main id="main"', 1)[1]
    return [name for name, _label in LINK.findall(main)]


def test_hide_rename_and_reorder_through_the_api(
    crm: Flask, client: FlaskClient, admin: dict[str, str], admin_web: Browser
) -> None:
    before = menu(admin_web)
    assert ("contacts", "Contacts") in before
    hidden = client.patch("/api/v1/entities/contacts", json={"nav": {"hidden": True}},
                          headers=admin)
    assert hidden.status_code == 200, hidden.get_json()
    assert hidden.get_json()["nav"] == {"hidden": True, "position": None}
    renamed = client.patch(
        "/api/v1/entities/clients",
        json={"label_plural": "Clients of the firm", "nav": {"position": 2}},
        headers=admin,
    )
    assert renamed.status_code == 200, renamed.get_json()
    client.patch("/api/v1/entities/invoices", json={"nav": {"position": 1}}, headers=admin)

    after = menu(admin_web)
    names = [name for name, _label in after]
    assert "contacts" not in names
    assert names[:2] == ["invoices", "clients"]
    assert ("clients", "Clients of the firm") in after
    # the rest keep the order of creation, after the placed ones
    rest = [n for n, _l in before if n not in ("contacts", "clients", "invoices")]
    assert names[2:] == rest
    assert "contacts" not in home_tiles(admin_web)
    assert home_tiles(admin_web)[:2] == ["invoices", "clients"]

    # a hidden section is still reachable by address, and its tab on a client card works
    listed = admin_web.get("/r/contacts/")
    assert listed.status_code == 200
    assert "Contacts" in listed.get_data(as_text=True)
    rt: Runtime = crm.extensions["recordbase"]
    with rt.engine.connect() as conn:
        table = rt.cache.current().table(rt.cache.current().entity("clients"))
        client_id = conn.execute(table.select().limit(1)).first().id
    card = admin_web.get(f"/r/clients/{client_id}").get_data(as_text=True)
    assert "/related/contacts/" in card
    tab = admin_web.get(f"/r/clients/{client_id}/related/contacts/client")
    assert tab.status_code == 200


def test_the_change_is_journaled_and_undone(
    client: FlaskClient, admin: dict[str, str], admin_web: Browser
) -> None:
    client.patch("/api/v1/entities/contacts", json={"nav": {"hidden": True, "position": 5}},
                 headers=admin)
    journal = client.get("/api/v1/schema/journal", headers=admin).get_json()["items"]
    entry = journal[0]
    assert entry["operation"] == "change_entity"
    assert entry["after"]["nav"] == {"hidden": True, "position": 5}
    assert entry["before"]["nav"] == {"hidden": False, "position": None}
    undone = client.post(f"/api/v1/schema/journal/{entry['id']}/undo", headers=admin)
    assert undone.status_code == 200, undone.get_json()
    assert client.get("/api/v1/entities/contacts", headers=admin).get_json()["nav"] == {
        "hidden": False, "position": None}
    assert "contacts" in [name for name, _label in menu(admin_web)]


def test_a_bad_setting_is_a_sentence(
    crm: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    for nav, word in (({"position": -1}, "position"), ({"hidden": "maybe"}, "hidden"),
                      ({"colour": "red"}, "colour"), ("hidden", "nav")):
        response = client.patch("/api/v1/entities/contacts", json={"nav": nav}, headers=admin)
        assert response.status_code == 422, (nav, response.get_json())
        assert word in response.get_json()["detail"], response.get_json()
    assert client.get("/api/v1/entities/contacts", headers=admin).get_json()["nav"] == {
        "hidden": False, "position": None}


def test_the_structure_editor_sets_it(crm: Flask, admin_web: Browser) -> None:
    page = admin_web.get("/structure/contacts").get_data(as_text=True)
    assert 'name="nav_hidden"' in page
    assert 'name="nav_position"' in page
    form = {"name": "contacts", "label": "Contact", "label_plural": "People",
            "title_field": "full_name", "nav_position": "0", "nav_hidden": "on"}
    response = admin_web.post("/structure/contacts", form)
    assert response.status_code == 303, response.get_data(as_text=True)
    rt: Runtime = crm.extensions["recordbase"]
    entity = rt.cache.current().entity("contacts")
    assert (entity.label_plural, entity.nav.hidden, entity.nav.position) == ("People", True, 0)
    assert "hidden from the navigation" in admin_web.get("/structure/").get_data(as_text=True)
    bad = admin_web.post("/structure/contacts", {**form, "nav_position": "first"})
    assert bad.status_code == 422
    assert "position" in bad.get_data(as_text=True)
    shown = admin_web.post("/structure/contacts", {**form, "nav_hidden": ""} | {"nav_position": ""})
    assert shown.status_code == 303
    entity = rt.cache.current().entity("contacts")
    assert (entity.nav.hidden, entity.nav.position) == (False, None)


def test_config_files_carry_it(crm: Flask, tmp_path: Path, admin_web: Browser) -> None:
    rt: Runtime = crm.extensions["recordbase"]
    folder = tmp_path / "crm"
    shutil.copytree(CRM, folder)
    meta = folder / "metadata"
    for name, change in (
        ("contacts", {"nav": {"hidden": True}}),
        ("clients", {"label_plural": "Clients of the firm", "nav": {"position": 0}}),
        ("products", {"nav": {"position": 1}}),
    ):
        path = meta / f"{name}.yaml"
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        doc.update(change)
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    plan = configio.plan_config(rt, configio.load_config(folder))
    lines = [step.describe() for step in plan.steps]
    assert '~ entity contacts nav {"hidden": false, "position": null} -> ' \
           '{"hidden": true, "position": null}' in lines
    assert '~ entity clients label_plural "Clients" -> "Clients of the firm"' in lines
    configio.apply_config(rt, configio.load_config(folder))
    names = [name for name, _label in menu(admin_web)]
    assert names[:2] == ["clients", "products"]
    assert "contacts" not in names
    assert ("clients", "Clients of the firm") in menu(admin_web)
    assert configio.plan_config(rt, configio.load_config(folder)).steps == []

    out = tmp_path / "out"
    configio.export_config(rt, out)
    exported = yaml.safe_load((out / "metadata" / "contacts.yaml").read_text(encoding="utf-8"))
    assert exported["nav"] == {"hidden": True, "position": None}
    assert configio.plan_config(rt, configio.load_config(out)).steps == []


def test_a_file_with_a_bad_setting_is_refused(crm: Flask, tmp_path: Path) -> None:
    rt: Runtime = crm.extensions["recordbase"]
    folder = tmp_path / "crm"
    shutil.copytree(CRM, folder)
    path = folder / "metadata" / "contacts.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["nav"] = {"hidden": "yes", "order": 3}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RecordbaseError) as refused:
        configio.plan_config(rt, configio.load_config(folder))
    assert "contacts.yaml" in str(refused.value.message)
    assert "nav" in str(refused.value.message)
