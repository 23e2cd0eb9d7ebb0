"""The top bar signed in as the administrator: one row at 1280 px and at tablet width in
English, Russian and Armenian, and every entry of its menus reachable by keyboard only."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from .conftest import sign_in

pytestmark = pytest.mark.browser

SECTIONS = ("Clients", "Contacts", "Events", "Products", "Contracts", "Invoices", "Payments")
SETTINGS = {"en": "Settings", "ru": "Настройки", "hy": "Կարգավորումներ"}
MORE = {"en": "More", "ru": "Ещё", "hy": "Ավելին"}
ADMIN_ENTRIES = {
    "en": ("Structure", "Print templates", "Administration"),
    "ru": ("Структура", "Печатные формы", "Администрирование"),
    "hy": ("Կառուցվածք", "Տպագրական ձևանմուշներ", "Կառավարում"),
}


def _boxes(page: Page) -> tuple[dict[str, float], list[dict[str, float]]]:
    """The bar's box and the boxes of everything shown in it (links and summaries)."""
    bar = page.locator("header.topbar").bounding_box()
    assert bar is not None
    shown = page.locator(
        "header.topbar > .brand, header.topbar [data-section-links] > li,"
        " header.topbar details.menu:not([hidden]) > summary"
    )
    boxes = [b for b in (shown.nth(i).bounding_box() for i in range(shown.count())) if b]
    return bar, boxes


def _tab_to(page: Page, target: Locator, limit: int = 40) -> None:
    """Press Tab from the top of the page until ``target`` has the focus."""
    page.locator("body").focus()
    for _press in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{target} was not reached with {limit} presses of Tab")


def _focused_text(page: Page) -> str:
    text: str = page.evaluate("document.activeElement.textContent.trim()")
    return text


@pytest.mark.parametrize("width", [1280, 768])
@pytest.mark.parametrize("language", ["en", "ru", "hy"])
def test_the_top_bar_is_one_row_and_its_menus_work_by_keyboard(
    chromium: Browser, server: str, shot: Any, language: str, width: int
) -> None:
    context = chromium.new_context(viewport={"width": width, "height": 800}, locale="en-US")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        sign_in(page, server)
        context.add_cookies([{"name": "rb_lang", "value": language, "url": server}])
        page.goto(server + "/r/clients/")
        expect(page.locator("html")).to_have_attribute("lang", language)

        bar, boxes = _boxes(page)
        tallest = max(b["height"] for b in boxes)
        assert bar["height"] <= tallest + 20, f"the bar is {bar['height']} px high: two rows"
        tops = {round(b["y"] + b["height"] / 2) for b in boxes}
        assert max(tops) - min(tops) <= 4, f"not one row: centres at {sorted(tops)}"
        assert page.evaluate("document.documentElement.scrollWidth") <= width

        # every section is in the bar or under More, in order
        sections = page.locator("header.topbar [data-section-links] > li > a")
        more = page.locator("header.topbar details[data-more]")
        in_more = more.locator("ul > li > a")
        names = sections.all_inner_texts() + (in_more.all_text_contents())
        assert tuple(n.strip() for n in names) == SECTIONS
        if in_more.count():
            summary = more.locator("summary")
            _tab_to(page, summary)
            page.keyboard.press("Enter")
            expect(more).to_have_attribute("open", "")
            for name in names[sections.count():]:
                page.keyboard.press("Tab")
                assert _focused_text(page) == name.strip()
            page.keyboard.press("Escape")
            expect(more).not_to_have_attribute("open", "")
            expect(summary).to_be_focused()

        # the administration entries: keyboard only
        settings = page.locator("header.topbar details.admin-menu")
        summary = settings.locator("summary")
        expect(summary).to_have_text(SETTINGS[language])
        _tab_to(page, summary)
        page.keyboard.press("Enter")
        expect(settings).to_have_attribute("open", "")
        for entry in ADMIN_ENTRIES[language]:
            page.keyboard.press("Tab")
            assert _focused_text(page) == entry
        shot(page, "settings-open")
        page.keyboard.press("Escape")
        expect(settings).not_to_have_attribute("open", "")
        expect(summary).to_be_focused()
        page.keyboard.press(" ")
        expect(settings).to_have_attribute("open", "")
        for _entry in ADMIN_ENTRIES[language]:
            page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        expect(page).to_have_url(server + "/admin/users")
        page.wait_for_load_state("load")  # app.js, which closes menus on Escape, has run

        # the user menu: account, language, sign out
        user = page.locator("header.topbar details.user-menu")
        _tab_to(page, user.locator("summary"))
        page.keyboard.press("Enter")
        expect(user.get_by_role("link")).to_be_visible()
        page.keyboard.press("Tab")
        expect(user.get_by_role("link")).to_be_focused()
        page.keyboard.press("Tab")
        expect(user.locator("#language-choice")).to_be_focused()
        expect(user.get_by_role("button")).to_have_count(2)
        shot(page, "user-menu")
        page.keyboard.press("Escape")
        expect(user).not_to_have_attribute("open", "")
    finally:
        context.close()


def test_sections_that_do_not_fit_go_under_more_and_come_back(page: Page, server: str,
                                                              shot: Any) -> None:
    page.set_viewport_size({"width": 640, "height": 800})
    page.goto(server + "/r/invoices/")
    more = page.locator("header.topbar details[data-more]")
    expect(more).to_be_visible()
    more.locator("summary").click()
    expect(more.get_by_role("link", name="Invoices")).to_be_visible()
    expect(more.locator("summary")).to_have_class("current")
    shot(page, "narrow")
    page.mouse.click(400, 500)  # a click elsewhere closes the menu
    expect(more).not_to_have_attribute("open", "")
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(more).to_be_hidden()
    links = page.locator("header.topbar [data-section-links] > li > a")
    expect(links).to_have_count(len(SECTIONS))
    shot(page, "wide")
