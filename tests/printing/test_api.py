"""The print API: templates for everyone to read and admins to change; documents."""

from __future__ import annotations

import io

from flask import Flask
from flask.testing import FlaskClient

from recordbase.app import runtime_of

from .conftest import invoice_id, pdf_pages, pdf_text

BASE = "/api/v1/entities/invoices/templates"


def test_templates_list_read_create_and_update(
    crm_app: Flask, client: FlaskClient, admin: dict[str, str], user: dict[str, str]
) -> None:
    listed = client.get(BASE, headers=user)
    assert listed.status_code == 200
    assert "payment_invoice" in {t["name"] for t in listed.json["items"]}
    body = {"name": "memo", "label": "Memo", "body": "<p>{{ record.number }}</p>", "css": "",
            "page": {"size": "A5", "orientation": "portrait", "margins": 10}}
    refused = client.post(BASE, json=body, headers=user)
    assert refused.status_code == 403
    created = client.post(BASE, json=body, headers=admin)
    assert created.status_code == 201, created.json
    assert created.headers["Location"].endswith("/templates/memo")
    bad = client.put(f"{BASE}/memo", json={**body, "body": "<p>\n{{ record.totl }}</p>"},
                     headers=admin)
    assert bad.status_code == 422
    assert bad.mimetype == "application/problem+json"
    assert bad.json["line"] == 2
    assert bad.json["detail"] == "Line 2: Invoice (invoices) has no field 'totl'."
    syntax = client.put(f"{BASE}/memo", json={**body, "body": "{% for %}"}, headers=admin)
    assert syntax.status_code == 422
    assert syntax.json["line"] == 1
    saved = client.put(f"{BASE}/memo", json={**body, "label": "Memo 2"}, headers=admin)
    assert saved.json["revision"] == 2
    revisions = client.get(f"{BASE}/memo/revisions", headers=user).json["items"]
    assert [r["number"] for r in revisions] == [2, 1]
    back = client.post(f"{BASE}/memo/revert", json={"revision": 1}, headers=admin)
    assert back.json["label"] == "Memo"


def test_documents_by_record_batch_and_list(
    crm_app: Flask, client: FlaskClient, user: dict[str, str], admin: dict[str, str]
) -> None:
    record_id = invoice_id(runtime_of(crm_app))
    pdf = client.get(f"/api/v1/records/invoices/{record_id}/print/payment_invoice",
                     headers=user)
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("inline")
    assert "Счёт на оплату" in pdf_text(pdf.data)
    html = client.get(
        f"/api/v1/records/invoices/{record_id}/print/payment_invoice?format=html", headers=user
    )
    assert html.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert html.headers["Content-Type"] == "text/html; charset=utf-8"
    wrong = client.get(
        f"/api/v1/records/invoices/{record_id}/print/payment_invoice?format=docx", headers=user
    )
    assert wrong.status_code == 422
    missing = client.get("/api/v1/records/invoices/999999/print/payment_invoice", headers=user)
    assert missing.status_code == 404
    unknown = client.get(f"/api/v1/records/invoices/{record_id}/print/nothing", headers=user)
    assert unknown.status_code == 404
    batch = client.get(
        f"/api/v1/records/invoices/print/act?ids={record_id},{record_id + 1}", headers=user
    )
    assert pdf_pages(batch.data) == 2
    register = client.get("/api/v1/records/invoices/print/register?sort=-date", headers=user)
    assert register.status_code == 200, register.json
    assert "Реестр счетов" in pdf_text(register.data)
    preview = client.post(f"{BASE}/preview?ids={record_id}&format=html", headers=admin,
                          json={"body": "<b>{{ record.client.name }}</b>"})
    assert "ООО «Северный ветер»" in preview.data.decode()
    hostile = client.post(f"{BASE}/preview?ids={record_id}", headers=admin,
                          json={"body": "{{ ''.__class__ }}"})
    assert hostile.status_code == 422
    assert "unsafe" in hostile.json["detail"]
    assert client.get(BASE, headers=user).status_code == 200  # the server is still up


def test_word_templates_upload_and_fill(
    crm_app: Flask, client: FlaskClient, admin: dict[str, str], user: dict[str, str]
) -> None:
    from docx import Document

    document = Document()
    document.add_paragraph("{{ record.number }} — {{ record.client.name }}")
    raw = io.BytesIO()
    document.save(raw)
    upload = client.put(
        f"{BASE}/word/docx", headers=admin,
        data={"file": (io.BytesIO(raw.getvalue()), "invoice.docx"), "label": "Word"},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 200, upload.json
    assert upload.json["kind"] == "docx"
    record_id = invoice_id(runtime_of(crm_app))
    filled = client.get(f"/api/v1/records/invoices/{record_id}/print/word?format=docx",
                        headers=user)
    assert filled.status_code == 200
    assert filled.headers["Content-Disposition"].startswith("attachment")
    not_docx = client.put(
        f"{BASE}/word2/docx", headers=admin,
        data={"file": (io.BytesIO(b"not a zip"), "x.docx")}, content_type="multipart/form-data",
    )
    assert not_docx.status_code == 422
