"""Sales history in a real window: three sales, found by receipt number and by amount,
one opened, reprinted to a (fake) network printer through the printing worker, a line of
it refunded with a reason and a manager PIN (the refund slip prints too), and the refund
shown on the sale; screenshots in landscape and portrait.

Run by ``tests/ui/test_window.py`` in its own process (one Kivy window per process).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pos_client.ui.app import KasirApp
from tests.client.conftest import BERAS, INDOMIE, TEH, FakeClock
from tests.ui.window import harness as ui

CASHIER_PIN, MANAGER_PIN = "1111", "3333"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, clock: FakeClock) -> Iterator[KasirApp]:
    yield from ui.launch(tmp_path_factory, now=clock)  # 10:00 WIB


def test_three_sales(app: KasirApp, clock: FakeClock) -> None:
    # Logging in and opening the shift have their own scenarios (scenario_flow); here
    # the services do it, so this scenario is about the history only.
    user = app.till.auth.login(1, CASHIER_PIN)
    app.till.shifts.open(100_000)
    app.logged_in(user)
    ui.pump(frames=3)
    assert app.current == "sale"
    numbers = []
    for codes in ((TEH,), (INDOMIE, TEH), (BERAS,)):
        clock.advance(minutes=7)
        numbers.append(ui.sell_for_cash(app, *codes))
    assert numbers == [f"T01-20250615-000{n}" for n in (1, 2, 3)]


def test_history_lists_and_finds_sales(app: KasirApp) -> None:
    ui.press(app.screen("sale").ids.history_button)
    assert app.current == "history"
    history = app.screen("history")
    shown = [(row.title, row.amount) for row in history.rows()]
    assert shown == [
        ("10:21   T01-20250615-0003", "Rp 80.475"),
        ("10:14   T01-20250615-0002", "Rp 8.500"),
        ("10:07   T01-20250615-0001", "Rp 5.000"),
    ], "newest first, in the store's local time (WIB)"
    assert history.ids.summary.text == "3 penjualan · Rp 93.975"
    assert history.rows()[0].detail == "Tunai"
    assert history.ids.refund_button.disabled, "nothing open yet"
    # by receipt number: the sequence typed by a person
    history.ids.search.focus = True
    ui.pump(frames=2)
    ui.type_slowly("0002", gap=0.03)
    assert history.ids.search.text == "0002"
    assert [row.title for row in history.rows()] == ["10:14   T01-20250615-0002"]
    # by amount, written the way it is printed
    history.ids.search.text = ""
    ui.type_slowly("80.475", gap=0.03)
    assert [row.amount for row in history.rows()] == ["Rp 80.475"]
    history.ids.search.text = "99.999"
    ui.pump(frames=2)
    assert history.rows() == []
    assert history.ids.summary.text == 'Tidak ada penjualan yang cocok dengan "99.999".'
    history.ids.search.text = ""
    ui.pump(frames=2)
    assert len(history.rows()) == 3
    ui.shot("history-list")


def test_open_and_reprint(app: KasirApp, printer: ui.CapturePrinter) -> None:
    history = app.screen("history")
    row = next(r for r in history.rows() if r.title.endswith("0002"))
    ui.press(row)
    assert row.selected
    assert "T01-20250615-0002" in history.ids.receipt.text
    assert "Indomie Goreng 85g" in history.ids.receipt.text
    assert "Teh Botol Sosro 450ml" in history.ids.receipt.text
    assert "TOTAL" in history.ids.receipt.text and "Tunai" in history.ids.receipt.text
    assert history.ids.events.text == ""
    assert not history.ids.refund_button.disabled
    ui.press(history.ids.reprint_button)
    assert history.ids.message.text == "Printer belum diatur (Pengaturan)."
    app.till.prefs = app.till.prefs.with_changes(
        printer_kind="network", printer_host="127.0.0.1", printer_port=printer.port
    )
    ui.press(history.ids.reprint_button)
    ui.settle()
    assert history.ids.message.text == "Struk dicetak ulang."
    ui.pump(lambda: len(printer.jobs) == 1)
    job = printer.jobs[0]
    assert b"T01-20250615-0002" in job and b"SALINAN STRUK" in job
    assert b"Indomie Goreng 85g" in job
    ui.shot("history-landscape")


def test_refund_a_line_from_the_history(app: KasirApp, printer: ui.CapturePrinter) -> None:
    history = app.screen("history")
    ui.press(history.ids.refund_button)
    assert app.current == "refund"
    refund = app.screen("refund")
    assert refund.ids.number.text == "T01-20250615-0002", "no receipt number to type"
    assert not refund.qris_sale and refund.ids.method_cash.chosen
    rows = refund.rows()
    assert [r.name for r in rows] == ["Indomie Goreng 85g", "Teh Botol Sosro 450ml"]
    rows[1].quantity = 1
    refund.ids.manager.text = "Ibu Manager"
    refund.ids.pin.text = MANAGER_PIN
    ui.press(refund.ids.refund_button)
    assert refund.ids.message.text == "Pilih atau tulis alasan retur dulu."
    assert app.till.store.refunds_of_sale(refund.sale.id) == []
    ui.press(refund.ids.reason_damaged)
    refund.ids.reason_text.text = "tutup botol bocor"
    refund.ids.pin.text = MANAGER_PIN
    ui.shot("history-refund")
    ui.press(refund.ids.refund_button)
    assert refund.ids.message.text.startswith("Retur Rp 5.000 dicatat. Berikan uang tunai.")
    ui.settle()
    assert refund.ids.message.text.endswith("Slip retur tercetak.")
    ui.pump(lambda: len(printer.jobs) == 2)
    slip = printer.jobs[1]
    assert b"RETUR / REFUND" in slip and b"T01-20250615-0002" in slip
    assert b"TOTAL RETUR" in slip and b"Barang rusak" in slip
    (stored,) = app.till.store.refunds_of_sale(refund.sale.id)
    assert stored.reason == "Barang rusak — tutup botol bocor" and stored.method == "cash"
    ui.press(refund.ids.back)
    assert app.current == "history", "Back returns to the history it came from"


def test_the_refund_shows_on_the_sale(app: KasirApp) -> None:
    history = app.screen("history")
    events = history.ids.events.text
    assert events.startswith("Retur 10:21 · Rp 5.000 · Tunai · disetujui Ibu Manager")
    assert "1 × Teh Botol Sosro 450ml" in events
    assert "Alasan: Barang rusak — tutup botol bocor" in events
    row = next(r for r in history.rows() if r.title.endswith("0002"))
    assert row.detail == "Tunai · retur Rp 5.000"
    assert not history.ids.refund_button.disabled, "the noodles can still come back"
    ui.shot("history-refunded-landscape")
    ui.resize(ui.PORTRAIT)
    ui.shot("history-portrait")
    history.ids.detail_scroll.scroll_y = 0
    ui.shot("history-portrait-bottom")
    ui.resize(ui.LANDSCAPE)
    ui.press(history.ids.scope_shift)
    assert history.scope == "shift" and len(history.rows()) == 3
    ui.press(history.ids.back)
    assert app.current == "sale"


TAPS: list[str] = []
KEYS: list[str] = []


def tap(button: Any) -> None:
    """A cashier's tap (counted)."""
    TAPS.append(str(getattr(button, "text", "")))
    ui.press(button)


def keys(text: str) -> None:
    """Keys typed on a keyboard into the focused field (counted)."""
    KEYS.extend(text)
    ui.type_slowly(text, gap=0.03)


def choose(spinner: Any, name: str) -> None:
    """Open a spinner and tap ``name`` in its list: two taps."""
    tap(spinner)
    option = next(b for b in spinner._dropdown.container.children if b.text == name)
    tap(option)


def refund_one_line(app: KasirApp, line: int) -> None:
    """On the refund screen with a sale: one unit of ``line``, a reason, the manager's
    PIN and Retur (every tap counted)."""
    refund = app.screen("refund")
    plus = next(w for w in refund.rows()[line].walk() if getattr(w, "text", "") == "+")
    tap(plus)
    tap(refund.ids.reason_damaged)
    choose(refund.ids.manager, "Ibu Manager")
    assert refund.ids.pin.focus, "the PIN field is ready once a manager is picked"
    keys(MANAGER_PIN)
    tap(refund.ids.refund_button)
    assert refund.ids.message.text.startswith("Retur "), refund.ids.message.text


def test_taps_to_refund_one_line_from_the_sale_screen(app: KasirApp) -> None:
    sale = app.screen("sale")
    assert app.current == "sale"
    # Before: the refund screen from the sale screen, the receipt number typed.
    TAPS.clear()
    KEYS.clear()
    tap(next(w for w in sale.walk() if getattr(w, "text", "") == "Retur"))
    refund = app.screen("refund")
    refund.ids.number.text = ""
    TAPS.append("the receipt number field")
    refund.ids.number.focus = True
    keys("T01-20250615-0001")
    KEYS.append("Enter")
    ui.enter()
    ui.pump(lambda: len(refund.rows()) == 1)
    refund_one_line(app, 0)
    typed = (len(TAPS), len(KEYS))
    ui.press(refund.ids.back)
    assert app.current == "sale"
    # After: the history, the sale, Retur; nothing typed but the PIN.
    TAPS.clear()
    KEYS.clear()
    tap(sale.ids.history_button)
    history = app.screen("history")
    tap(next(r for r in history.rows() if r.title.endswith("0003")))
    tap(history.ids.refund_button)
    assert app.current == "refund" and len(refund.rows()) == 1
    refund_one_line(app, 0)
    picked = (len(TAPS), len(KEYS))
    print(
        f"FIGURE refund one line: by receipt number {typed[0]} taps + {typed[1]} keys; "
        f"from the history {picked[0]} taps + {picked[1]} keys"
    )
    assert picked == (8, 4), TAPS
    assert typed == (7, 22), TAPS
    assert len(app.till.store.refunds_of_sale(refund.sale.id)) == 1
