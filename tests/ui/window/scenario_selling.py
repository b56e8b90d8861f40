"""Selling faster, in a real window: a quantity typed on the keypad, goods without
barcodes from the product grid by category and from the Favorit tab, a category name
searched with price and stock in the results, a whole-cart discount that needs a
supervisor (wrong PIN, then the right one), then cash.

Every tap goes through ``tap()``, which counts: the scenario asserts how many taps the
two common tasks take (set a quantity of 24; sell three loose items for cash).
Run by ``tests/ui/test_window.py`` in its own process (one Kivy window per process).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pos_client.ui.app import KasirApp
from pos_client.ui.keypad import BACKSPACE, CLEAR, COMMA, edit
from pos_client.ui.screens.sale import SaleScreen
from shared.models import PullResponse
from tests.client.conftest import TEH, WARUNG, menu_page
from tests.ui.window import harness as ui

TAPS: list[str] = []


def tap(button: object, what: str = "") -> None:
    """A cashier's tap (counted)."""
    TAPS.append(what or str(getattr(button, "text", "")))
    ui.press(button)


def warung_page() -> PullResponse:
    """Food and drinks made to order (no barcodes), in two categories, with stock."""
    items = [
        *WARUNG,
        (112, "MIE-AYM", "Mie Ayam", 15000, 11),
        (113, "TAHU-ISI", "Tahu Isi", 2000, 11),
    ]
    return menu_page(items, {10: "Minuman", 11: "Makanan"}, on_hand={pid: 40 for pid, *_ in items})


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KasirApp]:
    yield from ui.launch(tmp_path_factory, prepare=ui.pulled(warung_page()))


def sale_screen(app: KasirApp) -> SaleScreen:
    screen: SaleScreen = app.screen("sale")
    return screen


def cart(app: KasirApp) -> list[tuple[str, int]]:
    return [(line.product.name, line.quantity) for line in app.till.checkout.cart.lines]


def quantity_button(sale: SaleScreen, row: int) -> object:
    found = sale.rows()[row]
    return next(
        w for w in found.walk() if getattr(w, "text", None) == found.quantity and w is not found
    )


def test_log_in_and_open_the_shift(app: KasirApp) -> None:
    ui.log_in(app, "Ibu Cashier", "1111")
    ui.open_shift(app)
    assert app.current == "sale"
    grid = sale_screen(app).ids.grid
    # No favourites yet: the grid opens on the first category; the tabs are the pulled
    # categories by name, the goods with no category last.
    assert [t.text for t in grid.tabs()] == [
        "★ Favorit",
        "Makanan",
        "Minuman",
        "Sembako",
        "Lainnya",
    ]
    assert grid.tab("Makanan").state == "down"
    assert [t.name for t in grid.tiles()] == ["Mie Ayam", "Nasi Goreng", "Tahu Isi"]


def test_type_a_quantity_of_24_on_the_keypad(app: KasirApp) -> None:
    sale = sale_screen(app)
    ui.wedge_scan(TEH)
    ui.pump(lambda: len(sale.rows()) == 1)
    TAPS.clear()
    tap(quantity_button(sale, 0), "quantity")
    popup = sale.keypad_popup()
    assert popup is not None, "tapping the quantity opens the keypad"
    assert popup.ids.now.text == "Sekarang 1. Ketik jumlah baru lalu OK."
    pad = popup.ids.pad
    tap(pad.button("2"))
    tap(pad.button("5"))
    tap(pad.button("⌫"))
    assert popup.ids.shown.text == "2"
    ui.shot("selling-keypad-landscape")
    tap(pad.button("4"))
    tap(pad.button("OK"))
    assert sale.keypad_popup() is None
    row = sale.rows()[0]
    assert (row.name, row.quantity, row.total) == ("Teh Botol Sosro 450ml", "24", "Rp 120.000")
    assert cart(app) == [("Teh Botol Sosro 450ml", 24)]
    # tap, 2, 5, ⌫, 4, OK: six with a typo; without it tap, 2, 4, OK (23 "+" taps before)
    assert len(TAPS) == 6
    # a keyboard works too, and a zero-only quantity is never accepted
    tap(quantity_button(sale, 0), "quantity")
    popup = sale.keypad_popup()
    assert popup is not None
    popup.ids.pad.type_keys("00")
    assert popup.ids.pad.value == "", "a quantity never starts with 0"
    popup.ids.pad.type_keys("12\n")
    assert sale.keypad_popup() is None
    assert cart(app) == [("Teh Botol Sosro 450ml", 12)]
    sale.remove(sale.rows()[0].line_id)
    ui.pump(frames=2)
    assert cart(app) == []


def test_sell_from_the_grid_by_category_and_from_favourites(app: KasirApp) -> None:
    sale = sale_screen(app)
    grid = sale.ids.grid
    TAPS.clear()
    tap(grid.tile("Nasi Goreng").ids.add, "Nasi Goreng")
    tap(grid.tile("Nasi Goreng").ids.add, "Nasi Goreng")
    tap(grid.tab("Minuman"), "Minuman")
    assert [t.name for t in grid.tiles()] == ["Es Jeruk", "Es Teh Manis", "Kopi Susu"]
    tap(grid.tile("Es Teh Manis").ids.add, "Es Teh Manis")
    assert cart(app) == [("Nasi Goreng", 2), ("Es Teh Manis", 1)]
    assert len(TAPS) == 4
    # pin two drinks with their stars; the Favorit tab shows them
    tap(grid.tile("Es Teh Manis").ids.star, "pin")
    tap(grid.tile("Kopi Susu").ids.star, "pin")
    assert grid.tile("Kopi Susu").ids.star.text == "★"
    assert app.status_bar is not None
    assert app.status_bar.message == "Kopi Susu disematkan ke Favorit."
    tap(grid.tab("★ Favorit"))
    assert [(t.name, t.favourite) for t in grid.tiles()] == [
        ("Es Teh Manis", True),
        ("Kopi Susu", True),
    ]
    assert "Rp 8.000" in grid.tile("Kopi Susu").ids.add.text
    tap(grid.tile("Kopi Susu").ids.add, "Kopi Susu")
    assert cart(app)[-1] == ("Kopi Susu", 1)
    ui.shot("selling-grid-landscape")
    ui.resize(ui.PORTRAIT)
    assert grid.width > sale.width * 0.9
    ui.shot("selling-grid-portrait")
    ui.resize(ui.LANDSCAPE)
    assert sale.ids.search.width > sale.width / 2
    # unpinning on the Favorit tab takes the tile away; the list is kept on this till
    tap(grid.tile("Es Teh Manis").ids.star, "unpin")
    assert [t.name for t in grid.tiles()] == ["Kopi Susu"]
    assert [p.name for p in app.till.store.favourite_products()] == ["Kopi Susu"]


def test_search_a_category_name_shows_price_and_stock(app: KasirApp) -> None:
    sale = sale_screen(app)
    sale.ids.search.focus = True
    ui.type_slowly("minum", gap=0.05)
    ui.pump(lambda: len(sale.ids.results.children) == 3, timeout=3)
    rows = list(reversed(sale.ids.results.children))
    assert [r.name for r in rows] == ["Es Jeruk", "Es Teh Manis", "Kopi Susu"]
    # 40 pulled; one Es Teh Manis sold on this till is not synced yet? Nothing is sold
    # yet: the cart is not stock. Price on the right, stock, SKU and category below.
    assert rows[2].price == "Rp 8.000"
    assert rows[2].detail == "Stok 40 pcs   ·   KOPI-SSU   ·   Minuman"
    ui.shot("selling-search-landscape")
    ui.resize(ui.PORTRAIT)
    ui.shot("selling-search-portrait")
    ui.resize(ui.LANDSCAPE)
    tap(rows[0].children[0], "Es Jeruk")
    assert cart(app)[-1] == ("Es Jeruk", 1)
    assert sale.ids.search.text == ""


def test_whole_cart_discount_needs_a_supervisor(app: KasirApp) -> None:
    sale = sale_screen(app)
    before = app.till.checkout.totals().total
    # Nasi Goreng 2 x 18.000 + Es Teh Manis 4.000 + Kopi Susu 8.000 + Es Jeruk 6.000
    assert before == 54_000
    TAPS.clear()
    tap(sale.ids.order_discount_button)
    popup = sale.discount_popup()
    assert popup is not None
    assert popup.title == "Diskon transaksi"
    ids = popup.ids
    ids.percent.focus = True  # the % field: the keypad now fills it
    TAPS.append("% field")
    ui.pump(frames=2)
    tap(ids.pad.button("2"))
    tap(ids.pad.button("0"))
    assert ids.percent.text == "20"
    tap(ids.pad.button("OK"))
    assert ids.message.text == "Penyelia harus menyetujui diskon transaksi (di atas 10%)."
    assert sale.discount_popup() is popup, "refused: the popup stays to approve"
    assert popup.target is ids.pin, "the keypad now types the supervisor's PIN"
    ids.approver.text = "Ibu Supervisor"
    TAPS.extend(["approver", "Ibu Supervisor"])
    for digit in "9999":
        tap(ids.pad.button(digit))
    assert ids.pin.text == "9999"
    tap(ids.pad.button("OK"))
    assert ids.message.text == "PIN salah; sisa 4 percobaan."
    assert ids.pin.text == "", "a wrong PIN is cleared to type again"
    assert app.till.checkout.order_discount is None
    ui.shot("selling-discount-landscape")
    ui.resize(ui.PORTRAIT)
    ui.shot("selling-discount-portrait")
    ui.resize(ui.LANDSCAPE)
    for digit in "2222":
        tap(ids.pad.button(digit))
    tap(ids.pad.button("OK"))
    assert sale.discount_popup() is None
    discount = app.till.checkout.order_discount
    assert discount is not None and discount.approved_by == 2
    assert sale.ids.discount.text == "-Rp 10.800"
    assert sale.ids.total.text == "Rp 43.200"
    assert sale.ids.order_discount_button.text == "Diskon total 20%"
    ui.shot("selling-cart-landscape")


def test_pay_cash(app: KasirApp) -> None:
    sale = sale_screen(app)
    tap(sale.ids.pay)
    payment = app.screen("payment")
    assert payment.ids.due.text == "Rp 43.200"
    tap(payment.quick_buttons()[0])
    tap(payment.ids.pay_cash)
    assert app.current == "receipt"
    recorded = app.till.store.sale(app.till.store.recent_sales(1)[0].id)
    assert recorded is not None
    assert (recorded.order_discount, recorded.total) == (10_800, 43_200)


def test_three_loose_items_for_cash_in_six_taps(app: KasirApp) -> None:
    ui.press(app.screen("receipt").ids.new_sale)
    sale = sale_screen(app)
    grid = sale.ids.grid
    assert grid.tab("★ Favorit").state == "down", "with favourites the grid opens on them"
    TAPS.clear()
    tap(grid.tile("Kopi Susu").ids.add, "Kopi Susu")
    tap(grid.tab("Makanan"), "Makanan")
    tap(grid.tile("Mie Ayam").ids.add, "Mie Ayam")
    tap(grid.tile("Tahu Isi").ids.add, "Tahu Isi")
    tap(sale.ids.pay)
    payment = app.screen("payment")
    tap(payment.quick_buttons()[0])
    tap(payment.ids.pay_cash)
    assert app.current == "receipt"
    assert len(TAPS) == 7  # 3 tiles + 1 tab + pay, exact money, pay cash


def test_screenshots_exist() -> None:
    for name in ("keypad", "grid", "search", "discount"):
        assert Path(ui.shot(f"selling-{name}-check")).exists()


def test_keypad_editing() -> None:
    assert edit("", "0") == "" and edit("", "00") == "", "no leading zero in a quantity"
    assert edit("", "0", leading_zero=True) == "0", "a PIN may start with 0"
    assert edit("2", "00") == "200"
    assert edit("24", BACKSPACE) == "2"
    assert edit("24", CLEAR) == ""
    assert edit("123", "4", max_length=3) == "123"
    assert edit("12", "00", max_length=3) == "12", "00 never half-fits"


def test_keypad_decimal_comma() -> None:
    assert edit("", COMMA, decimal=True) == "0,", "a weight under 1 kg starts at the comma"
    assert edit("0,7", "5", decimal=True) == "0,75"
    assert edit("1,5", COMMA, decimal=True) == "1,5", "one comma"
    assert edit("", COMMA) == "", "whole-number pads take no comma"
