"""The record card renders exactly the form layout, and enforces it on save."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask

from layouts.conftest import element
from recordbase.runtime import Runtime
from recordbase.schema.ops_field import ChangeField, RemoveField, RestoreField
from web.conftest import Browser, admin_web, card_form, crm, user_web  # noqa: F401 (fixtures)


class Placed(HTMLParser):
    """The layout's structure from a card's HTML: tabs, sections, rows and cells in order."""

    def __init__(self) -> None:
        super().__init__()
        self.tabs: list[str] = []
        self.sections: list[str] = []
        self.rows = 0
        self.cells: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        classes = a.get("class", "").split()
        if "layout-panel" in classes:
            self.tabs.append(a["data-tab"])
        elif "layout-section" in classes:
            self.sections.append(f"{self.tabs[-1]}/{a['data-section']}")
        elif "layout-row" in classes:
            self.rows += 1
        elif "layout-cell" in classes:
            col = next(int(c[3:]) - 1 for c in classes if c.startswith("lc-"))
            width = next(int(c[3:]) for c in classes if c.startswith("lw-"))
            self.cells.append({"id": a["data-element"], "kind": a["data-kind"], "row": self.rows,
                               "col": col, "width": width, "section": self.sections[-1]})


def placed(html: str) -> Placed:
    parser = Placed()
    parser.feed(html)
    return parser


def rt_of(app: Flask) -> Runtime:
    rt: Runtime = app.extensions["recordbase"]
    return rt


def ids(app: Flask, entity: str) -> dict[str, int]:
    return {f.name: f.id for f in rt_of(app).cache.current().entity(entity).fields}


def client_card(app: Flask) -> dict[str, Any]:
    f = ids(app, "clients")
    contact = ids(app, "contacts")["client"]
    main = [
        element("name", field=f["name"], width=8),
        element("kind", field=f["kind"], col=8, width=4),
        element("phone", field=f["phone"], row=1, width=6, label="Office phone",
                placeholder="+7 …", help="Reception desk"),
        element("email", field=f["email"], row=1, col=6, width=6, required=True),
        element("note", "text", row=2, width=12, text="Checked by the accountant."),
    ]
    requisites = [
        element("bank", "heading", width=12, text="Bank"),
        element("inn", field=f["inn"], row=1, width=4, readonly=True),
        element("bic", field=f["bic"], row=1, col=4, width=4),
        element("div", "divider", row=2, width=12),
        element("website", field=f["website"], row=3, width=6, hidden=True),
    ]
    return {
        "format": 1,
        "kind": "form",
        "tabs": [
            {"id": "main", "label": "Main", "sections": [
                {"id": "who", "label": "Who", "elements": main}]},
            {"id": "req", "label": "Requisites", "sections": [
                {"id": "bank", "label": "", "elements": requisites},
                {"id": "linked", "label": "People", "collapsed": True, "elements": [
                    element("people", "related", width=12, entity="contacts", field=contact)]},
            ]},
        ],
    }


@pytest.fixture
def designed(crm: Flask) -> Flask:  # noqa: F811
    rt_of(crm).layouts.save("clients", "form", client_card(crm), actor=None)
    return crm


def test_the_card_renders_exactly_the_layout(designed: Flask, admin_web: Browser) -> None:  # noqa: F811
    html = admin_web.get("/r/clients/1").get_data(as_text=True)
    got = placed(html)
    assert got.tabs == ["main", "req"]
    assert got.sections == ["main/who", "req/bank", "req/linked"]
    cells = [(c["id"], c["kind"], c["col"], c["width"]) for c in got.cells]
    assert cells == [
        ("name", "field", 0, 8), ("kind", "field", 8, 4),
        ("phone", "field", 0, 6), ("email", "field", 6, 6),
        ("note", "text", 0, 12),
        ("bank", "heading", 0, 12),
        ("inn", "field", 0, 4), ("bic", "field", 4, 4),
        ("div", "divider", 0, 12),
        ("people", "related", 0, 12),
    ]
    rows = [c["row"] for c in got.cells]
    assert rows[0] == rows[1] < rows[2] == rows[3] < rows[4]
    # two tabs: a tab bar (shown by the script), a tab panel each
    assert html.count('role="tabpanel" aria-labelledby="lt-') == 2
    assert '<button type="button" role="tab" id="lt-req"' in html
    # overrides
    assert '<label for="f-phone">Office phone</label>' in html
    assert 'placeholder="+7 …"' in html
    assert "Reception desk" in html
    assert re.search(r'<label for="f-email">[^<]*</label> <span class="required-mark"', html)
    assert "Checked by the accountant." in html
    assert '<details class="layout-section" data-section="linked">' in html
    assert "/r/clients/1/related/contacts/client" in html
    # read-only in this form: a value, not a control; not placed or hidden: not there at all
    assert 'name="inn"' not in html
    assert 'name="website"' not in html
    assert 'name="notes"' not in html
    fields = re.search(r'name="_fields" value="([^"]*)"', html)
    assert fields is not None
    assert fields.group(1).split(",") == ["name", "kind", "phone", "email", "bic"]


def test_the_automatic_card_shows_every_field(crm: Flask, admin_web: Browser) -> None:  # noqa: F811
    html = admin_web.get("/r/clients/1").get_data(as_text=True)
    got = placed(html)
    assert got.tabs == ["main"]
    shown = [c["id"] for c in got.cells if c["kind"] == "field"]
    assert shown == [f"f{i}" for i in ids(crm, "clients").values()]
    assert 'role="tabpanel" aria-labelledby="lt-' not in html  # one tab: no tab bar
    assert html.count('role="tab" id="tab-') >= 2  # linked records as tabs, as before


def test_read_only_and_hidden_in_the_form_are_not_written(
    designed: Flask, admin_web: Browser  # noqa: F811
) -> None:
    rt = rt_of(designed)
    before, _ = rt.records.get("clients", 1)
    form = card_form(admin_web.get("/r/clients/1").get_data(as_text=True))
    form["_fields"] += ",inn,website,notes"  # a hand-made post naming them anyway
    response = admin_web.post("/r/clients/1", {
        **form, "name": before["name"], "kind": before["kind"], "email": "a@example.com",
        "inn": "0000000000", "website": "https://evil.example", "notes": "overwritten",
    })
    assert response.status_code == 303, response.get_data(as_text=True)
    after, _ = rt.records.get("clients", 1)
    assert after["email"] == "a@example.com"
    assert after["inn"] == before["inn"]
    assert after["website"] == before["website"]
    assert after["notes"] == before["notes"]


def test_required_in_this_form_is_enforced(designed: Flask, admin_web: Browser) -> None:  # noqa: F811
    form = card_form(admin_web.get("/r/clients/new").get_data(as_text=True))
    refused = admin_web.post("/r/clients/new", {**form, "name": "Needs Mail", "kind": "legal",
                                                "email": ""})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'id="f-email-error">A value is required.' in page
    # left out of the form altogether: still required
    form["_fields"] = "name,kind"
    again = admin_web.post("/r/clients/new", {**form, "name": "Needs Mail", "kind": "legal"})
    assert again.status_code == 422
    made = admin_web.post("/r/clients/new", {**form, "name": "Has Mail", "kind": "legal",
                                             "email": "has@example.com"})
    assert made.status_code == 303


def test_a_renamed_field_stays_in_place(designed: Flask, admin_web: Browser) -> None:  # noqa: F811
    rt = rt_of(designed)
    rt.schema.execute(ChangeField("clients", "bic", {"name": "swift", "label": "SWIFT code"}))
    html = admin_web.get("/r/clients/1").get_data(as_text=True)
    got = placed(html)
    assert [c["id"] for c in got.cells][6:8] == ["inn", "bic"]
    assert '<label for="f-swift">SWIFT code</label>' in html


def test_a_removed_field_is_skipped_and_comes_back(designed: Flask, admin_web: Browser) -> None:  # noqa: F811
    rt = rt_of(designed)
    rt.schema.execute(RemoveField("clients", "phone"))
    response = admin_web.get("/r/clients/1")
    assert response.status_code == 200
    got = [c["id"] for c in placed(response.get_data(as_text=True)).cells]
    assert "phone" not in got
    assert "email" in got
    assert rt.layouts.effective("clients")["tabs"][0]["sections"][0]["elements"][2]["id"] == "phone"
    assert admin_web.get("/r/clients/new").status_code == 200
    rt.schema.execute(RestoreField("clients", "phone"))
    again = [c["id"] for c in placed(admin_web.get("/r/clients/1").get_data(as_text=True)).cells]
    assert again[:4] == ["name", "kind", "phone", "email"]


def test_role_layout_first_and_field_rights_win(
    designed: Flask, admin_web: Browser, user_web: Browser  # noqa: F811
) -> None:
    rt = rt_of(designed)
    f = ids(designed, "clients")
    small = {"format": 1, "kind": "form", "tabs": [{"id": "t", "label": "Short", "sections": [
        {"id": "s", "label": "", "elements": [
            element("name", field=f["name"], width=6),
            element("phone", field=f["phone"], col=6, width=6),
            element("email", field=f["email"], row=1, width=6)]}]}]}
    rt.layouts.save("clients", "form", small, actor=None, role="user")
    rt.access.set_permission("user", "clients", {
        "actions": ["read", "create", "update", "delete", "export", "print", "import"],
        "fields": {"phone": "hidden", "email": "read_only"},
    })
    mine = user_web.get("/r/clients/1").get_data(as_text=True)
    assert [c["id"] for c in placed(mine).cells] == ["name", "email"]
    assert 'name="email"' not in mine  # read-only for this role: a value, not a control
    theirs = placed(admin_web.get("/r/clients/1").get_data(as_text=True))
    assert theirs.tabs == ["main", "req"]


def test_a_tree_card_keeps_placed_under(crm: Flask, admin_web: Browser) -> None:  # noqa: F811
    tree = [e for e in rt_of(crm).cache.current().live_entities() if e.tree]
    assert tree, "the CRM has a tree directory"
    html = admin_web.get(f"/r/{tree[0].name}/new").get_data(as_text=True)
    assert '<select id="f-parent" name="parent">' in html
    assert "parent" in card_form(html)["_fields"].split(",")


def png() -> bytes:
    """A 1x1 white PNG, made here so it is a real image."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
            + chunk(b"IEND", b""))


def test_images_spacers_and_a_lone_related_list(crm: Flask, admin_web: Browser) -> None:  # noqa: F811
    rt = rt_of(crm)
    logo = rt.files.store("logo.png", png(), user_id=None)
    f = ids(crm, "clients")
    body = {"format": 1, "kind": "form", "tabs": [{"id": "t", "label": "Main", "sections": [
        {"id": "s", "label": "Card", "elements": [
            element("logo", "image", width=3, file=logo.id, alt="Company logo"),
            element("gap", "spacer", col=3, width=3),
            element("name", field=f["name"], col=6, width=6),
            element("people", "related", row=1, width=6, entity="contacts",
                    field=ids(crm, "contacts")["client"]),
        ]}]}]}
    rt.layouts.save("clients", "form", body, actor=None)
    html = admin_web.get("/r/clients/1").get_data(as_text=True)
    assert [(c["id"], c["col"], c["width"]) for c in placed(html).cells] == [
        ("logo", 0, 3), ("gap", 3, 3), ("name", 6, 6), ("people", 0, 6)]
    src = f"/r/files/{logo.id}?inline=1"
    assert f'<img class="layout-image" src="{src}" alt="Company logo">' in html
    image = admin_web.get(src)
    assert image.status_code == 200
    assert image.mimetype == "image/png"
    # a related list that is not one of several full-width ones: loaded on its own, no tabs
    assert 'class="related-list" hx-get="/r/clients/1/related/contacts/client"' in html
    assert 'role="tab" id="tab-' not in html
    # a new record has no linked records yet: the list is left out
    new = placed(admin_web.get("/r/clients/new").get_data(as_text=True))
    assert [c["id"] for c in new.cells] == ["logo", "gap", "name"]
