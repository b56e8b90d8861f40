"""Lockout, hold/resume, QRIS split tender and QRIS offline, in a real window."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pos_client.config import ClientSettings
from pos_client.ui.app import KasirApp
from shared.models import PaymentMethod
from tests.client.conftest import INDOMIE, TEH
from tests.client.fakes import FakeQrisGateway
from tests.ui.window import harness as ui


@pytest.fixture(scope="module")
def app(
    tmp_path_factory: pytest.TempPathFactory, server: ui.FakeServer, qris: FakeQrisGateway
) -> Iterator[KasirApp]:
    def two_wrong_pins_lock(settings: ClientSettings) -> None:
        settings.pin_max_failures = 2

    for kasir in ui.launch(tmp_path_factory, server=server, qris=qris, prepare=two_wrong_pins_lock):
        kasir.screen("payment").poll_seconds = 0.1
        yield kasir


def test_lockout_says_how_long_to_wait(app: KasirApp) -> None:
    login = app.screen("login")
    ui.log_in(app, "Ibu Supervisor", "0000")
    assert login.ids.message.text == "PIN salah; sisa 1 percobaan."
    ui.log_in(app, "Ibu Supervisor", "0000")
    assert login.ids.message.text == "Ibu Supervisor terkunci. Coba lagi dalam 30 detik."
    ui.shot("13-login-locked")
    ui.log_in(app, "Ibu Supervisor", "2222")  # the right PIN does not lift the lock
    assert "terkunci" in login.ids.message.text
    assert app.current == "login"


def test_hold_and_resume(app: KasirApp) -> None:
    ui.log_in(app, "Ibu Cashier", "1111")
    shift = app.screen("shift")
    shift.ids.float_amount.text = "100000"
    ui.press(shift.ids.open_button)
    sale = app.screen("sale")
    ui.wedge_scan(INDOMIE)
    ui.press(sale.ids.hold)
    assert sale.rows() == []
    assert app.status_bar.message == "Transaksi ditahan: 1 barang"
    ui.wedge_scan(TEH)
    ui.press(sale.ids.resume)
    assert sale.ids.message.text == "Selesaikan atau tahan keranjang ini dulu."
    sale.remove(sale.rows()[0].line_id)
    ui.press(sale.ids.resume)
    popup = next(w for w in app.root_window.children if w.__class__.__name__ == "HeldPopup")
    ui.shot("14-held-carts")
    ui.press(popup.ids.list.children[0])
    ui.pump(frames=3)
    assert [r.name for r in sale.rows()] == ["Indomie Goreng 85g"]


def test_split_tender_qris_then_cash(app: KasirApp, qris: FakeQrisGateway) -> None:
    sale = app.screen("sale")
    ui.wedge_scan(TEH)  # Indomie 3.500 + Teh 5.000 = 8.500
    ui.press(sale.ids.pay)
    payment = app.screen("payment")
    ui.pump(lambda: payment.qris_available, timeout=10)  # online once the fake server answered
    for digit in "5000":
        payment.ids.keypad.press(digit)
    ui.press(payment.ids.qris_button)
    ui.pump(lambda: payment.ids.qr.texture is not None, timeout=5)
    assert qris.started[-1][1] == 5000
    assert "QRIS untuk Rp 5.000" in payment.ids.qris_status.text
    assert "Menunggu pembayaran" in payment.ids.qris_status.text
    ui.shot("15-payment-qris")
    ui.pump(lambda: payment.qris_payments, timeout=5)
    ui.settle()
    assert payment.ids.qris_status.text == "QRIS lunas Rp 5.000"
    assert payment.ids.due.text == "Rp 3.500"
    assert payment.ids.qris_paid.text == "Sudah dibayar QRIS: Rp 5.000"
    ui.press(payment.quick_buttons()[0])  # exact cash for the rest
    ui.press(payment.ids.pay_cash)
    assert app.current == "receipt"
    sale_in = app.till.store.sale(app.till.store.recent_sales(1)[0].id)
    assert sale_in is not None
    methods = {p.method: p.amount for p in sale_in.payments}
    assert methods == {PaymentMethod.QRIS: 5000, PaymentMethod.CASH: 3500}
    assert "QRIS" in app.screen("receipt").ids.receipt.text


def test_offline_qris_is_a_sentence_and_cash_still_works(
    app: KasirApp, server: ui.FakeServer
) -> None:
    ui.go_offline(app, server)
    payment = ui.to_payment(app, INDOMIE)
    assert not payment.qris_available
    assert payment.ids.qris_note.text == "QRIS perlu internet. Kasir sedang offline; terima tunai."
    assert payment.ids.qris_button.disabled
    ui.shot("16-payment-offline")
    ui.press(payment.quick_buttons()[1])
    ui.press(payment.ids.pay_cash)
    assert app.current == "receipt"
    assert app.status_bar.waiting_text == "1 menunggu"
