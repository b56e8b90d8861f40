"""One clock and the theme, in a real window: a sale at 23:30 UTC reads 06:30 the next
morning (Asia/Jakarta) on the held carts, the X and Z reports and the receipt; the login
shows the store and its text logo; QRIS counts down as mm:ss; the receipt carries the
QRIS reference; success and error lines differ in colour. Screenshots in both
orientations.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from pos_client.config import ClientSettings
from pos_client.store import LocalStore
from pos_client.ui.app import KasirApp
from pos_client.ui.glue import TONE_ON_DARK, TONE_ON_LIGHT
from tests.client.conftest import INDOMIE, TEH
from tests.client.fakes import FakeQrisGateway
from tests.ui.window import harness as ui

LATE = datetime(2025, 6, 15, 23, 30, tzinfo=UTC)
"""23:30 UTC on 15 June is 06:30 on 16 June in Jakarta (UTC+7)."""


@pytest.fixture(scope="module")
def qris() -> FakeQrisGateway:
    return FakeQrisGateway(polls_until_final=1_000_000, ttl_seconds=905, now=lambda: LATE)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, qris: FakeQrisGateway) -> Iterator[KasirApp]:
    for kasir in ui.launch(tmp_path_factory, qris=qris, now=lambda: LATE, prepare=a_store):
        kasir.screen("payment").poll_seconds = 3600  # the QR stays on screen, unpaid
        yield kasir


def a_store(settings: ClientSettings) -> None:
    """The store's profile as the server sends it: name, logo text, Jakarta time."""
    store = LocalStore.open(settings)
    page = ui.catalog_page(cursor=200)
    renamed = {"name": "Toko Maju Jaya", "logo_text": "MAJU", "npwp": "", "change_no": 31}
    page.stores = [page.stores[0].model_copy(update=renamed)]
    store.apply_pull_page(page)
    store.close()


def popup_named(app: KasirApp, name: str) -> Any:
    return next(w for w in app.root_window.children if w.__class__.__name__ == name)


def test_login_shows_the_store_its_logo_and_roles_in_indonesian(app: KasirApp) -> None:
    login = app.screen("login")
    assert login.ids.store_name.text == "Toko Maju Jaya"
    assert login.ids.logo.text == "MAJU"
    roles = {b.user_name: b.text.split("\n")[1] for b in login.ids.users.children}
    assert "Kasir" in roles["Ibu Cashier"] and "Penyelia" in roles["Ibu Supervisor"]
    assert "Manajer" in roles["Ibu Manager"]
    ui.shot("time-01-login-landscape")
    ui.resize(ui.PORTRAIT)
    ui.shot("time-01-login-portrait")
    ui.resize(ui.LANDSCAPE)
    ui.log_in(app, "Ibu Cashier", "0000")
    assert login.message_tone == "error"
    assert tuple(login.ids.message.color) == TONE_ON_LIGHT["error"]


def test_shift_opened_at_2330_utc_reads_0630_next_day(app: KasirApp) -> None:
    ui.log_in(app, "Ibu Cashier", "1111")
    shift = app.screen("shift")
    shift.ids.float_amount.text = "100000"
    ui.press(shift.ids.open_button)
    app.go("shift")
    ui.pump(frames=3)
    assert shift.ids.header.text == "Shift dibuka 16/06/2025 06:30"
    x_report = shift.report_values()
    assert x_report["Dibuka"] == "16/06/2025 06:30"
    assert x_report["Dibuka"] != "15/06/2025 23:30"
    shift.ids.move_amount.text = "5000"
    ui.press(shift.ids.cash_in)
    assert shift.message_tone == "ok"
    assert tuple(shift.ids.message.color) == TONE_ON_LIGHT["ok"]
    ui.shot("time-02-shift-x-landscape")
    app.go("sale")


def test_held_cart_shows_local_time_in_a_styled_popup(app: KasirApp) -> None:
    sale = app.screen("sale")
    ui.wedge_scan(INDOMIE)
    ui.wedge_scan(INDOMIE)
    ui.press(sale.ids.hold)
    assert app.status_bar.message == "Transaksi ditahan: 1 barang"
    assert app.status_bar.tone == "ok"
    assert tuple(app.status_bar.ids.message.color) == TONE_ON_DARK["ok"]
    ui.press(sale.ids.resume)
    popup = popup_named(app, "HeldPopup")
    texts = [b.text for b in popup.ids.list.children]
    assert texts == ["1 barang  ·  16/06 06:30"]
    assert popup.title_size >= 20
    ui.shot("time-03-held-popup-landscape")
    ui.resize(ui.PORTRAIT)
    ui.shot("time-03-held-popup-portrait")
    ui.resize(ui.LANDSCAPE)
    ui.press(popup.ids.list.children[0])
    ui.pump(frames=3)
    assert len(sale.rows()) == 1


def test_error_news_is_red_on_the_status_bar(app: KasirApp) -> None:
    ui.wedge_scan("0000000000000")  # no such product
    ui.settle()
    assert app.status_bar.tone == "error"
    assert tuple(app.status_bar.ids.message.color) == TONE_ON_DARK["error"]
    ui.shot("time-04-sale-error-landscape")


def test_qris_counts_down_in_minutes_and_seconds(app: KasirApp) -> None:
    sale = app.screen("sale")
    ui.wedge_scan(TEH)
    ui.press(sale.ids.pay)
    payment = app.screen("payment")
    ui.pump(lambda: payment.qris_available, timeout=10)
    ui.press(payment.ids.qris_button)
    ui.pump(lambda: payment.ids.qr.texture is not None, timeout=5)
    ui.pump(lambda: "sisa" in payment.ids.qris_status.text, timeout=5)
    assert payment.ids.qris_status.text.endswith("Menunggu pembayaran… sisa 15:05")
    ui.shot("time-05-payment-qris-landscape")
    ui.resize(ui.PORTRAIT)
    ui.pump(frames=10)  # let the QR and the countdown redraw at the new size
    ui.shot("time-05-payment-qris-portrait")
    ui.resize(ui.LANDSCAPE)


def test_receipt_in_local_time_with_the_qris_reference(
    app: KasirApp, qris: FakeQrisGateway
) -> None:
    qris.polls_until_final = 0
    payment = app.screen("payment")
    payment.poll_seconds = 0.1
    payment._poll(0)
    ui.pump(lambda: payment.qris_payments, timeout=5)
    ui.settle()
    ui.press(payment.ids.pay_cash)
    assert app.current == "receipt"
    text = app.screen("receipt").ids.receipt.text
    assert "16/06/2025 06:30" in text
    assert "15/06/2025" not in text
    lines = text.splitlines()
    qris_line = next(i for i, line in enumerate(lines) if line.startswith("QRIS "))
    assert lines[qris_line + 1].split() == ["Ref.", f"T{qris.started[-1][0]}"]
    ui.shot("time-06-receipt-landscape")
    ui.resize(ui.PORTRAIT)
    ui.shot("time-06-receipt-portrait")
    ui.resize(ui.LANDSCAPE)


def test_z_report_in_local_time(app: KasirApp) -> None:
    app.go("shift")
    shift = app.screen("shift")
    ui.pump(frames=3)
    shift.ids.counted.text = "105000"
    ui.press(shift.ids.close_button)
    popup = shift.confirm_popup
    ui.shot("time-07-confirm-popup-landscape")
    ui.press(popup.ids.confirm)
    ui.pump(frames=3)
    z_report = shift.report_values()
    assert shift.report_title == "Laporan Z"
    assert z_report["Dibuka"] == "16/06/2025 06:30"
    assert z_report["Ditutup"] == "16/06/2025 06:30"
    assert "QRIS" in z_report and "CASH" not in z_report
    ui.shot("time-07-shift-z-landscape")
    ui.resize(ui.PORTRAIT)
    ui.shot("time-07-shift-z-portrait")
    ui.resize(ui.LANDSCAPE)
