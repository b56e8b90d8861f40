"""The cashier's day in a real window: PIN, shift, wedge and camera scans, cash, receipt,
refund with a manager PIN, shift close; a screenshot of every screen in both orientations.

Run by ``tests/ui/test_window.py`` in its own process (one Kivy window per process).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pos_client.ui.app import KasirApp
from shared.money import format_rupiah
from tests.client.conftest import BERAS, INDOMIE, TEH
from tests.ui.frames import camera_frame, save_frame
from tests.ui.window import harness as ui

CASHIER_PIN, MANAGER_PIN = "1111", "3333"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, server: ui.FakeServer) -> Iterator[KasirApp]:
    yield from ui.launch(tmp_path_factory, server=server)


def enter_pin(app: KasirApp, pin: str) -> None:
    login = app.screen("login")
    for digit in pin:
        login.ids.keypad.press(digit)
    ui.press(login.ids.login_button)


def test_login_with_pin_opens_the_shift_screen(app: KasirApp) -> None:
    assert app.current == "login"
    login = app.screen("login")
    buttons = {b.user_name: b for b in login.ids.users.children}
    assert set(buttons) == {"Ibu Cashier", "Ibu Supervisor", "Ibu Manager", "Ibu Admin"}
    ui.press(buttons["Ibu Cashier"])
    assert buttons["Ibu Cashier"].state == "down"
    assert login.ids.prompt.text == "Masukkan PIN Ibu Cashier"
    # the status bar is there from the first screen, and sync answers
    ui.pump(lambda: app.status_bar.online_text == "Online", timeout=10)
    assert app.status_bar.waiting_text == "0 menunggu"
    login.ids.keypad.press("9")
    assert login.ids.pin.text == "●"
    ui.shot("01-login")
    login.ids.keypad.press("9")
    login.ids.keypad.press("9")
    login.ids.keypad.press("9")
    ui.press(login.ids.login_button)
    assert login.ids.message.text == "PIN salah; sisa 4 percobaan."
    enter_pin(app, CASHIER_PIN)
    assert app.current == "shift"
    assert app.status_bar.user_text == "Ibu Cashier"
    assert "Belum ada shift" in app.screen("shift").ids.header.text
    ui.shot("02-shift-closed")


def test_open_shift_then_scan_three_by_wedge(app: KasirApp) -> None:
    shift = app.screen("shift")
    shift.ids.float_amount.text = "200000"
    ui.press(shift.ids.open_button)
    assert app.current == "sale"
    sale = app.screen("sale")
    assert sale.ids.empty.text.startswith("Keranjang kosong")
    search = sale.ids.search
    search.focus = True
    ui.pump(frames=2)
    for code in (INDOMIE, TEH, BERAS):
        ui.wedge_scan(code)
    ui.pump(lambda: len(sale.rows()) == 3)
    assert [r.name for r in sale.rows()] == [
        "Indomie Goreng 85g",
        "Teh Botol Sosro 450ml",
        "Beras Pandan Wangi 5kg",
    ]
    assert search.text == "", "a scan must never land in the focused field"
    assert app.beeper.count == 3
    assert app.scans == [INDOMIE, TEH, BERAS]


def test_slow_typing_goes_to_the_search_field(app: KasirApp) -> None:
    sale = app.screen("sale")
    sale.ids.search.focus = True
    ui.type_slowly("gula")
    ui.pump(lambda: sale.ids.search.text == "gula", timeout=3)
    ui.pump(lambda: len(sale.ids.results.children) == 1, timeout=3)
    ui.shot("03-sale-search")
    result = sale.ids.results.children[0]
    assert result.name == "Gula Pasir 1kg"
    ui.press(result.children[0])
    assert [r.name for r in sale.rows()][-1] == "Gula Pasir 1kg"
    assert sale.ids.search.text == ""
    # and a typed Enter is the field's: an unknown word shows a sentence, no line
    sale.ids.search.focus = True
    ui.type_slowly("zzz")
    ui.enter()
    ui.pump(frames=3)
    assert sale.ids.message.text == "Tidak ditemukan."
    assert len(sale.rows()) == 4
    sale.remove(sale.rows()[-1].line_id)
    sale.ids.search.text = ""
    ui.pump(frames=2)
    assert len(sale.rows()) == 3


def test_camera_frame_adds_the_fourth_product(app: KasirApp, tmp_path: Path) -> None:
    folder = tmp_path / "camera"
    folder.mkdir()
    assert app.start_camera(str(folder))
    sale = app.screen("sale")
    assert sale.camera_on
    save_frame(camera_frame(ui.KOPI, angle=8, noise=18, seed=3), folder / "frame-001.png")
    ui.pump(lambda: len(sale.rows()) == 4, timeout=10)
    assert sale.rows()[-1].name == "Kopi Kapal Api 165g"
    ui.pump(lambda: sale.ids.preview.texture is not None, timeout=5)
    ui.shot("04-sale-camera")
    app.stop_camera()
    assert not sale.camera_on
    assert app.beeper.count == 4


def test_no_camera_is_a_plain_sentence(app: KasirApp, tmp_path: Path) -> None:
    assert not app.start_camera(str(tmp_path / "nothing-here"))
    message = app.screen("sale").ids.message.text
    assert message.startswith("Kamera tidak tersedia")
    assert "Pemindai USB tetap bisa dipakai" in message


def test_change_quantity_updates_rows_and_totals(app: KasirApp) -> None:
    sale = app.screen("sale")
    indomie = sale.rows()[0]
    plus = next(c for c in indomie.walk() if getattr(c, "text", None) == "+")
    ui.press(plus)
    indomie = sale.rows()[0]
    assert indomie.quantity == "2"
    assert indomie.total == "Rp 7.000"
    totals = app.till.checkout.totals()
    # Indomie 2×3.500 + Teh 5.000 + Beras 72.500 (+11% PPN added) + Kopi 14.500
    assert totals.subtotal == 7000 + 5000 + 72500 + 14500
    assert sale.ids.total.text == format_rupiah(totals.total)
    assert sale.ids.tax.text == format_rupiah(totals.tax_total)
    assert totals.total == 99000 + 7975
    ui.shot("05-sale-cart")


def test_pay_cash_shows_change_and_receipt(app: KasirApp) -> None:
    sale = app.screen("sale")
    ui.press(sale.ids.pay)
    assert app.current == "payment"
    payment = app.screen("payment")
    assert payment.ids.due.text == "Rp 106.975"
    assert payment.qris_note == "QRIS belum tersedia di kasir ini; terima tunai."
    for digit in "200000":
        payment.ids.keypad.press(digit)
    ui.pump(frames=2)
    assert payment.ids.tendered.text == "Rp 200.000"
    assert payment.ids.change.text == "Rp 93.025"
    ui.shot("06-payment-cash")
    ui.press(payment.ids.pay_cash)
    assert app.current == "receipt"
    receipt = app.screen("receipt")
    text = receipt.ids.receipt.text
    assert "T01-20" in text and "Toko Maju" in text
    assert "Indomie Goreng 85g" in text and "Kopi Kapal Api 165g" in text
    assert "106.975" in text and "Tunai" in text and "93.025" in text
    assert receipt.ids.change.text == "Kembalian Rp 93.025"
    # the sale waits in the outbox until the fake server takes it
    ui.pump(lambda: app.status_bar.waiting_text == "0 menunggu", timeout=10)
    ui.shot("07-receipt")


def test_print_failure_never_blocks(app: KasirApp) -> None:
    receipt = app.screen("receipt")
    app.till.prefs = app.till.prefs.with_changes(
        printer_kind="network", printer_host="127.0.0.1", printer_port=9
    )
    ui.press(receipt.ids.print_button)
    ui.settle()
    assert receipt.ids.message.text.startswith("Gagal mencetak")
    assert receipt.ids.message.text.endswith("Penjualan tetap tersimpan.")
    assert not receipt.ids.print_button.disabled
    app.till.prefs = app.till.prefs.with_changes(printer_kind="none")
    ui.press(receipt.ids.new_sale)
    assert app.current == "sale"
    assert app.screen("sale").rows() == []


def test_refund_one_line_with_manager_pin(app: KasirApp) -> None:
    number = app.till.store.recent_sales(1)[0].receipt_number
    app.go("refund")
    ui.pump(frames=2)
    refund = app.screen("refund")
    ui.wedge_scan(number)  # the receipt's QR read by a 2D USB scanner
    assert refund.ids.number.text == number
    rows = refund.rows()
    assert [r.name for r in rows][:2] == ["Indomie Goreng 85g", "Teh Botol Sosro 450ml"]
    assert rows[1].detail == "terjual 1, bisa diretur 1"
    rows[1].quantity = 1
    ui.press(refund.ids.reason_damaged)  # a refund needs a reason
    refund.ids.manager.text = "Ibu Manager"
    refund.ids.pin.text = "0000"
    ui.press(refund.ids.refund_button)
    assert refund.ids.message.text.startswith("PIN salah")
    refund.ids.pin.text = MANAGER_PIN
    ui.press(refund.ids.refund_button)
    assert refund.ids.message.text == "Retur Rp 5.000 dicatat. Berikan uang tunai."
    assert refund.rows()[1].detail == "terjual 1, bisa diretur 0"
    ui.shot("08-refund")


def test_stock_lookup_counts_unsynced_moves(app: KasirApp) -> None:
    app.go("stock")
    stock = app.screen("stock")
    ui.wedge_scan(INDOMIE)
    row = stock.ids.results.children[0]
    # 100 pulled; the sale of 2 was acknowledged and the fake server sends no new level
    assert row.level == "Stok 100 pcs"
    assert row.name.startswith("Indomie Goreng 85g")
    ui.shot("09-stock")


def test_close_shift_shows_the_z_report(app: KasirApp) -> None:
    app.go("shift")
    shift = app.screen("shift")
    assert shift.report_values()["Kas seharusnya"] == "Rp 301.975"
    shift.ids.move_amount.text = "20000"
    shift.ids.move_reason.text = "Beli galon"
    ui.press(shift.ids.cash_out)
    assert shift.ids.message.text == "Tercatat: -Rp 20.000"
    ui.shot("10-shift-open")
    shift.ids.counted.text = "281000"
    values = ui.close_shift(app)
    assert values["Kas seharusnya"] == "Rp 281.975"
    assert values["Uang dihitung"] == "Rp 281.000"
    assert values["Selisih"] == "-Rp 975"
    assert values["Total retur"] == "Rp 5.000"
    ui.shot("11-shift-z-report")


def test_settings_switch_to_english(app: KasirApp) -> None:
    app.go("settings")
    settings = app.screen("settings")
    assert settings.ids.width.text == "32 kolom"
    settings.ids.width.text = "48 kolom"
    settings.ids.language.text = "English"
    ui.press(settings.ids.save)
    assert settings.ids.message.text == "Settings saved."
    assert app.till.prefs.receipt_width == 48 and app.till.prefs.language == "en"
    assert app.status_bar.waiting_text.endswith("waiting")
    ui.shot("12-settings-en")
    settings.ids.language.text = "Bahasa Indonesia"
    ui.press(settings.ids.save)
    assert app.lang == "id"


def test_every_screen_in_portrait(app: KasirApp) -> None:
    ui.resize(ui.PORTRAIT)
    for name in ("login", "sale", "payment", "receipt", "refund", "shift", "stock", "settings"):
        app.go(name)
        ui.shot(f"portrait-{name}")
    ui.resize(ui.LANDSCAPE)
    for name in ("stock", "refund"):
        app.go(name)
        ui.shot(f"landscape-{name}")
