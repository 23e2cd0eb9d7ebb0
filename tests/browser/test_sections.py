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
    page.get_by_role("tab", name="Contacts").click()
    panel = page.get_by_role("tabpanel")
    expect(panel.get_by_role("heading", name="Contacts")).to_be_visible()
    page.goto(server + "/r/contacts/")
    expect(page.get_by_role("heading", name="Contacts", level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/r/contacts/$"))
    shot(page)
