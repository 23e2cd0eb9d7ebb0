"""The sales CRM with its demo records and print templates, for printing tests."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from flask import Flask
from pypdf import PdfReader

from recordbase.app import runtime_of
from recordbase.configio import apply_config, load_config, load_demo_data
from recordbase.printing.configfiles import import_templates
from recordbase.runtime import Runtime

SALES_CRM = Path(__file__).resolve().parents[2] / "sample_configs" / "sales_crm"


def load_crm(rt: Runtime) -> Runtime:
    apply_config(rt, load_config(SALES_CRM))
    load_demo_data(rt, SALES_CRM, user_id=None)
    import_templates(rt.prints, SALES_CRM, user_id=None)
    return rt


@pytest.fixture
def crm(runtime: Runtime) -> Runtime:
    """Services on a database holding the sales CRM, its demo data and print templates."""
    return load_crm(runtime)


@pytest.fixture
def crm_app(app: Flask) -> Flask:
    """The application (with the admin and user of the main conftest) on the sales CRM."""
    load_crm(runtime_of(app))
    return app


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def pdf_pages(content: bytes) -> int:
    return len(PdfReader(io.BytesIO(content)).pages)


def pdf_images(content: bytes) -> int:
    reader = PdfReader(io.BytesIO(content))
    return sum(len(page.images) for page in reader.pages)


def to_png(content: bytes, target: Path, resolution: int = 80) -> list[Path]:
    """The PDF's pages as PNG files (Debian's poppler-utils: ``pdftoppm``)."""
    binary = shutil.which("pdftoppm")
    assert binary, "pdftoppm is missing: apt-get install poppler-utils (make test does it)"
    for old in target.parent.glob(target.name + "-*.png"):
        old.unlink()
    pdf = target.with_suffix(".pdf")
    pdf.write_bytes(content)
    subprocess.run(
        [binary, "-png", "-r", str(resolution), str(pdf), str(target)], check=True, timeout=60
    )
    return sorted(target.parent.glob(target.name + "-*.png"))


def invoice_id(rt: Runtime, number_suffix: str = "") -> int:
    """The id of a demo invoice (the first one whose client is ООО «Северный ветер»)."""
    items = rt.records.list_page("invoices", _query()).items
    clients = {c["id"]: c["name"] for c in rt.records.list_page("clients", _query()).items}
    for item in sorted(items, key=lambda i: i["id"]):
        if clients.get(item["client"]) == "ООО «Северный ветер»":
            return int(item["id"])
    raise AssertionError("no demo invoice of ООО «Северный ветер»")


def _query() -> object:
    from recordbase.records.query import ListQuery

    return ListQuery(limit=100)
