"""Money, numbers, dates, amounts in words, VAT and the payment QR payload (no database)."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest

from recordbase.printing import formats, qr, vat
from recordbase.printing.formats import FormatError, amount_in_words, money, number

D = decimal.Decimal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120000", "Сто двадцать тысяч рублей 00 копеек"),
        ("1", "Один рубль 00 копеек"),
        ("2.01", "Два рубля 01 копейка"),
        ("5.05", "Пять рублей 05 копеек"),
        ("11.11", "Одиннадцать рублей 11 копеек"),
        ("21.22", "Двадцать один рубль 22 копейки"),
        ("1000", "Одна тысяча рублей 00 копеек"),
        ("68500.5", "Шестьдесят восемь тысяч пятьсот рублей 50 копеек"),
        ("0", "Ноль рублей 00 копеек"),
        ("2000000.99", "Два миллиона рублей 99 копеек"),
        (D("111.999"), "Сто двенадцать рублей 00 копеек"),
    ],
)
def test_russian_amounts_follow_the_invoice_convention(value: object, expected: str) -> None:
    assert amount_in_words(value) == expected


def test_english_and_other_currencies() -> None:
    assert amount_in_words("1.5", lang="en") == "One rouble 50 kopecks"
    assert amount_in_words("120000", lang="en") == (
        "One hundred and twenty thousand roubles 00 kopecks"
    )
    assert amount_in_words("3", "USD") == "Три доллара США 00 центов"
    assert amount_in_words("101", "AMD") == "Сто один драм 00 лум"
    with pytest.raises(FormatError, match="not for 'XYZ'"):
        amount_in_words("1", "XYZ")
    assert amount_in_words(None) == ""


def test_numbers_and_money_by_locale() -> None:
    nbsp = "\u00a0"
    assert number("1234567.5", 2) == f"1{nbsp}234{nbsp}567,50"
    assert number("1234567.5", 2, "en") == "1,234,567.50"
    assert money("120000") == f"120{nbsp}000,00{nbsp}₽"
    assert money("120000", "USD", "en") == f"USD{nbsp}120,000.00"
    assert money("5", "AMD") == f"5,00{nbsp}драм"  # the fonts have no ֏
    assert money(None) == ""
    with pytest.raises(FormatError):
        number("1e999999")
    with pytest.raises(FormatError):
        number("lots")


def test_dates() -> None:
    assert formats.date("2026-11-27") == "27.11.2026"
    assert formats.date(dt.date(2026, 3, 1), "long") == "1 марта 2026 г."
    assert formats.date("2026-03-01", "long", "en") == "1 March 2026"
    assert formats.date(None) == ""


LINES = [
    {"amount": "1220.00", "vat_rate": "22"},
    {"amount": "1000.00", "vat_rate": "none"},
    {"amount": "105.00", "vat_rate": "5"},
    {"amount": "100.00", "vat_rate": ""},
]


def test_vat_included_per_line_uses_each_lines_rate_and_the_document_default() -> None:
    totals = vat.vat_totals(LINES, rate="10", mode="included")
    assert [ln.vat for ln in totals.lines] == [D("220.00"), D("0"), D("5.00"), D("9.09")]
    assert totals.gross == D("2425.00")
    assert totals.vat == D("234.09")
    assert totals.net == D("2190.91")
    assert [g.rate for g in totals.groups] == [None, D(5), D(10), D(22)]
    assert totals.has_vat


def test_vat_on_top_and_per_document_rounding() -> None:
    lines = [{"amount": "0.05", "vat_rate": "22"}] * 3
    per_line = vat.vat_totals(lines, mode="on_top", per="line")
    per_doc = vat.vat_totals(lines, mode="on_top", per="document")
    assert per_line.vat == D("0.03")  # 0.011 rounds to 0.01 three times
    assert per_doc.vat == D("0.03")  # 0.033 once
    assert per_doc.gross == D("0.18")
    seven = vat.vat_totals([{"amount": "100"}], rate="7", mode="on_top", rate_field=None)
    assert (seven.vat, seven.gross) == (D("7.00"), D("107.00"))


def test_no_vat_mode_ignores_line_rates() -> None:
    totals = vat.vat_totals(LINES, mode="none")
    assert totals.vat == D("0.00")
    assert not totals.has_vat
    assert totals.gross == D("2425.00")
    with pytest.raises(FormatError):
        vat.vat_totals(LINES, mode="sometimes")
    with pytest.raises(FormatError):
        vat.parse_rate("120")


def test_the_gost_payment_payload() -> None:
    payload = qr.payment_payload(
        name="ООО «Офис-Снаб»", account="40702810700000071234", bank_name="АО «Демо-Банк»",
        bic="044525901", corr_account="30101810300000000901", inn="7709123453",
        kpp="770901001", amount="68500.50", purpose="Оплата по счёту INV-1 | НДС",
    )
    assert payload == (
        "ST00012|Name=ООО «Офис-Снаб»|PersonalAcc=40702810700000071234|BankName=АО «Демо-Банк»"
        "|BIC=044525901|CorrespAcc=30101810300000000901|PayeeINN=7709123453|KPP=770901001"
        "|Sum=6850050|Purpose=Оплата по счёту INV-1 / НДС"
    )
    with pytest.raises(FormatError, match="BIC"):
        qr.payment_payload("A", "40702810700000071234", "B", "12345", "0")
    with pytest.raises(FormatError, match="PersonalAcc"):
        qr.payment_payload("A", "", "B", "044525901", "0")
    assert qr.qr_png_data_uri(payload).startswith("data:image/png;base64,")
