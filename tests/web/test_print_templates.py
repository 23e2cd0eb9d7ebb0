"""The print-template editor: pages, saving with line-numbered errors, previews, versions,
Word uploads; refused to non-admins; hostile templates answered with sentences, never a 500."""

from __future__ import annotations

import io

import pytest
from flask import Flask

from recordbase.printing.configfiles import import_templates
from recordbase.runtime import Runtime

from .conftest import CRM, Browser

EDITOR = "/print-templates/invoices"
BODY = "<h1>Счёт {{ record.number }}</h1>\n<p>{{ record.client.name }}</p>\n"


@pytest.fixture
def prints(crm: Flask) -> Flask:
    rt: Runtime = crm.extensions["recordbase"]
    import_templates(rt.prints, CRM, user_id=None)
    return crm


def _invoice(app: Flask) -> int:
    from recordbase.records.query import ListQuery

    rt: Runtime = app.extensions["recordbase"]
    return int(rt.records.list_page("invoices", ListQuery(limit=1)).items[0]["id"])


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(content)).pages)


def _form(record: int, body: str = BODY, **extra: str) -> dict[str, str]:
    return {"name": "memo", "label": "Memo", "body": body, "css": "h1 { color: #222; }",
            "scope": "record", "locale": "ru", "page_size": "A5", "orientation": "portrait",
            "margin_top": "10", "margin_right": "10", "margin_bottom": "10",
            "margin_left": "15", "record": str(record), **extra}


def _create(web: Browser) -> None:
    created = web.post(f"{EDITOR}/", {"name": "memo", "label": "Memo", "scope": "record"})
    assert created.status_code == 303, created.get_data(as_text=True)
    assert created.headers["Location"].endswith(f"{EDITOR}/memo?msg=created")


def test_the_editor_lists_creates_saves_and_keeps_versions(
    prints: Flask, admin_web: Browser
) -> None:
    index = admin_web.get("/print-templates/").get_data(as_text=True)
    assert 'href="/print-templates/invoices/"' in index
    listing = admin_web.get(f"{EDITOR}/").get_data(as_text=True)
    assert "Счёт на оплату" in listing
    assert "generic_record" in listing
    _create(admin_web)
    page = admin_web.get(f"{EDITOR}/memo").get_data(as_text=True)
    assert 'id="t-body"' in page
    assert 'name="body"' in page
    assert "codemirror/overlay.js" in page
    assert "print_editor.js" in page
    assert 'data-snippet="{{ record.number }}"' in page
    assert 'data-snippet="{{ money(record.total) }}"' in page
    assert "{% for line in record.lines %}" in page  # child-table lines as a loop
    rid = _invoice(prints)
    saved = admin_web.post(f"{EDITOR}/memo", _form(rid))
    assert saved.status_code == 303, saved.get_data(as_text=True)
    page = admin_web.get(f"{EDITOR}/memo").get_data(as_text=True)
    assert "&lt;p&gt;{{ record.client.name }}" in page
    assert "version 2" in page
    assert 'name="page_size"' in page
    assert '<option selected>A5</option>' in page
    assert page.count('name="revision"') == 1  # the older version can be gone back to
    back = admin_web.post(f"{EDITOR}/memo/revert", {"revision": "1"})
    assert back.status_code == 303
    page = admin_web.get(f"{EDITOR}/memo").get_data(as_text=True)
    assert "version 3" in page
    assert "Reverted to revision 1." in page
    assert "&lt;p&gt;{{ record.client.name }}" not in page
    renamed = admin_web.post(f"{EDITOR}/memo", _form(rid, name="memo_two"))
    assert renamed.headers["Location"].endswith(f"{EDITOR}/memo_two?msg=saved")
    assert admin_web.get(f"{EDITOR}/memo").status_code == 404
    refused = admin_web.post(f"{EDITOR}/memo_two/delete", {})
    assert refused.status_code == 422
    deleted = admin_web.post(f"{EDITOR}/memo_two/delete", {"confirm": "yes"})
    assert deleted.status_code == 303
    assert admin_web.get(f"{EDITOR}/memo_two").status_code == 404


@pytest.mark.parametrize(
    ("body", "line", "sentence"),
    [
        ("<p>\n{% for %}\n</p>", 2, "Syntax error"),
        ("<p>\n\n{{ nonsense }}</p>", 3, "&#39;nonsense&#39; is not defined"),
        ("<p>{{ record.totl }}</p>", 1, "has no field &#39;totl&#39;"),
        ("<p>\n{{ record.total|nope }}</p>", 2, "No filter named &#39;nope&#39;"),
    ],
)
def test_a_template_error_is_a_sentence_with_its_line_and_nothing_is_saved(
    prints: Flask, admin_web: Browser, body: str, line: int, sentence: str
) -> None:
    _create(admin_web)
    response = admin_web.post(f"{EDITOR}/memo", _form(_invoice(prints), body))
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was saved." in text
    assert sentence in text
    assert f'data-line="{line}"' in text
    assert f"Line {line}" in text
    assert "version 1" in text  # still the first version
    assert any(w in text for w in ("{% for %}", "nonsense", "totl", "nope"))  # typed text stays


def test_hostile_and_oversized_templates_are_refused(prints: Flask, admin_web: Browser) -> None:
    _create(admin_web)
    rid = _invoice(prints)
    escape = admin_web.post(f"{EDITOR}/_check",
                            _form(rid, "<p>\n{{ ''.__class__.__mro__[1].__subclasses__() }}"))
    assert escape.status_code == 422
    assert escape.json["ok"] is False
    assert escape.json["problems"][0]["line"] == 2
    config = admin_web.post(f"{EDITOR}/_check", _form(rid, "{{ config }}"))
    assert config.status_code == 422
    assert "config" in config.json["message"]
    loop = admin_web.post(f"{EDITOR}/_check", _form(rid, "{{ 'x' * 10**9 }}"))
    assert loop.status_code == 422
    assert "not allowed" in loop.json["message"].lower()
    big = admin_web.post(f"{EDITOR}/memo", _form(rid, "x" * 200_001))
    assert big.status_code == 422
    assert "body" in big.get_data(as_text=True)
    margin = admin_web.post(f"{EDITOR}/memo", _form(rid, margin_left="wide"))
    assert margin.status_code == 422
    assert "The left margin is a number of millimetres" in margin.get_data(as_text=True)
    ok = admin_web.post(f"{EDITOR}/_check", _form(rid))
    assert ok.status_code == 200
    assert ok.json == {"ok": True, "problems": []}


def test_previews_render_the_unsaved_template_in_frames(
    prints: Flask, admin_web: Browser
) -> None:
    _create(admin_web)
    rid = _invoice(prints)
    html = admin_web.post(f"{EDITOR}/_preview?format=html", _form(rid))
    assert html.status_code == 200
    assert html.mimetype == "text/html"
    assert "<h1>Счёт" in html.get_data(as_text=True)
    assert "sandbox" in html.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in html.headers["Content-Security-Policy"]
    assert html.headers["X-Frame-Options"] == "SAMEORIGIN"
    pdf = admin_web.post(f"{EDITOR}/_preview?format=pdf", _form(rid))
    assert pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("inline")
    assert "Счёт" in pdf_text(pdf.data)
    broken = admin_web.post(f"{EDITOR}/_preview?format=pdf", _form(rid, "<p>\n{% if %}"))
    assert broken.status_code == 422
    assert broken.mimetype == "text/html"
    assert "Line 2" in broken.get_data(as_text=True)
    assert broken.headers["X-Frame-Options"] == "SAMEORIGIN"
    saved = admin_web.get(f"{EDITOR}/payment_invoice/preview?record={rid}&format=pdf")
    assert saved.status_code == 200
    assert saved.mimetype == "application/pdf"
    no_record = admin_web.post(f"{EDITOR}/_preview?format=pdf", {**_form(rid), "record": ""})
    assert no_record.status_code == 422
    missing = admin_web.post(f"{EDITOR}/_preview?format=html", _form(999_999))
    assert missing.status_code == 404


def test_word_templates_upload_as_versions(prints: Flask, admin_web: Browser) -> None:
    from docx import Document

    document = Document()
    document.add_paragraph("Счёт {{ record.number }}")
    out = io.BytesIO()
    document.save(out)
    upload = admin_web.post(
        f"{EDITOR}/_docx",
        [("name", "word_invoice"), ("label", "Счёт (Word)"),
         ("file", (io.BytesIO(out.getvalue()), "invoice.docx"))],
        content_type="multipart/form-data",
    )
    assert upload.status_code == 303, upload.get_data(as_text=True)
    listing = admin_web.get(f"{EDITOR}/").get_data(as_text=True)
    assert "Счёт (Word)" in listing
    assert "Word document" in listing
    bad = admin_web.post(
        f"{EDITOR}/_docx",
        [("name", "broken"), ("file", (io.BytesIO(b"not a zip"), "x.docx"))],
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422
    assert "not a Word document" in bad.get_data(as_text=True)


def test_only_administrators_edit_and_unknown_names_are_404(
    prints: Flask, admin_web: Browser, user_web: Browser
) -> None:
    for url in ("/print-templates/", f"{EDITOR}/", f"{EDITOR}/payment_invoice"):
        response = user_web.get(url)
        assert response.status_code == 403
        assert "Only an administrator may change print templates." in response.get_data(
            as_text=True)
    assert user_web.post(f"{EDITOR}/_check", _form(_invoice(prints))).status_code == 403
    assert user_web.post(f"{EDITOR}/payment_invoice", _form(1)).status_code == 403
    assert admin_web.get("/print-templates/nothing/").status_code == 404
    assert admin_web.get(f"{EDITOR}/nothing").status_code == 404
    assert admin_web.get("/print-templates/invoice_lines/").status_code == 404
    assert admin_web.get(f"{EDITOR}/generic_record").status_code == 404
