"""Administration in a real browser: a role and a user made on the pages, the user
signed in in a second browser context, and the admin ending that user's session."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import new_context, open_menu

pytestmark = pytest.mark.browser


def _create_role(page: Page, name: str, label: str) -> None:
    open_menu(page, "Settings").get_by_role("link", name="Administration").click()
    admin_nav = page.get_by_role("navigation", name="Administration")
    admin_nav.get_by_role("link", name="Roles").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Label", exact=True).fill(label)
    page.get_by_label("Entities without rules").select_option("none")
    page.get_by_role("button", name="Create the role").click()
    expect(page.get_by_role("status").filter(has_text="The role is created.")).to_be_visible()
    for action in ("read", "create", "change"):
        page.get_by_role("checkbox", name=f"Clients: {action}", exact=True).check()
    page.get_by_role("checkbox", name="Contacts: read", exact=True).check()
    page.get_by_role("button", name="Save the rights").click()
    expect(page.get_by_role("status").filter(has_text="The rights are saved.")).to_be_visible()
    page.get_by_role("row", name=re.compile(r"^Clients")).get_by_role("link").click()
    page.get_by_label("Which records the role works on").select_option("own")
    page.get_by_label("Other records").select_option("read")
    page.get_by_label("Owner field").select_option("manager")
    page.get_by_role("radio", name="INN / TIN: hidden").check()
    page.get_by_role("radio", name="KPP: read-only").check()
    page.get_by_role("button", name="Save the rights").click()
    expect(page.get_by_role("status").filter(has_text="The rights are saved.")).to_be_visible()


def _create_user(page: Page, login: str, name: str, role_label: str) -> str:
    page.get_by_role("navigation", name="Administration").get_by_role("link", name="Users").click()
    page.get_by_label("Login").fill(login)
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Role").select_option(label=role_label)
    page.get_by_label("Group").fill("north")
    page.get_by_role("button", name="Create the user").click()
    secret = page.locator("#one-time-password")
    expect(secret).to_be_visible()
    return secret.inner_text()


def test_a_role_and_a_user_made_on_the_pages_then_the_session_ended(
    page: Page, chromium: Browser, server: str, shot
) -> None:
    _create_role(page, "browser_manager", "Browser manager")
    shot(page, "role")
    password = _create_user(page, "bella", "Bella Browser", "Browser manager (browser_manager)")
    expect(page.get_by_role("cell", name="Bella Browser")).to_be_visible()
    shot(page, "user-created")

    other = new_context(chromium)
    try:
        bella = other.new_page()
        bella.goto(server + "/login")
        bella.get_by_label("Login").fill("bella")
        bella.get_by_label("Password").fill(password)
        bella.get_by_role("button", name="Sign in").click()
        expect(bella.get_by_role("heading", name="Welcome, Bella Browser")).to_be_visible()
        sections = bella.get_by_role("navigation", name="Sections")
        expect(sections.get_by_role("link", name="Clients")).to_be_visible()
        expect(sections.get_by_role("link", name="Invoices")).to_have_count(0)
        expect(sections.get_by_role("link", name="Administration")).to_have_count(0)
        expect(bella.locator("header.topbar .admin-menu")).to_have_count(0)
        sections.get_by_role("link", name="Clients").click()
        expect(bella.get_by_role("heading", name="Clients")).to_be_visible()
        expect(bella.get_by_role("link", name="Add: Client")).to_be_visible()
        expect(bella.get_by_role("columnheader", name="INN / TIN")).to_have_count(0)
        expect(bella.get_by_role("button", name="Delete selected")).to_have_count(0)
        bella.get_by_role("table").get_by_role("link").first.click()
        expect(bella.get_by_role("button", name="Save", exact=True)).to_have_count(0)
        expect(bella.get_by_label("INN / TIN")).to_have_count(0)
        shot(bella, "as-the-user")
        bella.goto(server + "/r/invoices/")
        expect(bella.get_by_role("alert")).to_contain_text("You may not read Invoices.")

        page.get_by_role("navigation", name="Administration").get_by_role(
            "link", name="Sessions"
        ).click()
        page.get_by_role("button", name="End the session of bella").click()
        expect(page.get_by_role("status").filter(has_text="The session is ended")).to_be_visible()
        expect(page.get_by_role("button", name="End the session of bella")).to_have_count(0)
        shot(page, "sessions")

        # bella is still on the page she had open: her next click lands on sign-in
        bella.get_by_role("navigation", name="Sections").get_by_role("link", name="Clients").click()
        expect(bella).to_have_url(re.compile(r"/login\?next="))
        expect(bella.get_by_role("heading", name="Sign in")).to_be_visible()
        shot(bella, "signed-out")
    finally:
        other.close()


def test_a_user_changes_their_password_and_makes_a_token(
    page: Page, server: str, shot
) -> None:
    page.set_viewport_size({"width": 768, "height": 1000})
    open_menu(page, "Ada Admin").get_by_role("link", name="My account").click()
    expect(page.get_by_role("heading", name=re.compile("My account"))).to_be_visible()
    page.get_by_label("Name of a new token").fill("Browser script")
    page.get_by_role("button", name="Create a token").click()
    token = page.locator("#new-token")
    expect(token).to_be_visible()
    assert len(token.inner_text()) >= 40
    page.get_by_label("Current password").fill("wrong-password-1")
    page.get_by_label("New password", exact=True).fill("password1234")
    page.get_by_label("New password again").fill("password1234")
    page.get_by_role("button", name="Change the password").click()
    expect(page.get_by_role("alert")).to_contain_text("The current password is wrong")
    expect(page.get_by_role("button", name="Revoke the token Browser script")).to_be_visible()
    shot(page)
