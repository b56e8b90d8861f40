"""Barcode check digits for EAN-13, EAN-8 and UPC-A; Code128 text."""

from __future__ import annotations

import pytest

from shared.barcodes import barcode_error, is_valid_barcode, make_ean13


@pytest.mark.parametrize("code", ["4006381333931", "8992761002015", "96385074", "036000291452"])
def test_valid_codes(code: str) -> None:
    assert barcode_error(code) is None


@pytest.mark.parametrize(
    ("code", "needle"),
    [
        ("4006381333932", "EAN-13 check digit"),
        ("96385075", "EAN-8 check digit"),
        ("036000291453", "UPC-A check digit"),
        ("", "empty"),
        ("12345678901", "length"),
        ("ABC DEF", "printable"),
    ],
)
def test_invalid_codes_say_why(code: str, needle: str) -> None:
    err = barcode_error(code)
    assert err is not None and needle in err


def test_make_ean13_round_trips() -> None:
    code = make_ean13("899100000001")
    assert len(code) == 13 and is_valid_barcode(code)
    with pytest.raises(ValueError):
        make_ean13("123")
