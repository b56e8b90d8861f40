"""Barcode text rules shared by the catalog (server) and the scanner (till).

GTINs (EAN-8, UPC-A, EAN-13, GTIN-14) are compared in their GTIN-14 form (GS1: pad
with zeros on the left), so a UPC-A read as 12 digits, as an EAN-13 with a leading 0 or
as a GTIN-14 is one product. In-store variable-measure codes (GS1 prefixes 02 and
20–29, an item code and an embedded price or weight) are read by
:class:`VariableMeasureScheme`; see docs/pricing.md, "Weighed and priced loose goods".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from shared.messages import render

GTIN_KINDS = {8: "EAN-8", 12: "UPC-A", 13: "EAN-13", 14: "GTIN-14"}
"""The numeric symbologies that carry a GS1 check digit, by length.

A GTIN-14 is taken only with indicator digit 0: that is a retail GTIN-8/12/13 sent in
14 digits (scanners can be set to do so). Indicators 1–9 name cartons and cases, which
are not rung up at a till; they stay refused as before."""


def _ascii_digits(code: str) -> bool:
    # str.isdigit() is true for "²" and Arabic-Indic digits too; a barcode is ASCII.
    return code.isascii() and code.isdigit()


def gtin_check_digit(body: str) -> int:
    """The GS1 check digit for the digits of a GTIN without its last digit."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def barcode_problem(code: str) -> tuple[str, dict[str, Any]] | None:
    """Why ``code`` is not a valid barcode, as a message code and its parameters.

    EAN-8, UPC-A, EAN-13 and GTIN-14 (8, 12, 13 or 14 digits, a GTIN-14 with indicator
    digit 0) must carry a correct check digit; 7, 11 or other 14-digit numbers are
    refused; any other printable ASCII text up to 48 characters is accepted as Code128.
    None when the code is valid.
    """
    if not code:
        return "barcode_empty", {}
    if looks_like_gtin(code):
        if gtin_check_digit(code[:-1]) != int(code[-1]):
            return "barcode_check_digit", {
                "kind": GTIN_KINDS[len(code)],
                "digit": gtin_check_digit(code[:-1]),
            }
        return None
    if (_ascii_digits(code) and len(code) in (7, 11, 14)) or len(code) > 48:
        return "barcode_length", {}
    if not all(32 < ord(c) < 127 for c in code):
        return "barcode_charset", {}
    return None


def barcode_error(code: str) -> str | None:
    """Why ``code`` is not a valid barcode, in English (logs, API details), or None."""
    problem = barcode_problem(code)
    return None if problem is None else render(problem[0], problem[1], "en")


def is_valid_barcode(code: str) -> bool:
    """True when :func:`barcode_error` finds nothing wrong."""
    return barcode_error(code) is None


def looks_like_gtin(code: str) -> bool:
    """True when ``code`` has the shape of a retail GTIN: 8, 12 or 13 ASCII digits, or 14
    starting with 0.

    Such a code is checked as a GTIN (check digit) and never taken for a SKU.
    """
    return _ascii_digits(code) and len(code) in GTIN_KINDS and (len(code) < 14 or code[0] == "0")


def gtin14(code: str) -> str | None:
    """The GTIN-14 form of a GTIN-8/12/13/14 with a correct check digit, else None.

    GS1 compares GTINs right-aligned in 14 digits: ``036000291452`` (UPC-A),
    ``0036000291452`` (the same code read as EAN-13) and ``00036000291452`` are one
    GTIN. An EAN-8 becomes ``000000`` + its 8 digits, a different GTIN from any
    EAN-13 a shop is given (GS1 keeps those 14-digit forms apart).
    """
    if not looks_like_gtin(code) or gtin_check_digit(code[:-1]) != int(code[-1]):
        return None
    return code.rjust(14, "0")


def make_ean13(body12: str) -> str:
    """Complete a 12-digit body into an EAN-13 with its check digit."""
    if len(body12) != 12 or not body12.isdigit():
        raise ValueError("an EAN-13 body has 12 digits")
    return body12 + str(gtin_check_digit(body12))


# -- variable-measure (in-store) codes ---------------------------------------------------
class MeasureKind(StrEnum):
    """What the variable part of an in-store code holds."""

    PRICE = "price"
    """The price of the item in whole rupiah."""
    WEIGHT = "weight"
    """The net weight in grams; the till prices it from the product's price per kg."""


DEFAULT_MEASURE_PREFIXES: Mapping[str, MeasureKind] = MappingProxyType(
    {"02": MeasureKind.PRICE}
    | {f"2{d}": MeasureKind.PRICE for d in range(5)}
    | {f"2{d}": MeasureKind.WEIGHT for d in range(5, 10)}
)
"""The convention a till uses unless the shop configures another: 02 and 20–24 carry
the price in rupiah, 25–29 the weight in grams."""


@dataclass(frozen=True, slots=True)
class MeasuredCode:
    """An in-store code split into its parts.

    ``item_code`` names the product; ``value`` is rupiah or grams (``kind``);
    ``template`` is the GTIN-14 of the same code with the value zeroed, which is the
    barcode the product carries in the catalog.
    """

    prefix: str
    item_code: str
    kind: MeasureKind
    value: int
    template: str


@dataclass(frozen=True, slots=True)
class VariableMeasureScheme:
    """How a shop lays out in-store EAN-13 codes: ``PP`` + item code + value + check.

    ``prefixes`` maps the two leading digits (as an EAN-13; a UPC-A ``2…`` read as 12
    digits is ``02…``) to what the value holds. The item code takes ``item_digits`` and
    the value the rest of the 10 digits between prefix and check digit (default 5 + 5:
    prices up to Rp99.999, weights up to 99,999 kg). Price-check digits inside the
    value are not supported.
    """

    prefixes: Mapping[str, MeasureKind] = field(default_factory=lambda: DEFAULT_MEASURE_PREFIXES)
    item_digits: int = 5

    def __post_init__(self) -> None:
        if not 1 <= self.item_digits <= 9:
            raise ValueError("item_digits must leave 1 to 9 digits for the value")
        for prefix in self.prefixes:
            if len(prefix) != 2 or not _ascii_digits(prefix):
                raise ValueError(f"a variable-measure prefix has two digits, not {prefix!r}")

    def parse(self, code: str) -> MeasuredCode | None:
        """``code`` read as an in-store code, or None when it is not one.

        A code is one when it is a valid GTIN whose EAN-13 form starts with a configured
        prefix (a wrong check digit is None: callers refuse it as a misread first).
        """
        key = gtin14(code)
        if key is None or key[0] != "0":
            return None
        ean13 = key[1:]
        kind = self.prefixes.get(ean13[:2])
        if kind is None:
            return None
        split = 2 + self.item_digits
        body = ean13[:split] + "0" * (12 - split)
        return MeasuredCode(
            prefix=ean13[:2],
            item_code=ean13[2:split],
            kind=kind,
            value=int(ean13[split:12]),
            template="0" + body + str(gtin_check_digit(body)),
        )


DEFAULT_MEASURE_SCHEME = VariableMeasureScheme()
"""02 and 20–24 price, 25–29 weight; 5-digit item code, 5-digit value."""
