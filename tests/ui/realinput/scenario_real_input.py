"""A cashier's day typed with REAL X key events (xdotool, XTEST) at scanner speed.

Run by ``tests/ui/test_real_input.py`` in its own process on its own Xvfb. Every scan is
``xdotool key --delay 10 <13 digit keys> Return`` (at ~10 ms a key, one xdotool
process with real-time priority where allowed, as a keyboard-wedge scanner sends it);
PINs and amounts are typed at a person's speed; fields are focused with real mouse
clicks. After each step the cart (the app's checkout service) is checked.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from kivy.base import EventLoop
from kivy.core.window import Window
from kivy.input.providers.mouse import MouseMotionEventProvider

from pos_client.ui.app import KasirApp
from pos_client.ui.prefs import load_prefs
from tests.client.conftest import BERAS, INDOMIE, TEH
from tests.ui.window.harness import (
    FAST_HASHER,
    KOPI,
    LANDSCAPE,
    FakeServer,
    seeded_settings,
    shot,
    start_app,
    stop_app,
)

pytestmark = pytest.mark.gui

INDO, TEH_B, BERAS_P, KOPI_K = (
    "Indomie Goreng 85g",
    "Teh Botol Sosro 450ml",
    "Beras Pandan Wangi 5kg",
    "Kopi Kapal Api 165g",
)
SCANS: list[str] = []  # every code sent as a scan, for the count at the end


def frame() -> None:
    """One turn of the real loop: read X events (SDL), then clock, layout and draw."""
    Window.mainloop()
    EventLoop.idle()


def wait(until: Callable[[], object], what: str, timeout: float = 5.0) -> None:
    """Run frames until ``until()`` holds (fails with ``what`` after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s: {what}")
        frame()
        time.sleep(0.002)
    for _ in range(3):
        frame()


def settle(seconds: float = 0.25) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        frame()
        time.sleep(0.002)


def xdo(*args: str, launcher: tuple[str, ...] = ()) -> None:
    """Run xdotool while the app keeps reading events (as it would in app.run())."""
    proc = subprocess.Popen([*launcher, "xdotool", *args])
    wait(lambda: proc.poll() is not None, f"xdotool {' '.join(args)}", timeout=30)
    assert proc.returncode == 0, f"xdotool {args} failed"
    settle(0.15)  # the wedge hands typing to the field ~50 ms after the last key


def _realtime() -> tuple[str, ...]:
    """``chrt -f 10`` when this machine allows it, else nothing."""
    try:
        allowed = subprocess.run(["chrt", "-f", "10", "true"], capture_output=True).returncode
    except FileNotFoundError:
        return ()
    return ("chrt", "-f", "10") if allowed == 0 else ()


SCANNER = _realtime()
"""A scanner is hardware: its keys come 10 ms apart whatever the computer is doing. xdotool
is a process, and on a loaded machine one descheduled for 90 ms sends the rest of the
code 90 ms late, which any till must take for a person pausing. Run with real-time
priority (it sleeps between keys), it keeps the scanner's pace."""


def scanner_keys(*keys: str) -> None:
    """Keys sent as a scanner sends them: one xdotool process, ~10 ms apart."""
    xdo("key", "--delay", "10", *keys, launcher=SCANNER)


KEYSYMS = {"-": "minus", ".": "period", "/": "slash", " ": "space", "\n": "Return", "\t": "Tab"}


def scan(code: str, *, end: str = "\n") -> None:
    """A USB scanner: the code at ~10 ms a key, then the suffix, in one burst.

    One ``xdotool key --delay 10`` process sends every key (XTEST), so nothing but the
    scanner's own pace sits between the digits and the Return (``xdotool type`` sends
    "\\n" as Linefeed, which SDL drops). Capitals go with Shift, as a scanner sends them.
    """
    SCANS.append(code)
    scanner_keys(*(KEYSYMS.get(char, char) for char in code + end))


def type_slowly(text: str) -> None:
    """A person typing (150 ms a key)."""
    xdo("type", "--delay", "150", text)


WINDOW_ID: list[str] = []


def click(widget: Any) -> None:
    """A real mouse click on ``widget`` (window coordinates to screen coordinates)."""
    shell = subprocess.run(
        ["xdotool", "getwindowgeometry", "--shell", WINDOW_ID[0]],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    geometry = dict(line.split("=", 1) for line in shell.split())
    wx, wy = widget.to_window(*widget.center)
    x = int(geometry["X"]) + int(wx)
    y = int(geometry["Y"]) + int(geometry["HEIGHT"]) - int(wy)
    xdo("mousemove", str(x), str(y), "click", "1")


def take_the_window() -> None:
    """Make the started app's window take real input: the mouse as an input provider
    (``app.run()`` would add it; the harness does not), the window found by xdotool,
    moved to the screen's corner (all of the 1280×800 window on screen) and focused."""
    mouse = MouseMotionEventProvider("mouse", "disable_multitouch")
    EventLoop.add_input_provider(mouse)
    mouse.start()
    settle(0.3)
    wid = subprocess.run(
        ["xdotool", "search", "--pid", str(os.getpid())], capture_output=True, text=True
    ).stdout.split()
    assert wid, "the app's X window was not found by xdotool"
    WINDOW_ID[:] = wid[:1]
    xdo("windowmove", "--sync", wid[0], "0", "0")
    xdo("windowfocus", "--sync", wid[0])
    xdo("mousemove", str(Window.left + 5), str(Window.top + 5))


def cart(app: KasirApp) -> list[tuple[str, int]]:
    """What the checkout service holds: (name, quantity) per line."""
    return [(line.product.name, line.quantity) for line in app.till.checkout.cart.lines]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KasirApp]:
    settings = seeded_settings(tmp_path_factory.mktemp("till"))
    kasir = KasirApp(settings, transport=httpx.MockTransport(FakeServer()), hasher=FAST_HASHER)
    start_app(kasir, LANDSCAPE)
    take_the_window()
    yield kasir
    stop_app(kasir)


def test_pin_typed_on_the_keyboard_logs_in(app: KasirApp) -> None:
    assert app.current == "login"
    scan(INDOMIE)  # a scan before anyone logged in: ignored, nothing rings up
    assert app.scans == [INDOMIE] and cart(app) == []
    login = app.screen("login")
    buttons = {b.user_name: b for b in login.ids.users.children}
    click(buttons["Ibu Cashier"])
    assert login.selected_name == "Ibu Cashier"
    type_slowly("1111")
    assert login.ids.keypad.value == "1111", "typed PIN digits reach the keypad"
    shot("real-input-01-login-pin")
    xdo("key", "Return")
    wait(lambda: app.current == "shift", "login with the typed PIN")


def test_float_typed_into_its_field_opens_the_shift(app: KasirApp) -> None:
    shift = app.screen("shift")
    click(shift.ids.float_amount)
    assert shift.ids.float_amount.focus
    type_slowly("200000")
    wait(lambda: shift.ids.float_amount.text == "200000", "the float typed into its field")
    shot("real-input-02-shift-float")
    click(shift.ids.open_button)
    wait(lambda: app.current == "sale", "the sale screen after opening the shift")
    assert app.till.shifts.current() is not None


def test_scans_with_no_field_focused_after_the_shift_opened(app: KasirApp) -> None:
    # The shift's field had focus and lost it: SDL has stopped text input. The bug.
    sale = app.screen("sale")
    assert not sale.ids.search.focus
    for code in (INDOMIE, TEH, BERAS, INDOMIE, KOPI):
        scan(code)
    wait(lambda: len(sale.rows()) == 4, "four cart rows")
    assert cart(app) == [(INDO, 2), (TEH_B, 1), (BERAS_P, 1), (KOPI_K, 1)]
    assert app.beeper.count == 5
    assert sale.message == ""
    shot("real-input-03-scans-unfocused")


def test_scans_with_the_search_field_focused_never_land_in_it(app: KasirApp) -> None:
    sale = app.screen("sale")
    click(sale.ids.search)
    assert sale.ids.search.focus
    for code in (TEH, KOPI, BERAS):
        scan(code)
    assert cart(app) == [(INDO, 2), (TEH_B, 2), (BERAS_P, 2), (KOPI_K, 2)]
    assert sale.ids.search.text == "", "a scan must never land in the focused field"
    assert sale.message == "", "no 'not found' from half a scan"


def test_slow_typing_still_searches_and_a_scan_between_keeps_the_words(app: KasirApp) -> None:
    sale = app.screen("sale")
    assert sale.ids.search.focus
    type_slowly("gula")
    wait(lambda: sale.ids.search.text == "gula", "typed 'gula' in the search field")
    wait(lambda: len(sale.ids.results.children) == 1, "one search result")
    assert sale.ids.results.children[0].name == "Gula Pasir 1kg"
    shot("real-input-04-search-typed")
    scan(INDOMIE)  # a scan while the cashier was searching
    assert cart(app)[0] == (INDO, 3)
    assert sale.ids.search.text == "gula"
    xdo("key", "--delay", "120", "BackSpace", "BackSpace", "BackSpace", "BackSpace")
    wait(lambda: sale.ids.search.text == "", "backspaced the search away")


def test_numpad_and_tab_suffix_scans(app: KasirApp) -> None:
    sale = app.screen("sale")
    SCANS.append(TEH)
    keypad = [f"KP_{digit}" for digit in TEH]
    scanner_keys(*keypad, "KP_Enter")
    assert cart(app)[1] == (TEH_B, 3)
    scan(BERAS, end="\t")
    assert cart(app)[2] == (BERAS_P, 3)
    assert sale.ids.search.text == ""


def test_scan_after_a_popup(app: KasirApp) -> None:
    sale = app.screen("sale")
    sale.open_discount(sale.rows()[0].line_id)
    settle(0.3)
    popup = Window.children[0]
    amount = popup.ids.amount
    click(amount)
    assert amount.focus
    type_slowly("500")
    wait(lambda: amount.text == "500", "typed into the popup's field")
    shot("real-input-05-popup-typed")
    popup.dismiss()
    settle(0.3)
    scan(KOPI)
    scan(INDOMIE)
    assert cart(app) == [(INDO, 4), (TEH_B, 3), (BERAS_P, 3), (KOPI_K, 3)]
    assert sale.message == ""


def test_scan_after_coming_back_from_payment_then_pay(app: KasirApp) -> None:
    sale = app.screen("sale")
    click(sale.ids.pay)
    wait(lambda: app.current == "payment", "the payment screen")
    before = cart(app)
    scan(TEH)  # not a screen that takes scans: ignored
    assert cart(app) == before
    payment = app.screen("payment")
    back = next(w for w in payment.walk() if getattr(w, "text", "") == "Kembali")
    click(back)
    wait(lambda: app.current == "sale", "back on the sale screen")
    scan(TEH)
    assert cart(app)[1] == (TEH_B, 4)
    click(sale.ids.pay)
    wait(lambda: app.current == "payment", "the payment screen again")
    for digit in "1000000":
        payment.ids.keypad.press(digit)
    settle(0.2)
    shot("real-input-06-payment")
    click(payment.ids.pay_cash)
    wait(lambda: app.current == "receipt", "the receipt")
    assert cart(app) == []
    assert len(app.till.store.recent_sales(5)) == 1
    click(app.screen("receipt").ids.new_sale)
    wait(lambda: app.current == "sale", "a new sale")


def test_refund_screen_visit_then_scans_on_the_sale_screen(app: KasirApp) -> None:
    number = app.till.store.recent_sales(1)[0].receipt_number
    app.go("refund")
    settle(0.2)
    refund = app.screen("refund")
    scan(number)  # the receipt's code from a 2D scanner: capitals need Shift
    wait(lambda: refund.ids.number.text == number, "the receipt number from the scan")
    assert refund.rows(), "the receipt's lines are shown"
    shot("real-input-07-refund-scan")
    app.go("sale")
    settle(0.2)
    scan(KOPI)
    assert cart(app) == [(KOPI_K, 1)]


def test_hold_and_resume_with_scans_between(app: KasirApp) -> None:
    sale = app.screen("sale")
    scan(BERAS)
    assert cart(app) == [(KOPI_K, 1), (BERAS_P, 1)]
    click(sale.ids.hold)
    wait(lambda: cart(app) == [], "the cart held")
    scan(INDOMIE)  # a customer in between
    assert cart(app) == [(INDO, 1)]
    click(sale.ids.hold)
    wait(lambda: cart(app) == [], "the second cart held")
    click(sale.ids.resume)
    settle(0.3)
    popup = Window.children[0]
    shot("real-input-08-resume-popup")
    click(popup.ids.list.children[-1])  # the first cart held
    wait(lambda: cart(app) == [(KOPI_K, 1), (BERAS_P, 1)], "the first cart back")
    scan(TEH)
    assert cart(app) == [(KOPI_K, 1), (BERAS_P, 1), (TEH_B, 1)]


def test_settings_and_back_then_scan(app: KasirApp) -> None:
    app.go("settings")
    settle(0.2)
    scan(INDOMIE)  # ignored here
    assert cart(app) == [(KOPI_K, 1), (BERAS_P, 1), (TEH_B, 1)]
    app.go("sale")
    settle(0.2)
    scan(INDOMIE)
    assert cart(app) == [(KOPI_K, 1), (BERAS_P, 1), (TEH_B, 1), (INDO, 1)]
    shot("real-input-09-after-settings")


def choose_suffix(app: KasirApp, name: str) -> None:
    """On the Settings screen: pick the scanner's suffix ``name`` and tap Save (real clicks)."""
    settings = app.screen("settings")
    settings.ids.scroll.scroll_y = 0  # the scanner's rows are at the bottom
    settle(0.2)
    click(settings.ids.scanner_suffix)
    settle(0.3)
    option = next(
        b for b in settings.ids.scanner_suffix._dropdown.container.children if b.text == name
    )
    click(option)
    wait(lambda: settings.ids.scanner_suffix.text == name, f"the suffix {name} chosen")
    click(settings.ids.save)
    wait(lambda: settings.message == "Pengaturan disimpan.", "the settings saved")


def test_a_tab_ended_scan_after_switching_the_suffix_to_tab(app: KasirApp) -> None:
    before = cart(app)
    click(next(w for w in app.screen("sale").walk() if getattr(w, "text", "") == "Pengaturan"))
    wait(lambda: app.current == "settings", "the settings screen")
    choose_suffix(app, "Enter")
    assert app.wedge.suffixes == {"enter"}, "applied at once"
    app.go("sale")
    settle(0.2)
    # Not sent through scan(): with Enter alone this burst is typing, not a scan.
    scanner_keys(*BERAS, "Tab")
    settle(0.2)
    assert cart(app) == before, "a Tab the scanner is not set up for ends no scan"
    app.go("settings")
    settle(0.2)
    choose_suffix(app, "Tab")
    shot("real-input-10-settings-suffix-tab")
    assert app.wedge.suffixes == {"tab"}
    assert load_prefs(app.settings.data_dir).wedge(app.settings).suffixes == ("tab",)
    app.go("sale")
    settle(0.2)
    scan(BERAS, end="\t")
    after = [(name, n + 1 if name == BERAS_P else n) for name, n in before]
    assert cart(app) == after, "the Tab-ended scan rang up one more bag of rice"
    scanner_keys(*TEH, "Return")  # Enter no longer ends a scan
    settle(0.2)
    assert cart(app) == after


def test_every_scan_was_read_whole(app: KasirApp) -> None:
    assert len(SCANS) >= 20
    assert app.scans == SCANS, (
        f"each burst must become exactly one scan, whole: read {app.scans}, sent {SCANS}"
    )
