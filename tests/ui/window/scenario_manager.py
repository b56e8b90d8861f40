"""The Manager area in a real window: a manager's PIN opens it on this till's own figures
(offline), the manager's password brings the server's, people are listed, a cashier is
added and a PIN reset refused offline with a sentence; Esc goes back a screen and never
quits (on the sale screen it asks for a supervisor's PIN). Screenshots
artifacts/ui/manager-*.png in landscape and portrait.

Run by ``tests/ui/test_window.py`` in its own process (one Kivy window per process).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from kivy.core.window import Window

from pos_client.ui.app import KasirApp
from tests.client.conftest import INDOMIE, TEH, FakeClock
from tests.client.services.test_manager import FakeServer as ManagerApi
from tests.ui.window import harness as ui

CASHIER, MANAGER = 1, 3
CASHIER_PIN, MANAGER_PIN, SUPERVISOR_PIN = "1111", "3333", "2222"


class Server:
    """Sync routes from the harness, the manager's routes from the service tests."""

    def __init__(self) -> None:
        self.sync = ui.FakeServer()
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
def app(
    tmp_path_factory: pytest.TempPathFactory, server: Server, clock: FakeClock
) -> Iterator[KasirApp]:
    yield from ui.launch(tmp_path_factory, server=server, now=clock)  # 10:00 WIB


def esc() -> None:
    """The Esc key (Android's back button arrives as the same key)."""
    Window.dispatch("on_key_down", 27, 41, None, [])
    Window.dispatch("on_keyboard", 27, 41, None, [])
    Window.dispatch("on_key_up", 27, 41)
    ui.pump(frames=3)


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
    ui.settle()
    assert manager.ids.source.text == "Data kasir ini saja (offline)"
    assert manager.ids.chart.bars[-1] == ("15/06", 13_500)
    assert len(manager.ids.chart.bars) == 14
    assert manager.ids.total.text.endswith("2 penjualan · Rp 13.500")
    assert "Teh Botol Sosro 450ml · 2 · Rp 10.000" in manager.ids.products.body
    assert manager.ids.payments.body == "Tunai · 2× · Rp 13.500"
    assert manager.ids.cashiers.body == "Ibu Cashier · 2× · Rp 13.500"
    assert not [c for c in server.api.calls if "/reports/" in c[1]], "not signed in yet"
    ui.shot("manager-offline-landscape")


def test_the_password_brings_the_servers_figures(app: KasirApp, server: Server) -> None:
    manager = app.screen("manager")
    manager.ids.password.text = "salah"
    ui.press(manager.ids.sign_in_button)
    ui.settle()
    assert manager.ids.message.text == "Kata sandi salah."
    manager.ids.password.text = "rahasia123"
    ui.press(manager.ids.sign_in_button)
    ui.settle()
    assert manager.signed_in
    assert manager.ids.source.text == "Data server: semua kasir toko"
    assert manager.ids.chart.bars[-1] == ("15/06", 900_000)
    assert manager.ids.products.body == "Beras 5kg · 3 · Rp 225.000"
    ui.press(manager.ids.period_month)
    ui.settle()
    assert manager.granularity == "month" and manager.ids.chart.bars[-1] == ("06/25", 900_000)
    ui.shot("manager-landscape")
    ui.resize(ui.PORTRAIT)
    ui.shot("manager-portrait")
    ui.resize(ui.LANDSCAPE)
    ui.press(manager.ids.period_day)
    ui.settle()


def test_people_add_a_cashier_and_refused_offline(app: KasirApp, server: Server) -> None:
    ui.press(app.screen("manager").ids.people_button)
    assert app.current == "manager_users"
    people = app.screen("manager_users")
    ui.settle()
    assert [row.title for row in people.rows()] == ["Ibu Cashier", "Ibu Manager"]
    people.ids.new_username.text = "rina"
    people.ids.new_name.text = "Rina Kasir"
    people.ids.new_pin.text = "5678"
    ui.press(people.ids.add_button)
    ui.settle()
    assert people.ids.message.text.startswith("Rina Kasir ditambahkan.")
    assert [row.title for row in people.rows()] == ["Ibu Cashier", "Rina Kasir", "Ibu Manager"]
    ui.shot("manager-users-landscape")
    ui.resize(ui.PORTRAIT)
    ui.shot("manager-users-portrait")
    ui.resize(ui.LANDSCAPE)
    server.online = False
    people.ids.reset_pin.text = "8765"
    people.reset_pin(people.rows()[1].user_id)
    ui.settle()
    assert people.ids.message.text.startswith("Server tidak bisa dihubungi")
    server.online = True


def test_esc_goes_back_and_never_quits(app: KasirApp) -> None:
    assert app.current == "manager_users"
    esc()
    assert app.current == "manager"
    esc()
    assert app.current == "sale", "the Manager area's Back leads on to selling"
    ui.settle()
    esc()
    assert app.current == "sale" and app._quit_popup is not None, "a confirm, not a quit"
    ui.shot("manager-quit-confirm")
    parts = app.quit_parts
    parts["pin"].text = CASHIER_PIN
    ui.press(parts["confirm"])
    assert app._quit_popup is not None and parts["note"].text, "a cashier's PIN does not quit"
    esc()
    assert app._quit_popup is None and app.current == "sale"
    assert app.root is not None and app.root.parent is Window, "the app is still running"


def test_the_sale_screens_manager_button_lets_a_manager_straight_in(app: KasirApp) -> None:
    assert app.current == "sale" and app.till.auth.current_user.id == MANAGER
    sale = app.screen("sale")
    assert sale.ids.manager_button.text == "Manajer"
    ui.press(sale.ids.manager_button)
    assert app.current == "manager", "no PIN asked of a logged-in manager"
    assert not [w for w in Window.children if w.__class__.__name__ == "ManagerPinPopup"]
    ui.press(app.screen("manager").ids.back)
    assert app.current == "sale"


def test_a_cashier_needs_a_managers_pin_for_the_manager_area(app: KasirApp) -> None:
    app.logout()
    ui.log_in(app, "Ibu Cashier", CASHIER_PIN)
    assert app.current == "sale"
    sale = app.screen("sale")
    popup = sale.open_manager()
    assert popup is not None and popup in Window.children
    ids = popup.ids
    assert ids.who.values == ["Ibu Admin", "Ibu Manager"], "managers only, no supervisor"
    ui.shot("manager-pin-landscape")
    ui.resize(ui.PORTRAIT)
    ui.shot("manager-pin-portrait")
    ui.resize(ui.LANDSCAPE)
    ids.who.text = "Ibu Manager"
    ids.pin.text = "0000"
    ui.press(ids.confirm)
    assert ids.message.text.startswith("PIN salah"), ids.message.text
    assert app.current == "sale"
    ids.pin.text = MANAGER_PIN
    ui.press(ids.confirm)
    ui.pump(lambda: popup not in Window.children)
    assert app.current == "manager"
    assert app.screen("manager").visitor.full_name == "Ibu Manager"
    assert app.till.auth.current_user.id == CASHIER, "the cashier stays logged in"
    ui.press(app.screen("manager").ids.back)
    assert app.current == "sale" and app.screen("manager").visitor is None
