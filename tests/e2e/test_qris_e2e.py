"""QRIS end to end with real parts: till → server → Tripay sandbox → signed callback → till.

The server (SQLite) and the local Tripay sandbox each run under uvicorn on 127.0.0.1;
the server knows the sandbox's address and keys, and its ``public_base_url`` is its
own address so the sandbox's callback reaches it over HTTP. The till is enrolled,
downloads the catalog, rings up a cart, shows the QR, sees PAID by polling, records
the sale and pushes it; the server's data then shows the payment as QRIS with the
Tripay reference. The till fixtures (``till``, ``selling_till``) come from
``tests/e2e/conftest.py``; this module supplies a ``live_server`` wired to the sandbox.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from pos_client.services.qris import QrisCharge, QrisOffline, QrisService, QrisUnavailable
from pos_client.services.tender import QrisOutcome, TenderFlow
from pos_client.sync.payments_client import PaymentsClient
from shared.models import PaymentMethod
from sync_server.catalog.demo import demo_items
from sync_server.main import create_app
from sync_server.payments.models import PaymentCallback, PaymentOrder
from sync_server.sync.models import Sale, SalePayment
from sync_server.tripay_sandbox import create_sandbox_app
from sync_server.tripay_sandbox.cli import simulate
from sync_server.tripay_sandbox.qris import crc_is_valid
from tests.e2e.conftest import LiveServer, ThreadedServer, Till, free_port, serving_demo
from tests.server.conftest import make_settings

API_KEY = "DEV-till-e2e-api-key"
PRIVATE_KEY = "till-e2e-private-key"
MERCHANT = "T0042"
ITEMS = demo_items()


class Sandbox(ThreadedServer):
    """The Tripay sandbox app under uvicorn in a thread (it has no /health to wait on)."""

    health_path = None

    def __init__(self) -> None:
        app = create_sandbox_app(
            api_key=API_KEY,
            private_key=PRIVATE_KEY,
            merchant_code=MERCHANT,
            callback_retry_interval=0.2,
        )
        super().__init__(app, free_port())
        self.url = self.base_url


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """The local Tripay sandbox, retrying refused callbacks every 0.2 s."""
    box = Sandbox()
    box.start()
    try:
        yield box
    finally:
        box.stop()
        box.app.state.sandbox.close()


@pytest.fixture
def live_server(sandbox: Sandbox, tmp_path: Path) -> Iterator[LiveServer]:
    """The server on SQLite, talking to the sandbox, with the demo store seeded.

    Its port is chosen first: ``public_base_url`` (the callback address Tripay is
    given) must be the server's own address.
    """
    port = free_port()
    settings = make_settings(
        "",
        database_url=None,
        data_dir=tmp_path / "server",
        run_migrations_on_start=True,
        log_level="WARNING",
        tripay_base_url=f"{sandbox.url}/api-sandbox/",
        tripay_api_key=API_KEY,
        tripay_private_key=PRIVATE_KEY,
        tripay_merchant_code=MERCHANT,
        public_base_url=f"http://127.0.0.1:{port}",
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with serving_demo(create_app(settings), port) as server:
        yield server


def qris_for(till: Till, sleep: Callable[[float], None] | None = None) -> QrisService:
    """The till's QRIS service, as the app wires it: over the till's own HTTP client."""
    client = PaymentsClient(till.http(), base_url=till.server.base_url, token=till.token)
    terminal_code = till.store.terminal_identity().terminal_code or "T01"
    return QrisService(client, terminal_code=terminal_code, sleep=sleep, rng=lambda: 0.0)


def start(flow: TenderFlow, typed: int = 0) -> QrisCharge:
    """Put a QR on screen for ``typed`` rupiah (or all that remains)."""
    shown = flow.start_qris(typed)
    assert shown is not None
    return shown.charge


def ring_up(till: Till) -> int:
    """Three demo products; the cart's total."""
    for item in ITEMS[:3]:
        till.checkout.scan(item.barcode)
    line = till.checkout.cart.lines[0]
    till.checkout.change_quantity(line.id, 2)
    return till.checkout.totals().total


def test_a_cart_paid_by_qris_is_sold_synced_and_recorded_as_qris(
    synced_till: Till, sandbox: Sandbox
) -> None:
    till, server = synced_till, synced_till.server  # the shift reached the server
    slept: list[float] = []

    def customer_pays_during_the_first_pause(seconds: float) -> None:
        if not slept:
            assert charge.reference is not None
            simulate(charge.reference, "pay", url=sandbox.url)
        slept.append(seconds)
        time.sleep(seconds)

    qris = qris_for(till, sleep=customer_pays_during_the_first_pause)
    assert qris.available()
    total = ring_up(till)
    flow = TenderFlow(till.checkout, qris)

    charge = start(flow)

    assert charge.amount == total
    assert charge.reference is not None and charge.reference.startswith("DEV-T")
    assert crc_is_valid(charge.qr_string)  # an EMVCo payload the QR can carry
    assert till.store.pending_count() == 0  # nothing written while the customer pays

    # The customer pays while the till is polling: the first poll saw UNPAID, a later
    # one on the backoff schedule (1 s, 2 s, ...) sees PAID.
    final = qris.wait(charge.order_id, timeout=20)

    assert final.status == "PAID" and final.paid_at is not None
    assert slept and slept == [1.0, 2.0, 4.0, 5.0, 5.0][: len(slept)]
    assert flow.on_status(charge.order_id, final.status) is QrisOutcome.PAID
    result = flow.pay()
    [payment] = result.sale.payments
    assert (payment.method, payment.amount) == (PaymentMethod.QRIS, total)
    assert till.checkout.cart.is_empty

    report = till.worker.run_once()

    assert report.online is True and report.pushed == 1 and report.pending == 0
    assert server.count(Sale, id=result.sale.id) == 1
    with server.db.session() as session:
        rows = list(
            session.scalars(select(SalePayment).where(SalePayment.sale_id == result.sale.id))
        )
        order = session.scalar(select(PaymentOrder).where(PaymentOrder.order_id == charge.order_id))
        callbacks = list(session.scalars(select(PaymentCallback)))
    assert [(r.method, r.amount, r.reference, r.order_id) for r in rows] == [
        ("qris", total, charge.reference, charge.order_id)
    ]
    assert order is not None
    assert (order.status, order.reference, order.amount) == ("PAID", charge.reference, total)
    assert [(c.outcome, c.signature_ok) for c in callbacks] == [("processed", True)]


def test_split_qris_and_cash_and_refusals_when_tripay_or_the_server_is_gone(
    selling_till: Till, sandbox: Sandbox
) -> None:
    till, server = selling_till, selling_till.server
    qris = qris_for(till)
    total = ring_up(till)
    pending = till.store.pending_count()
    flow = TenderFlow(till.checkout, qris)

    # Tripay unreachable: the server answers 502 and the till records nothing.
    sandbox.stop()
    with pytest.raises(QrisUnavailable) as tripay_down:
        flow.start_qris(5_000)
    assert "tunai" in tripay_down.value.text("id")
    assert till.store.pending_count() == pending and len(till.checkout.cart.lines) == 3

    # Tripay back: part QRIS, the rest cash.
    sandbox.start()
    charge = start(flow, 5_000)
    assert charge.reference is not None
    simulate(charge.reference, "pay", url=sandbox.url)
    assert (
        flow.on_status(charge.order_id, qris.wait(charge.order_id, timeout=20).status)
        is QrisOutcome.PAID
    )
    split = flow.pay(total - 5_000 + 1_000)
    assert split.change == 1_000
    assert {p.method: p.amount for p in split.sale.payments} == {
        PaymentMethod.QRIS: 5_000,
        PaymentMethod.CASH: total - 5_000,
    }

    # The server gone: QRIS is refused in plain words, cash still sells.
    server.stop()
    ring_up(till)
    with pytest.raises(QrisOffline) as offline:
        TenderFlow(till.checkout, qris).start_qris()
    assert "offline" in offline.value.text("id") and "offline" in offline.value.text("en")
    cash = till.checkout.checkout_cash(till.checkout.totals().total)

    server.start()
    report = till.worker.run_once()
    assert report.online is True and report.pending == 0
    with server.db.session() as session:
        methods = sorted(
            (r.method, r.amount)
            for r in session.scalars(
                select(SalePayment).where(SalePayment.sale_id.in_([split.sale.id, cash.sale.id]))
            )
        )
    assert methods == sorted([("qris", 5_000), ("cash", total - 5_000), ("cash", cash.sale.total)])
