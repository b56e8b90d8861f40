"""The e-receipt link on the printed receipt: as text under the totals and as its QR code
(the native ``GS ( k`` block, or a raster image on printers without native QR)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pos_client.printing.escpos import escpos_bytes
from shared.ids import new_id
from shared.receipt_text import (
    LINK_LABEL,
    receipt_lines,
    receipt_link,
    render_receipt,
    sale_id_of_link,
)
from tests.client.printing.test_printing import GS_QR, decode_raster_qr, make_receipt

KEY = bytes(range(32))
SALE_ID = new_id()
LINK = receipt_link("https://struk.tokomakmur.co.id", 12, SALE_ID, KEY)


def qr_payloads(data: bytes) -> list[bytes]:
    """The data of every native QR symbol in ``data``: ``GS ( k pL pH 49 80 48 <data>``
    (function 180, store the symbol's data)."""
    found = []
    at = data.find(GS_QR)
    while at != -1:
        p_low, p_high, cn, fn = data[at + 3 : at + 7]
        size = p_low + 256 * p_high
        if (cn, fn) == (49, 80):
            found.append(data[at + 8 : at + 5 + size])
        at = data.find(GS_QR, at + 5 + size)
    return found


@pytest.mark.parametrize("width", [32, 42, 48])
def test_native_qr_encodes_exactly_the_link(width: int) -> None:
    data = escpos_bytes(make_receipt(link=LINK), width=width)
    assert qr_payloads(data) == [LINK.encode()]
    # The link is printed too, cut at the width, and the receipt number under the QR.
    text = render_receipt(make_receipt(link=LINK), width=width)
    lines = text.splitlines()
    assert LINK_LABEL in text and all(len(line) <= width for line in lines)
    start = lines.index(next(line for line in lines if line.startswith("https://")))
    assert "".join(lines[start:]).startswith(LINK)
    assert data.rfind(b"T01-20240501-0007") > data.rfind(GS_QR)


def test_raster_qr_on_a_printer_without_native_qr_decodes_to_the_link() -> None:
    data = escpos_bytes(make_receipt(link=LINK), width=32, profile="POS-5890")
    assert GS_QR not in data
    assert decode_raster_qr(data) == [LINK]


def test_without_a_key_the_qr_is_the_receipt_number_and_no_link_is_printed() -> None:
    receipt = make_receipt()
    data = escpos_bytes(receipt, width=32)
    assert qr_payloads(data) == [b"T01-20240501-0007"]
    assert LINK_LABEL not in render_receipt(receipt, width=32)
    assert b"https://" not in data


def test_a_text_only_printer_gets_the_link_as_text_and_no_qr() -> None:
    data = escpos_bytes(make_receipt(link=LINK), width=32, profile="POS-5890", qr=False)
    assert GS_QR not in data and b"\x1dv0" not in data
    assert LINK_LABEL.encode() in data
    printed = b"".join(data.split(b"\n"))
    assert LINK[:32].encode() in printed and LINK[-20:].encode() in printed


def test_reprint_keeps_the_link() -> None:
    lines = receipt_lines(replace(make_receipt(), link=LINK), width=42, reprint=True)
    assert any(line.text == LINK_LABEL.center(42).rstrip() for line in lines)


def test_a_scanned_link_gives_back_its_sale_id() -> None:
    assert sale_id_of_link(LINK) == SALE_ID
    assert sale_id_of_link(" " + LINK + "\n") == SALE_ID
    for text in (
        "T01-20240501-0007",
        LINK.replace("/r/", "/x/"),
        LINK.replace("/12/", "/abc/"),
        LINK.replace(str(SALE_ID), str(SALE_ID)[:-1]),
        LINK.replace(str(SALE_ID), str(SALE_ID).upper()),
        "",
    ):
        assert sale_id_of_link(text) is None, text
