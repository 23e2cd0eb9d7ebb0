"""The print template editor shows a template's problems in the reader's language, with
their line numbers: the checker's (syntax errors, unknown names) and the render worker's
(a helper's formatting error crosses the process boundary as a translatable sentence)."""

from __future__ import annotations

import re

from flask import Flask

from .conftest import Browser
from .test_print_templates import EDITOR, _create, _form, _invoice

SYNTAX = {
    "ru": ("Строка 2: Синтаксическая ошибка: ", "Синтаксическая ошибка: "),
    "hy": ("Տող 2՝ Շարահյուսական սխալ՝ ", "Շարահյուսական սխալ՝ "),
}
UNKNOWN = {
    "ru": "Имя «nonsense» не определено в шаблонах печати.",
    "hy": "«nonsense» անունը սահմանված չէ տպման ձևանմուշներում։",
}
NOT_A_NUMBER = {
    "ru": "Строка 3: &#39;abc&#39; — не число.",
    "hy": "Տող 3՝ &#39;abc&#39;-ը թիվ չէ։",
}


def _speak(web: Browser, language: str) -> None:
    web.post("/language", {"language": language, "next": "/"})


def _problem_at(page: str, line: int) -> str:
    """The text of the editor's problem on ``line`` (after its "Line n" link)."""
    found = re.search(rf'<li data-line="{line}"><a [^>]*>[^<]*</a>: ([^<]*)<', page)
    assert found is not None, page[:4000]
    return found.group(1)


def test_a_syntax_error_is_shown_translated_with_its_line(crm: Flask, admin_web: Browser) -> None:
    _create(admin_web)
    record = _invoice(crm)
    for language, (at_the_top, in_the_list) in SYNTAX.items():
        _speak(admin_web, language)
        response = admin_web.post(f"{EDITOR}/memo", _form(record, "<p>\n{% for %}\n</p>"))
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert at_the_top in page
        assert _problem_at(page, 2).startswith(in_the_list)
        assert "Syntax error" not in page


def test_an_unknown_name_is_shown_translated_with_its_line(
    crm: Flask, admin_web: Browser
) -> None:
    _create(admin_web)
    record = _invoice(crm)
    for language, sentence in UNKNOWN.items():
        _speak(admin_web, language)
        response = admin_web.post(f"{EDITOR}/memo", _form(record, "<p>\n\n{{ nonsense }}</p>"))
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert _problem_at(page, 3) == sentence.replace("'", "&#39;")
        assert "is not defined" not in page
        checked = admin_web.post(f"{EDITOR}/_check", _form(record, "<p>\n\n{{ nonsense }}</p>"))
        problems = checked.get_json()["problems"]
        assert [(p["line"], p["message"]) for p in problems] == [(3, sentence)]
    _speak(admin_web, "en")
    english = admin_web.post(f"{EDITOR}/memo", _form(record, "<p>\n\n{{ nonsense }}</p>"))
    assert _problem_at(english.get_data(as_text=True), 3) == (
        "&#39;nonsense&#39; is not defined in print templates."
    )


def test_a_render_workers_error_is_shown_translated(crm: Flask, admin_web: Browser) -> None:
    _create(admin_web)
    record = _invoice(crm)
    body = "<p>\n\n{{ money('abc') }}</p>"
    for language, sentence in NOT_A_NUMBER.items():
        _speak(admin_web, language)
        response = admin_web.post(f"{EDITOR}/_preview?format=html", _form(record, body))
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert sentence in page, page
        assert "is not a number" not in page
