"""Loose goods weighed at the counter, in a real window: the quantity keypad takes a
decimal comma for goods sold by the kilogram (``0,75`` kg), prices the weight like a
scale label and shows it on the cart row, the receipt and the history; a fraction of a
whole-unit product is refused with a sentence. Screenshots in landscape and portrait.

Run by ``tests/ui/test_window.py`` in its own process (one Kivy window per process).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pos_client.ui.app import KasirApp
from pos_client.ui.keypad import COMMA, OK
from shared.barcodes import make_ean13
from shared.models import ProductOut, PullResponse
from shared.pricing import weighed_price
from tests.client.conftest import TEH
from tests.ui.window import harness as ui

CURAH = make_ean13("899999900101")
PER_KG = 14_000


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KasirApp]:
    rice = ProductOut(
        id=40,
        sku="BRS-CURAH",
        barcode=CURAH,
        name="Beras Curah",
        unit="kg",
        price=PER_KG,
        tax_rate_id=1,
        change_no=140,
    )
    page = PullResponse(cursor=300, has_more=False, remaining=0, products=[rice])
    yield from ui.launch(tmp_path_factory, prepare=ui.pulled(page))


def quantity_button(row: Any) -> Any:
    """The row's quantity key (a tap opens the keypad)."""
    return next(w for w in row.walk() if w is not row and getattr(w, "text", "") == row.quantity)


def test_a_weight_typed_with_the_comma_key(app: KasirApp) -> None:
    ui.log_in(app, "Ibu Cashier", "1111")
    ui.open_shift(app)
    sale = app.screen("sale")
    ui.wedge_scan(CURAH)
    ui.pump(lambda: len(sale.rows()) == 1)
    row = sale.rows()[0]
    assert (row.quantity, row.detail) == ("1", "Rp 14.000 / kg")
    ui.press(quantity_button(row))
    popup = sale.keypad_popup()
    assert popup is not None
    pad = popup.ids.pad
    assert pad.decimal and pad.ids.comma.opacity == 1 and not pad.ids.comma.disabled
    for key in (COMMA, "7", "5"):
        ui.press(pad.button(key))
    assert popup.ids.shown.text == "0,75"
    ui.shot("weighed-keypad-landscape")
    ui.resize(ui.PORTRAIT)
    ui.shot("weighed-keypad-portrait")
    ui.resize(ui.LANDSCAPE)
    ui.press(pad.button(OK))
    assert sale.keypad_popup() is None
    row = sale.rows()[0]
    price = weighed_price(PER_KG, 750)
    assert (row.name, row.quantity, row.detail, row.total) == (
        "Beras Curah 0,75 kg",
        "0,75 kg",
        "Rp 14.000 / kg",
        "Rp 10.500",
    )
    assert price == 10_500
    button = quantity_button(row)
    assert button.texture_size[0] <= button.width, "the weight fits its key"


def test_a_fraction_of_a_bottle_is_refused_in_a_sentence(app: KasirApp) -> None:
    sale = app.screen("sale")
    ui.wedge_scan(TEH)
    ui.pump(lambda: len(sale.rows()) == 2)
    ui.press(quantity_button(sale.rows()[1]))
    popup = sale.keypad_popup()
    assert popup is not None
    popup.ids.pad.type_keys("0.5\n")  # a keyboard: the point is the comma too
    assert popup.ids.message.text == (
        "Teh Botol Sosro 450ml dijual per pcs, bukan ditimbang: jumlahnya harus bilangan bulat."
    )
    assert sale.keypad_popup() is popup, "the keypad stays open to type it again"
    ui.shot("weighed-refused-landscape")
    popup.dismiss()
    ui.pump(frames=2)
    assert [(line.product.name, line.quantity) for line in app.till.checkout.cart.lines] == [
        ("Beras Curah 0,75 kg", 1),
        ("Teh Botol Sosro 450ml", 1),
    ]


def test_the_receipt_and_the_history_read_the_weight(app: KasirApp) -> None:
    sale = app.screen("sale")
    ui.press(sale.ids.pay)
    payment = app.screen("payment")
    ui.press(payment.quick_buttons()[0])
    ui.press(payment.ids.pay_cash)
    assert app.current == "receipt"
    receipt = app.screen("receipt").ids.receipt.text
    assert "Beras Curah 0,75 kg" in receipt and "10.500" in receipt
    ui.shot("weighed-receipt-landscape")
    ui.press(app.screen("receipt").ids.new_sale)
    ui.press(sale.ids.history_button)
    history = app.screen("history")
    ui.press(history.rows()[0])
    assert "Beras Curah 0,75 kg" in history.ids.receipt.text
    ui.shot("weighed-history-landscape")
