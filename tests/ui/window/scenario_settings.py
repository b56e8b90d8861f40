"""The Settings screen and the slips it prints, in a real window: the USB scanner's
suffix, prefix and pace are shown, changed, kept and applied at once, and bad values
are refused with a sentence; the printer's test page and a refund slip print the
store's local time (23:30 UTC reads 06:30 the next morning in Jakarta), like receipts.

Run by ``tests/ui/test_window.py`` in its own process (one Kivy window per process).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from pos_client.ui.app import KasirApp
from pos_client.ui.prefs import load_prefs
from tests.client.conftest import TEH
from tests.ui.window import harness as ui

LATE = datetime(2025, 6, 15, 23, 30, tzinfo=UTC)
"""23:30 UTC on 15 June is 06:30 on 16 June in Jakarta (UTC+7)."""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, printer: ui.CapturePrinter) -> Iterator[KasirApp]:
    yield from ui.launch(tmp_path_factory, now=lambda: LATE, printer=printer)


def test_the_scanner_setup_is_shown_with_the_tills_settings(app: KasirApp) -> None:
    ui.log_in(app, "Ibu Cashier", "1111")
    ui.open_shift(app)
    ui.press(next(w for w in app.screen("sale").walk() if getattr(w, "text", "") == "Pengaturan"))
    assert app.current == "settings"
    ids = app.screen("settings").ids
    assert ids.scanner_suffix.text == "Enter atau Tab"
    assert ids.scanner_suffix.values == ["Enter", "Tab", "Enter atau Tab"]
    assert (ids.scanner_prefix.text, ids.scanner_gap.text, ids.scanner_length.text) == (
        "",
        "50",
        "6",
    )
    ids.scroll.scroll_y = 0
    ui.shot("settings-scanner-landscape")
    ui.resize(ui.PORTRAIT)
    ids.scroll.scroll_y = 0
    ui.shot("settings-scanner-portrait")
    ui.resize(ui.LANDSCAPE)


@pytest.mark.parametrize(
    ("field", "value", "sentence"),
    [
        ("scanner_prefix", "##", "Awalan pemindai harus satu karakter yang terlihat"),
        ("scanner_gap", "1", "Jeda antar tombol harus 5–500 milidetik."),
        ("scanner_gap", "", "Jeda antar tombol harus 5–500 milidetik."),
        ("scanner_length", "0", "Panjang kode minimal harus 1–64 karakter."),
    ],
)
def test_a_bad_scanner_value_is_refused_and_nothing_is_kept(
    app: KasirApp, field: str, value: str, sentence: str
) -> None:
    settings = app.screen("settings")
    settings.refresh()
    settings.ids[field].text = value
    ui.press(settings.ids.save)
    assert settings.message.startswith(sentence), settings.message
    assert settings.message_tone == "error"
    assert load_prefs(app.settings.data_dir).scanner is None, "nothing saved"
    assert app.wedge.max_gap == 0.05 and app.wedge.suffixes == {"enter", "tab"}


def test_a_changed_setup_is_kept_and_applied_at_once(app: KasirApp) -> None:
    settings = app.screen("settings")
    settings.refresh()
    ids = settings.ids
    ids.scanner_suffix.text = "Tab"
    ids.scanner_prefix.text = "~"
    ids.scanner_gap.text = "40"
    ids.scanner_length.text = "8"
    ui.press(ids.save)
    assert settings.message == "Pengaturan disimpan."
    wedge = app.wedge
    assert (wedge.suffixes, wedge.prefix, wedge.max_gap, wedge.min_length) == (
        {"tab"},
        "~",
        0.04,
        8,
    )
    kept = load_prefs(app.settings.data_dir).wedge(app.settings)
    assert (kept.suffixes, kept.prefix, kept.max_gap_ms, kept.min_length) == (("tab",), "~", 40, 8)
    # The scanner as now set up: "~", the code, Tab; Enter no longer ends a scan.
    app.go("sale")
    sale = app.screen("sale")
    ui.wedge_scan(TEH)  # ends with Enter: typing now, not a scan
    assert app.till.checkout.cart.is_empty
    for char in "~" + TEH:
        ui.key(char)
    ui.tab()
    ui.pump(lambda: len(sale.rows()) == 1)
    assert app.scans[-1] == TEH


def test_the_test_page_prints_the_stores_local_time(
    app: KasirApp, printer: ui.CapturePrinter
) -> None:
    app.go("settings")
    settings = app.screen("settings")
    before = len(printer.jobs)
    ui.press(settings.ids.test_print)
    ui.settle()
    ui.pump(lambda: len(printer.jobs) == before + 1, timeout=10)
    page = printer.jobs[-1]
    assert b"16/06/2025 06:30" in page and b"15/06/2025" not in page
    assert settings.message == "Halaman tes tercetak. Periksa kertasnya."


def test_a_refund_slip_prints_the_stores_local_time(
    app: KasirApp, printer: ui.CapturePrinter
) -> None:
    app.go("sale")
    result = app.till.checkout.checkout_cash(10_000)
    app.sale_done(result)
    ui.settle()
    refund = app.screen("refund")
    refund.open_sale(result.sale.receipt_number)
    app.go("refund")
    refund.rows()[0].quantity = 1
    ui.press(refund.ids.reason_damaged)
    refund.ids.manager.text = "Ibu Manager"
    refund.ids.pin.text = "3333"
    before = len(printer.jobs)
    ui.press(refund.ids.refund_button)
    ui.settle()
    ui.pump(lambda: len(printer.jobs) == before + 1, timeout=10)
    slip = printer.jobs[-1]
    assert b"RETUR / REFUND" in slip
    assert b"16/06/2025 06:30" in slip and b"15/06/2025 23:30" not in slip
    ui.shot("settings-refund-slip-printed")
