"""The journeys of the issue, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import choose_language, new_context, sign_in

pytestmark = pytest.mark.browser


def test_sign_in_and_create_a_client(page: Page, server: str, shot) -> None:
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Clients").click()
    expect(page.get_by_role("heading", name="Clients")).to_be_visible()
    page.get_by_role("link", name="Add: Client").click()
    page.get_by_label("Name", exact=True).fill("Browser Test LLC")
    page.get_by_label("INN / TIN").fill("7701234567")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#messages")).to_contain_text("Created.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Browser Test LLC")
    shot(page)


def _create_client(page: Page, server: str, name: str) -> str:
    page.goto(server + "/r/clients/new")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#messages")).to_contain_text("Created.")
    # the card's tabs load through htmx, which starts before the load event: a click on
    # a tab before it would follow the tab's link to the list instead
    page.wait_for_load_state("load")
    return page.url.split("?")[0]


def test_add_a_contact_from_the_client_card(page: Page, server: str, shot) -> None:
    card = _create_client(page, server, "Contact Holder JSC")
    tab = page.get_by_role("tab", name="Contacts")
    tab.click()
    panel = page.get_by_role("tabpanel")
    panel.get_by_role("link", name="Add: Contact").click()
    # the link to the client is filled in already
    expect(page.locator(".pick-search").first).to_have_value("Contact Holder JSC")
    page.get_by_label("Full name").fill("Irina Petrova")
    page.get_by_label("Position").fill("Chief accountant")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#messages")).to_contain_text("Created.")
    page.goto(card)
    expect(page.get_by_role("tabpanel")).to_contain_text("Irina Petrova")
    shot(page)


def test_an_invoice_with_three_lines_shows_their_sum(page: Page, server: str, shot) -> None:
    page.goto(server + "/r/invoices/new")
    search = page.get_by_role("searchbox", name="Find Client")
    search.fill("Северный")
    option = page.locator(".picker-results [data-pick-id]").first
    expect(option).to_be_visible()
    picked = option.get_attribute("data-pick-title")
    option.click()
    expect(search).to_have_value(picked or "")
    page.get_by_label("Date", exact=True).fill("2026-11-27")
    lines = [("Consulting", "2", "1500.00", "3000.00"),
             ("Delivery", "1", "700.50", "700.50"),
             ("Training", "3", "1000.00", "3000.00")]
    rows = page.locator("[data-child-table] tbody tr[data-row]")
    for index, (description, quantity, price, amount) in enumerate(lines):
        if index >= rows.count():
            page.get_by_role("button", name="Add a line").click()
        row = rows.nth(index)
        row.get_by_label("Description").fill(description)
        row.get_by_label("Quantity").fill(quantity)
        row.get_by_label("Price").fill(price)
        # the amount is computed as the user types (quantity × price), not typed
        expect(row.get_by_label("Amount")).to_have_text(f"{float(amount):,.2f}")
    total = page.locator('[data-sum-for="amount"]')
    expect(total).to_have_text("6,700.50")
    card_total = page.get_by_label("Total", exact=True)
    expect(card_total).to_have_text("6,700.50")
    shot(page, "typing")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#messages")).to_contain_text("Created.")
    expect(page.locator("[data-child-table] tbody tr[data-row]")).to_have_count(3)
    expect(total).to_have_text("6,700.50")
    expect(card_total).to_have_text("6,700.50")  # the server's value, saved
    shot(page)


def test_line_amounts_and_the_total_follow_typing(page: Page, server: str, shot) -> None:
    page.goto(server + "/r/invoices/")
    page.locator("table.records tbody tr a").first.click()
    rows = page.locator("[data-child-table] tbody tr[data-row]")
    expect(rows.first).to_be_visible()
    first = rows.first
    first.get_by_label("Quantity").fill("0,333")
    first.get_by_label("Price").fill("1.50")
    expect(first.get_by_label("Amount")).to_have_text("0.50")  # 0.4995, half up
    count = rows.count()
    sums = [page.locator('[data-sum-for="amount"]').inner_text(),
            page.get_by_label("Total", exact=True).inner_text()]
    assert sums[0] == sums[1]
    if count > 1:
        rows.nth(1).get_by_role("button", name="Remove line").click()
        expect(rows).to_have_count(count - 1)
        expect(page.get_by_label("Total", exact=True)).not_to_have_text(sums[1])
    expect(page.get_by_label("Total", exact=True)).to_have_text(
        page.locator('[data-sum-for="amount"]').inner_text())
    shot(page, "typing")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#messages")).to_contain_text("Saved")
    expect(page.get_by_label("Total", exact=True)).to_have_text(
        page.locator('[data-sum-for="amount"]').inner_text())
    expect(rows.first.get_by_label("Amount")).to_have_text("0.50")
    shot(page)


def test_search_filter_sort_and_a_saved_view(page: Page, server: str, shot) -> None:
    page.goto(server + "/r/clients/")
    page.get_by_role("searchbox", name="Search").fill("o")
    expect(page).to_have_url(re.compile(r"q=o"))
    page.get_by_text("Filters", exact=True).click()
    kind = page.get_by_role("group", name="Kind")
    kind.get_by_label("Legal entity").check()
    page.locator("details.filters").first.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"filter%5Bkind%5D%5Bin%5D=legal"))
    page.get_by_role("link", name=re.compile(r"^Name")).click()
    expect(page).to_have_url(re.compile(r"sort=name"))
    names = page.locator("table.records tbody tr td:nth-child(3)").all_inner_texts()
    assert names == sorted(names, key=str.casefold)
    page.get_by_text("Save this view").click()
    page.get_by_label("Name of the view").fill("Legal clients with o")
    page.get_by_role("button", name="Save the view").click()
    expect(page.locator("#messages")).to_contain_text("The view is saved.")
    page.get_by_role("link", name="All", exact=True).click()
    page.get_by_role("link", name="Legal clients with o").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Legal clients with o")
    again = page.locator("table.records tbody tr td:nth-child(3)").all_inner_texts()
    assert again == names
    shot(page)


def test_a_new_field_is_filled_then_renamed_without_a_restart(
    page: Page, server: str, shot
) -> None:
    page.goto(server + "/structure/clients")
    form = page.locator("#add-field-form")
    form.get_by_label("API name").fill("loyalty_code")
    form.get_by_label("Label").fill("Loyalty code")
    form.get_by_label("Type").select_option("text")
    form.get_by_role("button", name="Add the field").click()
    expect(page.locator("#messages")).to_contain_text("The structure is changed.")
    card = _create_client(page, server, "Loyal Customer Ltd")
    page.get_by_label("Loyalty code").fill("GOLD-7")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#messages")).to_contain_text("Saved.")
    page.goto(server + "/structure/clients/fields/loyalty_code")
    page.get_by_label("API name").fill("loyalty_tier")
    page.get_by_label("Label", exact=True).fill("Loyalty tier")
    page.get_by_role("button", name="Preview the change").click()
    expect(page.get_by_role("heading", name="Preview of the change")).to_be_visible()
    shot(page, "preview")
    page.get_by_role("button", name="Confirm the change").click()
    expect(page.locator("#messages")).to_contain_text("The structure is changed.")
    page.goto(card)
    expect(page.get_by_label("Loyalty tier")).to_have_value("GOLD-7")
    shot(page)


def test_a_stale_edit_shows_the_conflict_and_keeps_the_typing(
    page: Page, server: str, chromium: Browser, shot
) -> None:
    card = _create_client(page, server, "Twice Edited LLC")
    other = new_context(chromium)
    try:
        second = other.new_page()
        sign_in(second, server)
        second.goto(card)
        page.goto(card)
        page.get_by_label("Phone").fill("+7 495 000-00-01")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator("#messages")).to_contain_text("Saved.")
        second.get_by_label("Phone").fill("+7 495 999-99-99")
        second.get_by_role("button", name="Save", exact=True).click()
        conflict = second.locator("#conflict")
        expect(conflict).to_contain_text("was changed by Ada Admin")
        expect(conflict.get_by_role("link", name=re.compile("Reload"))).to_be_visible()
        expect(second.get_by_label("Phone")).to_have_value("+7 495 999-99-99")
        shot(second)
    finally:
        other.close()


def test_tablet_width_in_armenian(page: Page, server: str, shot) -> None:
    page.set_viewport_size({"width": 800, "height": 1000})
    choose_language(page, "hy")
    page.goto(server + "/r/invoices/")
    expect(page.get_by_role("button", name="Կիրառել").first).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    shot(page, "list")
    assert overflow <= 0
    page.goto(server + "/r/invoices/1")
    expect(page.get_by_role("button", name="Պահպանել")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    shot(page, "card")


def test_keyboard_only_sign_in_and_search(context, server: str, shot) -> None:
    page = context.new_page()
    page.goto(server + "/login")
    # Chromium applies autofocus at a rendering step that may come after the load event:
    # typing before it lands would type into the page, not the login field
    expect(page.locator("#login")).to_be_focused()
    page.keyboard.type("admin")
    page.keyboard.press("Tab")
    from conftest import ADMIN_PASSWORD

    page.keyboard.type(ADMIN_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(server + "/")
    page.goto(server + "/r/clients/")
    page.get_by_role("searchbox", name="Search").focus()
    page.keyboard.type("Невский")
    expect(page.locator("table.records tbody tr")).to_have_count(1)
    focused = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert focused != "none"
    shot(page)
