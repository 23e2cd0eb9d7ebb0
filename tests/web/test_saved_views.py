"""Saved views are editable: rename, new filter/sort/columns saved over the view, personal
or shared, delete; only by their owner or an administrator."""

from __future__ import annotations

import re

from flask import Flask

from recordbase.runtime import Runtime

from .conftest import Browser


def view_id(response) -> int:  # type: ignore[no-untyped-def]
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    found = re.search(r"view=(\d+)", response.headers["Location"])
    assert found
    return int(found.group(1))


def stored(crm: Flask, vid: int) -> tuple[str, str, bool]:
    import sqlalchemy as sa

    from recordbase import systables

    rt: Runtime = crm.extensions["recordbase"]
    t = systables.saved_views
    with rt.engine.connect() as conn:
        row = conn.execute(sa.select(t.c.name, t.c.query, t.c.shared).where(t.c.id == vid)).one()
    return str(row.name), str(row.query), bool(row.shared)


def test_the_owner_saves_over_renames_and_shares(
    crm: Flask, user_web: Browser, admin_web: Browser
) -> None:
    vid = view_id(user_web.post("/r/clients/views", {"name": "Legal", "query":
                                                      "filter[kind][in]=legal"}))
    page = user_web.get(f"/r/clients/?view={vid}").get_data(as_text=True)
    # the save form offers to replace the open view, with its name filled in
    assert re.search(rf'<option value="{vid}" selected>Replace “Legal”</option>', page)
    assert 'id="view-name" name="name" maxlength="200" required value="Legal"' in page
    again = view_id(user_web.post("/r/clients/views", {
        "replace": str(vid), "name": "Legal, by name",
        "query": "filter[kind][in]=legal&sort=-name&columns=name,inn", "shared": "true"}))
    assert again == vid
    assert stored(crm, vid) == ("Legal, by name",
                                "filter[kind][in]=legal&sort=-name&columns=name,inn", True)
    shown = user_web.get(f"/r/clients/?view={vid}").get_data(as_text=True)
    assert 'aria-sort="descending"' in shown
    # shared: the administrator sees it; made personal again: no longer
    assert "Legal, by name" in admin_web.get("/r/clients/").get_data(as_text=True)
    user_web.post("/r/clients/views", {"replace": str(vid), "name": "Legal, by name",
                                       "query": "filter[kind][in]=legal"})
    assert stored(crm, vid)[2] is False
    assert "Legal, by name" not in admin_web.get("/r/clients/").get_data(as_text=True)
    assert admin_web.get(f"/r/clients/?view={vid}").status_code == 404


def test_only_the_owner_or_an_administrator_changes_a_view(
    crm: Flask, user_web: Browser, admin_web: Browser
) -> None:
    vid = view_id(admin_web.post("/r/clients/views", {"name": "Ours", "query": "q=a",
                                                       "shared": "true"}))
    page = user_web.get(f"/r/clients/?view={vid}").get_data(as_text=True)
    assert "Replace “Ours”" not in page  # not offered to replace
    refused = user_web.post("/r/clients/views", {"replace": str(vid), "name": "Mine now",
                                                 "query": "q=b"})
    assert refused.status_code == 403
    assert "Only the owner of the view “Ours” or an administrator" in refused.get_data(
        as_text=True)
    assert stored(crm, vid) == ("Ours", "q=a", True)
    assert user_web.post(f"/r/clients/views/{vid}/delete").status_code == 403
    # the administrator may change a view somebody else owns
    users_view = view_id(user_web.post("/r/clients/views", {"name": "U", "query": "q=u",
                                                            "shared": "true"}))
    view_id(admin_web.post("/r/clients/views", {"replace": str(users_view), "name": "U2",
                                                "query": "q=u2", "shared": "true"}))
    assert stored(crm, users_view) == ("U2", "q=u2", True)
    assert admin_web.post(f"/r/clients/views/{users_view}/delete").status_code == 303


def test_bad_changes_are_sentences(crm: Flask, user_web: Browser, admin_web: Browser) -> None:
    vid = view_id(user_web.post("/r/clients/views", {"name": "Keep", "query": "q=k"}))
    for form, status, words in (
        ({"replace": str(vid), "name": " ", "query": "q=k"}, 422, "1 to 200 characters"),
        ({"replace": str(vid), "name": "X", "query": "limit=7"}, 422, ""),
        ({"replace": "999999", "name": "X", "query": "q=k"}, 404, "no saved view"),
        ({"replace": "nope", "name": "X", "query": "q=k"}, 422, ""),
    ):
        response = user_web.post("/r/clients/views", form)
        assert response.status_code == status, (form, response.status_code)
        assert words in response.get_data(as_text=True)
    assert stored(crm, vid) == ("Keep", "q=k", False)
    # another entity's view cannot be replaced through this list
    other = view_id(user_web.post("/r/contacts/views", {"name": "C", "query": "q=c"}))
    assert user_web.post("/r/clients/views", {"replace": str(other), "name": "X",
                                              "query": "q=k"}).status_code == 404
