"""The Manager area in a real window: a manager's PIN opens it on this till's own figures
(offline), the manager's password brings the server's, people are listed, a cashier is
added and a PIN reset refused offline with a sentence; Esc goes back a screen and never
quits (on the sale screen it asks for a supervisor's PIN). Screenshots
artifacts/ui/manager-*.png in landscape and portrait.

Run by ``tests/ui/test_window.py`` in its own process (one Kivy window per process).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from kivy.core.window import Window

from pos_client.ui.app import KasirApp
from tests.client.conftest import INDOMIE, TEH, FakeClock
from tests.client.services.test_manager import FakeServer as ManagerApi
from tests.ui.window.harness import (
    FAST_HASHER,
    LANDSCAPE,
    PORTRAIT,
    FakeServer,
    press,
    pump,
    resize,
    seeded_settings,
    settle,
    shot,
    start_app,
    stop_app,
)

pytestmark = pytest.mark.gui

CASHIER, MANAGER = 1, 3
CASHIER_PIN, MANAGER_PIN, SUPERVISOR_PIN = "1111", "3333", "2222"


class Server:
    """Sync routes from the harness, the manager's routes from the service tests."""

    def __init__(self) -> None:
        self.sync = FakeServer()
        self.api = ManagerApi()

    @property
    def online(self) -> bool:
        return self.api.online

    @online.setter
    def online(self, value: bool) -> None:
        self.api.online = self.sync.online = value

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if "/sync/" in request.url.path:
            return self.sync(request)
        return self.api(request)


@pytest.fixture(scope="module")
def server() -> Server:
    return Server()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, server: Server) -> Iterator[KasirApp]:
    settings = seeded_settings(tmp_path_factory.mktemp("till"))
    clock = FakeClock(datetime(2025, 6, 15, 3, 0, tzinfo=UTC))  # 10:00 WIB
    kasir = KasirApp(settings, transport=httpx.MockTransport(server), now=clock, hasher=FAST_HASHER)
    start_app(kasir, LANDSCAPE)
    yield kasir
    stop_app(kasir)


def esc() -> None:
    """The Esc key (Android's back button arrives as the same key)."""
    Window.dispatch("on_key_down", 27, 41, None, [])
    Window.dispatch("on_keyboard", 27, 41, None, [])
    Window.dispatch("on_key_up", 27, 41)
    pump(frames=3)


def test_a_managers_pin_opens_this_tills_figures(app: KasirApp, server: Server) -> None:
    till = app.till
    till.auth.login(CASHIER, CASHIER_PIN)
    till.shifts.open(100_000)
    for codes in ((INDOMIE, TEH), (TEH,)):
        for code in codes:
            till.checkout.scan(code)
        till.checkout.checkout_cash(till.checkout.totals().total)
    user = till.auth.login(MANAGER, MANAGER_PIN)
    app.logged_in(user)
    assert app.current == "manager"
    manager = app.screen("manager")
    settle()
    assert manager.ids.source.text == "Data kasir ini saja (offline)"
    assert manager.ids.chart.bars[-1] == ("15/06", 13_500)
    assert len(manager.ids.chart.bars) == 14
    assert manager.ids.total.text.endswith("2 penjualan · Rp 13.500")
    assert "Teh Botol Sosro 450ml · 2 · Rp 10.000" in manager.ids.products.body
    assert manager.ids.payments.body == "Tunai · 2× · Rp 13.500"
    assert manager.ids.cashiers.body == "Ibu Cashier · 2× · Rp 13.500"
    assert not [c for c in server.api.calls if "/reports/" in c[1]], "not signed in yet"
    shot("manager-offline-landscape")


def test_the_password_brings_the_servers_figures(app: KasirApp, server: Server) -> None:
    manager = app.screen("manager")
    manager.ids.password.text = "salah"
    press(manager.ids.sign_in_button)
    settle()
    assert manager.ids.message.text == "Kata sandi salah."
    manager.ids.password.text = "rahasia123"
    press(manager.ids.sign_in_button)
    settle()
    assert manager.signed_in
    assert manager.ids.source.text == "Data server: semua kasir toko"
    assert manager.ids.chart.bars[-1] == ("15/06", 900_000)
    assert manager.ids.products.body == "Beras 5kg · 3 · Rp 225.000"
    press(manager.ids.period_month)
    settle()
    assert manager.granularity == "month" and manager.ids.chart.bars[-1] == ("06/25", 900_000)
    shot("manager-landscape")
    resize(PORTRAIT)
    shot("manager-portrait")
    resize(LANDSCAPE)
    press(manager.ids.period_day)
    settle()


def test_people_add_a_cashier_and_refused_offline(app: KasirApp, server: Server) -> None:
    press(app.screen("manager").ids.people_button)
    assert app.current == "manager_users"
    people = app.screen("manager_users")
    settle()
    assert [row.title for row in people.rows()] == ["Ibu Cashier", "Ibu Manager"]
    people.ids.new_username.text = "rina"
    people.ids.new_name.text = "Rina Kasir"
    people.ids.new_pin.text = "5678"
    press(people.ids.add_button)
    settle()
    assert people.ids.message.text.startswith("Rina Kasir ditambahkan.")
    assert [row.title for row in people.rows()] == ["Ibu Cashier", "Rina Kasir", "Ibu Manager"]
    shot("manager-users-landscape")
    resize(PORTRAIT)
    shot("manager-users-portrait")
    resize(LANDSCAPE)
    server.online = False
    people.ids.reset_pin.text = "8765"
    people.reset_pin(people.rows()[1].user_id)
    settle()
    assert people.ids.message.text.startswith("Server tidak bisa dihubungi")
    server.online = True


def test_esc_goes_back_and_never_quits(app: KasirApp) -> None:
    assert app.current == "manager_users"
    esc()
    assert app.current == "manager"
    esc()
    assert app.current == "sale", "the Manager area's Back leads on to selling"
    settle()
    esc()
    assert app.current == "sale" and app._quit_popup is not None, "a confirm, not a quit"
    shot("manager-quit-confirm")
    parts = app.quit_parts
    parts["pin"].text = CASHIER_PIN
    press(parts["confirm"])
    assert app._quit_popup is not None and parts["note"].text, "a cashier's PIN does not quit"
    esc()
    assert app._quit_popup is None and app.current == "sale"
    assert app.root is not None and app.root.parent is Window, "the app is still running"
