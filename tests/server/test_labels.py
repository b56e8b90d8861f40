"""Barcode label sheets: every printed code scans back as the code stored."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from pyzbar.pyzbar import decode

from shared.barcodes import make_ean13
from shared.models import ProductOut
from sync_server.catalog.labels import (
    A4_3X8,
    LabelItem,
    SheetLayout,
    label_sheets,
    label_sheets_pdf,
    label_sheets_png,
    symbology,
)


def ean_items(count: int) -> list[LabelItem]:
    return [
        LabelItem(
            f"Produk nomor {i} dengan nama agak panjang", 1000 + 500 * i, make_ean13(f"899{i:09d}")
        )
        for i in range(count)
    ]


def scanned(image: Image.Image) -> list[str]:
    """What a scanner reads; pyzbar reports UPC-A as EAN-13 with a leading zero."""
    return [d.data.decode() for d in decode(image)]


def test_sheet_is_a4_and_every_label_scans_back() -> None:
    items = [
        *ean_items(4),
        LabelItem("Gula Pasir 1 kg", 15000, "96385074"),  # EAN-8
        LabelItem("Coca-Cola 390 ml", 8000, "036000291452"),  # UPC-A
        LabelItem("Roti Tawar (buatan sendiri)", 12000, "RT-0001"),  # Code128
    ]
    pages = label_sheets(items)
    assert len(pages) == 1
    assert pages[0].size == (2480, 3508)  # A4 at 300 dpi
    for index, item in enumerate(items):
        codes = scanned(pages[0].crop(A4_3X8.cell(index)))
        expected = "0" + item.barcode if len(item.barcode) == 12 else item.barcode
        assert codes == [expected], item
    # The empty cells after the last label are blank.
    assert pages[0].crop(A4_3X8.cell(len(items))).getextrema() == (255, 255)


def test_many_products_fill_several_sheets_in_order() -> None:
    items = ean_items(30)
    pages = label_sheets(items)
    assert len(pages) == 2
    first_on_page_two = scanned(pages[1].crop(A4_3X8.cell(0)))
    assert first_on_page_two == [items[24].barcode]
    whole_page = sorted(scanned(pages[1]))
    assert whole_page == sorted(item.barcode for item in items[24:])


def test_copies_repeat_each_label() -> None:
    items = ean_items(2)
    page = label_sheets(items, copies=3)[0]
    codes = [scanned(page.crop(A4_3X8.cell(i))) for i in range(6)]
    assert codes == [[items[0].barcode]] * 3 + [[items[1].barcode]] * 3


def test_png_pages_carry_their_resolution() -> None:
    pngs = label_sheets_png(ean_items(25))
    assert len(pngs) == 2
    page = Image.open(io.BytesIO(pngs[0]))
    assert page.size == (2480, 3508)
    assert round(page.info["dpi"][0]) == 300
    assert scanned(page.crop(A4_3X8.cell(3)))[0] == ean_items(4)[3].barcode


def test_pdf_has_one_a4_page_per_sheet() -> None:
    pdf = label_sheets_pdf(ean_items(25))
    assert pdf.startswith(b"%PDF")
    pages = re.findall(rb"/Type ?/Page\b(?!s)", pdf)
    # 210 x 297 mm in PDF points (1/72 inch)
    boxes = re.findall(rb"/MediaBox \[ 0 0 595\.2 841\.92 \]", pdf)
    assert len(pages) == 2 and len(boxes) == 2


def test_smaller_layout_still_scans() -> None:
    layout = SheetLayout(
        columns=4, rows=10, label_width_mm=52.5, label_height_mm=29.7, margin_top_mm=0, dpi=203
    )
    items = ean_items(3)
    page = label_sheets(items, layout=layout)[0]
    assert [scanned(page.crop(layout.cell(i))) for i in range(3)] == [
        [item.barcode] for item in items
    ]


def test_wrong_check_digit_is_refused_not_silently_corrected() -> None:
    good = make_ean13("899123456789")
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    with pytest.raises(ValueError, match="check digit"):
        label_sheets([LabelItem("Salah", 1000, bad)])


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("8991234567891", "ean13"),
        ("96385074", "ean8"),
        ("036000291452", "upca"),
        ("SKU-1", "code128"),
        ("123456", "code128"),
    ],
)
def test_symbology(code: str, kind: str) -> None:
    assert symbology(code) == kind


def test_product_without_barcode_cannot_get_a_label() -> None:
    product = ProductOut(id=1, sku="X1", name="Tanpa kode", price=1000, change_no=1)
    with pytest.raises(ValueError, match="no barcode"):
        LabelItem.from_product(product)
    with_code = product.model_copy(update={"barcode": "8991234567891"})
    assert LabelItem.from_product(with_code) == LabelItem("Tanpa kode", 1000, "8991234567891")


def test_nothing_chosen_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one"):
        label_sheets([])
