"""The payment screen's money keypad (thousands grouped as typed, quick cash) and, with
the till offline, the store's static QRIS confirmed by the cashier, in a real window."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from pos_client.ui.app import KasirApp
from shared.models import PaymentMethod
from tests.client.conftest import INDOMIE, TEH
from tests.client.fakes import FakeQrisGateway
from tests.ui.window import harness as ui


@pytest.fixture(scope="module")
def app(
    tmp_path_factory: pytest.TempPathFactory, server: ui.FakeServer, qris: FakeQrisGateway
) -> Iterator[KasirApp]:
    yield from ui.launch(tmp_path_factory, server=server, qris=qris, prepare=ui.static_qris)


def test_keypad_groups_thousands_and_quick_cash_pays(app: KasirApp) -> None:
    ui.log_in(app, "Ibu Cashier", "1111")
    ui.open_shift(app)
    assert app.current == "sale"
    ui.wedge_scan(INDOMIE)  # Rp 3.500
    ui.press(app.screen("sale").ids.pay)
    payment = app.screen("payment")
    ui.pump(lambda: payment.qris_available, timeout=10)  # online: dynamic QRIS, no static
    assert not payment.static_available and payment.ids.static_button.opacity == 0
    for digit in "50000":
        payment.ids.keypad.press(digit)
    ui.settle()
    assert payment.ids.cash_display.text == "50.000"
    assert payment.ids.tendered.text == "Rp 50.000"
    assert payment.ids.change.text == "Rp 46.500"
    labels = [b.text for b in payment.quick_buttons()]
    assert labels[1:] == ["Rp 10.000", "Rp 50.000", "Rp 100.000"]  # after exact money
    ui.press(payment.quick_buttons()[3])
    assert payment.ids.cash_display.text == "100.000"
    ui.shot("payment-keypad")
    ui.press(payment.quick_buttons()[0])  # exact money
    assert payment.ids.change.text == "Rp 0"
    ui.press(payment.ids.pay_cash)
    assert app.current == "receipt"


def test_offline_static_qris_shown_with_the_amount_and_confirmed(
    app: KasirApp, server: ui.FakeServer
) -> None:
    ui.go_offline(app, server)
    before = len(app.till.store.recent_sales(10))
    payment = ui.to_payment(app, INDOMIE, TEH)  # 3.500 + 5.000 = Rp 8.500
    assert not payment.qris_available and payment.ids.qris_button.disabled
    assert payment.static_available and not payment.ids.static_button.disabled
    assert payment.ids.static_button.text == "QRIS statis"
    assert "QRIS statis" in payment.ids.qris_note.text

    ui.press(payment.ids.static_button)

    assert payment.ids.qr.texture is not None
    assert payment.static_shown and payment.ids.static_confirm.opacity == 1
    assert "Rp 8.500" in payment.ids.qris_status.text
    assert "bukti bayar" in payment.ids.qris_status.text
    assert app.current == "payment" and len(app.till.store.recent_sales(10)) == before
    ui.shot("payment-static-qris")

    ui.press(payment.ids.static_confirm)

    assert app.current == "receipt"
    sale_in = app.till.store.sale(app.till.store.recent_sales(1)[0].id)
    assert sale_in is not None and sale_in.total == 8_500
    assert [(p.method, p.amount) for p in sale_in.payments] == [(PaymentMethod.QRIS_STATIC, 8_500)]
    assert app.status_bar.waiting_text.startswith("1 ")  # queued for the server
    # A report the worker counted before this sale, reaching the screen after it, does
    # not take the sale out of "waiting".
    assert app.sync is not None
    app.show_sync(replace(app.sync.status(), pending=0))
    assert app.status_bar.waiting_text.startswith("1 ")
