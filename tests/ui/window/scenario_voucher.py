"""A voucher at the till, in a real window: refused codes read as sentences and change
nothing; a valid one shows its own line in the totals, comes off, and is paid with.

The till's clock is fixed (15 June 2025) so the demo vouchers' windows mean the same on
every run; it moves a year on to meet an expired voucher.
Run by ``tests/ui/test_window.py`` in its own process (one Kivy window per process).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kivy.uix.popup import Popup

from pos_client.ui.app import KasirApp
from pos_client.ui.screens.sale import SaleScreen
from tests.client.conftest import BERAS, TEH, FakeClock
from tests.ui.window import harness as ui


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, clock: FakeClock) -> Iterator[KasirApp]:
    yield from ui.launch(tmp_path_factory, now=clock)


def sale_screen(app: KasirApp) -> SaleScreen:
    screen: SaleScreen = app.screen("sale")
    return screen


def open_popup(sale: SaleScreen) -> Popup:
    ui.press(sale.ids.voucher_button)
    popup = sale.voucher_popup()
    assert popup is not None, "the Voucher button opens the popup"
    return popup


def try_code(sale: SaleScreen, code: str) -> Popup:
    """Open the popup, type ``code`` as a person would, and tap Apply."""
    popup = open_popup(sale)
    popup.ids.code.text = ""
    popup.ids.code.focus = True
    ui.pump(frames=2)
    ui.type_slowly(code, gap=0.03)
    assert popup.ids.code.text == code
    ui.press(popup.ids.apply)
    return popup


def totals_shown(sale: SaleScreen) -> dict[str, str]:
    ids = sale.ids
    shown = {
        "subtotal": ids.subtotal.text,
        "discount": ids.discount.text,
        "tax": ids.tax.text,
        "total": ids.total.text,
    }
    if ids.voucher.opacity:
        shown[ids.voucher_label.text] = ids.voucher.text
    return shown


def test_log_in_and_ring_up_a_tea(app: KasirApp) -> None:
    ui.log_in(app, "Ibu Cashier", "1111")
    ui.open_shift(app)
    assert app.current == "sale"
    sale = sale_screen(app)
    assert sale.ids.voucher_button.disabled, "no voucher on an empty cart"
    ui.wedge_scan(TEH)
    ui.pump(lambda: len(sale.rows()) == 1)
    assert not sale.ids.voucher_button.disabled


def test_refused_vouchers_say_why_and_change_nothing(app: KasirApp) -> None:
    sale = sale_screen(app)
    before = totals_shown(sale)
    assert before == {
        "subtotal": "Rp 5.000",
        "discount": "Rp 0",
        "tax": "Rp 495",
        "total": "Rp 5.000",
    }
    popup = try_code(sale, "hemat10")
    assert popup.ids.message.text == "Voucher HEMAT10 perlu belanja minimal Rp20.000."
    assert sale.voucher_popup() is popup, "a refusal keeps the popup open to try again"
    assert popup.ids.drop.disabled, "nothing to remove yet"
    ui.shot("17-voucher-refused")
    popup.ids.code.text = "HABIS"
    ui.press(popup.ids.apply)
    assert popup.ids.message.text == "Kuota voucher HABIS sudah habis."
    popup.ids.code.text = "NGAWUR"
    ui.press(popup.ids.apply)
    assert popup.ids.message.text == "Voucher NGAWUR tidak ada."
    popup.ids.code.text = "   "
    ui.press(popup.ids.apply)
    assert popup.ids.message.text == "Ketik kode voucher dulu."
    ui.press(next(c for c in popup.walk() if getattr(c, "text", None) == "Batal"))
    assert sale.voucher_popup() is None
    assert totals_shown(sale) == before
    assert app.till.checkout.voucher_code is None


def test_a_valid_voucher_shows_its_own_line_in_the_totals(app: KasirApp) -> None:
    sale = sale_screen(app)
    ui.wedge_scan(BERAS)  # 72.500 with 11 % PPN added on top
    ui.pump(lambda: len(sale.rows()) == 2)
    try_code(sale, "hemat10")
    assert sale.voucher_popup() is None, "applied: the popup closes"
    # 10 % of 77.500 = 7.750, spread over the lines before PPN: Teh 500, Beras 7.250;
    # PPN: 4.500 * 11/111 = 446 (inside) + 65.250 * 11 % = 7.178 (added)
    assert totals_shown(sale) == {
        "subtotal": "Rp 77.500",
        "discount": "Rp 0",
        "tax": "Rp 7.624",
        "total": "Rp 76.928",
        "Voucher HEMAT10": "-Rp 7.750",
    }
    assert sale.ids.pay.text == "Bayar  Rp 76.928"
    assert sale.ids.voucher_button.text == "Ubah voucher"
    assert app.status_bar is not None
    assert app.status_bar.message == "Voucher HEMAT10 dipakai: -Rp 7.750"
    ui.shot("18-voucher-applied")
    ui.resize(ui.PORTRAIT)
    ui.shot("portrait-sale-voucher")
    ui.resize(ui.LANDSCAPE)
    # back in landscape the menu buttons shrink again and the search field takes the rest
    assert sale.ids.search.width > sale.width / 2


def test_remove_the_voucher(app: KasirApp) -> None:
    sale = sale_screen(app)
    popup = open_popup(sale)
    assert popup.ids.code.text == "HEMAT10", "the popup shows the voucher on the cart"
    assert not popup.ids.drop.disabled
    ui.shot("19-voucher-popup-applied")
    ui.press(popup.ids.drop)
    assert sale.voucher_popup() is None
    assert app.till.checkout.voucher_code is None
    assert not sale.ids.voucher.opacity
    assert sale.ids.voucher_button.text == "Pakai voucher"
    assert sale.ids.total.text == "Rp 85.475"  # 5.000 + 72.500 + 7.975
    assert app.status_bar is not None
    assert app.status_bar.message == "Voucher HEMAT10 dilepas."


def test_expired_voucher_then_a_fixed_one_is_paid_with(app: KasirApp, clock: FakeClock) -> None:
    sale = sale_screen(app)
    clock.advance(days=365)  # HEMAT10 ran until the end of 2025
    popup = try_code(sale, "HEMAT10")
    assert popup.ids.message.text == "Voucher HEMAT10 sudah kedaluwarsa."
    popup.ids.code.text = "potong5rb"
    ui.press(popup.ids.apply)
    assert sale.voucher_popup() is None
    shown = totals_shown(sale)
    assert shown["Voucher POTONG5RB"] == "-Rp 5.000"
    assert shown["total"] == "Rp 79.961"
    ui.press(sale.ids.pay)
    payment = app.screen("payment")
    assert payment.ids.due.text == "Rp 79.961"
    ui.press(payment.quick_buttons()[0])
    ui.press(payment.ids.pay_cash)
    assert app.current == "receipt"
    recorded = app.till.store.sale(app.till.store.recent_sales(1)[0].id)
    assert recorded is not None
    assert (recorded.voucher_code, recorded.order_discount, recorded.total) == (
        "POTONG5RB",
        5000,
        79_961,
    )


def test_a_scanned_voucher_goes_into_the_open_popup(app: KasirApp) -> None:
    ui.press(app.screen("receipt").ids.new_sale)
    sale = sale_screen(app)
    ui.wedge_scan(BERAS)
    ui.pump(lambda: len(sale.rows()) == 1)
    open_popup(sale)
    ui.wedge_scan("POTONG5RB")  # a voucher printed as a barcode
    assert sale.voucher_popup() is None
    assert len(sale.rows()) == 1, "the voucher code never rings up as a product"
    assert totals_shown(sale)["Voucher POTONG5RB"] == "-Rp 5.000"
    assert sale.ids.total.text == "Rp 74.925"  # (72.500 - 5.000) + 11 % PPN
