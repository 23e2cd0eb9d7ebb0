"""The sales CRM's print forms render for its demo records, on both databases."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from recordbase.printing.formats import amount_in_words, money
from recordbase.runtime import Runtime

from .conftest import invoice_id, pdf_images, pdf_pages, pdf_text, to_png


def norm(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").split())


def ids_of(rt: Runtime, entity: str) -> list[int]:
    from recordbase.records.query import ListQuery

    return sorted(int(i["id"]) for i in rt.records.list_page(entity, ListQuery(limit=100)).items)


def test_the_payment_invoice_shows_number_client_total_and_words(crm: Runtime) -> None:
    record_id = invoice_id(crm)
    invoice, _ = crm.records.get("invoices", record_id)
    document = crm.prints.render("invoices", "payment_invoice", [record_id], "pdf", None)
    assert document.mimetype == "application/pdf"
    text = norm(pdf_text(document.content))
    assert invoice["number"] in text
    assert "ООО «Северный ветер»" in text
    assert norm(money(invoice["total"], sign=False)) in text
    assert amount_in_words(invoice["total"]) in text
    assert "БИК 044525901" in text
    assert "В том числе НДС (22 %)" in text
    assert pdf_pages(document.content) == 1
    assert pdf_images(document.content) == 1  # the payment QR code


@pytest.mark.parametrize(
    ("entity", "template", "expected"),
    [
        ("invoices", "invoice", "Invoice INV-"),
        ("invoices", "act", "Акт № INV-"),
        ("contracts", "contract", "Договор № CTR-"),
        ("clients", "card", "Контактные лица"),
        ("invoices", "generic_record", "Invoice: INV-"),
    ],
)
def test_each_template_renders_for_every_demo_record(
    crm: Runtime, entity: str, template: str, expected: str
) -> None:
    for record_id in ids_of(crm, entity):
        document = crm.prints.render(entity, template, [record_id], "pdf", None)
        assert expected in pdf_text(document.content), (entity, template, record_id)


def test_list_printouts_and_batches(crm: Runtime) -> None:
    invoices = ids_of(crm, "invoices")
    register = crm.prints.render("invoices", "register", invoices, "pdf", None)
    text = pdf_text(register.content)
    assert "Реестр счетов" in text
    assert "Итого" in text
    generic = crm.prints.render("clients", "generic_list", ids_of(crm, "clients"), "pdf", None)
    assert "Արարատ" in pdf_text(generic.content)  # Armenian prints
    batch = crm.prints.render("invoices", "payment_invoice", invoices, "pdf", None)
    assert pdf_pages(batch.content) == len(invoices)


def test_html_and_word(crm: Runtime, tmp_path: Path) -> None:
    record_id = invoice_id(crm)
    html = crm.prints.render("invoices", "payment_invoice", [record_id], "html", None)
    page = html.content.decode()
    assert html.mimetype.startswith("text/html")
    assert "Счёт на оплату №" in page
    assert 'src="data:image/png;base64,' in page
    docx = make_docx("Счёт {{ record.number }} для {{ record.client.name }}: "
                     "{{ amount_in_words(record.total) }}")
    crm.prints.save_docx("invoices", "word", "Word invoice", docx, user_id=None)
    filled = crm.prints.render("invoices", "word", [record_id], "docx", None)
    with zipfile.ZipFile(io.BytesIO(filled.content)) as archive:
        xml = archive.read("word/document.xml").decode()
    assert "ООО «Северный ветер»" in xml
    assert "рублей 00 копеек" in xml


def make_docx(text: str) -> bytes:
    from docx import Document

    document = Document()
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_thirty_line_payment_invoice_fits_on_one_a4_page(
    crm: Runtime, artifacts_dir: Path, request: pytest.FixtureRequest
) -> None:
    record_id = invoice_id(crm)
    invoice, _ = crm.records.get("invoices", record_id)
    lines = [
        {"description": f"Позиция {n}: бумага офисная A4, картриджи и канцелярские товары",
         "quantity": str(n % 7 + 1), "unit": "шт", "price": "1250.00",
         "vat_rate": "22", "amount": f"{(n % 7 + 1) * 1250}.00"}
        for n in range(1, 31)
    ]
    total = sum((n % 7 + 1) * 1250 for n in range(1, 31))
    crm.records.update("invoices", record_id, {"lines": lines, "total": f"{total}.00"},
                       expected_version=invoice["version"])
    document = crm.prints.render("invoices", "payment_invoice", [record_id], "pdf", None)
    backend = request.node.callspec.params["db_url"]
    pages = to_png(document.content, artifacts_dir / f"payment_invoice_30_lines_{backend}")
    assert pdf_pages(document.content) == 1
    assert len(pages) == 1
    text = norm(pdf_text(document.content))
    assert "Позиция 30" in text
    assert amount_in_words(total) in text
    assert pages[0].stat().st_size > 10_000
