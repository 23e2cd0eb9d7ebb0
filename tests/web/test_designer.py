"""The form designer's pages and operation endpoints through the Flask test client."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask

from recordbase.runtime import Runtime

from .conftest import Browser

FRAGMENT = {"X-Designer-Fragment": "1"}


def op(web: Browser, body: Any, *, entity: str = "clients", raw: bytes | None = None,
       path: str = "op"):
    data = raw if raw is not None else json.dumps(body).encode()
    return web.client.post(
        f"/design/{entity}/{path}", data=data, content_type="application/json",
        headers={**FRAGMENT, "X-CSRF-Token": web.token},
    )


def message(response: Any) -> str:
    found = re.search(r'data-message="([^"]*)"', response.get_data(as_text=True))
    return found.group(1) if found else response.get_data(as_text=True)[:500]


def runtime_of(app: Flask) -> Runtime:
    rt: Runtime = app.extensions["recordbase"]
    return rt


def admin_id(app: Flask) -> int:
    return next(int(u["id"]) for u in runtime_of(app).users.list_users() if u["login"] == "admin")


def test_the_designer_page_lists_the_palette_and_the_canvas(admin_web: Browser) -> None:
    page = admin_web.get("/design/clients")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="designer"' in html
    assert "Sortable.min.js" in html
    assert "Settlement account" in html  # on the canvas of the automatic layout
    structure = admin_web.get("/structure/clients").get_data(as_text=True)
    assert "/design/clients" in structure


def test_an_operation_changes_the_draft_only_and_save_makes_a_version(
    admin_web: Browser, crm: Flask
) -> None:
    admin_web.get("/design/clients")
    response = op(admin_web, {"op": "add_tab", "label": "Bank details"})
    assert response.status_code == 200
    assert message(response) == "A tab is added."
    rt = runtime_of(crm)
    draft = rt.layouts.draft("clients", "form", admin_id(crm))
    assert draft is not None
    assert [t["label"] for t in draft["tabs"]] == ["Main", "Bank details"]
    assert rt.layouts.current("clients", "form") is None
    saved = admin_web.post("/design/clients/save", {"note": "bank tab"})
    assert saved.status_code == 303
    version = rt.layouts.current("clients", "form")
    assert version is not None
    assert version.note == "bank tab"
    assert [t["label"] for t in version.body["tabs"]] == ["Main", "Bank details"]
    assert rt.layouts.draft("clients", "form", admin_id(crm)) is None


def test_a_plain_form_post_works_without_the_script(admin_web: Browser, crm: Flask) -> None:
    admin_web.get("/design/clients")
    response = admin_web.post("/design/clients/op", {"op": "add_tab", "label": "Extra"})
    assert response.status_code == 303
    assert "/design/clients" in response.headers["Location"]
    draft = runtime_of(crm).layouts.draft("clients", "form", admin_id(crm))
    assert draft is not None
    tab = draft["tabs"][-1]
    placed = admin_web.post("/design/clients/op", {
        "op": "add_section", "tab": tab["id"], "label": "More"})
    assert placed.status_code == 303
    discard = admin_web.post("/design/clients/discard")
    assert discard.status_code == 303
    assert runtime_of(crm).layouts.draft("clients", "form", admin_id(crm)) is None


HOSTILE_OPERATIONS: list[tuple[Any, int, str]] = [
    ({"op": "remove", "id": "e999"}, 404, "no element e999"),
    ({"op": "move", "id": "../../x", "section": "fields", "row": 0, "col": 0}, 422,
     "id is not an element"),
    ({"op": "move", "id": "ELEMENT", "section": "fields", "row": "zero", "col": 0}, 422,
     "whole number"),
    ({"op": "place", "type": "field", "field": 999999, "section": "fields", "row": 199,
      "col": 0}, 422, "no field with id 999999"),
    ({"op": "place", "type": "script", "section": "fields", "row": 0, "col": 0}, 422,
     "no element type script"),
    ({"op": "drop_table"}, 422, "does not know the operation"),
    ({"op": "add_tab", "label": {"nested": ["deep"]}}, 422, "plain values"),
    (["op", "remove"], 422, "plain values"),
]


def test_hostile_operations_are_sentences_and_change_nothing(
    admin_web: Browser, crm: Flask
) -> None:
    admin_web.get("/design/clients")
    first = runtime_of(crm).cache.current().entity("clients").fields[0].id
    for body, status, sentence in HOSTILE_OPERATIONS:
        if isinstance(body, dict) and body.get("id") == "ELEMENT":
            body = {**body, "id": f"f{first}"}
        response = op(admin_web, body)
        assert response.status_code == status, (body, response.get_data(as_text=True)[:300])
        assert sentence in message(response), body
    assert runtime_of(crm).layouts.draft("clients", "form", admin_id(crm)) is None


def test_a_field_of_another_entity_is_refused(admin_web: Browser, crm: Flask) -> None:
    admin_web.get("/design/clients")
    products = runtime_of(crm).cache.current().entity("products")
    response = op(admin_web, {"op": "place", "type": "field", "field": products.fields[0].id,
                              "section": "fields", "row": 199, "col": 0})
    assert response.status_code == 422
    assert "belongs to products" in message(response)


MALFORMED_BODIES: list[tuple[bytes, int, str]] = [
    (b"{not json", 422, "not valid JSON"),
    (b"", 422, "not valid JSON"),
    (b"[" * 5000 + b"]" * 5000, 422, "nested too deeply"),
    (b"[" * 9000 + b"]" * 9000, 413, "at most 16 KiB"),
    (b'{"op": "add_tab", "label": "' + b"x" * 20_000 + b'"}', 413, "at most 16 KiB"),
    (b"\xff\xfe\x00", 422, "not valid JSON"),
]


def test_malformed_bodies_are_4xx_sentences(admin_web: Browser) -> None:
    admin_web.get("/design/clients")
    for raw, status, sentence in MALFORMED_BODIES:
        response = op(admin_web, None, raw=raw)
        assert response.status_code == status, raw[:40]
        assert sentence in message(response), raw[:40]


def test_non_admins_and_forged_requests_are_refused(
    user_web: Browser, admin_web: Browser
) -> None:
    for path in ("/design/clients", "/design/clients/list", "/design/clients/versions"):
        assert user_web.get(path).status_code == 403
    refused = op(user_web, {"op": "add_tab", "label": "Mine"})
    assert refused.status_code == 403
    assert user_web.post("/design/clients/save").status_code == 403
    admin_web.get("/design/clients")
    forged = admin_web.client.post("/design/clients/op", json={"op": "add_tab", "label": "X"},
                                   headers=FRAGMENT)
    assert forged.status_code == 403
    assert "did not come from this site" in forged.get_data(as_text=True)


def test_unknown_entities_and_child_tables_have_no_designer(admin_web: Browser) -> None:
    assert admin_web.get("/design/nothing_here").status_code == 404
    assert admin_web.get("/design/invoice_lines").status_code == 404
    response = op(admin_web, {"op": "add_tab", "label": "X"}, entity="nothing_here")
    assert response.status_code == 404


def test_list_operations_and_their_hostile_input(admin_web: Browser, crm: Flask) -> None:
    admin_web.get("/design/clients/list")
    ent = runtime_of(crm).cache.current().entity("clients")
    website = ent.field("website").id
    added = op(admin_web, {"op": "add_column", "field": website}, path="list/op")
    assert added.status_code == 200
    assert op(admin_web, {"op": "width", "field": website, "width": 240},
              path="list/op").status_code == 200
    assert op(admin_web, {"op": "sort", "field": website, "direction": "desc"},
              path="list/op").status_code == 200
    draft = runtime_of(crm).layouts.draft("clients", "list", admin_id(crm))
    assert draft is not None
    assert draft["columns"][-1] == {"field": website, "width": 240}
    assert draft["sort"] == [{"field": website, "direction": "desc"}]
    for body, sentence in [
        ({"op": "width", "field": website, "width": 5}, "between 40 and 1200"),
        ({"op": "add_column", "field": website}, "a column already"),
        ({"op": "move_column", "field": 999999, "index": 0}, "not a column"),
        ({"op": "sort", "field": website, "direction": "sideways"}, "asc or desc"),
        ({"op": "rm -rf"}, "does not know the operation"),
    ]:
        response = op(admin_web, body, path="list/op")
        assert response.status_code == 422, body
        assert sentence in message(response)
    assert admin_web.post("/design/clients/list/save").status_code == 303
    saved = runtime_of(crm).layouts.current("clients", "list")
    assert saved is not None
    assert saved.body["sort"] == [{"field": website, "direction": "desc"}]


def test_versions_compare_and_revert(admin_web: Browser, crm: Flask) -> None:
    rt = runtime_of(crm)
    admin_web.get("/design/clients")
    inn = rt.cache.current().entity("clients").field("inn").id
    assert op(admin_web, {"op": "remove", "id": f"f{inn}"}).status_code == 200
    admin_web.post("/design/clients/save")
    assert op(admin_web, {"op": "add_tab", "label": "Second"}).status_code == 200
    admin_web.post("/design/clients/save")
    page = admin_web.get("/design/clients/compare?a=1&b=2").get_data(as_text=True)
    assert "The tabs were Main and are Main, Second." in page
    assert admin_web.get("/design/clients/compare?a=x&b=2").status_code == 422
    assert admin_web.get("/design/clients/compare?a=1&b=99").status_code == 404
    reverted = admin_web.post("/design/clients/versions/1/revert")
    assert reverted.status_code == 303
    current = rt.layouts.current("clients", "form")
    assert current is not None
    assert current.number == 3
    assert [t["label"] for t in current.body["tabs"]] == ["Main"]


def test_a_removed_field_shows_as_missing_and_can_be_taken_off(
    admin_web: Browser, crm: Flask
) -> None:
    from recordbase.schema.ops_field import RemoveField

    rt = runtime_of(crm)
    admin_web.get("/design/clients")
    admin_web.post("/design/clients/save")
    rt.schema.execute(RemoveField("clients", "kpp"), user_id=admin_id(crm))
    page = admin_web.get("/design/clients").get_data(as_text=True)
    assert "missing" in page
    response = op(admin_web, {"op": "remove_missing"})
    assert response.status_code == 200
    assert "missing fields are removed" in message(response)
    assert "Missing field" not in response.get_data(as_text=True)


def test_a_renamed_field_stays_where_it_was_placed(admin_web: Browser, crm: Flask) -> None:
    from recordbase.schema.ops_field import ChangeField

    rt = runtime_of(crm)
    admin_web.get("/design/clients")
    bic = rt.cache.current().entity("clients").field("bic")
    admin_web.post("/design/clients/save")
    before = rt.layouts.current("clients", "form")
    assert before is not None
    rt.schema.execute(ChangeField("clients", "bic", {"name": "swift", "label": "SWIFT code"}),
                      user_id=admin_id(crm))
    page = admin_web.get("/design/clients").get_data(as_text=True)
    assert f'data-id="f{bic.id}"' in page
    assert "SWIFT code" in page
    moved = op(admin_web, {"op": "nudge", "id": f"f{bic.id}", "direction": "down"})
    assert moved.status_code == 200
    assert "SWIFT code is moved." in message(moved)


def test_properties_are_set_and_contradictions_refused(admin_web: Browser, crm: Flask) -> None:
    rt = runtime_of(crm)
    admin_web.get("/design/clients")
    bic = rt.cache.current().entity("clients").field("bic").id
    changed = op(admin_web, {"op": "set", "id": f"f{bic}", "label": "SWIFT", "help": "8 or 11",
                             "placeholder": "DEUTDEFF", "required": True, "width": 6})
    assert changed.status_code == 200
    assert "The properties of SWIFT are changed." in message(changed)
    draft = rt.layouts.draft("clients", "form", admin_id(crm))
    assert draft is not None
    element = next(e for t in draft["tabs"] for s in t["sections"] for e in s["elements"]
                   if e["id"] == f"f{bic}")
    assert (element["label"], element["help"], element["placeholder"]) == (
        "SWIFT", "8 or 11", "DEUTDEFF")
    assert element["required"] is True
    refused = op(admin_web, {"op": "set", "id": f"f{bic}", "required": True, "hidden": True})
    assert refused.status_code == 422
    assert "cannot be required" in message(refused)
    image = op(admin_web, {"op": "place", "type": "image", "file": 987654, "section": "fields",
                           "row": 199, "col": 0})
    assert image.status_code == 422
    assert "no stored file with id 987654" in message(image)
    no_file = op(admin_web, {"op": "place", "type": "image", "section": "fields", "row": 199,
                             "col": 0})
    assert no_file.status_code == 422
    assert "file must be a whole number" in message(no_file)


def test_the_preview_shows_the_draft_through_the_card_templates(
    admin_web: Browser, crm: Flask
) -> None:
    from recordbase.records.query import ListQuery

    rt = runtime_of(crm)
    record = rt.records.list_page("clients", ListQuery(limit=1)).items[0]
    admin_web.get("/design/clients")
    assert op(admin_web, {"op": "add_tab", "label": "Draft tab"}).status_code == 200
    draft = rt.layouts.draft("clients", "form", admin_id(crm))
    assert draft is not None
    section = draft["tabs"][-1]["sections"][0]["id"]
    bic = rt.cache.current().entity("clients").field("bic").id
    assert op(admin_web, {"op": "to_section", "id": f"f{bic}", "section": section}
              ).status_code == 200
    page = admin_web.get(f"/design/clients/preview?record={record['id']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Draft tab" in html
    assert "layout-cell" in html
    assert 'method="post" enctype' not in html  # nothing can be saved from a preview
    assert str(record["name"]) in html
    assert admin_web.get("/design/clients/preview?record=99999999").status_code == 404
    assert admin_web.get("/design/clients/preview?record=1%27").status_code == 200  # ignored
    assert "Draft tab" not in admin_web.get(f"/r/clients/{record['id']}").get_data(as_text=True)


def test_a_role_gets_its_own_layout_and_drafts(admin_web: Browser, crm: Flask) -> None:
    rt = runtime_of(crm)
    page = admin_web.get("/design/clients?role=user")
    assert page.status_code == 200
    assert 'value="user" selected' in page.get_data(as_text=True)
    response = admin_web.client.post(
        "/design/clients/op?role=user", json={"op": "add_tab", "label": "For users"},
        headers={**FRAGMENT, "X-CSRF-Token": admin_web.token})
    assert response.status_code == 200
    assert rt.layouts.draft("clients", "form", admin_id(crm), "user") is not None
    assert rt.layouts.draft("clients", "form", admin_id(crm)) is None
    saved = admin_web.post("/design/clients/save?role=user")
    assert saved.status_code == 303
    assert "role=user" in saved.headers["Location"]
    mine = rt.layouts.current("clients", "form", "user")
    assert mine is not None
    assert mine.role == "user"
    assert [t["label"] for t in mine.body["tabs"]] == ["Main", "For users"]
    assert rt.layouts.current("clients", "form") is None
    versions = admin_web.get("/design/clients/versions?role=user").get_data(as_text=True)
    assert "Revert" not in versions  # one version only
    refused = admin_web.get("/design/clients?role=nobody")
    assert refused.status_code == 404
    assert "There is no role nobody." in refused.get_data(as_text=True)


def test_the_canvas_and_the_structure_editor_name_types_for_people(
    admin_web: Browser, crm: Flask
) -> None:
    from recordbase.web.structure import field_type_labels

    kind = runtime_of(crm).cache.current().entity("clients").field("kind").id
    canvas = admin_web.get("/design/clients").get_data(as_text=True)
    element = canvas[canvas.index(f'data-id="f{kind}"'):]
    element = element[:element.index("</div>")]
    assert "One choice" in element
    assert "single_select" not in element
    fields = admin_web.get("/structure/clients").get_data(as_text=True)
    assert "<td>One choice</td>" in fields
    assert '<option value="single_select">One choice</option>' in fields
    admin_web.client.set_cookie("rb_lang", "ru")
    russian = admin_web.get("/design/clients").get_data(as_text=True)
    assert "Один вариант" in russian
    with crm.test_request_context():
        labels = field_type_labels()
    missing = [t for t in runtime_of(crm).registry.names() if t not in labels]
    assert not missing, f"field types without a label: {missing}"


def _element_of(app: Flask, name: str) -> str:
    return f"f{runtime_of(app).cache.current().entity('clients').field(name).id}"


def test_a_layout_that_makes_new_records_impossible_is_warned_about(
    admin_web: Browser, crm: Flask
) -> None:
    rt = runtime_of(crm)
    start = admin_web.get("/design/clients").get_data(as_text=True)
    assert 'id="d-unreachable"' not in start
    # Kind is required too, but has a default: only Name is listed
    removed = op(admin_web, {"op": "remove", "id": _element_of(crm, "name")})
    assert removed.status_code == 200
    kind = op(admin_web, {"op": "set", "id": _element_of(crm, "kind"), "readonly": True})
    assert kind.status_code == 200
    html = kind.get_data(as_text=True)
    warning = html[html.index('id="d-unreachable"'):]
    warning = warning[:warning.index("</div>")]
    assert "New records cannot be made from this card." in warning
    assert "<li>Name</li>" in warning
    assert "Kind" not in warning
    assert 'name="unreachable_ok" value="true" required' in html

    refused = admin_web.post("/design/clients/save", {"note": "no name"})
    assert refused.status_code == 422
    assert "The layout is not saved." in refused.get_data(as_text=True)
    assert "required fields Name, which have no default" in refused.get_data(as_text=True)
    assert rt.layouts.current("clients", "form") is None

    saved = admin_web.post("/design/clients/save", {"note": "no name", "unreachable_ok": "true"})
    assert saved.status_code == 303
    assert rt.layouts.current("clients", "form") is not None
    page = admin_web.get(saved.headers["Location"]).get_data(as_text=True)
    assert "The layout is saved as a new version." in page
    assert 'id="d-unreachable"' in page  # the saved layout still says so

    placed = op(admin_web, {"op": "place", "type": "field", "field":
                            rt.cache.current().entity("clients").field("name").id,
                            "section": "fields", "row": 199, "col": 0})
    assert placed.status_code == 200, message(placed)
    found = re.search(r'data-selected="([^"]+)"', placed.get_data(as_text=True))
    assert found is not None
    hidden = op(admin_web, {"op": "set", "id": found.group(1), "hidden": True})
    assert hidden.status_code == 200
    assert "<li>Name</li>" in hidden.get_data(as_text=True)
    shown = op(admin_web, {"op": "set", "id": found.group(1), "hidden": False})
    assert 'id="d-unreachable"' not in shown.get_data(as_text=True)
    assert admin_web.post("/design/clients/save").status_code == 303
