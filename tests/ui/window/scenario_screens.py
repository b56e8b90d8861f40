"""Every screen and popup of the till, in landscape (1280×800) and portrait (800×1280):
a screenshot of each, and what a cashier would see as broken checked on each (text that
does not fit its widget, widgets outside the window, buttons and fields on top of each
other; :func:`harness.layout_problems`). The PNGs go to ``$KASIR_SCREENSHOT_DIR``, else
``artifacts/ui/screens``; the folder is printed as a ``FIGURE`` line.

Run by ``tests/ui/test_window.py`` in its own process (one Kivy window per process).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kivy.core.window import Window
from kivy.uix.button import Button
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.label import Label
from kivy.uix.popup import Popup
from kivy.uix.textinput import TextInput

from pos_client.config import ClientSettings
from pos_client.ui.app import KasirApp
from tests.client.conftest import BERAS, INDOMIE, TEH
from tests.client.fakes import FakeQrisGateway
from tests.ui.window import harness as ui

FOLDER = Path(os.environ.get("KASIR_SCREENSHOT_DIR") or ui.ARTIFACTS / "screens")
SEEN: dict[str, list[str]] = {}
"""Each view's problems by orientation, for the summary at the end."""


@pytest.fixture(scope="module")
def qris() -> FakeQrisGateway:
    return FakeQrisGateway(polls_until_final=1_000_000)  # the QR stays on screen


@pytest.fixture(scope="module")
def app(
    tmp_path_factory: pytest.TempPathFactory, server: ui.FakeServer, qris: FakeQrisGateway
) -> Iterator[KasirApp]:
    def prepared(settings: ClientSettings) -> None:
        ui.static_qris(settings)
        ui.stuck_sale(settings)

    shutil.rmtree(FOLDER, ignore_errors=True)
    FOLDER.mkdir(parents=True)
    for kasir in ui.launch(tmp_path_factory, server=server, qris=qris, prepare=prepared):
        kasir.screen("payment").poll_seconds = 3600
        yield kasir


def look(name: str) -> None:
    """Screenshot the window as it is in both orientations and check each (the problems
    are kept for the last test, so one run lists them all); back to landscape."""
    problems = []
    for orientation, size in (("landscape", ui.LANDSCAPE), ("portrait", ui.PORTRAIT)):
        ui.resize(size)
        ui.pump(frames=6)
        found = ui.layout_problems()
        problems += [f"{name} {orientation}: {p}" for p in found]
        ui.pump(frames=2)
        target = FOLDER / f"{name}-{orientation}.png"
        made = Window.screenshot(name=str(target))
        if made:
            shutil.move(made, target)
        assert target.exists()
    ui.resize(ui.LANDSCAPE)
    SEEN[name] = problems


def top_popup() -> Any:
    assert len(Window.children) > 1, "no popup open"
    return Window.children[0]


def close(popup: Any) -> None:
    popup.dismiss()
    ui.pump(lambda: popup not in Window.children)


def look_and_close(popup: Any, name: str) -> None:
    """:func:`look` at the open ``popup`` as ``name``, then close it."""
    look(name)
    close(popup)


def test_the_checks_see_cut_text_hidden_hints_and_overlaps(app: KasirApp) -> None:
    """What :func:`harness.layout_problems` reports, on a popup broken on purpose."""
    box = FloatLayout()
    box.add_widget(Label(text="x" * 80, size_hint=(None, None), size=(100, 30), pos=(10, 10)))
    box.add_widget(
        Button(
            text="Lanjutkan",
            size_hint=(None, None),
            size=(40, 80),
            pos=(10, 60),
            text_size=(40, None),
        )
    )
    box.add_widget(
        TextInput(
            hint_text="Uang dihitung (Rp)",
            multiline=False,
            size_hint=(None, None),
            size=(90, 40),
            pos=(10, 150),
        )
    )
    box.add_widget(Button(text="A", size_hint=(None, None), size=(80, 40), pos=(200, 10)))
    box.add_widget(Button(text="B", size_hint=(None, None), size=(80, 40), pos=(240, 30)))
    popup = Popup(title="broken", content=box, size_hint=(None, None), size=(400, 300))
    popup.open()
    ui.pump(frames=6)
    found = "\n".join(ui.layout_problems())
    close(popup)
    assert "px wide in 100 px" in found, found
    assert "the word 'Lanjutkan' is broken" in found, found
    assert "TextInput hint 'Uang dihitung (Rp)'" in found, found
    assert "Button 'A' overlaps Button 'B'" in found or "Button 'B' overlaps Button 'A'" in found


def test_login_and_first_run(app: KasirApp) -> None:
    login = app.screen("login")
    buttons = {b.user_name: b for b in login.ids.users.children}
    ui.press(buttons["Ibu Cashier"])
    login.ids.keypad.press("1")
    look("login-pin")
    app.go("firstrun")
    look("first-run")
    app.go("login")
    ui.log_in(app, "Ibu Cashier", "1111")
    assert app.current == "sale", "the stuck sale's shift is still open"


def test_sale_screen_cart_grid_and_search(app: KasirApp) -> None:
    sale = app.screen("sale")
    for code in (INDOMIE, TEH, BERAS, INDOMIE):
        ui.wedge_scan(code)
    ui.pump(lambda: len(sale.rows()) == 3)
    look("sale-cart")
    ui.press(sale.ids.grid.tabs()[1])
    look("sale-grid")
    sale.ids.search.text = "gula"
    ui.pump(lambda: len(sale.ids.results.children) == 1)
    look("sale-search")
    sale.ids.search.text = ""
    ui.pump(frames=2)


def test_sale_popups(app: KasirApp) -> None:
    sale = app.screen("sale")
    line = sale.rows()[0].line_id
    look_and_close(sale.open_quantity(line), "popup-quantity")
    look_and_close(sale.open_discount(line), "popup-discount")
    ui.press(sale.ids.voucher_button)
    look_and_close(sale.voucher_popup(), "popup-voucher")
    look_and_close(sale.open_manager(), "popup-manager-pin")
    ui.press(sale.ids.hold)
    ui.press(sale.ids.resume)
    popup = top_popup()
    look("popup-held-carts")
    ui.press(popup.ids.list.children[-1])
    ui.pump(lambda: popup not in Window.children)
    look_and_close(app.show_stuck(), "popup-stuck-events")
    look_and_close(app.ask_to_quit(), "popup-quit")


def test_payment_cash_qris_and_static_qris(app: KasirApp, server: ui.FakeServer) -> None:
    ui.press(app.screen("sale").ids.pay)
    payment = app.screen("payment")
    ui.pump(lambda: payment.qris_available, timeout=10)
    for digit in "100000":
        payment.ids.keypad.press(digit)
    look("payment-cash")
    ui.press(payment.ids.qris_button)
    ui.pump(lambda: payment.ids.qr.texture is not None, timeout=10)
    look("payment-qris")
    ui.press(payment.ids.qris_cancel)
    ui.settle()
    ui.go_offline(app, server)
    payment.update_qris_availability()
    ui.pump(lambda: not payment.ids.static_button.disabled, timeout=10)
    ui.press(payment.ids.static_button)
    look("payment-qris-static")
    ui.press(payment.ids.qris_cancel)
    server.online = True
    ui.settle()
    ui.press(payment.quick_buttons()[0])
    ui.press(payment.ids.pay_cash)
    assert app.current == "receipt"
    look("receipt")
    ui.press(app.screen("receipt").ids.new_sale)


def test_history_and_refund(app: KasirApp) -> None:
    ui.press(app.screen("sale").ids.history_button)
    history = app.screen("history")
    ui.press(history.rows()[0])
    look("history")
    ui.press(history.ids.refund_button)
    assert app.current == "refund"
    app.screen("refund").rows()[0].quantity = 1
    look("refund")
    ui.press(app.screen("refund").ids.back)
    ui.press(history.ids.back)


def test_settings_stock_manager_and_people(app: KasirApp) -> None:
    app.go("settings")
    look("settings")
    app.go("stock")
    look("stock")
    popup = app.screen("sale").open_manager()
    popup.ids.who.text = "Ibu Manager"
    popup.ids.pin.text = "3333"
    ui.press(popup.ids.confirm)
    ui.pump(lambda: app.current == "manager")
    ui.settle()
    look("manager")
    ui.press(app.screen("manager").ids.people_button)
    ui.settle()
    look("manager-users")
    app.go("sale")


def test_shift_x_drawer_close_and_z(app: KasirApp) -> None:
    app.go("shift")
    shift = app.screen("shift")
    look("shift-x-report")
    ui.press(shift.ids.drawer_button)
    look_and_close(shift.drawer_popup, "popup-drawer")
    shift.ids.counted.text = "250000"
    ui.press(shift.ids.close_button)
    popup = shift.confirm_popup
    look("popup-shift-close")
    ui.press(popup.ids.confirm)
    ui.pump(frames=3)
    assert shift.report_title == "Laporan Z"
    look("shift-z-report")
    app.go("sale")
    assert app.current in ("sale", "shift")
    app.go("shift")
    look("shift-open")


def test_every_view_shows_whole_in_both_orientations() -> None:
    shots = sorted(FOLDER.glob("*.png"))
    print(f"FIGURE screenshots: {len(shots)} PNGs of {len(SEEN)} views in {FOLDER}")
    assert len(shots) == 2 * len(SEEN) >= 2 * 26
    problems = [problem for found in SEEN.values() for problem in found]
    assert not problems, "\n".join(problems)
