"""Languages: English, Russian and Armenian, chosen by a cookie or the browser."""

from __future__ import annotations

from flask import Flask, request
from flask_babel import Babel, get_locale

LANGUAGES = {"en": "English", "ru": "Русский", "hy": "Հայերեն"}
LANGUAGE_COOKIE = "rb_lang"


def select_locale() -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"


def locale_code() -> str:
    """"en", "ru" or "hy": what field types' ``display`` takes."""
    code = str(get_locale() or "en").split("_")[0]
    return code if code in LANGUAGES else "en"


def number_symbols() -> dict[str, str]:
    """The group and decimal separators of the current language (for scripts)."""
    from babel.numbers import get_decimal_symbol, get_group_symbol

    code = locale_code()
    return {"group": get_group_symbol(code), "decimal": get_decimal_symbol(code)}


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)
    app.context_processor(lambda: {"number_symbols": number_symbols()})
