"""Barcode text rules shared by the catalog (server) and the scanner (till)."""

from __future__ import annotations

from typing import Any

from shared.messages import render


def gtin_check_digit(body: str) -> int:
    """The GS1 check digit for the digits of a GTIN without its last digit."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def barcode_problem(code: str) -> tuple[str, dict[str, Any]] | None:
    """Why ``code`` is not a valid barcode, as a message code and its parameters.

    EAN-13, EAN-8 and UPC-A (8, 12 or 13 digits) must carry a correct check digit;
    any other printable ASCII text up to 48 characters is accepted as Code128.
    None when the code is valid.
    """
    if not code:
        return "barcode_empty", {}
    if code.isdigit() and len(code) in (8, 12, 13):
        kind = {8: "EAN-8", 12: "UPC-A", 13: "EAN-13"}[len(code)]
        if gtin_check_digit(code[:-1]) != int(code[-1]):
            return "barcode_check_digit", {"kind": kind, "digit": gtin_check_digit(code[:-1])}
        return None
    if (code.isdigit() and len(code) in (7, 11, 14)) or len(code) > 48:
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


def make_ean13(body12: str) -> str:
    """Complete a 12-digit body into an EAN-13 with its check digit."""
    if len(body12) != 12 or not body12.isdigit():
        raise ValueError("an EAN-13 body has 12 digits")
    return body12 + str(gtin_check_digit(body12))
