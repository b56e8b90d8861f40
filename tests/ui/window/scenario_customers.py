"""A customer on the sale screen, in a real window, with REAL X events (xdotool clicks
and typing): with two teas in the cart the cashier clicks "Pelanggan", types the
customer's phone number, clicks Cari, sees her name and points, clicks the redeem
toggle, clicks Selesai and pays cash; the sale as it goes to the server carries the
customer and the points discount, and the receipt (on screen and printed) shows her
name, the points redeemed, earned and the balance after. A new number is then
registered on the spot. Screenshots: customer_*.png in artifacts/ui.

The customer and the chain's points rule are as the till last pulled them (1 point per
Rp 5.000, a point worth Rp 100). The till pays offline, so the sale is still unsynced
when its receipt is made and the balance after it is printed too.
Run by ``tests/ui/test_window.py`` in its own process (one Kivy window per process).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from pos_client.config import ClientSettings
from pos_client.store import LocalStore
from pos_client.store.customers import CustomersStore
from pos_client.ui.app import KasirApp
from pos_client.ui.screens.sale import SaleScreen
from shared.ids import new_id
from shared.models import SaleIn
from shared.models.customers import CustomerChangesOut, CustomerOut, LoyaltySettings
from tests.client.conftest import TEH, FakeClock
from tests.ui.window import harness as ui

if not (os.environ.get("DISPLAY") and shutil.which("xdotool")):
    pytest.skip(
        "needs an X display and xdotool (tests/ui/test_window.py gives Xvfb)",
        allow_module_level=True,
    )

from tests.ui.realinput.scenario_real_input import (
    click,
    scan,
    settle,
    take_the_window,
    type_slowly,
    wait,
    xdo,
)

SARI_ID = new_id()
RULE = LoyaltySettings(enabled=True, earn_points=1, earn_per_rupiah=5_000, point_value=100)


def pulled_customers(settings: ClientSettings) -> None:
    """A ``prepare``: the till has pulled Ibu Sari (30 points) and the points rule."""
    store = LocalStore.open(settings)
    try:
        CustomersStore(store).apply_changes(
            CustomerChangesOut(
                cursor=1,
                has_more=False,
                customers=[
                    CustomerOut(
                        id=SARI_ID,
                        name="Ibu Sari Wulandari",
                        phone="+6281234567890",
                        points=30,
                        created_at=datetime(2025, 1, 1, tzinfo=UTC),
                    )
                ],
                loyalty=RULE,
            )
        )
    finally:
        store.close()


@pytest.fixture(scope="module")
def app(
    tmp_path_factory: pytest.TempPathFactory,
    clock: FakeClock,
    server: ui.FakeServer,
    printer: ui.CapturePrinter,
) -> Iterator[KasirApp]:
    yield from ui.launch(
        tmp_path_factory, server=server, now=clock, printer=printer, prepare=pulled_customers
    )


def sale_screen(app: KasirApp) -> SaleScreen:
    screen: SaleScreen = app.screen("sale")
    return screen


def test_log_in_and_scan_two_teas(app: KasirApp) -> None:
    ui.log_in(app, "Ibu Cashier", "1111")
    ui.open_shift(app)
    assert app.current == "sale"
    take_the_window()
    sale = sale_screen(app)
    # The teas scanned as real X key bursts, as a keyboard-wedge scanner sends them.
    for n in (1, 2):
        scan(TEH)
        wait(lambda n=n: app.till.checkout.totals().total == n * 5_000, f"{n} tea(s)")
    assert sale.ids.customer_button.text == "Pelanggan"
    assert sale.ids.total.text == "Rp 10.000"


def test_attach_the_customer_by_phone_and_redeem_her_points(app: KasirApp) -> None:
    sale = sale_screen(app)
    click(sale.ids.customer_button)
    wait(lambda: sale.customer_popup() is not None, "the customer popup opens")
    settle(0.3)  # its opening animation
    popup = sale.customer_popup()
    assert popup is not None
    assert popup.ids.redeem.disabled, "nobody attached yet: nothing to redeem"
    click(popup.ids.phone)
    type_slowly("0812 3456 7890")
    assert popup.ids.phone.text == "0812 3456 7890"
    assert app.till.checkout.totals().total == 10_000, "typing a number rings nothing up"
    click(popup.ids.find)
    wait(lambda: popup.ids.found.text != "", "the customer is found")
    # Her name and points; the toggle offers all 30 (Rp 3.000 of a Rp 10.000 sale).
    assert popup.ids.found.text == "Ibu Sari Wulandari · 081234567890 · 30 poin"
    assert popup.ids.redeem.text == "Tukar 30 poin (−Rp3.000)"
    assert not popup.ids.redeem.disabled and popup.ids.redeem.state == "normal"
    assert app.till.checkout.cart.customer is not None
    assert app.till.checkout.cart.customer.id == SARI_ID
    click(popup.ids.redeem)
    wait(lambda: app.till.checkout.totals().points_discount == 3_000, "30 points redeemed")
    assert popup.ids.redeem.state == "down"
    assert popup.ids.message.text == ""
    assert ui.layout_problems() == []
    ui.shot("customer_popup_redeemed")
    click(popup.ids.done)
    wait(lambda: sale.customer_popup() is None, "the popup closes")
    assert sale.ids.customer_button.text == "Pelanggan: Ibu Sari…"
    assert sale.ids.discount.text == "-Rp 3.000"  # the points, with the other discounts
    assert sale.ids.total.text == "Rp 7.000"
    assert sale.ids.pay.text == "Bayar  Rp 7.000"
    assert ui.layout_problems() == []
    ui.shot("customer_sale_with_points")


def test_pay_cash_the_sale_carries_the_customer_and_the_points(
    app: KasirApp, server: ui.FakeServer, printer: ui.CapturePrinter
) -> None:
    ui.go_offline(app, server)  # the sale stays unsynced: its receipt knows the balance
    sale = sale_screen(app)
    click(sale.ids.pay)
    wait(lambda: app.current == "payment", "the payment screen")
    payment = app.screen("payment")
    assert payment.ids.due.text == "Rp 7.000"
    click(payment.quick_buttons()[0])
    click(payment.ids.pay_cash)
    wait(lambda: app.current == "receipt", "the receipt screen")
    # The sale as it goes to the server (the outbox: offline, it waits there).
    [payload] = app.till.store.conn.execute(
        "SELECT payload FROM outbox WHERE type = 'sale'"
    ).fetchone()
    recorded = SaleIn.model_validate_json(payload)
    assert recorded.id == app.till.store.recent_sales(1)[0].id
    assert recorded.customer is not None
    block = recorded.customer
    assert (block.id, block.phone, block.name) == (
        SARI_ID,
        "+6281234567890",
        "Ibu Sari Wulandari",
    )
    assert (block.points_redeemed, block.points_discount) == (30, 3_000)
    assert (recorded.order_discount, recorded.total) == (3_000, 7_000)
    # This till counts the 30 points as spent until the server's balance includes them.
    assert app.till.customers.available("+6281234567890") == 0
    # The receipt: her name, the points as their own discount line, earned and balance.
    screen = app.screen("receipt")
    text = screen.receipt_text
    assert "Pelanggan: Ibu Sari Wulandari" in text
    assert "Tukar poin (30)" in text and "-Rp 3.000" in text
    assert "Total diskon" not in text
    earned = [line for line in text.splitlines() if line.startswith("Poin didapat")]
    balance = [line for line in text.splitlines() if line.startswith("Saldo poin")]
    assert [line.split()[-1] for line in earned + balance] == ["+1", "1"]  # 7.000 / 5.000
    ui.settle()
    assert printer.jobs, "the receipt printed"
    assert b"Pelanggan: Ibu Sari Wulandari" in printer.jobs[-1]
    assert b"Tukar poin (30)" in printer.jobs[-1]
    assert ui.layout_problems() == []
    ui.shot("customer_receipt")


def test_a_new_number_is_registered_on_the_spot(app: KasirApp) -> None:
    click(app.screen("receipt").ids.new_sale)
    wait(lambda: app.current == "sale", "back on the sale screen")
    sale = sale_screen(app)
    assert sale.ids.customer_button.text == "Pelanggan", "a new sale has no customer"
    scan(TEH)
    wait(lambda: len(sale.rows()) == 1, "a tea in the cart")
    click(sale.ids.customer_button)
    wait(lambda: sale.customer_popup() is not None, "the customer popup opens")
    settle(0.3)
    popup = sale.customer_popup()
    assert popup is not None
    click(popup.ids.phone)
    type_slowly("12")
    click(popup.ids.find)
    wait(lambda: "tidak sah" in popup.ids.message.text, "a bad number is refused")
    click(popup.ids.phone)
    xdo("key", "--delay", "150", "ctrl+a", "BackSpace")
    assert popup.ids.phone.text == ""
    type_slowly("0857 1111 2222")
    click(popup.ids.find)
    wait(
        lambda: popup.ids.message.text != "" and "tidak sah" not in popup.ids.message.text,
        "nobody has that number (offline: the till's cache only)",
    )
    click(popup.ids.name)
    type_slowly("Budi")
    click(popup.ids.register)
    wait(lambda: popup.ids.found.text.startswith("Budi · 085711112222 · 0 poin"), "registered")
    assert popup.ids.redeem.disabled, "no points yet"
    assert ui.layout_problems() == []
    ui.shot("customer_registered")
    click(popup.ids.done)
    wait(lambda: sale.customer_popup() is None, "the popup closes")
    assert sale.ids.customer_button.text == "Pelanggan: Budi"
    assert len(sale.rows()) == 1 and app.till.checkout.totals().total == 5_000
