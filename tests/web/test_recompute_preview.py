"""A computation added to a field that holds records: the API's dry run and the structure
editor's preview say how many records get a new value, with samples; confirming it
recomputes them."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from recordbase.records.query import ListQuery
from recordbase.runtime import Runtime

from .conftest import Browser

NET = {"currency": "RUB", "computed": {"multiply": ["quantity", "price"]}}


def lines(rt: Runtime) -> list[dict[str, Any]]:
    found = []
    for invoice in rt.records.list_page("invoices", ListQuery(limit=500)).items:
        item, _ = rt.records.get("invoices", invoice["id"])
        found += item["lines"]
    return found


def add_net(client: FlaskClient, admin: dict[str, str]) -> None:
    added = client.post("/api/v1/entities/invoice_lines/fields",
                        json={"name": "net", "type": "money"}, headers=admin)
    assert added.status_code == 201, added.get_json()


def test_the_api_dry_run_counts_the_new_values(
    crm: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    rt: Runtime = crm.extensions["recordbase"]
    count = len(lines(rt))
    assert count > 0
    preview = client.post("/api/v1/entities/invoice_lines/fields?dry_run=true",
                          json={"name": "gross", "type": "money", "options": NET}, headers=admin)
    assert preview.status_code == 200, preview.get_json()
    (report,) = preview.get_json()["recompute"]
    assert (report["field"], report["rows"], report["changed"]) == ("gross", count, count)
    assert report["changes"][0]["old"] is None
    add_net(client, admin)
    change = client.patch("/api/v1/entities/invoice_lines/fields/net?dry_run=true",
                          json={"options": NET}, headers=admin)
    assert change.get_json()["recompute"][0]["changed"] == count
    small = {**NET, "precision": 3, "scale": 2}  # at most 9.99
    refused = client.patch("/api/v1/entities/invoice_lines/fields/net",
                           json={"options": small}, headers=admin)
    assert refused.status_code == 409
    problem = refused.get_json()
    assert "more digits than the field holds" in problem["detail"]
    assert problem["failing"] > 0
    assert problem["samples"][0]["reason"]
    assert all(line["net"] is None for line in lines(rt))


def test_the_structure_editor_previews_then_recomputes(
    crm: Flask, client: FlaskClient, admin: dict[str, str], admin_web: Browser
) -> None:
    rt: Runtime = crm.extensions["recordbase"]
    add_net(client, admin)
    count = len(lines(rt))
    form = {"name": "net", "label": "Net", "type": "money", "options": json.dumps(NET)}
    preview = admin_web.post("/structure/invoice_lines/fields/net", form)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Computed values of invoice_lines.net" in page
    assert f"{count} of {count} records will get a new value." in page
    # the conversion counts: every value stays valid; no "Changed 0" beside the recompute
    assert re.search(rf"<dt>Convertible</dt><dd>{count}</dd>", page)
    assert "<dt>Changed</dt>" not in page
    first = min(lines(rt), key=lambda line: line["id"])
    assert re.search(rf"#{first['id']}: <code>empty</code> → <code>{first['amount']}</code>", page)
    assert all(line["net"] is None for line in lines(rt))  # nothing yet
    confirmed = admin_web.post("/structure/invoice_lines/fields/net", {**form, "confirm": "true"})
    assert confirmed.status_code == 303
    assert all(line["net"] == line["amount"] for line in lines(rt))


def test_the_preview_speaks_russian_and_armenian(
    crm: Flask, client: FlaskClient, admin: dict[str, str], admin_web: Browser
) -> None:
    rt: Runtime = crm.extensions["recordbase"]
    add_net(client, admin)
    count = len(lines(rt))
    big = sum(1 for line in lines(rt) if float(line["amount"] or 0) >= 10_000)
    assert 0 < big < count
    small = {**NET, "precision": 6, "scale": 2}  # at most 9,999.99
    form = {"name": "net", "label": "Net", "type": "money", "options": json.dumps(small)}
    shown = {
        "ru": (f"Новое значение получат записей: {count - big} из {count}.",
               f"Вычисленных значений, которые не помещаются в поле: {big}."),
        "hy": (f"Նոր արժեք կստանան գրառումներից {count - big}-ը՝ {count}-ից։",
               f"Դաշտում չտեղավորվող հաշվարկված արժեքներ՝ {big}։"),
    }
    for language, sentences in shown.items():
        admin_web.post("/language", {"language": language, "next": "/"})
        page = admin_web.post("/structure/invoice_lines/fields/net", form).get_data(as_text=True)
        for sentence in sentences:
            assert sentence in page, language
