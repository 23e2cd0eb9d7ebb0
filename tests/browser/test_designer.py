"""The form designer in a real browser: mouse drag and drop, the keyboard alternative,
tablet width; then the saved layout on the record card, measured from the DOM."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from recordbase.runtime import Runtime

from .conftest import choose_language, serve_crm, sign_in

pytestmark = pytest.mark.browser

ENTITY = "clients"
#: the card the tests start from: the fields not in it wait in the palette
START = {"Requisites": [("name", 0, 0, 6), ("kind", 0, 6, 6), ("inn", 1, 0, 6)]}
MOVED = ("Bank", "BIC", "Settlement account")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Runtime]]:
    with serve_crm(tmp_path_factory.mktemp("designer")) as served:
        yield served


@pytest.fixture
def server(served: tuple[str, Runtime]) -> str:
    """The designer's server with the clients' card reset to ``START`` and no drafts."""
    url, rt = served
    ent = rt.cache.current().entity(ENTITY)
    ids = {f.name: f.id for f in ent.fields}
    elements = [
        {"id": f"e{ids[name]}", "type": "field", "field": ids[name], "row": row, "col": col,
         "width": width}
        for name, row, col, width in START["Requisites"]
    ]
    layout = {"format": 1, "kind": "form", "tabs": [{"id": "main", "label": "Main", "sections": [
        {"id": "req", "label": "Requisites", "elements": elements}]}]}
    rt.layouts.save(ENTITY, "form", layout, actor=None)
    for user in rt.users.list_users():
        for kind in ("form", "list"):
            rt.layouts.discard_draft(ENTITY, kind, int(user["id"]))
    return url


def a_client(served: tuple[str, Runtime]) -> int:
    from recordbase.records.query import ListQuery

    _url, rt = served
    return int(rt.records.list_page(ENTITY, ListQuery(limit=1)).items[0]["id"])


# --- helpers -------------------------------------------------------------------------------


def box(locator: Locator) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not on the screen"
    return found


Point = Callable[[], tuple[float, float]]


def drag(page: Page, source: Locator, target: Point, *, grip: float = 8) -> None:
    """A real mouse drag: press near the source's left edge, move in steps to ``target()``
    (measured once the drag has begun, as the page may have moved), release there."""
    source.scroll_into_view_if_needed()
    start = box(source)
    page.mouse.move(start["x"] + grip, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + grip + 12, start["y"] + start["height"] / 2 + 6, steps=4)
    x, y = target()
    page.mouse.move(x, y, steps=15)
    x, y = target()
    page.mouse.move(x + 1, y, steps=3)
    # SortableJS's pointer mode looks at the pointer every 50 ms; a person rests longer
    page.wait_for_timeout(150)
    page.mouse.up()


def column_point(row: Locator, col: int, *, grip: float = 8) -> Point:
    """Where to release a dragged element held ``grip`` px from its left edge so that its
    left edge lands in column ``col`` (0-based) of ``row``."""

    def point() -> tuple[float, float]:
        area = box(row)
        return area["x"] + area["width"] * col / 12 + grip + 4, area["y"] + area["height"] / 2

    return point


def element(page: Page, name: str) -> Locator:
    return page.locator(".d-el", has=page.locator(".d-el-name", has_text=name)).first


def palette_item(page: Page, name: str) -> Locator:
    return page.locator(".d-item", has=page.locator(".d-item-name").get_by_text(name,
                                                                               exact=True))


def settled(page: Page, message: str) -> None:
    idle(page)
    expect(page.locator("#designer-live")).to_contain_text(message)


def idle(page: Page) -> None:
    """Every operation sent has been answered (the workspace is not aria-busy)."""
    expect(page.locator("#designer")).not_to_have_attribute("aria-busy", "true")


def section(page: Page, name: str) -> Locator:
    return page.locator(".d-section", has=page.locator(f'input[value="{name}"]'))


def check_positions(boxes: dict[str, dict[str, float]]) -> None:
    """Bank and BIC share the first row (Bank left of BIC); Settlement account is below,
    starting at column 5 of 12 and 8 columns wide against Bank's 6."""
    bank, bic, account = (boxes[name] for name in MOVED)
    assert abs(bank["y"] - bic["y"]) < 3
    assert bank["x"] < bic["x"]
    assert account["y"] > bank["y"] + bank["height"] / 2
    assert bank["x"] < account["x"] < bic["x"]
    ratio = account["width"] / bank["width"]
    assert 8 / 6 * 0.85 < ratio < 8 / 6 * 1.15, ratio


def check_designer_after_reload(page: Page, server: str) -> None:
    page.goto(f"{server}/design/{ENTITY}")
    expect(page.get_by_text("Version", exact=False).first).to_be_visible()
    page.get_by_role("tab", name="Bank details").click()
    check_positions({name: box(element(page, name)) for name in MOVED})
    expect(palette_item(page, "INN / TIN")).to_have_count(1)
    for name in MOVED:
        expect(palette_item(page, name)).to_have_count(0)


def check_card(page: Page, server: str, record: int) -> None:
    page.goto(f"{server}/r/{ENTITY}/{record}")
    expect(page.get_by_label("INN / TIN")).to_have_count(0)
    tab = page.get_by_role("tab", name="Bank details")
    if tab.count():
        tab.first.click()
    boxes = {}
    for name in MOVED:
        control = page.get_by_label(name, exact=True)
        expect(control).to_be_visible()
        cell = control.locator("xpath=ancestor::*[@data-element or contains(@class,'control')][1]")
        boxes[name] = box(cell)
    check_positions(boxes)


# --- the journeys --------------------------------------------------------------------------


def test_mouse_journey_new_tab_section_place_move_widen_remove_save(
    page: Page, server: str, served: tuple[str, Runtime], shot: Any
) -> None:
    page.goto(f"{server}/design/{ENTITY}")
    page.get_by_placeholder("Name of the new tab").fill("Bank details")
    page.get_by_role("button", name="Add a tab").click()
    settled(page, "A tab is added.")
    expect(page.get_by_role("tab", name="Bank details")).to_have_attribute("aria-selected", "true")
    panel = page.locator(".d-panel:not([hidden])")
    panel.get_by_placeholder("Heading of the new section").fill("Accounts")
    panel.get_by_role("button", name="Add a section").click()
    settled(page, "A section is added.")
    accounts = section(page, "Accounts")
    expect(accounts).to_be_visible()

    # three fields from the palette: Bank and BIC side by side, Settlement account below
    drag(page, palette_item(page, "Bank"), column_point(accounts.locator(".d-newrow"), 0))
    settled(page, "Bank is placed.")
    drag(page, palette_item(page, "BIC"), column_point(accounts.locator(".d-row").first, 6))
    settled(page, "BIC is placed.")
    drag(page, palette_item(page, "Settlement account"),
         column_point(accounts.locator(".d-newrow"), 0))
    settled(page, "Settlement account is placed.")
    expect(accounts.locator(".d-row:not(.d-newrow)")).to_have_count(2)

    # move it to another column, then widen it by its handle from 6 to 8 columns
    account = element(page, "Settlement account")
    row = accounts.locator(".d-row").nth(1)
    drag(page, account, column_point(row, 3))
    settled(page, "Settlement account is moved.")
    expect(element(page, "Settlement account")).to_have_attribute("data-col", "3")
    handle = element(page, "Settlement account").locator(".d-resize")
    grip = box(handle)
    area = box(row)
    page.mouse.move(grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2)
    page.mouse.down()
    page.mouse.move(area["x"] + area["width"] * 10.5 / 12, grip["y"] + 4, steps=10)
    page.mouse.move(area["x"] + area["width"] * 11 / 12, grip["y"] + 4, steps=4)
    page.mouse.up()
    settled(page, "Settlement account is resized.")
    widened = element(page, "Settlement account")
    expect(widened).to_have_attribute("data-width", "8")
    expect(widened).to_have_attribute("data-col", "3")

    # a field of the first tab back to the palette
    page.get_by_role("tab", name="Main").click()
    drag(page, element(page, "INN / TIN"), center(page.locator(".d-palette-list")))
    settled(page, "INN / TIN is removed")
    expect(palette_item(page, "INN / TIN")).to_have_count(1)
    page.get_by_role("tab", name="Bank details").click()
    shot(page, "draft")

    # the live preview with a chosen record lays the card out by the draft
    picker = page.get_by_label("Record to preview with")
    picker.select_option(index=1)
    page.get_by_role("button", name="Preview the draft").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Preview")
    expect(page.locator(".d-preview")).to_contain_text("Accounts")
    expect(page.locator(".d-preview").get_by_label("INN / TIN")).to_have_count(0)
    shot(page, "preview")
    page.get_by_role("link", name="Back to the designer").click()

    page.get_by_role("button", name="Save the layout").click()
    expect(page.locator(".d-work")).to_contain_text("The layout is saved as a new version.")
    check_designer_after_reload(page, server)
    shot(page, "saved")
    check_card(page, server, a_client(served))
    shot(page, "card")


def center(locator: Locator) -> Point:
    def point() -> tuple[float, float]:
        area = box(locator)
        return area["x"] + area["width"] / 2, area["y"] + min(area["height"] / 2, 60)

    return point


def press_on(page: Page, locator: Locator, key: str) -> None:
    locator.focus()
    page.keyboard.press(key)


def test_keyboard_journey_does_the_same_without_a_mouse(
    page: Page, server: str, served: tuple[str, Runtime], shot: Any
) -> None:
    page.goto(f"{server}/design/{ENTITY}")
    page.get_by_label("Name of the new tab").focus()
    page.keyboard.type("Bank details")
    page.keyboard.press("Enter")
    settled(page, "A tab is added.")
    focused = page.locator(":focus")
    expect(focused).to_have_text("Bank details")
    panel = page.locator(".d-panel:not([hidden])")
    panel.get_by_label("Heading of the new section").focus()
    page.keyboard.type("Accounts")
    page.keyboard.press("Enter")
    settled(page, "A section is added.")
    target = page.get_by_label("Place into")
    value = target.locator("option", has_text="Bank details › Accounts").get_attribute("value")
    target.select_option(value)

    for name in MOVED:
        press_on(page, page.get_by_role("button", name=f"Place {name}", exact=True), "Enter")
        settled(page, f"{name} is placed.")
        expect(page.locator(":focus")).to_have_attribute("data-id",
                                                         element(page, name).get_attribute(
                                                             "data-id") or "")
        page.get_by_label("Place into").select_option(value)
    # Bank row 1, BIC row 2, Settlement row 3: BIC up beside Bank (nearest free column)
    press_on(page, element(page, "BIC"), "ArrowUp")
    settled(page, "BIC is moved.")
    expect(page.locator(":focus .d-el-name")).to_have_text("BIC")
    expect(element(page, "BIC")).to_have_attribute("data-col", "6")
    account = element(page, "Settlement account")
    for step in range(1, 4):
        press_on(page, element(page, "Settlement account"), "ArrowRight")
        expect(account).to_have_attribute("data-col", str(step))
        settled(page, f"Settlement account is moved. Tab Bank details, section Accounts, "
                      f"row 2, column {step + 1},")
    expect(page.locator("#designer-live")).to_contain_text("row 2, column 4")
    for width in (7, 8):
        press_on(page, element(page, "Settlement account"), "+")
        expect(account).to_have_attribute("data-width", str(width))
        settled(page, f"{width} of 12 columns wide")
    expect(page.locator(":focus .d-el-name")).to_have_text("Settlement account")
    # the properties panel's buttons do the same: Narrower, then Wider again
    press_on(page, page.get_by_role("button", name="Narrower"), "Enter")
    expect(account).to_have_attribute("data-width", "7")
    press_on(page, page.get_by_role("button", name="Wider"), "Enter")
    expect(element(page, "Settlement account")).to_have_attribute("data-width", "8")

    press_on(page, page.get_by_role("tab", name="Main"), "Enter")
    press_on(page, element(page, "INN / TIN"), "Delete")
    settled(page, "INN / TIN is removed")
    shot(page, "draft")
    press_on(page, page.get_by_role("button", name="Save the layout"), "Enter")
    expect(page.locator(".d-work")).to_contain_text("The layout is saved as a new version.")
    check_designer_after_reload(page, server)
    shot(page, "saved")
    check_card(page, server, a_client(served))
    shot(page, "card")


def test_the_record_card_shows_the_designed_layout(
    page: Page, server: str, served: tuple[str, Runtime], shot: Any
) -> None:
    _url, rt = served
    ids = {f.name: f.id for f in rt.cache.current().entity(ENTITY).fields}
    layout = rt.layouts.current(ENTITY, "form")
    assert layout is not None
    body = layout.body
    body["tabs"][0]["sections"][0]["elements"] = [
        e for e in body["tabs"][0]["sections"][0]["elements"] if e["field"] != ids["inn"]]
    placed = [("bank_name", 0, 0, 6), ("bic", 0, 6, 6), ("account", 1, 3, 8)]
    body["tabs"].append({"id": "bank", "label": "Bank details", "sections": [
        {"id": "accounts", "label": "Accounts", "elements": [
            {"id": name, "type": "field", "field": ids[name], "row": row, "col": col,
             "width": width} for name, row, col, width in placed]}]})
    rt.layouts.save(ENTITY, "form", body, actor=None)
    check_card(page, server, a_client(served))
    shot(page)


def test_dragging_between_tabs_and_reordering_sections(page: Page, server: str, shot: Any
                                                       ) -> None:
    page.goto(f"{server}/design/{ENTITY}")
    page.get_by_placeholder("Name of the new tab").fill("Extra")
    page.get_by_role("button", name="Add a tab").click()
    settled(page, "A tab is added.")
    page.get_by_role("tab", name="Main").click()
    extra = page.get_by_role("tab", name="Extra")
    # dropped on the tab itself: to the end of the tab's first section
    drag(page, element(page, "Kind"), center(extra))
    settled(page, "Kind is moved to another section.")
    expect(page.get_by_role("tab", name="Extra")).to_have_attribute("aria-selected", "true")
    expect(page.locator(".d-panel:not([hidden]) .d-el")).to_have_text(re.compile("Kind"))
    # hovering a tab opens it, so the drop lands on a row inside it
    page.get_by_role("tab", name="Main").click()
    name = element(page, "Name")
    start = box(name)
    page.mouse.move(start["x"] + 8, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + 30, start["y"] + 30, steps=4)
    tab = box(page.get_by_role("tab", name="Extra"))
    page.mouse.move(tab["x"] + tab["width"] / 2, tab["y"] + tab["height"] / 2, steps=10)
    expect(page.locator(".d-panel:not([hidden])")).to_have_attribute("data-tab", re.compile("t"))
    row = page.locator(".d-panel:not([hidden]) .d-row").first
    x, y = column_point(row, 6)()
    page.mouse.move(x, y, steps=10)
    page.mouse.move(x + 1, y, steps=2)
    page.mouse.up()
    settled(page, "Name is moved.")
    expect(element(page, "Name")).to_have_attribute("data-col", "6")
    expect(element(page, "Name")).to_have_attribute("data-row", "0")
    # a section dragged by its handle above the other one
    panel = page.locator(".d-panel:not([hidden])")
    panel.get_by_placeholder("Heading of the new section").fill("Second")
    panel.get_by_role("button", name="Add a section").click()
    settled(page, "A section is added.")
    handles = page.locator(".d-panel:not([hidden]) .d-handle")
    first = box(page.locator(".d-panel:not([hidden]) .d-section").first)
    drag(page, handles.nth(1), lambda: (first["x"] + 30, first["y"] + 8), grip=4)
    settled(page, "The section is moved.")
    expect(page.locator(".d-panel:not([hidden]) .d-section").first).to_have_attribute(
        "aria-label", "Section Second")
    shot(page)


def test_tablet_width_shows_every_part_and_drags(
    chromium: Browser, server: str, shot: Any
) -> None:
    context = chromium.new_context(viewport={"width": 768, "height": 1024}, locale="en-US")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        sign_in(page, server)
        page.goto(f"{server}/design/{ENTITY}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 768, f"the page is {width} px wide at 768 px"
        for part in (".d-palette", ".d-canvas", ".d-props"):
            assert box(page.locator(part))["width"] > 150
        requisites = section(page, "Requisites")
        drag(page, palette_item(page, "Bank"), column_point(requisites.locator(".d-newrow"), 6))
        settled(page, "Bank is placed.")
        bank = element(page, "Bank")
        expect(bank).to_have_attribute("data-col", "6")
        press_on(page, bank, "ArrowLeft")
        settled(page, "Bank is moved.")
        expect(element(page, "Bank")).to_have_attribute("data-col", "5")
        shot(page)
    finally:
        context.close()


@pytest.mark.parametrize(("language", "palette"), [("ru", "Палитра"), ("hy", "Գունապնակ")],
                         ids=["ru", "hy"])
def test_the_designer_speaks_russian_and_armenian_at_tablet_width(
    chromium: Browser, server: str, shot: Any, language: str, palette: str
) -> None:
    context = chromium.new_context(viewport={"width": 768, "height": 1024}, locale="en-US")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        sign_in(page, server)
        page.goto(f"{server}/design/{ENTITY}")
        choose_language(page, language)
        expect(page.locator("#d-palette-heading")).to_have_text(palette)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 768, f"the page is {width} px wide at 768 px"
        press_on(page, element(page, "INN / TIN"), "ArrowRight")
        idle(page)
        expect(element(page, "INN / TIN")).to_have_attribute("data-col", "1")
        shot(page)
    finally:
        context.close()


def test_list_layout_columns_by_drag_and_keyboard(page: Page, server: str, shot: Any) -> None:
    page.goto(f"{server}/design/{ENTITY}/list")
    names = page.locator(".d-column-name")
    first = names.nth(0).inner_text()
    second = names.nth(1).inner_text()
    handle = page.locator(".d-column .d-handle").nth(0)
    second_row = page.locator(".d-column").nth(1)

    def below_the_second() -> tuple[float, float]:
        area = box(second_row)
        return area["x"] + 20, area["y"] + area["height"] * 0.8

    drag(page, handle, below_the_second, grip=4)
    expect(page.locator("#designer-live")).to_contain_text("The list layout is changed.")
    expect(names.nth(0)).to_have_text(second)
    expect(names.nth(1)).to_have_text(first)
    press_on(page, page.get_by_role("button", name=f"Up {first}"), "Enter")
    idle(page)
    expect(names.nth(0)).to_have_text(first)
    page.get_by_label("Field", exact=True).select_option(label="Website")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(names.last).to_have_text("Website")
    page.get_by_label("Width of Website in pixels (empty: automatic)").fill("240")
    page.get_by_role("button", name="Set the width Website").click()
    idle(page)
    expect(page.get_by_label("Width of Website in pixels (empty: automatic)")).to_have_value("240")
    page.get_by_label("Sort by").select_option(label="Name")
    page.get_by_label("Direction").select_option("desc")
    page.get_by_role("button", name="Set the sort").click()
    expect(page.get_by_label("Direction")).to_have_value("desc")
    page.get_by_role("button", name="Save the layout").click()
    expect(page.locator(".d-work")).to_contain_text("The layout is saved as a new version.")
    shot(page)


def test_versions_compare_and_revert(page: Page, server: str, shot: Any) -> None:
    page.goto(f"{server}/design/{ENTITY}")
    drag(page, element(page, "INN / TIN"), center(page.locator(".d-palette-list")))
    settled(page, "INN / TIN is removed")
    page.get_by_label("Note about this version").fill("without INN")
    page.get_by_role("button", name="Save the layout").click()
    page.get_by_role("link", name="Versions").click()
    rows = page.locator("tbody tr")
    expect(rows.first).to_contain_text("admin")
    expect(rows.first).to_contain_text("without INN")
    page.get_by_role("button", name="Compare the chosen versions").click()
    expect(page.locator(".d-diff")).to_contain_text("Removed INN / TIN")
    shot(page, "compare")
    older = rows.nth(1).locator("td").first.inner_text()
    rows.nth(1).get_by_role("button", name=f"Revert to version {older}").click()
    expect(page.locator(".d-work")).to_contain_text("The earlier version is now the layout")
    expect(element(page, "INN / TIN")).to_be_visible()
    shot(page)



def test_a_card_without_a_required_field_is_warned_about_before_and_after_saving(
    page: Page, server: str, served: tuple[str, Runtime], shot: Any
) -> None:
    _url, rt = served
    page.goto(f"{server}/design/{ENTITY}")
    warning = page.locator("#d-unreachable")
    expect(warning).to_have_count(0)
    press_on(page, element(page, "Name"), "Delete")
    settled(page, "Name is removed")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("New records cannot be made from this card.")
    expect(warning.get_by_role("listitem")).to_have_text(["Name"])
    shot(page, "draft")
    before = rt.layouts.current(ENTITY, "form")
    assert before is not None
    # Save asks for the tick box first: the browser keeps the form until it is ticked
    page.get_by_role("button", name="Save the layout").click()
    confirm = page.get_by_label("Save it all the same")
    assert confirm.evaluate("box => box.validity.valueMissing")
    expect(page.locator(".d-work")).not_to_contain_text("The layout is saved")
    confirm.check()
    page.get_by_role("button", name="Save the layout").click()
    expect(page.locator(".d-work")).to_contain_text("The layout is saved as a new version.")
    after = rt.layouts.current(ENTITY, "form")
    assert after is not None
    assert after.number == before.number + 1
    expect(warning).to_contain_text("Name")  # the saved layout says so too
    shot(page, "saved")
