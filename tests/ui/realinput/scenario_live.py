"""A cashier's day against a LIVE sync server, typed with REAL X input (xdotool, XTEST).

Run by ``tests/ui/test_real_input_live.py`` in its own process on its own Xvfb. That
parent serves the real FastAPI app under uvicorn (demo store seeded), mints a one-time
enrollment code through the API and passes it here with the server's URL. This process
runs the real till app with real HTTP (no mock transport) and drives it like a person:

* first run: the enrollment code typed into its field, Enroll clicked; the app enrolls
  over HTTP and downloads the demo catalog;
* Siti's PIN typed on the keyboard, the float typed, the shift opened with clicks;
* a sale scanned (scanner bursts: ``xdotool key --delay 10``) and paid in cash, pushed
  while online;
* the parent stops the server (asked over a pipe): two more sales offline, one of them
  a held cart resumed, then a refund of one line approved with the manager's PIN;
* the parent starts the server again, the cashier taps Sync, and the till pushes
  everything.

What the till showed (totals, tendered, change, refund amount, lines) is written to a
JSON report; the parent checks it against the server's database.
"""

from __future__ import annotations

import json
import os
import select
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kivy.core.window import Window

from pos_client.config import ClientSettings
from pos_client.ui.app import KasirApp
from pos_client.ui.i18n import tr
from shared.money import format_rupiah
from sync_server.catalog.demo import demo_items
from tests.ui.realinput.scenario_real_input import (
    SCANS,
    cart,
    click,
    frame,
    scan,
    settle,
    take_the_window,
    type_slowly,
    wait,
    xdo,
)
from tests.ui.window.harness import LANDSCAPE, shot, start_app, stop_app

pytestmark = pytest.mark.gui

URL = os.environ.get("KASIR_LIVE_URL", "")
CODE = os.environ.get("KASIR_LIVE_CODE", "")
REPORT = Path(os.environ.get("KASIR_LIVE_REPORT", "live-report.json"))
SHOT = os.environ.get("KASIR_LIVE_SHOT", "live")
if not (URL and CODE and os.environ.get("KASIR_LIVE_CONTROL")):
    raise RuntimeError("run through tests/ui/test_real_input_live.py (a live server)")

ITEMS = {item.name: item for item in demo_items()}
AQUA, TEH, INDOMIE, BERAS, GULA = (
    ITEMS["Aqua 600ml"],
    ITEMS["Teh Botol Sosro 450ml"],
    ITEMS["Indomie Goreng 85g"],
    ITEMS["Beras Pandan Wangi 5kg"],
    next(item for name, item in ITEMS.items() if name.startswith("Gula Pasir")),
)

RECORD: dict[str, Any] = {"sales": [], "refunds": [], "terminal_code": None}
"""What the till showed, for the parent to compare with the server's database."""


def control(command: str, timeout: float = 60.0) -> None:
    """Ask the parent to ``stop`` or ``start`` the server; frames run while it does."""
    read_fd, write_fd = (int(fd) for fd in os.environ["KASIR_LIVE_CONTROL"].split(","))
    os.write(write_fd, f"{command}\n".encode())
    deadline = time.monotonic() + timeout
    answer = b""
    while not answer.endswith(b"\n"):
        if time.monotonic() > deadline:
            raise AssertionError(f"the parent did not answer {command!r} in {timeout} s")
        ready, _, _ = select.select([read_fd], [], [], 0.01)
        if ready:
            chunk = os.read(read_fd, 64)
            assert chunk, "the parent closed the control pipe"
            answer += chunk
        frame()
    assert answer.decode().strip() == f"{command} ok", answer


def money(text: str) -> int:
    """Whole rupiah from a label such as ``"Rp 12.500"``."""
    digits = "".join(ch for ch in text if ch.isdigit())
    assert digits, f"no amount in {text!r}"
    return -int(digits) if text.strip().startswith("-") else int(digits)


def button(root: Any, text: str) -> Any:
    """The widget under ``root`` whose text is ``text``."""
    found = [w for w in root.walk() if getattr(w, "text", None) == text]
    assert found, f"no button {text!r}"
    return found[0]


def pending(app: KasirApp) -> int:
    return app.till.store.sync_status().pending


def sell(app: KasirApp, *, quick: int, label: str) -> dict[str, Any]:
    """Pay the cart in cash with the ``quick``-th quick-amount button (0: exact money)."""
    sale_screen = app.screen("sale")
    lines = [
        {"product_id": line.product.id, "name": line.product.name, "quantity": line.quantity}
        for line in app.till.checkout.cart.lines
    ]
    shown_total = money(sale_screen.ids.total.text)
    click(sale_screen.ids.pay)
    wait(lambda: app.current == "payment", "the payment screen")
    payment = app.screen("payment")
    assert money(payment.ids.due.text) == shown_total, "payment asks what the cart showed"
    click(payment.quick_buttons()[quick])
    wait(lambda: payment.tendered > 0, "the quick amount taken as cash received")
    tendered = payment.tendered
    shown_change = money(payment.ids.change.text)
    shot(f"{SHOT}-{label}-payment")
    click(payment.ids.pay_cash)
    wait(lambda: app.current == "receipt", "the receipt")
    receipt = app.screen("receipt")
    assert money(receipt.change_text) == shown_change == tendered - shown_total
    summary = app.till.store.recent_sales(1)[0]
    number = summary.receipt_number
    assert number in receipt.receipt_text, "the receipt shows its number"
    assert format_rupiah(shown_total) in receipt.receipt_text, "the receipt shows the total"
    sale = app.till.refunds.find_sale(number)
    assert sale.total == shown_total
    assert sorted((ln.product_id, ln.quantity) for ln in sale.lines) == sorted(
        (ln["product_id"], ln["quantity"]) for ln in lines
    )
    shot(f"{SHOT}-{label}-receipt")
    click(receipt.ids.new_sale)
    wait(lambda: app.current == "sale", "a new sale")
    entry = {
        "receipt_number": number,
        "total": shown_total,
        "tendered": tendered,
        "change": shown_change,
        "lines": lines,
        "label": label,
    }
    RECORD["sales"].append(entry)
    return entry


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KasirApp]:
    data_dir = Path(os.environ.get("KASIR_LIVE_DATA") or tmp_path_factory.mktemp("till"))
    settings = ClientSettings(data_dir=data_dir, server_url=URL, sync_interval_seconds=0.5)
    kasir = KasirApp(settings)  # real HTTP, the real PIN hasher: nothing injected
    start_app(kasir, LANDSCAPE)
    take_the_window()
    yield kasir
    REPORT.write_text(json.dumps(RECORD, indent=2))
    stop_app(kasir)


def test_first_run_enrolls_with_the_typed_code_and_downloads_the_catalog(app: KasirApp) -> None:
    assert app.current == "firstrun"
    first = app.screen("firstrun")
    wait(lambda: first.ids.server.text == URL, "the server address prefilled")
    click(first.ids.code)
    assert first.ids.code.focus
    type_slowly(CODE)
    wait(lambda: first.ids.code.text == CODE, "the enrollment code typed into its field")
    shot(f"{SHOT}-01-firstrun")
    click(first.ids.enroll_button)
    wait(lambda: app.current == "login", f"enrolled and downloaded ({first.message})", 90)
    assert app.till.store.terminal_identity().terminal_code == "T01"
    RECORD["terminal_code"] = "T01"
    names = {b.user_name for b in app.screen("login").ids.users.children}
    assert {"Siti Rahmawati", "Andi Wijaya"} <= names, names


def test_siti_logs_in_with_her_typed_pin_and_opens_the_shift(app: KasirApp) -> None:
    login = app.screen("login")
    buttons = {b.user_name: b for b in login.ids.users.children}
    click(buttons["Siti Rahmawati"])
    assert login.selected_name == "Siti Rahmawati"
    type_slowly("1111")
    assert login.ids.keypad.value == "1111"
    shot(f"{SHOT}-02-login")
    xdo("key", "Return")
    wait(lambda: app.current == "shift", f"logged in ({login.message})", 20)
    shift = app.screen("shift")
    click(shift.ids.float_amount)
    type_slowly("200000")
    wait(lambda: shift.ids.float_amount.text == "200000", "the float typed")
    click(shift.ids.open_button)
    wait(lambda: app.current == "sale", "the sale screen after opening the shift")
    assert app.till.shifts.current() is not None


def test_online_sale_scanned_paid_in_cash_and_pushed(app: KasirApp) -> None:
    sale = app.screen("sale")
    for item in (AQUA, TEH, AQUA, INDOMIE, BERAS):
        scan(item.barcode)
    wanted = [(AQUA.name, 2), (TEH.name, 1), (INDOMIE.name, 1), (BERAS.name, 1)]
    wait(lambda: cart(app) == wanted, f"the cart {wanted} (scans read: {app.scans})")
    expected = 2 * AQUA.price + TEH.price + INDOMIE.price + BERAS.price  # prices incl. tax
    assert money(sale.ids.total.text) == expected
    shot(f"{SHOT}-03-online-cart")
    sell(app, quick=-1, label="04-online")  # the largest round amount offered
    wait(lambda: pending(app) == 0 and app.online is True, "the online sale pushed", 60)


def test_server_gone_the_till_says_offline(app: KasirApp) -> None:
    control("stop")
    click(app.status_bar.ids.sync_button)
    wait(lambda: app.online is False, "the till noticed the server is gone", 60)
    assert app.status_bar.online_text == tr("offline")


def test_offline_sales_with_a_held_cart_resumed(app: KasirApp) -> None:
    sale = app.screen("sale")
    for item in (TEH, GULA, INDOMIE):
        scan(item.barcode)
    wait(lambda: len(sale.rows()) == 3, "three rows for the first customer")
    click(sale.ids.hold)
    wait(lambda: cart(app) == [], "the cart held")
    for item in (INDOMIE, INDOMIE, AQUA, TEH):  # the next customer, in a hurry
        scan(item.barcode)
    wait(lambda: cart(app) == [(INDOMIE.name, 2), (AQUA.name, 1), (TEH.name, 1)], "2nd cart")
    sell(app, quick=0, label="05-offline-a")  # exact money
    click(sale.ids.resume)
    settle(0.3)
    popup = Window.children[0]
    shot(f"{SHOT}-06-resume-popup")
    click(popup.ids.list.children[-1])
    wait(lambda: cart(app) == [(TEH.name, 1), (GULA.name, 1), (INDOMIE.name, 1)], "resumed")
    scan(AQUA.barcode)
    assert cart(app)[-1] == (AQUA.name, 1)
    sell(app, quick=1, label="07-offline-b")  # the next Rp 10.000 up
    assert app.online is False and pending(app) >= 2, "sold while the server was down"


def test_offline_refund_of_one_line_with_the_manager_pin(app: KasirApp) -> None:
    sale_screen = app.screen("sale")
    click(button(sale_screen, tr("menu_refund")))
    wait(lambda: app.current == "refund", "the refund screen")
    refund = app.screen("refund")
    target = RECORD["sales"][-1]  # the resumed cart: Teh, Gula, Indomie, Aqua, one each
    scan(target["receipt_number"])  # the receipt's QR from a 2D scanner
    wait(lambda: len(refund.rows()) == 4, "the receipt's lines listed")
    row = next(r for r in refund.rows() if r.name == GULA.name)
    click(button(row, "+"))
    wait(lambda: row.quantity == 1, "one Gula to refund")
    click(refund.ids.reason_damaged)
    spinner = refund.ids.manager
    click(spinner)
    settle(0.3)
    click(button(Window.children[0], "Andi Wijaya"))
    wait(lambda: spinner.text == "Andi Wijaya", "the manager chosen")
    click(refund.ids.pin)
    type_slowly("9999")
    wait(lambda: refund.ids.pin.text == "9999", "the manager PIN typed")
    click(refund.ids.refund_button)
    wait(lambda: refund.last_refund is not None, f"the refund recorded ({refund.message})", 20)
    done = refund.last_refund
    assert done is not None
    shown = money(refund.message)
    assert refund.message == tr("refund_done", amount=format_rupiah(shown))
    assert done.total == shown
    shot(f"{SHOT}-08-refund")
    RECORD["refunds"].append(
        {
            "receipt_number": target["receipt_number"],
            "product_id": next(
                ln["product_id"] for ln in target["lines"] if ln["name"] == GULA.name
            ),
            "quantity": 1,
            "total": shown,
        }
    )
    click(refund.ids.back)
    wait(lambda: app.current == "sale", "back to selling")


def test_server_back_everything_pushed(app: KasirApp) -> None:
    waiting = pending(app)
    assert waiting >= 3, f"two sales and a refund wait offline, {waiting} events waiting"
    control("start")
    deadline = time.monotonic() + 150
    while pending(app) > 0 or app.online is not True:
        assert time.monotonic() < deadline, (
            f"still {pending(app)} events waiting 150 s after the server came back"
        )
        click(app.status_bar.ids.sync_button)  # the cashier taps Sync (rate-limited)
        settle(2.0)
    wait(lambda: app.status_bar.waiting_text == tr("waiting", n=0), "the bar shows 0 waiting")
    assert app.till.store.sync_status().rejected == 0
    shot(f"{SHOT}-09-synced")
    assert app.scans == SCANS, f"each burst read whole: read {app.scans}, sent {SCANS}"
