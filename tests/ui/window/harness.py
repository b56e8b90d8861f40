"""Drive the real Kivy app in a real window (Xvfb or SDL's offscreen driver).

Only the scenario modules in this folder import it, each in its own process (see
``tests/ui/test_window.py``), because Kivy's window and App are process-wide.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

assert os.environ.get("KIVY_HOME"), "run through tests/ui/test_window.py (sets KIVY_HOME)"

import httpx  # noqa: E402
from kivy.config import Config  # noqa: E402

# The offscreen driver cannot resize its GL surface later: size the window up front.
_width, _height = os.environ.get("KASIR_TEST_WINDOW", "1280x800").split("x")
Config.set("graphics", "width", _width)
Config.set("graphics", "height", _height)
Config.set("graphics", "resizable", "1")

from kivy.base import EventLoop  # noqa: E402
from kivy.core.window import Window  # noqa: E402

from pos_client.config import ClientSettings  # noqa: E402
from pos_client.store import LocalStore  # noqa: E402
from pos_client.ui.app import KasirApp  # noqa: E402
from pos_client.ui.workers import busy_workers  # noqa: E402
from shared.barcodes import make_ean13  # noqa: E402
from shared.models import (  # noqa: E402
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    EventResult,
    EventStatus,
    ProductOut,
    PullResponse,
    PushRequest,
    PushResponse,
)
from tests.client.conftest import FAST_HASHER, seed_page  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "ui"
KOPI = make_ean13("899999900006")
LANDSCAPE = (1280, 800)
PORTRAIT = (800, 1280)


def catalog_page(*, cursor: int = 100) -> PullResponse:
    """The client tests' small catalog plus a coffee for the camera to see."""
    page = seed_page(cursor=cursor)
    page.products.append(
        ProductOut(
            id=6,
            sku="KOPI-165",
            barcode=KOPI,
            name="Kopi Kapal Api 165g",
            price=14500,
            tax_rate_id=1,
            change_no=15,
        )
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
