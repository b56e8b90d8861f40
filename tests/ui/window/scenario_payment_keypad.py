"""The payment screen's money keypad (thousands grouped as typed, quick cash) and, with
the till offline, the store's static QRIS confirmed by the cashier, in a real window."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from pos_client.config import ClientSettings
from pos_client.store import LocalStore
from pos_client.ui.app import KasirApp
from shared.models import PaymentMethod, PullResponse
from tests.client.conftest import INDOMIE, TEH
from tests.client.fakes import FakeQrisGateway
from tests.ui.window.harness import (
    FAST_HASHER,
    FakeServer,
    press,
    pump,
    seeded_settings,
    settle,
    shot,
    start_app,
    stop_app,
    wedge_scan,
)

pytestmark = pytest.mark.gui

STATIC = (
    "00020101021126570011ID.DANA.WWW011893600915300000000002150000000000000000303UMI"
    "5204581253033605802ID5910TOKO MAJU6007JAKARTA6304A1B2"
)


@pytest.fixture(scope="module")
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture(scope="module")
def qris() -> FakeQrisGateway:
    return FakeQrisGateway(polls_until_final=2)


@pytest.fixture(scope="module")
def app(
    tmp_path_factory: pytest.TempPathFactory, server: FakeServer, qris: FakeQrisGateway
) -> Iterator[KasirApp]:
    settings: ClientSettings = seeded_settings(tmp_path_factory.mktemp("till"))
    store = LocalStore.open(settings)
    profile = store.store_profile()
    assert profile is not None
    # The manager pasted the store's static QRIS in the back office; the till pulled it.
    store.apply_pull_page(
        PullResponse(
            cursor=store.pull_cursor() + 1,
            has_more=False,
            remaining=0,
            stores=[profile.model_copy(update={"static_qris": STATIC, "change_no": 200})],
        )
    )
    store.close()
    kasir = KasirApp(settings, transport=httpx.MockTransport(server), qris=qris, hasher=FAST_HASHER)
    start_app(kasir)
    yield kasir
    stop_app(kasir)


def login_and_open_shift(app: KasirApp) -> None:
    login = app.screen("login")
    buttons = {b.user_name: b for b in login.ids.users.children}
    press(buttons["Ibu Cashier"])
    for digit in "1111":
        login.ids.keypad.press(digit)
    press(login.ids.login_button)
    shift = app.screen("shift")
    shift.ids.float_amount.text = "100000"
    press(shift.ids.open_button)
    assert app.current == "sale"


def test_keypad_groups_thousands_and_quick_cash_pays(app: KasirApp) -> None:
    login_and_open_shift(app)
    wedge_scan(INDOMIE)  # Rp 3.500
    press(app.screen("sale").ids.pay)
    payment = app.screen("payment")
    pump(lambda: payment.qris_available, timeout=10)  # online: dynamic QRIS, no static
    assert not payment.static_available and payment.ids.static_button.opacity == 0
    for digit in "50000":
        payment.ids.keypad.press(digit)
    settle()
    assert payment.ids.cash_display.text == "50.000"
    assert payment.ids.tendered.text == "Rp 50.000"
    assert payment.ids.change.text == "Rp 46.500"
    labels = [b.text for b in payment.quick_buttons()]
    assert labels[1:] == ["Rp 10.000", "Rp 50.000", "Rp 100.000"]  # after exact money
    press(payment.quick_buttons()[3])
    assert payment.ids.cash_display.text == "100.000"
    shot("payment-keypad")
    press(payment.quick_buttons()[0])  # exact money
    assert payment.ids.change.text == "Rp 0"
    press(payment.ids.pay_cash)
    assert app.current == "receipt"


def test_offline_static_qris_shown_with_the_amount_and_confirmed(
    app: KasirApp, server: FakeServer
) -> None:
    server.online = False
    app.sync_now()
    pump(lambda: app.status_bar.online_text == "Offline", timeout=10)
    app.go("sale")
    wedge_scan(INDOMIE)
    wedge_scan(TEH)  # 3.500 + 5.000 = Rp 8.500
    before = len(app.till.store.recent_sales(10))
    press(app.screen("sale").ids.pay)
    payment = app.screen("payment")
    assert not payment.qris_available and payment.ids.qris_button.disabled
    assert payment.static_available and not payment.ids.static_button.disabled
    assert payment.ids.static_button.text == "QRIS statis"
    assert "QRIS statis" in payment.ids.qris_note.text

    press(payment.ids.static_button)

    assert payment.ids.qr.texture is not None
    assert payment.static_shown and payment.ids.static_confirm.opacity == 1
    assert "Rp 8.500" in payment.ids.qris_status.text
    assert "bukti bayar" in payment.ids.qris_status.text
    assert app.current == "payment" and len(app.till.store.recent_sales(10)) == before
    shot("payment-static-qris")

    press(payment.ids.static_confirm)

    assert app.current == "receipt"
    sale_in = app.till.store.sale(app.till.store.recent_sales(1)[0].id)
    assert sale_in is not None and sale_in.total == 8_500
    assert [(p.method, p.amount) for p in sale_in.payments] == [(PaymentMethod.QRIS_STATIC, 8_500)]
    assert app.status_bar.waiting_text.startswith("1 ")  # queued for the server
