"""The print-template editor, a card's Print menu and batch print, in a real browser."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

pytestmark = pytest.mark.browser


def _type_at_end(page: Page, text: str) -> None:
    page.locator(".CodeMirror[data-editor-for=t-body] .CodeMirror-lines").click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


def _create_invoice_template(page: Page, server: str, name: str, label: str) -> None:
    """Create a template of invoices on the list page; its editor opens."""
    page.goto(server + "/print-templates/invoices/")
    page.get_by_label("API name").first.fill(name)
    page.get_by_label("Label").first.fill(label)
    page.get_by_role("button", name="Create the template").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(label)


def test_edit_a_template_with_live_previews(
    page: Page, server: str, shot, artifacts_dir: Path
) -> None:
    _create_invoice_template(page, server, "browser_memo", "Memo from the browser")
    editor = page.locator(".CodeMirror[data-editor-for=t-body]")
    expect(editor).to_be_visible()
    expect(editor).to_contain_text("title(record)")  # highlighted, not a bare textarea
    expect(page.locator(".CodeMirror .cm-variable, .CodeMirror .cm-tag").first).to_be_visible()

    _type_at_end(page, "\n<p class=\"who\">Client: ")
    link = page.locator("details.palette-group[data-kind=linked]").filter(has_text="Client →")
    link.locator("summary").click()
    # the first render of a server starts its print workers: give it time
    with page.expect_response(lambda r: "_preview?format=pdf" in r.url and
                              r.request.method == "POST", timeout=60_000) as pdf_response:
        link.get_by_role("button", name="Name", exact=True).click()
        page.keyboard.type("</p>")
    assert pdf_response.value.status == 200
    assert pdf_response.value.headers["content-type"] == "application/pdf"
    assert int(pdf_response.value.headers["content-length"]) > 1000
    html = page.frame_locator("iframe[name=preview-html]")
    expect(html.locator("p.who")).to_contain_text(re.compile(r"Client: \S+"))
    expect(page.locator("#preview-status")).to_have_text("The preview is up to date.")
    shot(page, "preview")
    # frames below the fold are not painted into a full-page shot: show them in the viewport
    page.locator("#preview-html").scroll_into_view_if_needed()
    page.wait_for_timeout(1500)  # the PDF viewer draws its page
    page.screenshot(path=str(artifacts_dir / "browser-print-editor-frames.png"))

    _type_at_end(page, "\n{% if %}")
    problems = page.locator("#problems")
    expect(problems).to_contain_text("Syntax error")
    expect(problems.locator(".problem-line")).to_have_text(re.compile(r"Line \d+"))
    expect(page.locator(".CodeMirror .rb-error-line")).to_have_count(1)
    shot(page, "error")

    page.keyboard.press("Shift+Home")  # delete the typed error: the marks go away with it
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    expect(problems).to_be_empty()
    expect(page.locator(".CodeMirror .rb-error-line")).to_have_count(0)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#messages")).to_contain_text("Saved.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("version 2")
    expect(page.locator("#versions tbody tr")).to_have_count(2)
    shot(page, "saved")
    page.set_viewport_size({"width": 768, "height": 1024})  # a tablet: one column
    expect(page.locator(".palette")).to_be_visible()
    box = page.locator(".CodeMirror[data-editor-for=t-body]").bounding_box()
    assert box is not None
    assert box["width"] <= 768
    shot(page, "tablet")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(server + "/r/invoices/")
    page.locator("table.records tbody a").first.click()
    menu = page.locator("#print-menu")
    menu.locator("summary").click()
    entry = menu.locator("li").filter(has_text="Memo from the browser")
    expect(entry).to_be_visible()
    shot(page, "menu")
    with page.context.expect_page() as printed:
        entry.get_by_role("link", name="Print version").click()
    expect(printed.value.locator("p.who")).to_contain_text("Client: ")


def test_a_built_in_partial_from_the_palette_prints_in_the_preview(
    page: Page, server: str, shot, artifacts_dir: Path
) -> None:
    _create_invoice_template(page, server, "browser_partials", "Partials from the palette")
    _type_at_end(page, "\n")
    partials = page.locator("details.palette-group[data-kind=partials]")
    partials.locator("summary").click()
    expect(partials.locator("summary")).to_have_text("Built-in partials")
    expect(partials.get_by_role("button")).to_have_count(4)
    partials.get_by_role("button", name="requisites", exact=True).click()  # the mouse
    _type_at_end(page, "\n")
    partials.get_by_role("button", name="signatures", exact=True).focus()
    page.keyboard.press("Enter")  # and the keyboard
    html = page.frame_locator("iframe[name=preview-html]")
    # the company card's requisites and the director's signature line, rendered
    expect(html.locator("table.rb-requisites")).to_contain_text("ИНН", timeout=60_000)
    expect(html.locator("table.rb-signatures")).to_contain_text("подпись")
    expect(page.locator("#preview-status")).to_have_text("The preview is up to date.")
    shot(page)
    page.locator("#preview-html").scroll_into_view_if_needed()  # frames: in the viewport
    page.screenshot(path=str(artifacts_dir / "browser-print-editor-partials-preview.png"))


def test_print_the_selected_records_of_a_list(page: Page, server: str, shot) -> None:
    page.goto(server + "/r/invoices/")
    boxes = page.locator('table.records tbody input[name="ids"]')
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.get_by_label("Print template").select_option(label="Record card (generic)")
    shot(page)
    bodies: list[bytes] = []

    def keep(route) -> None:  # the PDF viewer takes the stream: keep a copy of the body
        answer = route.fetch()
        assert answer.status == 200
        assert answer.headers["content-type"] == "application/pdf"
        bodies.append(answer.body())
        route.fulfill(response=answer)

    page.context.route("**/print/invoices/batch", keep)
    with page.context.expect_page() as printed:
        page.get_by_role("button", name="Print selected").click()
    printed.value.wait_for_load_state()
    page.wait_for_timeout(500)
    assert len(bodies) == 1
    assert len(PdfReader(io.BytesIO(bodies[0])).pages) == 2
