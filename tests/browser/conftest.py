"""Browser tests: a real server on 127.0.0.1 and Debian's Chromium driven by Playwright.

The server is the app in a thread (werkzeug's ``make_server``) on a free port, on a
SQLite database holding the sales CRM and its demo records. Each test gets a fresh
browser context (its own cookies) and leaves a screenshot in ``artifacts/``.

``RECORDBASE_TEST_SLOW_SCRIPTS=1.5`` makes the server answer every script that many
seconds late: a test that acts on a page reached by a click before the page's scripts
run (a race that shows only now and then on a loaded machine) then fails every time.
After such a click, wait for ``page.wait_for_load_state("load")``: deferred scripts
have run by the load event.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import request
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect, sync_playwright
from werkzeug.serving import make_server

from conftest import ADMIN_PASSWORD
from recordbase import configio
from recordbase.app import create_app
from recordbase.runtime import Runtime, create_system_tables

CRM = Path(__file__).resolve().parents[2] / "sample_configs" / "sales_crm"
CHROMIUM = os.environ.get("RECORDBASE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.browser


def _late_scripts(seconds: float) -> None:
    if request.path.endswith(".js"):
        time.sleep(seconds)


@contextlib.contextmanager
def serve_crm(folder: Path) -> Iterator[tuple[str, Runtime]]:
    """The sales CRM with its demo data in ``folder``, served on 127.0.0.1 by a thread."""
    app = create_app(
        {"DATABASE_URL": f"sqlite:///{folder / 'rb.sqlite3'}", "PASSWORD_HASH_PROFILE": "cheapest"}
    )
    rt: Runtime = app.extensions["recordbase"]
    late = float(os.environ.get("RECORDBASE_TEST_SLOW_SCRIPTS", "0") or 0)
    if late > 0:
        app.before_request(functools.partial(_late_scripts, late))
    create_system_tables(rt.engine)
    configio.apply_config(rt, configio.load_config(CRM))
    configio.load_demo_data(rt, CRM, user_id=None)
    rt.users.create("admin", ADMIN_PASSWORD, role="admin", name="Ada Admin")
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}", rt
    finally:
        httpd.shutdown()
        thread.join(10)
        httpd.server_close()
        rt.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_crm(tmp_path_factory.mktemp("browser")) as (url, _rt):
        yield url


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: apt-get install -y chromium")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_context(chromium: Browser) -> BrowserContext:
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(10_000)
    return context


@pytest.fixture
def context(chromium: Browser) -> Iterator[BrowserContext]:
    ctx = new_context(chromium)
    try:
        yield ctx
    finally:
        ctx.close()


def sign_in(page: Page, server: str) -> None:
    page.goto(server + "/login")
    page.get_by_label("Login").fill("admin")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server + "/")


@pytest.fixture
def page(context: BrowserContext, server: str) -> Page:
    page = context.new_page()
    sign_in(page, server)
    return page


@pytest.fixture
def shot(artifacts_dir: Path, request: pytest.FixtureRequest):
    """Save a full-page screenshot under artifacts/ named after the test."""

    def take(page: Page, suffix: str = "") -> Path:
        name = request.node.name.replace("/", "_") + (f"-{suffix}" if suffix else "")
        path = artifacts_dir / f"browser-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def open_menu(page: Page, name: str) -> Locator:
    """Open the top bar's menu whose summary reads ``name`` (Settings, More, Directories,
    or the user's name) with the mouse; the menu (its ``details``) is returned."""
    menu = page.locator("header.topbar details.menu", has=page.locator("summary", has_text=name))
    if menu.get_attribute("open") is None:
        menu.locator("summary").click()
    expect(menu).to_have_attribute("open", "")
    return menu


def choose_language(page: Page, code: str) -> None:
    """Switch the interface language through the user menu of the top bar."""
    menu = page.locator("header.topbar details.user-menu")
    if menu.get_attribute("open") is None:
        menu.locator("summary").click()
    menu.locator("#language-choice").select_option(code)
    menu.locator("form", has=page.locator("#language-choice")).locator("button").click()
    expect(page.locator("html")).to_have_attribute("lang", code)
    # the new page's deferred scripts (the designer's keys, pickers) run before its load
    # event: a key pressed earlier would reach a page that does not listen yet
    page.wait_for_load_state("load")
