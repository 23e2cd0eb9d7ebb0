"""Languages: English, Russian and Armenian, chosen by a cookie or the browser."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Flask, request
from flask_babel import Babel, get_locale
from flask_babel import gettext as _gettext

from recordbase.errors import RecordbaseError
from recordbase.messages import localise, reason

E = TypeVar("E", bound=RecordbaseError)

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


def localised(value: Any) -> Any:
    """A service's sentence (or a mapping or list of them, as in ``fields``) in the
    current request's language; plain text is left as it is."""
    return localise(value, _gettext)


def localised_reason(exc: BaseException) -> str:
    """An exception's sentence (a ConversionError's, say) in the current language."""
    text: str = localised(reason(exc))
    return text


def localised_error(exc: E) -> E:
    """The error with its message, per-field messages and the sentences in ``extra`` (a
    dry run's samples) in the current language. The same object: an error is raised for
    one request, and the API, which keeps English, never passes it here."""
    exc.message = localised(exc.message)
    exc.fields = localised(exc.fields)
    exc.extra = localised(exc.extra)
    return exc


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)
    app.context_processor(lambda: {"number_symbols": number_symbols()})
