"""Layouts through the API: save, read, versions, revert, drafts, and every malformed kind."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from layouts.conftest import element, fid, form, rt_of
from recordbase import systables
from recordbase.errors import PermissionDenied
from recordbase.runtime import upgrade_system_tables
from recordbase.users import User

URL = "/api/v1/entities/customers/layouts/form"


def put(client: FlaskClient, headers: dict[str, str], body: Any, url: str = URL) -> Any:
    return client.put(url, data=json.dumps(body), content_type="application/json",
                      headers=headers)


def test_no_saved_layout_gives_the_automatic_one(client: FlaskClient, shop: dict[str, str],
                                                 app: Flask) -> None:
    got = client.get(URL, headers=shop).json
    assert got["version"] is None
    placed = [e["field"] for e in got["layout"]["tabs"][0]["sections"][0]["elements"]]
    live = [f.id for f in rt_of(app).cache.current().entity("customers").fields]
    assert placed == live
    linked = got["layout"]["tabs"][0]["sections"][1]
    assert linked["label"] == "Linked records"
    assert [e["type"] for e in linked["elements"]] == ["related"]
    assert got["fields"][str(live[0])]["name"] == "name"


def test_save_read_versions_and_revert(client: FlaskClient, shop: dict[str, str],
                                       customer_form: dict[str, Any], app: Flask) -> None:
    first = put(client, shop, customer_form)
    assert first.status_code == 201, first.json
    assert first.json["version"] == 1
    assert first.json["author"] == "admin"
    assert first.headers["Location"].endswith("/layouts/form/versions/1")
    second_body = form(element("e1", field=fid(app, "customers", "name"), width=12))
    assert put(client, shop, second_body).json["version"] == 2
    now = client.get(URL, headers=shop).json
    assert now["version"] == 2
    assert len(now["layout"]["tabs"][0]["sections"][0]["elements"]) == 1
    versions = client.get(URL + "/versions", headers=shop).json["items"]
    assert [v["version"] for v in versions] == [2, 1]
    old = client.get(URL + "/versions/1", headers=shop).json
    assert old["layout"]["tabs"][0]["sections"][0]["elements"][1]["label"] == "Customer code"
    reverted = client.post(URL + "/versions/1/revert", headers=shop)
    assert reverted.status_code == 201, reverted.json
    assert reverted.json["version"] == 3
    assert reverted.json["layout"] == old["layout"]
    assert reverted.json["note"] == "Reverted to version 1"
    assert client.get(URL, headers=shop).json["layout"] == old["layout"]
    missing = client.get(URL + "/versions/9", headers=shop)
    assert missing.status_code == 404
    assert "has no version 9" in missing.json["detail"]
    with rt_of(app).engine.connect() as conn:
        actions = list(conn.execute(
            sa.select(systables.audit.c.action).where(systables.audit.c.entity == "customers")
        ).scalars())
    assert actions.count("layout.save") == 2
    assert actions.count("layout.revert") == 1


def test_saving_normalises_and_orders_elements(client: FlaskClient, shop: dict[str, str],
                                               app: Flask) -> None:
    body = form(
        element("b", field=fid(app, "customers", "code"), row=1),
        element("a", field=fid(app, "customers", "name"), row=0, col=6),
    )
    saved = put(client, shop, body).json["layout"]
    elements = saved["tabs"][0]["sections"][0]["elements"]
    assert [e["id"] for e in elements] == ["a", "b"]
    assert elements[0] == {
        "id": "a", "type": "field", "row": 0, "col": 6, "width": 6,
        "field": fid(app, "customers", "name"), "label": None, "help": None,
        "placeholder": None, "readonly": False, "hidden": False, "required": False,
    }
    assert saved["tabs"][0]["sections"][0]["collapsed"] is False


def _bad(app: Flask) -> dict[str, tuple[Any, str]]:
    name = fid(app, "customers", "name")
    return {
        "unknown element type": (
            form(element("e1", "video", url="x")),
            "tabs[0].sections[0].elements[0].type: 'video' is not an element type",
        ),
        "field of another entity": (
            form(element("e1", field=fid(app, "products", "title"))),
            f"tabs[0].sections[0].elements[0].field: field {fid(app, 'products', 'title')} "
            "belongs to products, not customers",
        ),
        "overlapping cells": (
            form(element("e1", field=name, width=8),
                 element("e2", field=fid(app, "customers", "code"), col=6)),
            "tabs[0].sections[0].elements[1]: overlaps elements[0] in row 0, column 6",
        ),
        "width out of the grid": (
            form(element("e1", field=name, width=13)),
            "tabs[0].sections[0].elements[0].width: must be between 1 and 12, not 13",
        ),
        "past the last column": (
            form(element("e1", field=name, col=8, width=6)),
            "tabs[0].sections[0].elements[0].width: column 8 + width 6 passes the 12 columns",
        ),
        "field placed twice": (
            form(element("e1", field=name), element("e2", field=name, col=6)),
            "tabs[0].sections[0].elements[1]: field",
        ),
        "unknown field id": (
            form(element("e1", field=999999)),
            "elements[0].field: customers have no field with id 999999",
        ),
        "missing key": (
            form({"id": "e1", "type": "divider", "row": 0, "col": 0}),
            "tabs[0].sections[0].elements[0].width: is missing",
        ),
        "unknown key": (
            form(element("e1", "divider", colour="red")),
            "tabs[0].sections[0].elements[0]: has unknown keys: colour",
        ),
        "related list not pointing here": (
            form(element("e1", "related", width=12, entity="products",
                         field=fid(app, "products", "title"))),
            "elements[0].field: field",
        ),
        "image that is not stored": (
            form(element("e1", "image", file=4242)),
            "tabs[0].sections[0].elements[0].file: there is no stored file with id 4242",
        ),
        "required but hidden": (
            form(element("e1", field=name, hidden=True, required=True)),
            "elements[0].required: a field hidden or read-only in this form cannot be required",
        ),
        "wrong kind": (
            {"format": 1, "kind": "list", "columns": []},
            "kind: must be 'form' here, not 'list'",
        ),
    }


CASES = [
    "unknown element type", "field of another entity", "overlapping cells",
    "width out of the grid", "past the last column", "field placed twice", "unknown field id",
    "missing key", "unknown key", "related list not pointing here", "image that is not stored",
    "required but hidden", "wrong kind",
]


@pytest.mark.parametrize("case", CASES)
def test_malformed_layouts_are_refused_naming_the_place(
    client: FlaskClient, shop: dict[str, str], app: Flask, case: str
) -> None:
    body, sentence = _bad(app)[case]
    response = put(client, shop, body)
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert sentence in response.json["detail"], response.json["detail"]
    assert client.get(URL, headers=shop).json["version"] is None  # nothing was saved


def test_child_table_is_not_a_field_element(client: FlaskClient, shop: dict[str, str],
                                            app: Flask) -> None:
    lines = fid(app, "orders", "lines")
    url = "/api/v1/entities/orders/layouts/form"
    wrong = put(client, shop, form(element("e1", field=lines, width=12)), url)
    assert wrong.status_code == 422
    assert "is a child table; place it as a child_table element" in wrong.json["detail"]
    right = put(client, shop, form(element("e1", "child_table", field=lines, width=12)), url)
    assert right.status_code == 201, right.json


def test_a_ten_megabyte_body_is_refused_unread(client: FlaskClient, shop: dict[str, str]) -> None:
    huge = b'{"format": 1, "kind": "form", "tabs": [], "x": "' + b"a" * (10 * 1024 * 1024) + b'"}'
    response = client.put(URL, data=huge, content_type="application/json", headers=shop)
    assert response.status_code == 413
    assert response.json["detail"].startswith("The layout is 10,485,")
    assert "at most 256 KiB" in response.json["detail"]


def test_a_body_over_the_layout_limit_is_413(client: FlaskClient, shop: dict[str, str]) -> None:
    body = b'{"format": 1, "kind": "form", "tabs": [], "x": "' + b"a" * (300 * 1024) + b'"}'
    response = client.put(URL, data=body, content_type="application/json", headers=shop)
    assert response.status_code == 413
    assert "at most 256 KiB" in response.json["detail"]


def test_deep_nesting_is_a_sentence_not_a_crash(client: FlaskClient, shop: dict[str, str]) -> None:
    deep = b"[" * 10_000 + b"]" * 10_000
    response = client.put(URL, data=deep, content_type="application/json", headers=shop)
    assert response.status_code == 422
    assert "nested more than 10 levels deep" in response.json["detail"]
    # brackets inside text do not count
    quoted = form(element("e1", "text", width=12, text="[" * 1500))
    assert put(client, shop, quoted).status_code == 201


def test_not_json_is_a_sentence(client: FlaskClient, shop: dict[str, str]) -> None:
    response = client.put(URL, data=b"{tabs:", content_type="application/json", headers=shop)
    assert response.status_code == 422
    assert response.json["detail"].startswith("The layout is not valid JSON")


def test_only_an_administrator_changes_layouts(client: FlaskClient, shop: dict[str, str],
                                               user: dict[str, str],
                                               customer_form: dict[str, Any]) -> None:
    refused = put(client, user, customer_form)
    assert refused.status_code == 403
    assert refused.json["detail"] == "Only an administrator may do this."
    assert client.post(URL + "/versions/1/revert", headers=user).status_code == 403
    assert client.get(URL, headers=user).status_code == 200  # reading is for everyone


def test_the_service_refuses_a_non_admin_too(app: Flask, shop: dict[str, str],
                                             customer_form: dict[str, Any]) -> None:
    rt = rt_of(app)
    plain = User(id=2, login="user", name="", role="user")
    with pytest.raises(PermissionDenied, match="Only an administrator may change layouts"):
        rt.layouts.save("customers", "form", customer_form, actor=plain)


def test_drafts_are_per_user_and_go_when_saved(client: FlaskClient, shop: dict[str, str],
                                               customer_form: dict[str, Any]) -> None:
    assert client.get(URL + "/draft", headers=shop).json == {"layout": None}
    kept = client.put(URL + "/draft", data=json.dumps(customer_form),
                      content_type="application/json", headers=shop)
    assert kept.status_code == 200, kept.json
    assert client.get(URL + "/draft", headers=shop).json["layout"] == kept.json["layout"]
    bad = client.put(URL + "/draft", data=json.dumps(form(element("e1", "video"))),
                     content_type="application/json", headers=shop)
    assert bad.status_code == 422
    assert put(client, shop, customer_form).status_code == 201
    assert client.get(URL + "/draft", headers=shop).json == {"layout": None}
    client.put(URL + "/draft", data=json.dumps(customer_form),
               content_type="application/json", headers=shop)
    assert client.delete(URL + "/draft", headers=shop).status_code == 204
    assert client.get(URL + "/draft", headers=shop).json == {"layout": None}


def test_role_layouts_come_first_for_that_role(client: FlaskClient, shop: dict[str, str],
                                               app: Flask, customer_form: dict[str, Any]) -> None:
    assert put(client, shop, customer_form).status_code == 201
    small = form(element("e1", field=fid(app, "customers", "name"), width=12))
    assert put(client, shop, small, URL + "?role=user").status_code == 201
    rt = rt_of(app)
    assert len(rt.layouts.effective("customers", "form", "user")["tabs"][0]["sections"][0]
               ["elements"]) == 1
    assert len(rt.layouts.effective("customers", "form", "admin")["tabs"][0]["sections"][0]
               ["elements"]) == 5
    unknown = put(client, shop, small, URL + "?role=nobody")
    assert unknown.status_code == 404
    assert "There is no role named 'nobody'" in unknown.json["detail"]


def test_validate_saves_nothing(client: FlaskClient, shop: dict[str, str],
                                customer_form: dict[str, Any]) -> None:
    checked = client.post(URL + "/validate", data=json.dumps(customer_form),
                          content_type="application/json", headers=shop)
    assert checked.status_code == 200
    assert client.get(URL, headers=shop).json["version"] is None


def test_unknown_kind_and_entity(client: FlaskClient, shop: dict[str, str]) -> None:
    assert client.get("/api/v1/entities/customers/layouts/grid", headers=shop).status_code == 404
    assert client.get("/api/v1/entities/nothing/layouts/form", headers=shop).status_code == 404


def test_renamed_field_stays_placed_and_removed_field_is_kept(
    client: FlaskClient, shop: dict[str, str], app: Flask, customer_form: dict[str, Any]
) -> None:
    code = fid(app, "customers", "code")
    assert put(client, shop, customer_form).status_code == 201
    renamed = client.patch("/api/v1/entities/customers/fields/code",
                           json={"name": "ref", "label": "Reference"}, headers=shop)
    assert renamed.status_code == 200, renamed.json
    got = client.get(URL, headers=shop).json
    assert got["layout"]["tabs"][0]["sections"][0]["elements"][1]["field"] == code
    assert got["fields"][str(code)]["name"] == "ref"
    assert client.delete("/api/v1/entities/customers/fields/ref", headers=shop).status_code == 200
    after = client.get(URL, headers=shop).json
    assert after["layout"]["tabs"][0]["sections"][0]["elements"][1]["field"] == code
    assert after["fields"][str(code)]["missing"] is True
    # saving it again with the removed field in place is fine
    assert put(client, shop, after["layout"]).status_code == 201
    restored = client.post("/api/v1/entities/customers/fields/ref/restore", headers=shop)
    assert restored.status_code == 200, restored.json
    assert client.get(URL, headers=shop).json["fields"][str(code)]["missing"] is False


def test_list_layouts(client: FlaskClient, shop: dict[str, str], app: Flask) -> None:
    url = "/api/v1/entities/customers/layouts/list"
    auto = client.get(url, headers=shop).json
    assert auto["version"] is None
    assert auto["layout"]["kind"] == "list"
    name, score = fid(app, "customers", "name"), fid(app, "customers", "score")
    body = {"format": 1, "kind": "list",
            "columns": [{"field": score, "width": 120}, {"field": name, "width": None}],
            "sort": [{"field": score, "direction": "desc"}]}
    saved = put(client, shop, body, url)
    assert saved.status_code == 201, saved.json
    assert saved.json["layout"] == body
    narrow = {**body, "columns": [{"field": name, "width": 20}]}
    refused = put(client, shop, narrow, url)
    assert refused.status_code == 422
    assert "columns[0].width" in refused.json["detail"]
    twice = {**body, "columns": [{"field": name}, {"field": name}]}
    assert "columns[1]: field" in put(client, shop, twice, url).json["detail"]


def test_an_older_database_gets_the_layout_tables(app: Flask) -> None:
    rt = rt_of(app)
    with rt.engine.begin() as conn:
        systables.layout_drafts.drop(conn)
        systables.layout_versions.drop(conn)
    assert not sa.inspect(rt.engine).has_table("rb_layout_versions")
    upgrade_system_tables(rt.engine)
    assert sa.inspect(rt.engine).has_table("rb_layout_versions")
    assert sa.inspect(rt.engine).has_table("rb_layout_drafts")


def test_compare_two_versions(client: FlaskClient, shop: dict[str, str], app: Flask,
                              customer_form: dict[str, Any]) -> None:
    assert put(client, shop, customer_form).status_code == 201
    changed = json.loads(json.dumps(customer_form))
    elements = changed["tabs"][0]["sections"][0]["elements"]
    elements[0]["width"] = 6  # name narrower
    del elements[3]  # the heading goes
    elements.append(element("e9", field=fid(app, "customers", "rank"), row=1, col=3, width=3))
    changed["tabs"][0]["label"] = "General"
    assert put(client, shop, changed).status_code == 201
    diff = client.get(URL + "/versions/1/compare/2", headers=shop)
    assert diff.status_code == 200, diff.json
    got = diff.json
    assert got["elements"]["added"] == ["e9"]
    assert got["elements"]["removed"] == ["e4"]
    assert got["elements"]["changed"] == [{"id": "e1", "changes": {"width": [8, 6]}}]
    assert got["tabs"]["changed"] == [{"id": "t1", "changes": {"label": ["Main", "General"]}}]
    assert client.get(URL + "/versions/1/compare/7", headers=shop).status_code == 404


def test_the_openapi_document_lists_the_layout_endpoints(client: FlaskClient,
                                                         shop: dict[str, str]) -> None:
    doc = client.get("/api/v1/openapi.json", headers=shop).json
    path = doc["paths"]["/entities/{entity}/layouts/{kind}"]
    assert set(path) >= {"get", "put", "parameters"}
    assert "413" in path["put"]["responses"]
    assert "/entities/{entity}/layouts/{kind}/versions/{number}/revert" in doc["paths"]
