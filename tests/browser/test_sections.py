"""Sections in the navigation, hidden, renamed and reordered in the structure editor.

A module of its own: it changes the navigation of its server, which other journeys
click through.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_hide_rename_and_reorder_sections(page: Page, server: str, shot) -> None:
    page.goto(server + "/structure/contacts")
    page.get_by_label("Hidden from the navigation").check()
    page.get_by_role("button", name="Save the names").click()
    expect(page.locator("#messages")).not_to_be_empty()
    page.goto(server + "/structure/clients")
    page.get_by_label("Label (many), shown in the navigation").fill("Clients of the firm")
    page.get_by_label("Position in the navigation").fill("9")
    page.get_by_role("button", name="Save the names").click()
    page.goto(server + "/structure/invoices")
    page.get_by_label("Position in the navigation").fill("1")
    page.get_by_role("button", name="Save the names").click()

    menu = page.get_by_role("navigation", name="Sections")
    expect(menu.get_by_role("link", name="Contacts")).to_have_count(0)
    links = menu.locator(":scope > ul > li > a")
    expect(links.nth(0)).to_have_text("Invoices")
    expect(links.nth(1)).to_have_text("Clients of the firm")
    shot(page, "menu")

    # the hidden section is still there through links and tabs
    menu.get_by_role("link", name="Clients of the firm").click()
    expect(page.get_by_role("heading", name="Clients of the firm")).to_be_visible()
    page.locator("table.records tbody tr a").first.click()
    page.wait_for_load_state("load")  # htmx loads the tab into the card from then on
    page.get_by_role("tab", name="Contacts").click()
    panel = page.get_by_role("tabpanel")
    expect(panel.get_by_role("heading", name="Contacts")).to_be_visible()
    page.goto(server + "/r/contacts/")
    expect(page.get_by_role("heading", name="Contacts", level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/r/contacts/$"))
    shot(page)


def test_pick_several_records_in_a_card(page: Page, server: str, shot) -> None:
    page.goto(server + "/structure/events")
    form = page.locator("form", has=page.get_by_role("button", name="Add the field"))
    form.get_by_label("API name").fill("participants")
    form.get_by_label("Label", exact=True).fill("Participants")
    form.get_by_label("Type").select_option("many_to_many")
    form.get_by_label("Options (JSON)").fill('{"target": "contacts"}')
    form.get_by_role("button", name="Add the field").click()
    expect(page.locator("#messages")).not_to_be_empty()

    page.goto(server + "/r/events/")
    page.locator("table.records tbody tr a").first.click()
    search = page.get_by_role("searchbox", name="Add: Participants")
    chips = page.get_by_role("list", name="Chosen: Participants").locator("li")
    for text in ("Иванов", "Петрова", "Сафина"):
        search.fill(text)
        option = page.locator(".multi-picker .picker-results [data-pick-id]").first
        expect(option).to_be_visible()
        option.click()
    expect(chips).to_have_count(3)
    # keyboard: the last chip's remove button, then the search has the focus again
    chips.nth(2).get_by_role("button").focus()
    page.keyboard.press("Enter")
    expect(chips).to_have_count(2)
    expect(search).to_be_focused()
    shot(page, "picking")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#messages")).to_contain_text("Saved")
    expect(chips).to_have_count(2)
    expect(chips.nth(0)).to_contain_text("Иванов")
    expect(chips.nth(1)).to_contain_text("Петрова")
    shot(page)
