"""A record card's Print menu and batch print from a list: only what the user may print."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from pypdf import PdfReader

from recordbase.printing.configfiles import import_templates
from recordbase.records.query import ListQuery
from recordbase.runtime import Runtime

from .conftest import CRM, Browser


@pytest.fixture
def prints(crm: Flask) -> Flask:
    rt: Runtime = crm.extensions["recordbase"]
    import_templates(rt.prints, CRM, user_id=None)
    return crm


def _ids(app: Flask, count: int) -> list[int]:
    rt: Runtime = app.extensions["recordbase"]
    items = rt.records.list_page("invoices", ListQuery(limit=count)).items
    return [int(i["id"]) for i in items]


def _pages(content: bytes) -> int:
    return len(PdfReader(io.BytesIO(content)).pages)


def test_the_card_offers_the_entitys_templates_in_every_format(
    prints: Flask, user_web: Browser
) -> None:
    rid = _ids(prints, 1)[0]
    card = user_web.get(f"/r/invoices/{rid}").get_data(as_text=True)
    start = card.index('id="print-menu"')
    menu = card[start:card.index("</details>", start)]
    assert "Счёт на оплату" in menu
    assert "Акт" in menu
    assert "Реестр счетов" not in menu  # a list printout is not a record's
    pdf_link = re.search(r'href="(/print/invoices/\d+/payment_invoice\?format=pdf[^"]*)"', menu)
    assert pdf_link is not None
    document = user_web.get(pdf_link.group(1).replace("&amp;", "&"))
    assert document.status_code == 200
    assert document.mimetype == "application/pdf"
    assert document.headers["Content-Disposition"].startswith("attachment")
    html = user_web.get(f"/print/invoices/{rid}/payment_invoice?format=html")
    assert html.mimetype == "text/html"
    assert "sandbox" in html.headers["Content-Security-Policy"]
    assert user_web.get(f"/print/invoices/{rid}/nothing?format=pdf").status_code == 404
    assert user_web.get(f"/print/invoices/{rid}/act?format=exe").status_code == 422
    new = user_web.get("/r/invoices/new").get_data(as_text=True)
    assert 'id="print-menu"' not in new


def test_a_word_template_is_offered_as_a_word_download(prints: Flask, user_web: Browser) -> None:
    from docx import Document

    rt: Runtime = prints.extensions["recordbase"]
    document = Document()
    document.add_paragraph("Счёт {{ record.number }}")
    out = io.BytesIO()
    document.save(out)
    rt.prints.save_docx("invoices", "word_invoice", "Счёт (Word)", out.getvalue(), user_id=None)
    rid = _ids(prints, 1)[0]
    card = user_web.get(f"/r/invoices/{rid}").get_data(as_text=True)
    assert f"/print/invoices/{rid}/word_invoice?format=docx&amp;download=1" in card
    filled = user_web.get(f"/print/invoices/{rid}/word_invoice?format=docx&download=1")
    assert filled.status_code == 200
    assert filled.mimetype.endswith("wordprocessingml.document")


def test_without_the_print_right_there_is_no_menu_and_no_document(
    prints: Flask, user_web: Browser
) -> None:
    rt: Runtime = prints.extensions["recordbase"]
    rt.access.set_permission("user", "invoices", {"actions": ["read", "update"]})
    rid = _ids(prints, 1)[0]
    card = user_web.get(f"/r/invoices/{rid}").get_data(as_text=True)
    assert 'id="print-menu"' not in card
    listing = user_web.get("/r/invoices/").get_data(as_text=True)
    assert "Print selected" not in listing
    assert user_web.get(f"/print/invoices/{rid}/act?format=pdf").status_code == 403
    batch = user_web.post("/print/invoices/batch", [("ids", str(rid)), ("template", "act")])
    assert batch.status_code == 403


def test_batch_print_makes_one_pdf_of_the_selected_records(
    prints: Flask, user_web: Browser
) -> None:
    listing = user_web.get("/r/invoices/").get_data(as_text=True)
    assert 'formaction="/print/invoices/batch"' in listing
    assert '<option value="act">' in listing
    ids = _ids(prints, 3)
    response = user_web.post(
        "/print/invoices/batch", [*(("ids", str(i)) for i in ids), ("template", "act")]
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/pdf"
    assert _pages(response.data) == 3
    register = user_web.post(
        "/print/invoices/batch", [*(("ids", str(i)) for i in ids), ("template", "register")]
    )
    assert register.status_code == 200
    assert _pages(register.data) == 1


def test_batch_print_refuses_with_sentences(prints: Flask, user_web: Browser) -> None:
    none = user_web.post("/print/invoices/batch", [("template", "act")])
    assert none.status_code == 422
    assert "Choose the records to print first." in none.get_data(as_text=True)
    many = user_web.post(
        "/print/invoices/batch", [*(("ids", str(i)) for i in range(1, 502)), ("template", "act")]
    )
    assert many.status_code == 422
    assert "At most 500 records can be printed at once" in many.get_data(as_text=True)
    rid = _ids(prints, 1)[0]
    unknown = user_web.post("/print/invoices/batch", [("ids", str(rid)), ("template", "x")])
    assert unknown.status_code == 404
    missing = user_web.post("/print/invoices/batch", [("ids", "999999"), ("template", "act")])
    assert missing.status_code == 404
    junk = user_web.post("/print/invoices/batch", [("ids", "1;drop"), ("template", "act")])
    assert junk.status_code == 422
