"""No page answers 500, whatever a browser sends: every route with malformed input."""

from __future__ import annotations

import re

from flask import Flask

from .conftest import Browser

QUERIES = [
    "",
    "filter[name][bogus]=x",
    "filter[nope][eq]=1",
    "filter[kind][in]=zzz&filter[kind][in]=legal",
    "filter[category][eq]=abc",
    "filter[date][gte]=yesterday&filter[total][lte]=1,2,3",
    "filter[name]=x&filter=1&filter[]=2",
    "sort=nope,-x,,&limit=0",
    "sort=a,b,c,d,e,f,g",
    "sort=lines",
    "limit=99999999999999999999999",
    "after=!!!&trail=a.b.~",
    "after=eyJ4IjoxfQ&trail=~",
    "q=" + "x" * 500,
    "q=%00%ff",
    "view=abc",
    "view=99999",
    "view=99999999999999999999999999",
    "cols=,,,nope&cols=name",
    "%ff=%fe",
    "next=javascript:alert(1)&msg=nope",
    "before=abc",
    "parent=-1&client=abc&date=2026-13-45",
]

FORMS = [
    {},
    {
        "name": "\x00bad",
        "version": "abc",
        "_fields": "name,kind,nope,lines,parent,category,date,lines",
        "lines.rows": "r1",
        "lines.r1.id": "x",
        "lines.r1.quantity": "many",
        "ids": "abc",
        "type": "nope",
        "options": "{not json",
        "default": "x",
        "kind": "zzz",
        "query": "filter[x][y]=1",
        "confirm": "true",
        "parent": "abc",
        "category": "-5",
        "date": "2026-02-30",
        "language": "xx",
    },
    {
        "version": "99999999999999999999999999",
        "_fields": ",".join(["x"] * 600),
        "ids": ["1", "99999999999999999999", "0", "-1"],
        "options": "[1, 2]",
        "name": "valid_name",
        "type": "link",
        "shared": "maybe",
        "on_failure": "explode",
    },
]

VALUES = {
    "entity": ["clients", "invoices", "product_categories", "invoice_lines", "nope", "x" * 300],
    "name": ["clients", "nope"],
    "record": ["1", "abc", "0", "99999999999999999999999", "-1"],
    "owner": ["contacts", "nope"],
    "field": ["client", "name", "nope"],
    "view_id": ["1", "abc"],
    "entry_id": ["1", "999999"],
    "file_id": ["1", "999999999"],
}


def _urls(rule) -> list[str]:
    urls = [rule.rule]
    for arg in rule.arguments:
        expanded = []
        for url in urls:
            for value in VALUES.get(arg, ["x"]):
                if f"<int:{arg}>" in url and not value.isdigit():
                    continue
                expanded.append(re.sub(rf"<(?:[a-z]+:)?{arg}>", value, url))
        urls = expanded
    return urls


def test_every_route_survives_malformed_input(crm: Flask, admin_web: Browser) -> None:
    rules = [
        r for r in crm.url_map.iter_rules()
        if not r.rule.startswith(("/api/", "/static/")) and r.endpoint != "static"
    ]
    assert len(rules) > 20
    failures = []
    for rule in sorted(rules, key=lambda r: r.rule):
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        for url in _urls(rule):
            for method in methods:
                for htmx in (False, True):
                    headers = {"HX-Request": "true", "HX-Target": "records-table"} if htmx else {}
                    if method == "GET":
                        for query in QUERIES:
                            response = admin_web.client.get(f"{url}?{query}", headers=headers)
                            if response.status_code >= 500:
                                failures.append((method, url, query, response.status_code))
                    else:
                        for form in FORMS:
                            response = admin_web.post(url, dict(form), headers=headers)
                            if response.status_code >= 500:
                                failures.append((method, url, form, response.status_code))
    assert failures == []


def test_anonymous_requests_never_fail_either(crm: Flask) -> None:
    client = crm.test_client()
    for rule in crm.url_map.iter_rules():
        if rule.rule.startswith(("/api/", "/static/")):
            continue
        for url in _urls(rule):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                response = client.open(url + "?" + QUERIES[1], method=method, data={"x": "1"})
                assert response.status_code < 500, (method, url)
