"""Closing a shift like a cash office in a real window: open, sell for cash (the drawer
kicks), cash out, a blind count typed by denominations with the keypad and the keyboard,
the confirm dialog, the Z report on screen and on the printer; screenshots in landscape
and portrait.

Run by ``tests/ui/test_window.py`` in its own process (one Kivy window per process).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from escpos.constants import CD_KICK_2

from pos_client.config import ClientSettings
from pos_client.ui.app import KasirApp
from tests.client.conftest import INDOMIE
from tests.ui.window import harness as ui

CASHIER_PIN, SUPERVISOR_PIN = "1111", "2222"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, printer: ui.CapturePrinter) -> Iterator[KasirApp]:
    def blind(settings: ClientSettings) -> None:
        settings.blind_count = True

    yield from ui.launch(tmp_path_factory, printer=printer, prepare=blind)


def test_open_shift_and_sell_for_cash_kicks_the_drawer(
    app: KasirApp, printer: ui.CapturePrinter
) -> None:
    ui.log_in(app, "Ibu Cashier", CASHIER_PIN)
    assert app.current == "shift"
    ui.open_shift(app, 200_000)
    assert app.current == "sale"
    sale = app.screen("sale")
    sale.ids.search.focus = True
    ui.pump(frames=2)
    ui.wedge_scan(INDOMIE)
    ui.pump(lambda: len(sale.rows()) == 1)
    result = app.till.checkout.checkout_cash(5000)  # Rp 3.500, change Rp 1.500
    app.sale_done(result)
    ui.settle()
    ui.pump(lambda: len(printer.jobs) == 1, timeout=10)
    assert printer.jobs[0].count(CD_KICK_2) == 1, "a cash sale opens the drawer"
    assert b"Indomie Goreng 85g" in printer.jobs[0]


def test_open_drawer_needs_a_supervisor_pin(app: KasirApp, printer: ui.CapturePrinter) -> None:
    app.go("shift")
    shift = app.screen("shift")
    ui.press(shift.ids.drawer_button)
    popup = shift.drawer_popup
    assert popup is not None
    popup.ids.approver.text = "Ibu Supervisor"
    popup.ids.pin.text = "0000"
    ui.press(popup.ids.approve)
    assert popup.ids.message.text.startswith("PIN salah")
    assert len(printer.jobs) == 1
    popup.ids.pin.text = SUPERVISOR_PIN
    ui.press(popup.ids.approve)
    ui.settle()
    ui.pump(lambda: len(printer.jobs) == 2, timeout=10)
    assert printer.jobs[1] == b"\x1b@" + CD_KICK_2
    assert shift.ids.message.text == "Laci dibuka, disetujui Ibu Supervisor."


def test_blind_count_with_denominations_then_confirm(
    app: KasirApp, printer: ui.CapturePrinter
) -> None:
    shift = app.screen("shift")
    shift.ids.move_amount.text = "20000"
    shift.ids.move_reason.text = "Beli galon"
    ui.press(shift.ids.cash_out)
    assert shift.ids.message.text == "Tercatat: -Rp 20.000"
    # blind: the expected cash is nowhere on screen while counting
    values = shift.report_values()
    assert "Kas seharusnya" not in values and "CASH" not in values
    assert values["Penjualan bersih"] == "Rp 3.500"
    rows = {row.label: row for row in shift.count_rows()}
    assert list(rows)[:2] == ["Kertas Rp 100.000", "Kertas Rp 50.000"]
    assert list(rows)[-4:] == ["Koin Rp 1.000", "Koin Rp 500", "Koin Rp 200", "Koin Rp 100"]
    # 1 × 100.000 and 8 × 10.000 with the on-screen keypad
    shift.select_row(0)
    shift.ids.count_keypad.press("1")
    shift.select_row(3)
    shift.ids.count_keypad.press("8")
    # 3 × 1.000 coins and 5 × 100 coins typed on the keyboard into the focused field
    for label, digits in (("Koin Rp 1.000", "3"), ("Koin Rp 100", "5")):
        field = rows[label].ids.count
        field.focus = True
        ui.pump(frames=2)
        assert shift.active_row == rows[label].index
        for char in digits:
            ui.key(char)
        ui.pump(lambda field=field, digits=digits: field.text == digits, timeout=3)
    ui.pump(frames=2)
    assert shift.ids.counted.text == str(100_000 + 80_000 + 3_000 + 500)
    assert shift.counted_text == "Jumlah dihitung: Rp 183.500"
    ui.shot("shift-close-count-landscape")
    ui.resize(ui.PORTRAIT)
    ui.shot("shift-close-count-portrait")
    ui.resize(ui.LANDSCAPE)
    # confirm first: cancelling keeps the shift open
    ui.press(shift.ids.close_button)
    popup = shift.confirm_popup
    assert popup is not None
    assert "Rp 183.500" in popup.ids.text.text
    assert "seharusnya" not in popup.ids.text.text  # still blind
    ui.shot("shift-close-confirm-landscape")
    ui.press(popup.ids.cancel)
    assert app.till.shifts.current() is not None
    values = ui.close_shift(app)
    assert app.till.shifts.current() is None
    # 200.000 float + 3.500 cash − 20.000 out
    assert values["Kas seharusnya"] == "Rp 183.500"
    assert values["Uang dihitung"] == "Rp 183.500"
    assert values["Selisih"] == "Rp 0"
    assert values["Penjualan bersih"] == "Rp 3.500"
    ui.settle()
    ui.pump(lambda: len(printer.jobs) == 3, timeout=10)
    z = printer.jobs[2]
    assert b"Laporan Z" in z and b"Rp 183.500" in z and b"Penjualan bersih" in z
    assert CD_KICK_2 not in z
    assert shift.ids.message.text == "Laporan tercetak."
    ui.shot("shift-close-z-landscape")
    ui.resize(ui.PORTRAIT)
    ui.shot("shift-close-z-portrait")
    ui.resize(ui.LANDSCAPE)


def test_a_dead_printer_never_blocks_the_z_report(app: KasirApp) -> None:
    shift = app.screen("shift")
    app.till.prefs = app.till.prefs.with_changes(printer_port=9)
    ui.press(shift.ids.print_report)
    ui.settle()
    assert shift.ids.message.text.startswith("Laporan gagal dicetak")
    assert shift.ids.message.text.endswith("Shift tetap tersimpan.")
    assert shift.report_title == "Laporan Z"
