"""The e-receipt on the till in a real window: the sync worker fetches the till's receipt
key, a cash sale's receipt screen shows the sale's signed link as a QR code, and the
cashier shares it: the WhatsApp number typed and "Bagikan WhatsApp" tapped with REAL X
events (xdotool), then "Kirim e-mail"; the links handed to the device are checked.
Screenshots in landscape and portrait.

Run by ``tests/ui/test_window.py`` in its own process (one Kivy window per process).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

import pos_client.ui.screens.receipt as receipt_screen
from pos_client.services.receipts import receipt_for_sale, whatsapp_link
from pos_client.sync.receipt_link import RECEIPT_KEY_PATH, saved_receipt_key
from pos_client.ui.app import KasirApp
from shared.receipt_text import ReceiptKeyOut, share_text
from tests.client.conftest import INDOMIE, TEH, FakeClock
from tests.ui.window import harness as ui

BASE = "https://struk.tokomaju.example"
KEY = ReceiptKeyOut(terminal_id=1, key="A" * 43, base_url=BASE)
OPENED: list[str] = []


class KeyServer(ui.FakeServer):
    """The harness's server, which also hands out this till's receipt key."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == RECEIPT_KEY_PATH and self.online:
            return httpx.Response(200, content=KEY.model_dump_json())
        return super().__call__(request)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, clock: FakeClock) -> Iterator[KasirApp]:
    receipt_screen.open_link = OPENED.append  # the device's apps: recorded here
    yield from ui.launch(tmp_path_factory, server=KeyServer(), now=clock)


def test_the_sync_worker_fetches_the_receipt_key(app: KasirApp) -> None:
    app.sync_now()
    ui.pump(lambda: saved_receipt_key(app.till.store) == KEY, timeout=15)


def test_receipt_screen_shows_the_ereceipt_qr(app: KasirApp) -> None:
    user = app.till.auth.login(1, "1111")
    app.till.shifts.open(100_000)
    app.logged_in(user)
    ui.pump(frames=3)
    sale = app.screen("sale")
    for n, code in enumerate((INDOMIE, TEH), start=1):
        ui.wedge_scan(code)
        ui.pump(lambda n=n: len(sale.rows()) == n)
    ui.press(sale.ids.pay)
    payment = app.screen("payment")
    ui.press(payment.quick_buttons()[0])
    ui.press(payment.ids.pay_cash)
    assert app.current == "receipt"
    screen = app.screen("receipt")
    [summary] = app.till.store.recent_sales(1)
    assert screen.ereceipt_link.startswith(f"{BASE}/r/1/{summary.id}/")
    assert screen.ids.ereceipt_qr.texture is not None
    assert screen.ids.ereceipt_note.text == "Pindai untuk struk digital"
    assert "Struk digital:" in screen.receipt_text
    assert screen.ids.share_whatsapp.text == "Bagikan WhatsApp"
    assert screen.ids.share_email_button.text == "Kirim e-mail"
    assert ui.layout_problems() == []
    ui.shot("receipt_share_landscape")


def _real_x() -> bool:
    return bool(os.environ.get("DISPLAY")) and shutil.which("xdotool") is not None


def test_share_on_whatsapp_tapped_with_real_x_events(app: KasirApp) -> None:
    if not _real_x():
        pytest.skip("needs an X display and xdotool (tests/ui/test_window.py gives Xvfb)")
    from tests.ui.realinput.scenario_real_input import click, settle, take_the_window, xdo

    take_the_window()
    screen = app.screen("receipt")
    click(screen.ids.share_phone)  # a real click focuses the field
    xdo("type", "--delay", "40", "0812 3456 7890")
    settle(0.3)
    assert screen.ids.share_phone.text == "0812 3456 7890"
    OPENED.clear()
    click(screen.ids.share_whatsapp)
    settle(0.3)
    assert screen.share_link and [screen.share_link] == OPENED
    sale = app.till.store.sale(app.till.store.recent_sales(1)[0].id)
    receipt = receipt_for_sale(app.till.store, sale)
    assert screen.share_link == whatsapp_link(receipt, "081234567890")
    parts = urlsplit(screen.share_link)
    assert (parts.netloc, parts.path) == ("wa.me", "/6281234567890")
    text = parse_qs(parts.query)["text"][0]
    assert text == share_text(receipt) and text.endswith(screen.ereceipt_link)
    assert screen.message == "Tautan dibuka: kirim dari aplikasinya."
    ui.shot("receipt_share_whatsapp")


def test_send_email_and_a_bad_number(app: KasirApp) -> None:
    screen = app.screen("receipt")
    screen.ids.share_email.text = "budi@contoh.co.id"
    OPENED.clear()
    ui.press(screen.ids.share_email_button)
    ui.settle()  # the server is asked in a worker when it sends e-mail (this one does not)
    [link] = OPENED
    assert link.startswith("mailto:budi@contoh.co.id?subject=Struk%20T01-")
    assert screen.ereceipt_link in parse_qs(urlsplit(link).query)["body"][0]
    screen.ids.share_phone.text = "12"
    ui.press(screen.ids.share_whatsapp)
    assert [link] == OPENED  # nothing opened for a bad number
    assert screen.message_tone == "error" and "Nomor WhatsApp 12" in screen.message


def test_portrait_keeps_everything_on_screen(app: KasirApp) -> None:
    ui.resize(ui.PORTRAIT)
    assert ui.layout_problems() == []
    ui.shot("receipt_share_portrait")
    ui.resize(ui.LANDSCAPE)
