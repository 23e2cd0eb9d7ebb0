"""Formatting helpers of print templates: numbers, money, dates and amounts in words.

Each takes what a record holds (a decimal as text or ``Decimal``, a date as ISO
text or ``date``) so templates can pass field values straight in. Russian and
Armenian group thousands with a non-breaking space and write a decimal comma;
English writes 1,234.50.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from recordbase.fields.money import CURRENCY_SIGNS
from recordbase.messages import msg

LOCALES = ("ru", "en", "hy")
NBSP = "\u00a0"
MONTHS_GENITIVE = {
    "ru": (
        "января", "февраля", "марта", "апреля", "мая", "июня",
        "июля", "августа", "сентября", "октября", "ноября", "декабря",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
    "hy": (
        "հունվարի", "փետրվարի", "մարտի", "ապրիլի", "մայիսի", "հունիսի",
        "հուլիսի", "օգոստոսի", "սեպտեմբերի", "հոկտեմբերի", "նոյեմբերի", "դեկտեմբերի",
    ),
}
#: currency signs the print fonts lack, written as words instead (DejaVu has no ֏)
SIGN_WORDS = {("AMD", "ru"): "драм", ("AMD", "hy"): "դրամ"}
#: the largest amount written in words (num2words and common sense agree on this)
MAX_IN_WORDS = decimal.Decimal("999999999999999.99")


class FormatError(ValueError):
    """Raised when a helper is given a value it cannot format; carries the reason."""


def to_decimal(value: Any) -> decimal.Decimal | None:
    """A decimal from a field value (text, int, Decimal); None for an empty value."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise FormatError(msg("{value} is not a number.", value=repr(value)))
    if isinstance(value, decimal.Decimal):
        number = value
    elif isinstance(value, int | str):
        try:
            number = decimal.Decimal(str(value).strip().replace(NBSP, "").replace(" ", ""))
        except decimal.InvalidOperation:
            raise FormatError(
                msg("{value} is not a number.", value=repr(str(value)[:40]))
            ) from None
    elif isinstance(value, float):
        number = decimal.Decimal(repr(value))
    else:
        raise FormatError(msg("A {kind} is not a number.", kind=type(value).__name__))
    if not number.is_finite() or abs(number.adjusted()) > 30:
        raise FormatError(msg("{value} is out of range.", value=repr(str(value)[:40])))
    return number


def check_locale(locale: str) -> str:
    if locale not in LOCALES:
        raise FormatError(msg("The locale {locale} is not one of {known}.", locale=repr(locale),
                              known=", ".join(LOCALES)))
    return locale


def number(value: Any, places: int | None = None, locale: str = "ru", trim: bool = False) -> str:
    """``1234.5`` → ``1 234,50`` (ru, hy) or ``1,234.50`` (en); '' for an empty value.
    ``trim`` drops zeros after the point (a quantity of ``2.000`` prints as ``2``)."""
    check_locale(locale)
    amount = to_decimal(value)
    if amount is None:
        return ""
    if trim and places is None:
        amount = amount.quantize(1) if amount == amount.to_integral_value() else amount.normalize()
    if places is not None:
        if not 0 <= places <= 10:
            raise FormatError(msg("Between 0 and 10 places after the point."))
        amount = amount.quantize(decimal.Decimal(1).scaleb(-places), decimal.ROUND_HALF_UP)
    text = format(amount, "f")
    sign = "-" if text.startswith("-") else ""
    whole, _, frac = text.lstrip("-").partition(".")
    grouped = f"{int(whole or 0):,}"
    if locale == "en":
        return sign + grouped + ("." + frac if frac else "")
    return sign + grouped.replace(",", NBSP) + ("," + frac if frac else "")


def currency_sign(currency: str, locale: str) -> str:
    return SIGN_WORDS.get((currency, locale)) or CURRENCY_SIGNS.get(currency, currency)


def money(value: Any, currency: str = "RUB", locale: str = "ru", sign: bool = True) -> str:
    """``120000`` → ``120 000,00 ₽`` (ru) or ``RUB 120,000.00`` (en); '' when empty."""
    text = number(value, 2, locale)
    if not text or not sign:
        return text
    code = str(currency).upper()
    if locale == "en":
        return f"{code}{NBSP}{text}"
    return f"{text}{NBSP}{currency_sign(code, locale)}"


def to_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            raise FormatError(
                msg("{value} is not a date (YYYY-MM-DD).", value=repr(value[:40]))
            ) from None
    raise FormatError(msg("A {kind} is not a date.", kind=type(value).__name__))


def date(value: Any, style: str = "short", locale: str = "ru") -> str:
    """``2026-11-27`` → ``27.11.2026`` (short) or ``27 ноября 2026 г.`` (long)."""
    check_locale(locale)
    day = to_date(value)
    if day is None:
        return ""
    if style == "iso":
        return day.isoformat()
    if style == "short":
        if locale == "en":
            return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"
        return f"{day.day:02d}.{day.month:02d}.{day.year:04d}"
    if style == "long":
        month = MONTHS_GENITIVE[locale][day.month - 1]
        if locale == "ru":
            return f"{day.day} {month} {day.year} г."
        if locale == "hy":
            return f"{day.year} թ. {month} {day.day}"
        return f"{day.day} {month} {day.year}"
    raise FormatError(msg("The date style {style} is not one of short, long, iso.",
                          style=repr(style)))


# --- amounts in words --------------------------------------------------------------

#: (one, few, many) for Russian; (singular, plural) for English; per currency: the
#: main unit, then the hundredth part
CURRENCY_WORDS: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "RUB": {
        "ru": (("рубль", "рубля", "рублей"), ("копейка", "копейки", "копеек")),
        "en": (("rouble", "roubles"), ("kopeck", "kopecks")),
    },
    "USD": {
        "ru": (("доллар США", "доллара США", "долларов США"), ("цент", "цента", "центов")),
        "en": (("US dollar", "US dollars"), ("cent", "cents")),
    },
    "EUR": {
        "ru": (("евро", "евро", "евро"), ("цент", "цента", "центов")),
        "en": (("euro", "euros"), ("cent", "cents")),
    },
    "AMD": {
        "ru": (("драм", "драма", "драмов"), ("лума", "лумы", "лум")),
        "en": (("dram", "drams"), ("luma", "luma")),
    },
}


def russian_form(count: int, forms: tuple[str, ...]) -> str:
    """The form of a Russian noun after ``count``: 1 рубль, 2 рубля, 5 рублей, 11 рублей."""
    tens, units = count % 100, count % 10
    if 11 <= tens <= 14:
        return forms[2]
    if units == 1:
        return forms[0]
    if 2 <= units <= 4:
        return forms[1]
    return forms[2]


def amount_in_words(value: Any, currency: str = "RUB", lang: str = "ru") -> str:
    """The invoice convention: the whole units in words, in sentence case, the unit's
    word agreeing with the number, the hundredths as two digits:
    ``120000`` → «Сто двадцать тысяч рублей 00 копеек»,
    ``1.5`` (en) → "One rouble 50 kopecks"."""
    from num2words import num2words

    amount = to_decimal(value)
    if amount is None:
        return ""
    code = str(currency).upper()
    words = CURRENCY_WORDS.get(code, {}).get(lang)
    if words is None:
        known = ", ".join(sorted(CURRENCY_WORDS))
        raise FormatError(
            msg("Amounts in words are written for {known} in Russian (ru) and English (en), "
                "not for {code} in {lang}.", known=known, code=repr(code), lang=repr(lang))
        )
    if abs(amount) > MAX_IN_WORDS:
        raise FormatError(msg("The amount is too large to write in words."))
    negative = amount < 0
    cents_total = int((abs(amount) * 100).quantize(decimal.Decimal(1), decimal.ROUND_HALF_UP))
    whole, cents = divmod(cents_total, 100)
    main_forms, cent_forms = words
    text = num2words(whole, lang=lang)
    if lang == "ru":
        unit, cent_unit = russian_form(whole, main_forms), russian_form(cents, cent_forms)
        text = ("минус " if negative else "") + text
    else:
        unit = main_forms[0] if whole == 1 else main_forms[1]
        cent_unit = cent_forms[0] if cents == 1 else cent_forms[1]
        text = ("minus " if negative else "") + text
    return f"{text[:1].upper()}{text[1:]} {unit} {cents:02d} {cent_unit}"
