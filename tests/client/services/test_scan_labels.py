"""Scanning at the till: one GTIN in any of its forms, and in-store price and weight labels.

Every label here is a real barcode image drawn by python-barcode and read back by pyzbar
(through the till's :class:`BarcodeDecoder`) before it reaches the checkout's scan path.
"""

from __future__ import annotations

import io
from typing import Any

import cv2
import numpy as np
import pytest
from barcode import UPCA
from barcode.writer import ImageWriter
from pyzbar.pyzbar import ZBarSymbol

from pos_client.domain import CartError
from pos_client.scanner.camera import BarcodeDecoder, Frame
from pos_client.services import CatalogService, InvalidBarcode, ProductNotFound
from pos_client.services.catalog import ScannedItem
from pos_client.services.history import HistoryService
from pos_client.services.receipts import receipt_for_sale
from shared.barcodes import (
    MeasureKind,
    VariableMeasureScheme,
    gtin_check_digit,
    make_ean13,
)
from shared.messages import render
from shared.models import LineMeasure, ProductOut, PullResponse
from shared.pricing import weighed_price
from tests.client.conftest import Till
from tests.ui.frames import camera_frame

PRICE_PER_KG = 32_990
APEL = 101  # weighed, label prefix 25, item code 12345
KUE = 102  # priced by the label, prefix 21, item code 00042
UPC_SODA = 103  # stored as a 12-digit UPC-A
EAN_ZERO = 104  # stored as a 13-digit EAN-13 starting with 0
OWN_CODE = 105  # a shop's own fixed-price code in the 20 range
DAGING = 106  # weighed, stored as a UPC-A "2…" template, labels read as prefix 02
# One product per prefix 20–29, item code 7<prefix>77, all at 20.000 (per kg for 25–29).
BY_PREFIX = {prefix: 200 + prefix for prefix in range(20, 30)}


def upca(body11: str) -> str:
    """A UPC-A with its check digit."""
    return body11 + str(gtin_check_digit(body11))


def label(prefix: str, item: str, value: int) -> str:
    """The EAN-13 an in-store scale prints: prefix, item code, 5-digit value, check digit."""
    return make_ean13(f"{prefix}{item}{value:05d}")


def upca_frame(code: str) -> Frame:
    """A python-barcode UPC-A image (grayscale) of the 12-digit ``code``."""
    buffer = io.BytesIO()
    UPCA(code[:11], writer=ImageWriter()).write(buffer, options={"dpi": 300})
    image = cv2.imdecode(np.frombuffer(buffer.getvalue(), dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    return image


def read(frame: Frame, *symbols: ZBarSymbol) -> str:
    """The one code pyzbar reads in ``frame`` (the till's decoder, check digits verified)."""
    decoder = BarcodeDecoder(symbols) if symbols else BarcodeDecoder()
    codes = decoder.decode(frame)
    assert len(codes) == 1, codes
    return codes[0]


def scanned(code: str) -> str:
    """``code`` printed as an EAN-13 and read back from a camera frame."""
    return read(camera_frame(code))


@pytest.fixture
def shop(till: Till) -> Till:
    """The seeded till plus loose goods and codes stored in every GTIN form."""
    # id, SKU, barcode, name, price, the other fields; change numbers 201 onwards.
    kg_taxed = {"unit": "kg", "tax_rate_id": 1}
    rows: list[tuple[int, str, str, str, int, dict[str, Any]]] = [
        (APEL, "APEL-FUJI", label("25", "12345", 0), "Apel Fuji", PRICE_PER_KG, kg_taxed),
        (KUE, "KUE-LAPIS", label("21", "00042", 0), "Kue Lapis", 1, {}),
        (UPC_SODA, "SODA", "036000291452", "Soda 330ml", 9000, {}),
        (EAN_ZERO, "SABUN", "0012345678905", "Sabun Mandi", 4500, {}),
        (OWN_CODE, "KANTONG", make_ean13("200000000001"), "Kantong Belanja", 500, {}),
        (DAGING, "DAGING", upca("25555500000"), "Daging Sapi", 135_000, {"unit": "kg"}),
    ]
    products = [
        ProductOut(id=pid, sku=sku, barcode=code, name=name, price=price, change_no=n, **more)
        for n, (pid, sku, code, name, price, more) in enumerate(rows, start=201)
    ] + [
        ProductOut(
            id=pid,
            sku=f"PREFIX-{prefix}",
            barcode=label(str(prefix), f"7{prefix}77", 0),
            name=f"Curah {prefix}",
            price=20_000,
            change_no=300 + prefix,
        )
        for prefix, pid in BY_PREFIX.items()
    ]
    till.store.apply_pull_page(
        PullResponse(cursor=400, has_more=False, remaining=0, products=products)
    )
    return till


# -- one GTIN, any form --------------------------------------------------------------------
def test_a_upc_a_is_found_whether_read_as_12_or_13_digits(shop: Till) -> None:
    frame = upca_frame("036000291452")
    as_upca = read(frame)  # the till's decoder reports UPC-A as 12 digits
    as_ean13 = read(frame, ZBarSymbol.EAN13)  # a scanner set to EAN-13 adds the leading 0
    assert (as_upca, as_ean13) == ("036000291452", "0036000291452")
    for code in (as_upca, as_ean13, "00036000291452"):
        line = shop.checkout.scan(code)
        assert (line.product.id, line.product.price) == (UPC_SODA, 9000)
    assert [(line.product.id, line.quantity) for line in shop.checkout.cart.lines] == [
        (UPC_SODA, 3)
    ]


def test_an_ean_13_with_a_leading_zero_is_found_as_its_upc_a(shop: Till) -> None:
    # Stored as 0012345678905; the camera reads the printed symbol as UPC-A.
    assert read(upca_frame("012345678905")) == "012345678905"
    assert shop.catalog.by_barcode("012345678905").id == EAN_ZERO
    assert shop.catalog.find("00012345678905").id == EAN_ZERO
    assert shop.checkout.scan("012345678905").product.id == EAN_ZERO


def test_gtin_forms_that_are_not_the_same_product_do_not_match(shop: Till) -> None:
    # An EAN-8 is its own GTIN: 96385074 is not 9638507400002 or any code ending in it.
    shop.store.apply_pull_page(
        PullResponse(
            cursor=401,
            has_more=False,
            remaining=0,
            products=[
                ProductOut(
                    id=900, sku="E8", barcode="96385074", name="Permen", price=1000, change_no=401
                )
            ],
        )
    )
    assert shop.catalog.by_barcode("96385074").id == 900
    assert shop.catalog.by_barcode("00000096385074").id == 900
    with pytest.raises(ProductNotFound):
        shop.catalog.by_barcode(make_ean13("963850740000"))
    with pytest.raises(InvalidBarcode):
        shop.checkout.scan("0036000291453")  # the soda's 13-digit form, last digit misread
    with pytest.raises(ProductNotFound):
        shop.checkout.scan("10036000291459")  # a carton of the soda is another GTIN


# -- in-store labels -----------------------------------------------------------------------
def test_a_weighed_apple_rings_up_at_its_weight(shop: Till) -> None:
    code = scanned(label("25", "12345", 1234))
    line = shop.checkout.scan(code)
    price = weighed_price(PRICE_PER_KG, 1234)
    assert price == 40_710  # 32.990 × 1,234 kg = 40.709,66, half up once
    assert (line.product.id, line.product.name, line.product.price, line.quantity) == (
        APEL,
        "Apel Fuji 1,234 kg",
        40_710,
        1,
    )
    assert line.measure is not None and line.measure.grams == 1234
    assert line.measure.base_price == PRICE_PER_KG and line.measure.code == code

    # A second label of the same apples is another bag: its own line, never merged.
    second = shop.checkout.scan(scanned(label("25", "12345", 250)))
    assert second.id != line.id and second.product.name == "Apel Fuji 0,250 kg"
    assert second.product.price == weighed_price(PRICE_PER_KG, 250) == 8248  # 8.247,5 up

    result = shop.checkout.checkout_cash(50_000)
    wire = [(w.product_id, w.name, w.quantity, w.unit_price, w.total) for w in result.sale.lines]
    assert wire == [
        (APEL, "Apel Fuji 1,234 kg", 1, 40_710, 40_710),
        (APEL, "Apel Fuji 0,250 kg", 1, 8248, 8248),
    ]
    assert result.sale.total == 48_958 and result.change == 1042
    # Each line tells the server its label, so it can redo the multiplication.
    assert [w.measure for w in result.sale.lines] == [
        LineMeasure(kind=MeasureKind.WEIGHT, value=1234, base_price=PRICE_PER_KG),
        LineMeasure(kind=MeasureKind.WEIGHT, value=250, base_price=PRICE_PER_KG),
    ]
    # The sale reads back from the till's store exactly as it was sent (reprint, refund).
    assert shop.store.sale(result.sale.id) == result.sale
    # The stock moves count labels (quantity 1 each), the product the catalog's one.
    assert shop.store.stock_on_hand(APEL) == -2


def test_a_price_label_rings_up_at_its_price(shop: Till) -> None:
    line = shop.checkout.scan(scanned(label("21", "00042", 15_500)))
    assert (line.product.id, line.product.name, line.product.price, line.quantity) == (
        KUE,
        "Kue Lapis",
        15_500,
        1,
    )
    assert line.measure is not None and line.measure.kind is MeasureKind.PRICE
    assert line.measure.grams is None
    assert shop.checkout.totals().total == 15_500
    shop.checkout.scan("036000291452")  # an ordinary product: no measure on its line

    sale = shop.checkout.checkout_cash(30_000).sale
    assert [(w.product_id, w.unit_price, w.measure) for w in sale.lines] == [
        (KUE, 15_500, LineMeasure(kind=MeasureKind.PRICE, value=15_500, base_price=1)),
        (UPC_SODA, 9000, None),
    ]
    assert shop.store.sale(sale.id) == sale


@pytest.mark.parametrize("prefix", list(BY_PREFIX))
def test_every_prefix_20_to_29_by_the_default_table(shop: Till, prefix: int) -> None:
    code = scanned(label(str(prefix), f"7{prefix}77", 1500))
    line = shop.checkout.scan(code)
    assert line.product.id == BY_PREFIX[prefix] and line.quantity == 1
    if prefix < 25:  # 20–24: the price in rupiah
        assert (line.product.price, line.product.name) == (1500, f"Curah {prefix}")
    else:  # 25–29: grams, priced per kg
        assert (line.product.price, line.product.name) == (30_000, f"Curah {prefix} 1,500 kg")


def test_a_upc_a_weight_label_reads_as_prefix_02(shop: Till) -> None:
    # A 12-digit UPC-A "2…" is the EAN-13 "02…"; the shop sets 02 to weight here.
    catalog = CatalogService(shop.store, measures=VariableMeasureScheme({"02": MeasureKind.WEIGHT}))
    code = read(upca_frame(upca("25555500750")))
    assert code == upca("25555500750")
    item = catalog.scan(code)
    assert item.product.id == DAGING and item.product.price == 101_250  # 0,750 kg × 135.000
    assert item.product.name == "Daging Sapi 0,750 kg"
    # Under the default table 02 is a price label: the same code rings up Rp750.
    assert shop.catalog.scan(code).product.price == 750
    # With no prefix configured the code is an ordinary barcode nobody carries.
    with pytest.raises(ProductNotFound):
        CatalogService(shop.store, measures=VariableMeasureScheme({})).scan(code)


def test_a_label_with_a_wrong_check_digit_is_refused(shop: Till) -> None:
    good = label("25", "12345", 1234)
    bad = good[:12] + str((int(good[12]) + 1) % 10)
    # The camera drops the misread; typed or sent by a wedge scanner it is refused.
    assert BarcodeDecoder().decode(camera_frame(bad)) == []
    with pytest.raises(InvalidBarcode) as refused:
        shop.checkout.scan(bad)
    assert refused.value.params["problem"] == "barcode_check_digit"
    assert shop.checkout.cart.is_empty


def test_an_unknown_item_code_is_refused_with_its_code(shop: Till) -> None:
    code = scanned(label("26", "99999", 1000))
    with pytest.raises(ProductNotFound) as refused:
        shop.checkout.scan(code)
    assert refused.value.code == "product_not_found_item_code"
    assert refused.value.params == {"code": code, "item_code": "99999"}
    assert "99999" in refused.value.text("id") and "99999" in str(refused.value)
    assert shop.checkout.cart.is_empty


def test_a_label_with_no_weight_or_price_is_refused(shop: Till) -> None:
    with pytest.raises(CartError) as weight:
        shop.checkout.scan(scanned(label("25", "12345", 0)))
    assert weight.value.code == "measured_weight_zero"
    with pytest.raises(CartError) as price:
        shop.checkout.scan(scanned(label("21", "00042", 0)))
    assert price.value.code == "measured_price_zero"
    assert shop.checkout.cart.is_empty


def test_a_fixed_in_store_code_in_the_20_range_keeps_its_catalog_price(shop: Till) -> None:
    code = scanned(make_ean13("200000000001"))
    assert shop.catalog.scan(code) == ScannedItem(shop.catalog.product(OWN_CODE))
    line = shop.checkout.scan(code)
    assert (line.product.id, line.product.price, line.measure) == (OWN_CODE, 500, None)


def test_find_names_the_catalog_product_of_a_label(shop: Till) -> None:
    # The stock screen asks which product a label is: the catalog's, priced per kg.
    product = shop.catalog.find(label("25", "12345", 1234))
    assert (product.id, product.name, product.price) == (APEL, "Apel Fuji", PRICE_PER_KG)


def test_a_held_cart_keeps_its_labels(shop: Till) -> None:
    shop.checkout.scan(label("25", "12345", 1234))
    shop.checkout.scan(label("25", "12345", 1234))
    held = shop.checkout.hold()
    cart = shop.checkout.resume(held.id)
    assert [(line.product.name, line.product.price, line.quantity) for line in cart.lines] == [
        ("Apel Fuji 1,234 kg", 40_710, 1),
        ("Apel Fuji 1,234 kg", 40_710, 1),
    ]
    assert all(line.measure and line.measure.grams == 1234 for line in cart.lines)


# -- a weight keyed on the quantity keypad -------------------------------------------------
def test_a_weight_keyed_with_a_comma_sells_like_a_scale_label(shop: Till) -> None:
    line = shop.checkout.add_product(DAGING)
    weighed_line = shop.checkout.set_keyed_quantity(line.id, "0,75")
    assert weighed_line is line
    assert (line.product.name, line.product.price, line.quantity) == (
        "Daging Sapi 0,75 kg",
        101_250,  # 135.000 × 0,75
        1,
    )
    # A point reads the same; a new weight replaces the old one on the same line.
    shop.checkout.set_keyed_quantity(line.id, "1.5")
    assert (line.product.name, line.product.price) == ("Daging Sapi 1,5 kg", 202_500)
    shop.checkout.set_keyed_quantity(line.id, "0,75")

    result = shop.checkout.checkout_cash(200_000)
    (wire,) = result.sale.lines
    assert (wire.name, wire.quantity, wire.unit_price, wire.total) == (
        "Daging Sapi 0,75 kg",
        1,
        101_250,
        101_250,
    )
    assert wire.measure == LineMeasure(kind=MeasureKind.WEIGHT, value=750, base_price=135_000)
    # The receipt and the history read the weight as typed.
    receipt = receipt_for_sale(shop.store, shop.store.sale(result.sale.id))
    assert [x.name for x in receipt.lines] == ["Daging Sapi 0,75 kg"]
    detail = HistoryService(shop.store).detail(result.sale.id)
    assert [x.name for x in detail.sale.lines] == ["Daging Sapi 0,75 kg"]


def test_a_whole_number_on_a_weighed_product_stays_a_quantity(shop: Till) -> None:
    line = shop.checkout.add_product(APEL)
    shop.checkout.set_keyed_quantity(line.id, "3")
    assert (line.quantity, line.product.price, line.measure) == (3, PRICE_PER_KG, None)


def test_a_fraction_of_a_whole_unit_product_is_refused(shop: Till) -> None:
    line = shop.checkout.add_product(UPC_SODA)
    with pytest.raises(CartError) as refused:
        shop.checkout.set_keyed_quantity(line.id, "0,5")
    assert refused.value.code == "quantity_not_whole_unit"
    assert refused.value.params == {"name": "Soda 330ml", "unit": "pcs"}
    assert "Soda 330ml dijual per pcs" in render(refused.value.code, refused.value.params)
    assert (line.quantity, line.product.price) == (1, 9000)
    shop.checkout.set_keyed_quantity(line.id, "4,000")
    assert line.quantity == 4


def test_a_price_label_line_takes_no_weight(shop: Till) -> None:
    line = shop.checkout.scan(label("21", "00042", 12_500))
    with pytest.raises(CartError) as refused:
        shop.checkout.set_keyed_quantity(line.id, "0,5")
    assert refused.value.code == "quantity_not_whole_unit"
    assert (line.product.price, line.quantity) == (12_500, 1)
