"""The payment QR code of a Russian payment invoice, in the GOST R 56042-2014 format.

The payload is ``ST0001`` + the encoding digit (``2``: UTF-8), then ``|``-separated
``key=value`` pairs: the five mandatory requisites of the payee (Name, PersonalAcc,
BankName, BIC, CorrespAcc) and optional ones (PayeeINN, KPP, Sum in kopecks,
Purpose). A banking app scans it and fills in the payment order.
"""

from __future__ import annotations

import decimal
import re
from typing import Any

from recordbase.messages import msg
from recordbase.printing.formats import FormatError, to_decimal

HEADER = "ST00012"
#: the longest value the standard allows for each key
MAX_LENGTHS = {
    "Name": 160,
    "PersonalAcc": 20,
    "BankName": 45,
    "BIC": 9,
    "CorrespAcc": 20,
    "PayeeINN": 12,
    "KPP": 9,
    "Sum": 18,
    "Purpose": 210,
}
DIGITS = {"PersonalAcc": (20,), "BIC": (9,), "CorrespAcc": (1, 20), "PayeeINN": (10, 12),
          "KPP": (9,)}
MANDATORY = ("Name", "PersonalAcc", "BankName", "BIC", "CorrespAcc")


def _clean(value: Any) -> str:
    # the separator cannot appear inside a value; line breaks make no sense in one
    text = "" if value is None else str(value)
    return re.sub(r"\s+", " ", text.replace("|", "/")).strip()


def payment_payload(
    name: Any,
    account: Any,
    bank_name: Any,
    bic: Any,
    corr_account: Any,
    inn: Any = None,
    kpp: Any = None,
    amount: Any = None,
    purpose: Any = None,
) -> str:
    """``ST00012|Name=…|PersonalAcc=…|BankName=…|BIC=…|CorrespAcc=…|PayeeINN=…|KPP=…|Sum=…|Purpose=…``."""
    pairs: dict[str, str] = {
        "Name": _clean(name),
        "PersonalAcc": _clean(account),
        "BankName": _clean(bank_name),
        "BIC": _clean(bic),
        "CorrespAcc": _clean(corr_account) or "0",
        "PayeeINN": _clean(inn),
        "KPP": _clean(kpp),
        "Sum": "",
        "Purpose": _clean(purpose),
    }
    total = to_decimal(amount)
    if total is not None:
        if total < 0:
            raise FormatError(msg("A payment QR code cannot ask for a negative sum."))
        kopecks = (total * 100).quantize(decimal.Decimal(1), decimal.ROUND_HALF_UP)
        pairs["Sum"] = str(int(kopecks))
    missing = [key for key in MANDATORY if not pairs[key]]
    if missing:
        raise FormatError(
            msg("The payment QR code needs the payee's {keys}.", keys=", ".join(missing))
        )
    for key, lengths in DIGITS.items():
        value = pairs[key]
        if value and (not value.isdigit() or len(value) not in lengths):
            sizes = " or ".join(str(n) for n in lengths)
            raise FormatError(msg("The {key} of a payment QR code is {sizes} digits, not {value}.",
                                  key=key, sizes=sizes, value=repr(value)))
    parts = [HEADER]
    for key, value in pairs.items():
        if value:
            parts.append(f"{key}={value[: MAX_LENGTHS[key]]}")
    return "|".join(parts)


def qr_png_data_uri(payload: str, scale: int = 3) -> str:
    """The QR code of ``payload`` as a ``data:image/png`` URI (error correction M)."""
    import segno

    if len(payload.encode("utf-8")) > 1000:
        raise FormatError(msg("The QR code's text is longer than 1000 bytes."))
    code = segno.make(payload, error="m", encoding="utf-8", micro=False)
    uri: str = code.png_data_uri(scale=max(1, min(scale, 10)), border=2)
    return uri
