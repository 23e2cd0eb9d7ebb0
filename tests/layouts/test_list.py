"""The list view takes its default columns, order, widths and sort from the list layout."""

from __future__ import annotations

import re

from flask import Flask

from recordbase.records.query import ListQuery
from recordbase.runtime import Runtime
from web.conftest import Browser, admin_web, crm  # noqa: F401 (fixtures)


def _rt(app: Flask) -> Runtime:
    rt: Runtime = app.extensions["recordbase"]
    return rt


def _headers(html: str) -> list[tuple[str, str | None]]:
    """(label, width) of each field column of the list table, in order."""
    head = re.search(r"<thead>.*?</thead>", html, re.S)
    assert head is not None
    cells = re.findall(r'<th scope="col"([^>]*)>(.*?)</th>', head.group(0), re.S)
    out = []
    for attrs, inner in cells[1:]:  # the first is "#"
        width = re.search(r'width="(\d+)"', attrs)
        label = re.sub(r"<[^>]+>|[▲▼↕]", "", inner).strip()
        out.append((label, width.group(1) if width else None))
    return out


def _save_list(app: Flask) -> None:
    rt = _rt(app)
    f = {x.name: x.id for x in rt.cache.current().entity("products").fields}
    rt.layouts.save("products", "list", {
        "format": 1, "kind": "list",
        "columns": [{"field": f["price"], "width": 140}, {"field": f["name"], "width": None}],
        "sort": [{"field": f["price"], "direction": "desc"}],
    }, actor=None)


def test_without_a_list_layout_the_list_is_as_before(crm: Flask, admin_web: Browser) -> None:  # noqa: F811
    html = admin_web.get("/r/products/").get_data(as_text=True)
    labels = [label for label, _w in _headers(html)]
    entity = _rt(crm).cache.current().entity("products")
    assert labels == [f.label for f in entity.fields[:8]]


def test_the_list_layout_gives_columns_widths_and_sort(crm: Flask, admin_web: Browser) -> None:  # noqa: F811
    _save_list(crm)
    entity = _rt(crm).cache.current().entity("products")
    price, name = entity.field("price"), entity.field("name")
    html = admin_web.get("/r/products/").get_data(as_text=True)
    assert _headers(html) == [(price.label, "140"), (name.label, None)]
    assert 'aria-sort="descending"' in html
    body = html[html.index("<tbody>"):]
    shown = [int(i) for i in re.findall(r'<td><a href="/r/products/(\d+)">', body)]
    expected = _rt(crm).records.list_page("products", ListQuery(sort=("-price",), limit=50))
    assert len(shown) > 2
    assert shown == [item["id"] for item in expected.items]


def test_the_url_still_overrides_the_list_layout(crm: Flask, admin_web: Browser) -> None:  # noqa: F811
    _save_list(crm)
    entity = _rt(crm).cache.current().entity("products")
    html = admin_web.get("/r/products/?cols=name&sort=name").get_data(as_text=True)
    assert [label for label, _w in _headers(html)] == [entity.field("name").label]
    assert 'aria-sort="ascending"' in html
