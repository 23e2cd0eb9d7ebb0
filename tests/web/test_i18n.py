"""English, Russian and Armenian: complete catalogs, compiled, chosen by the user."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from .conftest import Browser

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "platform" / "recordbase" / "translations"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "msg": None, "known": None}


def _extracted() -> set[str]:
    """Every message of the pages and every sentence services raise with ``msg``."""
    ids: set[str] = set()
    for folder, method in (("", "python"), ("templates", "jinja2")):
        found = extract_from_dir(
            str(ROOT / "platform" / "recordbase" / folder),
            method_map=[("**.py", "python")] if method == "python" else [("**.html", "jinja2")],
            keywords=KEYWORDS,
        )
        for _file, _line, message, _comments, _context in found:
            ids.add(message if isinstance(message, str) else message[0])
    return ids


@pytest.mark.parametrize("language", ["ru", "hy"])
def test_the_catalog_translates_every_message(language: str) -> None:
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as po:
        catalog = read_po(po)
    translated = {m.id if isinstance(m.id, str) else m.id[0]: m.string for m in catalog if m.id}
    missing = sorted(i for i in _extracted() if not translated.get(i))
    assert missing == []
    for message in catalog:
        if message.id and isinstance(message.string, tuple):
            assert all(message.string), message.id


@pytest.mark.parametrize("language", ["ru", "hy"])
def test_the_compiled_catalog_matches_its_source(language: str) -> None:
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as po, (folder / "messages.mo").open("rb") as mo:
        source, compiled = read_po(po), read_mo(mo)
    def pairs(catalog) -> dict:
        return {
            tuple(m.id) if isinstance(m.id, list | tuple) else m.id:
            tuple(m.string) if isinstance(m.string, list | tuple) else m.string
            for m in catalog if m.id
        }

    assert pairs(source) == pairs(compiled)


@pytest.mark.parametrize(
    ("language", "save", "amount"),
    [("en", "Save", "RUB\u00a0"), ("ru", "Сохранить", "\u00a0₽"), ("hy", "Պահպանել", "\u00a0₽")],
)
def test_pages_speak_the_chosen_language(
    admin_web: Browser, language: str, save: str, amount: str
) -> None:
    admin_web.post("/language", {"language": language, "next": "/r/invoices/"})
    page = admin_web.get("/r/invoices/1").get_data(as_text=True)
    assert f'<html lang="{language}">' in page
    assert f">{save}</button>" in page
    listing = admin_web.get("/r/invoices/").get_data(as_text=True)
    assert amount in listing


def test_the_browser_language_is_the_default(admin_web: Browser) -> None:
    page = admin_web.client.get("/", headers={"Accept-Language": "hy-AM,hy;q=0.9"})
    assert '<html lang="hy">' in page.get_data(as_text=True)
