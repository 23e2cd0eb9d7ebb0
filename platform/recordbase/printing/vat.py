"""Value added tax of a document's lines, at configurable rates and in either mode.

Nothing here knows a standard rate: each line says its own (a select whose values
are ``none``, ``0``, ``5``, ``7``, ``10``, ``22`` … in the sales CRM), or the
document gives one for all. ``mode`` says what a line's amount is:

- ``included``: the amount already holds the tax (Russian "в том числе НДС");
  VAT = amount × rate / (100 + rate);
- ``on_top``: the amount is net and the tax is added (Russian "НДС сверху");
  VAT = amount × rate / 100;
- ``none``: no tax at all ("Без НДС"), whatever the lines say.

``per`` says where rounding to kopecks happens: on each ``line`` (the tax of the
document is the sum of the rounded line taxes) or on the ``document`` (lines of
one rate are summed first and the tax is computed once per rate).
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from recordbase.messages import msg
from recordbase.printing.formats import FormatError, to_decimal

MODES = ("included", "on_top", "none")
PER = ("line", "document")
NO_RATE_WORDS = ("", "none", "no", "без ндс")
CENT = decimal.Decimal("0.01")
HUNDRED = decimal.Decimal(100)


def parse_rate(value: Any) -> decimal.Decimal | None:
    """A rate in percent from a field value; None means "no VAT" (not the same as 0 %)."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip().rstrip("%").strip()
        if text.lower() in NO_RATE_WORDS:
            return None
        value = text
    rate = to_decimal(value)
    if rate is None:
        return None
    if not 0 <= rate < 100:
        raise FormatError(msg("A VAT rate is between 0 and 100 %, not {rate}.", rate=str(rate)))
    return rate.normalize() if rate != rate.to_integral_value() else rate.quantize(1)


def _round(amount: decimal.Decimal) -> decimal.Decimal:
    return amount.quantize(CENT, decimal.ROUND_HALF_UP)


def tax_of(amount: decimal.Decimal, rate: decimal.Decimal | None, mode: str) -> decimal.Decimal:
    """The (unrounded) tax in ``amount`` at ``rate`` in ``mode``."""
    if rate is None or mode == "none":
        return decimal.Decimal(0)
    if mode == "included":
        return amount * rate / (HUNDRED + rate)
    return amount * rate / HUNDRED


@dataclass
class VatLine:
    line: Any
    rate: decimal.Decimal | None
    net: decimal.Decimal
    vat: decimal.Decimal
    gross: decimal.Decimal


@dataclass
class VatGroup:
    rate: decimal.Decimal | None
    net: decimal.Decimal
    vat: decimal.Decimal
    gross: decimal.Decimal


@dataclass
class VatTotals:
    mode: str
    per: str
    lines: list[VatLine] = field(default_factory=list)
    groups: list[VatGroup] = field(default_factory=list)
    net: decimal.Decimal = decimal.Decimal("0.00")
    vat: decimal.Decimal = decimal.Decimal("0.00")
    gross: decimal.Decimal = decimal.Decimal("0.00")

    @property
    def has_vat(self) -> bool:
        """Whether any line is taxed at all (a 0 % rate is taxed, at zero)."""
        return self.mode != "none" and any(g.rate is not None for g in self.groups)

    @property
    def rates(self) -> list[decimal.Decimal]:
        return [g.rate for g in self.groups if g.rate is not None]


def _amounts(gross_or_net: decimal.Decimal, tax: decimal.Decimal, mode: str) -> tuple[
    decimal.Decimal, decimal.Decimal
]:
    """(net, gross) of an amount given its tax."""
    if mode == "on_top":
        return gross_or_net, gross_or_net + tax
    return gross_or_net - tax, gross_or_net


def vat_totals(
    lines: Iterable[Any],
    rate: Any = None,
    mode: str = "included",
    per: str = "line",
    amount_field: str = "amount",
    rate_field: str | None = "vat_rate",
) -> VatTotals:
    """Net, tax and gross of ``lines`` (records or mappings), per line and per rate.

    A line's own ``rate_field`` wins; ``rate`` is the document's rate for lines that
    have none (and for all lines when ``rate_field`` is None).
    """
    if mode not in MODES:
        raise FormatError(msg("The VAT mode {mode} is not one of {modes}.", mode=repr(mode),
                              modes=", ".join(MODES)))
    if per not in PER:
        raise FormatError(msg("VAT is computed per {known}, not per {per}.",
                              known=" or per ".join(PER), per=repr(per)))
    default_rate = parse_rate(rate)
    totals = VatTotals(mode=mode, per=per)
    sums: dict[decimal.Decimal | None, decimal.Decimal] = {}
    for line in lines:
        amount = to_decimal(_get(line, amount_field)) or decimal.Decimal(0)
        own = _get(line, rate_field) if rate_field else None
        line_rate = parse_rate(own) if own not in (None, "") else default_rate
        if mode == "none":
            line_rate = None
        tax = _round(tax_of(amount, line_rate, mode))
        net, gross = _amounts(amount, tax, mode)
        totals.lines.append(VatLine(line, line_rate, net, tax, gross))
        sums[line_rate] = sums.get(line_rate, decimal.Decimal(0)) + amount
    for line_rate in sorted(sums, key=lambda r: (r is not None, r or 0)):
        amount = sums[line_rate]
        if per == "line":
            tax = sum(
                (ln.vat for ln in totals.lines if ln.rate == line_rate), decimal.Decimal(0)
            )
        else:
            tax = _round(tax_of(amount, line_rate, mode))
        net, gross = _amounts(amount, tax, mode)
        totals.groups.append(VatGroup(line_rate, _round(net), _round(tax), _round(gross)))
    totals.net = _round(sum((g.net for g in totals.groups), decimal.Decimal(0)))
    totals.vat = _round(sum((g.vat for g in totals.groups), decimal.Decimal(0)))
    totals.gross = _round(sum((g.gross for g in totals.groups), decimal.Decimal(0)))
    return totals


def _get(line: Any, name: str | None) -> Any:
    if name is None:
        return None
    try:
        return line[name]
    except (KeyError, TypeError, IndexError):
        return None


def describe_rates(rates: Sequence[decimal.Decimal]) -> str:
    return ", ".join(f"{r}\u00a0%" for r in rates)
