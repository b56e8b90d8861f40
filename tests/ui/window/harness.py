"""Drive the real Kivy app in a real window (Xvfb or SDL's offscreen driver).

Only the scenario modules in this folder import it, each in its own process (see
``tests/ui/test_window.py``), because Kivy's window and App are process-wide. A scenario
imports it as ``ui`` and states only what it tests: :func:`launch` makes the app of its
``app`` fixture (``conftest.py`` here has the usual ``server``, ``clock`` and ``printer``),
:func:`log_in` and :func:`open_shift` walk the screens a cashier starts on.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

assert os.environ.get("KIVY_HOME"), "run through tests/ui/test_window.py (sets KIVY_HOME)"

import httpx  # noqa: E402
from kivy.config import Config  # noqa: E402

# The offscreen driver cannot resize its GL surface later: size the window up front.
_width, _height = os.environ.get("KASIR_TEST_WINDOW", "1280x800").split("x")
Config.set("graphics", "width", _width)
Config.set("graphics", "height", _height)
Config.set("graphics", "resizable", "1")

from kivy.base import EventLoop  # noqa: E402
from kivy.core.text import Label as CoreLabel  # noqa: E402
from kivy.core.window import Window  # noqa: E402
from kivy.uix.button import Button  # noqa: E402
from kivy.uix.label import Label  # noqa: E402
from kivy.uix.scrollview import ScrollView  # noqa: E402
from kivy.uix.textinput import TextInput  # noqa: E402

from pos_client.config import ClientSettings  # noqa: E402
from pos_client.services.clock import Clock, utc_now  # noqa: E402
from pos_client.services.qris import QrisGateway  # noqa: E402
from pos_client.store import LocalStore  # noqa: E402
from pos_client.store.ports import PushFailure  # noqa: E402
from pos_client.ui.app import KasirApp  # noqa: E402
from pos_client.ui.workers import busy_workers  # noqa: E402
from shared.barcodes import make_ean13  # noqa: E402
from shared.models import (  # noqa: E402
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    EventResult,
    EventStatus,
    EventType,
    PullResponse,
    PushRequest,
    PushResponse,
)
from tests.client.conftest import (  # noqa: E402
    CASHIER,
    FAST_HASHER,
    PINS,
    FakeClock,
    catalog_product,
    make_till,
    seed_page,
)

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "ui"
KOPI = make_ean13("899999900006")
LANDSCAPE = (1280, 800)
PORTRAIT = (800, 1280)


def catalog_page(*, cursor: int = 100) -> PullResponse:
    """The client tests' small catalog plus a coffee for the camera to see."""
    page = seed_page(cursor=cursor)
    page.products.append(
        catalog_product(6, "KOPI-165", KOPI, "Kopi Kapal Api 165g", 14500, {"tax_rate_id": 1})
    )
    return page


class FakeServer:
    """An ``httpx.MockTransport`` handler: applies every pushed event, pulls nothing new."""

    def __init__(self, *, online: bool = True) -> None:
        self.online = online
        self.pushed: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if not self.online:
            raise httpx.ConnectError("network is down", request=request)
        headers = {PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
        if request.url.path.endswith("/sync/push"):
            body = PushRequest.model_validate_json(request.content)
            self.pushed += [e.type for e in body.events]
            answer = PushResponse(
                results=[EventResult(id=e.id, status=EventStatus.APPLIED) for e in body.events],
                server_time=datetime.now(UTC),
            )
            return httpx.Response(200, content=answer.model_dump_json(), headers=headers)
        if request.url.path.endswith("/sync/pull"):
            cursor = int(request.url.params.get("cursor", "0"))
            page = PullResponse(cursor=cursor, has_more=False, remaining=0)
            return httpx.Response(200, content=page.model_dump_json(), headers=headers)
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "no"}})


def seeded_settings(data_dir: Path) -> ClientSettings:
    """Settings for a till enrolled as T01 with the small catalog already pulled."""
    settings = ClientSettings(data_dir=data_dir, terminal_code="T01", sync_interval_seconds=0.5)
    data_dir.mkdir(parents=True, exist_ok=True)
    store = LocalStore.open(settings)
    store.save_enrollment(device_token="tok-ui", terminal_id=1, terminal_code="T01", store_id=7)
    store.apply_pull_page(catalog_page())
    store.close()
    return settings


def launch(
    tmp_path_factory: Any,
    *,
    server: Callable[[httpx.Request], httpx.Response] | None = None,
    now: Clock = utc_now,
    qris: QrisGateway | None = None,
    printer: CapturePrinter | None = None,
    prepare: Callable[[ClientSettings], object] | None = None,
    size: tuple[int, int] = LANDSCAPE,
) -> Iterator[KasirApp]:
    """The app of a scenario's ``app`` fixture (``yield from ui.launch(...)``): a till
    enrolled as T01 with the small catalog, talking to ``server`` (a :class:`FakeServer`
    when None), printing to ``printer`` when given; ``prepare`` changes the settings or the
    store before the app opens. Stopped when the module's tests are done."""
    settings = seeded_settings(tmp_path_factory.mktemp("till"))
    if prepare is not None:
        prepare(settings)
    kasir = KasirApp(
        settings,
        transport=httpx.MockTransport(server or FakeServer()),
        qris=qris,
        now=now,
        hasher=FAST_HASHER,
    )
    if printer is not None:
        kasir.till.save_prefs(
            kasir.till.prefs.with_changes(
                printer_kind="network", printer_host="127.0.0.1", printer_port=printer.port
            )
        )
    start_app(kasir, size)
    try:
        yield kasir
    finally:
        stop_app(kasir)


def pulled(*pages: PullResponse) -> Callable[[ClientSettings], None]:
    """A ``prepare`` for :func:`launch`: the till has also pulled ``pages``."""

    def prepare(settings: ClientSettings) -> None:
        store = LocalStore.open(settings)
        try:
            for page in pages:
                store.apply_pull_page(page)
        finally:
            store.close()

    return prepare


STATIC_QRIS = (
    "00020101021126570011ID.DANA.WWW011893600915300000000002150000000000000000303UMI"
    "5204581253033605802ID5910TOKO MAJU6007JAKARTA6304A1B2"
)
FAILURE = PushFailure(
    status_code=500, code="internal_error", message="Something went wrong on the server."
)
RETRY_AT = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=30)


def static_qris(settings: ClientSettings) -> None:
    """A ``prepare``: the manager pasted the store's static QRIS in the back office and the
    till pulled it (:data:`STATIC_QRIS`)."""
    store = LocalStore.open(settings)
    profile = store.store_profile()
    assert profile is not None
    store.apply_pull_page(
        PullResponse(
            cursor=store.pull_cursor() + 1,
            has_more=False,
            remaining=0,
            stores=[profile.model_copy(update={"static_qris": STATIC_QRIS, "change_no": 200})],
        )
    )
    store.close()


def stuck_sale(settings: ClientSettings) -> None:
    """A ``prepare``: a shift and a sale on this till, the sale set aside as stuck by an
    earlier round (the server answered 500 to it alone, twice), next try at
    :data:`RETRY_AT`."""
    store = LocalStore.open(settings)
    till = make_till(store, settings, FakeClock(datetime.now(UTC)))
    till.auth.login(CASHIER, PINS[CASHIER])
    till.shifts.open(200_000)
    till.checkout.add_product(1)
    till.checkout.checkout_cash(100_000)
    [sale] = [e for e in store.pending_events(10) if e.type == EventType.SALE]
    store.mark_stuck(sale.id, FAILURE, at=datetime.now(UTC), retry_at=RETRY_AT)
    store.mark_stuck(sale.id, FAILURE, at=datetime.now(UTC), retry_at=RETRY_AT)
    store.close()


def log_in(app: KasirApp, user: str, pin: str) -> None:
    """Tap ``user``'s name on the login screen and the PIN on its keypad, then Masuk."""
    login = app.screen("login")
    buttons = {b.user_name: b for b in login.ids.users.children}
    press(buttons[user])
    for digit in pin:
        login.ids.keypad.press(digit)
    press(login.ids.login_button)


def go_offline(app: KasirApp, server: FakeServer) -> None:
    """Take the server away and wait for the status bar to say so."""
    server.online = False
    app.sync_now()
    pump(lambda: app.status_bar.online_text == "Offline", timeout=10)


def open_shift(app: KasirApp, float_amount: int = 100_000) -> None:
    """Open the shift on the shift screen with ``float_amount`` in the drawer."""
    shift = app.screen("shift")
    shift.ids.float_amount.text = str(float_amount)
    press(shift.ids.open_button)


def to_payment(app: KasirApp, *codes: str) -> Any:
    """Scan ``codes`` on the sale screen and press Pay; the payment screen."""
    app.go("sale")
    for code in codes:
        wedge_scan(code)
    press(app.screen("sale").ids.pay)
    return app.screen("payment")


def close_shift(app: KasirApp) -> dict[str, str]:
    """Close the shift on the shift screen (Close, then confirm: closing asks first);
    the Z report's values by label."""
    shift = app.screen("shift")
    press(shift.ids.close_button)
    press(shift.confirm_popup.ids.confirm)
    assert shift.report_title == "Laporan Z"
    values: dict[str, str] = shift.report_values()
    return values


def sell_for_cash(app: KasirApp, *codes: str) -> str:
    """Scan ``codes`` on the sale screen, pay the exact amount in cash and start a new
    sale; returns the receipt number."""
    sale = app.screen("sale")
    for n, code in enumerate(codes, start=1):
        wedge_scan(code)
        pump(lambda n=n: len(sale.rows()) == n)
    press(sale.ids.pay)
    payment = app.screen("payment")
    press(payment.quick_buttons()[0])
    press(payment.ids.pay_cash)
    assert app.current == "receipt"
    number = str(app.till.store.recent_sales(1)[0].receipt_number)
    press(app.screen("receipt").ids.new_sale)
    return number


def start_app(app: KasirApp, size: tuple[int, int] = LANDSCAPE) -> KasirApp:
    """Build the app into the window and run its first frames (no ``app.run()`` loop)."""
    EventLoop.ensure_window()
    Window.size = size
    app._run_prepare()
    pump(frames=5)
    return app


def stop_app(app: KasirApp) -> None:
    """Stop workers, then the app."""
    app.on_stop()
    Window.remove_widget(app.root)


def pump(
    until: Callable[[], object] | None = None, *, timeout: float = 5.0, frames: int = 2
) -> None:
    """Run the event loop until ``until()`` is true (or ``frames`` frames without one)."""
    if until is None:
        for _ in range(frames):
            EventLoop.idle()
        return
    deadline = time.monotonic() + timeout
    while True:
        EventLoop.idle()
        if until():
            for _ in range(frames):
                EventLoop.idle()
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {until}")
        time.sleep(0.005)


def settle() -> None:
    """Wait for worker threads (printing, QRIS calls) and draw their results."""
    pump(lambda: busy_workers() == 0, timeout=10)
    pump(frames=3)


def key(char: str) -> None:
    """One key as SDL delivers it: key down (with its codepoint), then the text."""
    Window.dispatch("on_key_down", ord(char), 0, char, [])
    Window.dispatch("on_textinput", char)
    Window.dispatch("on_key_up", ord(char), 0)


def enter() -> None:
    """The Enter key."""
    Window.dispatch("on_key_down", 13, 40, "\r", [])
    Window.dispatch("on_key_up", 13, 40)


def tab() -> None:
    """The Tab key (a scanner set up to end its codes with Tab sends it)."""
    Window.dispatch("on_key_down", 9, 43, "\t", [])
    Window.dispatch("on_key_up", 9, 43)


def wedge_scan(code: str) -> None:
    """A USB scanner: every character within a few ms, then Enter, then frames."""
    for char in code:
        key(char)
    enter()
    pump(frames=3)


def type_slowly(text: str, gap: float = 0.12) -> None:
    """A person typing: frames run between keys."""
    for char in text:
        key(char)
        end = time.monotonic() + gap
        while time.monotonic() < end:
            EventLoop.idle()
            time.sleep(0.01)
    pump(frames=5)


def press(button: object) -> None:
    """Tap a button (its release handler) and draw."""
    button.dispatch("on_press")  # type: ignore[attr-defined]
    button.dispatch("on_release")  # type: ignore[attr-defined]
    pump(frames=2)


def shot(name: str) -> Path:
    """Save what the window shows as artifacts/ui/<name>.png."""
    pump(frames=4)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / f"{name}.png"
    made = Window.screenshot(name=str(target))
    if made:
        shutil.move(made, target)
    return target


def resize(size: tuple[int, int]) -> None:
    """Turn the tablet: set the window size and let layouts settle."""
    Window.size = size
    pump(frames=6)


__all__ = ["FAST_HASHER"]


class CapturePrinter:
    """A network ESC/POS receipt printer on 127.0.0.1: keeps the bytes of every job."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.jobs: list[bytes] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                data = b""
                while chunk := conn.recv(65536):
                    data += chunk
            self.jobs.append(data)

    def close(self) -> None:
        """Stop listening."""
        self.server.close()


def _inside_scroll(widget: Any) -> bool:
    parent = widget.parent
    while parent is not None and parent is not Window:
        if isinstance(parent, ScrollView):
            return True
        parent = parent.parent
    return False


def shown_widgets(root: Any) -> list[Any]:
    """``root`` and what it shows: not hidden (opacity 0) and not collapsed to nothing."""
    found: list[Any] = []

    def visit(widget: Any) -> None:
        if widget.opacity == 0 or widget.width < 2 or widget.height < 2:
            return
        found.append(widget)
        for child in widget.children:
            visit(child)

    visit(root)
    return found


def _needed_height(label: Any) -> float:
    """The height ``label``'s text needs wrapped at its ``text_size`` width."""
    core = CoreLabel(
        text=label.text,
        font_size=label.font_size,
        font_name=label.font_name,
        bold=label.bold,
        text_size=(label.text_size[0], None),
        padding=label.padding,
        line_height=label.line_height,
        max_lines=label.max_lines,
    )
    core.refresh()
    return float(core.content_height)


def _broken_words(label: Any) -> list[str]:
    """Words of ``label`` wider than its wrapping width: Kivy breaks them mid-word."""
    room = label.text_size[0] - label.padding[0] - label.padding[2]
    broken = []
    for word in set(label.text.split()):
        core = CoreLabel(
            text=word, font_size=label.font_size, font_name=label.font_name, bold=label.bold
        )
        core.refresh()
        if core.content_width > room + 1:
            broken.append(word)
    return sorted(broken)


def layout_problems() -> list[str]:
    """What looks broken in the window now: text that does not fit its widget (cut or
    spilling over its neighbours), widgets outside the window, buttons and fields that
    overlap. Only the topmost layer is looked at (an open popup, else the app)."""
    top = Window.children[0]
    width, height = Window.size
    shown = shown_widgets(top)
    problems: list[str] = []
    for widget in shown:
        name = f"{type(widget).__name__} {getattr(widget, 'text', '')[:40]!r}"
        if isinstance(widget, Label) and widget.text.strip() and not widget.markup:
            tw, th = widget.texture_size
            text_w, text_h = widget.text_size
            if text_w is None and tw > widget.width + 1:
                problems.append(f"{name}: text {tw:.0f} px wide in {widget.width:.0f} px")
            elif text_w is not None and text_h is None and th > widget.height + 1:
                problems.append(f"{name}: text {th:.0f} px tall in {widget.height:.0f} px")
            elif text_w is not None and text_h is not None and not widget.shorten:
                need = _needed_height(widget)
                if need > text_h + 1:
                    problems.append(f"{name}: text needs {need:.0f} px, has {text_h:.0f} px")
            if text_w is not None and not widget.shorten:
                problems += [
                    f"{name}: the word {word!r} is broken over two lines"
                    for word in _broken_words(widget)
                ]
        if isinstance(widget, TextInput) and not widget.text and widget.hint_text:
            core = CoreLabel(
                text=widget.hint_text, font_size=widget.font_size, font_name=widget.font_name
            )
            core.refresh()
            room = widget.width - widget.padding[0] - widget.padding[2]
            if not widget.multiline and core.content_width > room + 1:
                problems.append(
                    f"TextInput hint {widget.hint_text[:40]!r}: {core.content_width:.0f} px "
                    f"wide in {room:.0f} px"
                )
        if _inside_scroll(widget):
            continue
        x, y = widget.to_window(widget.x, widget.y)
        if x < -1 or y < -1 or x + widget.width > width + 1 or y + widget.height > height + 1:
            problems.append(f"{name}: outside the {width}x{height} window at ({x:.0f}, {y:.0f})")
    controls = [w for w in shown if isinstance(w, Button | TextInput) and not _inside_scroll(w)]
    boxes = [(w, *w.to_window(w.x, w.y)) for w in controls]
    for n, (a, ax, ay) in enumerate(boxes):
        for b, bx, by in boxes[n + 1 :]:
            if a in b.walk(restrict=True) or b in a.walk(restrict=True):
                continue
            overlap_w = min(ax + a.width, bx + b.width) - max(ax, bx)
            overlap_h = min(ay + a.height, by + b.height) - max(ay, by)
            if overlap_w > 1 and overlap_h > 1:
                problems.append(
                    f"{type(a).__name__} {getattr(a, 'text', '')[:30]!r} overlaps "
                    f"{type(b).__name__} {getattr(b, 'text', '')[:30]!r}"
                )
    return problems
