"""QRIS at the till against a server spoken through ``httpx.MockTransport``.

The fake answers the payment routes the way ``sync_server.payments.router`` does
(same wire schemas); each test scripts what the server says and checks what a
cashier would notice: the QR, the sale and its payments, the sentence shown, and
that a failure leaves the cart and the local database as they were.
"""

from __future__ import annotations

import io
import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from PIL import Image
from pyzbar import pyzbar

from pos_client.domain import PaymentError
from pos_client.services.qris import (
    FINAL_STATUSES,
    QrisCharge,
    QrisError,
    QrisGateway,
    QrisOffline,
    QrisService,
    QrisUnavailable,
    poll_delay,
    poll_delays,
    qr_png,
)
from pos_client.services.tender import QrisOutcome, QrisStep, TenderFlow
from pos_client.sync.payments_client import PaymentsClient
from shared.models import OrderItemIn, PaymentMethod, PaymentOrderOut
from tests.client.conftest import BERAS, INDOMIE, TEH, Till

BASE = "http://server.test"
QR = "00020101021226590016ID.CO.QRIS.WWW0215ID10243214321430303UMI51440014ID.CO.QRIS.WWW6304ABCD"
Handler = Callable[[httpx.Request], httpx.Response]


def error(status: int, code: str, message: str, **details: Any) -> httpx.Response:
    """The server's one error shape."""
    body = {"error": {"code": code, "message": message, "details": details or None}}
    return httpx.Response(status, json=body)


@dataclass
class FakeServer:
    """The payment routes of the sync server, in memory.

    ``statuses`` is what successive polls of an order answer (the last one repeats);
    ``fail`` maps a route's last path part to an answer (or exception) it gives instead.
    """

    statuses: list[str] = field(default_factory=lambda: ["UNPAID", "PAID"])
    fail: dict[str, httpx.Response | Exception] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    polls: dict[str, int] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def order(self, order_id: str, **changes: Any) -> dict[str, Any]:
        stored = self.orders[order_id]
        stored.update(changes)
        stored["final"] = stored["status"] in {"PAID", "EXPIRED", "FAILED", "REFUND"}
        return stored

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = request.url.path.rsplit("/", 1)[-1]
        failure = self.fail.get(route)
        if isinstance(failure, Exception):
            raise failure
        if failure is not None:
            return failure
        assert request.headers["Authorization"] == "Bearer tok-test"
        assert request.headers["X-Kasir-Protocol"] == "1"
        if route == "get-payment-channel":
            return httpx.Response(200, json=[CHANNEL])
        if route == "create-transaction":
            body = json.loads(request.content)
            now = "2025-06-15T03:00:00Z"
            self.orders[body["order_id"]] = {
                "order_id": body["order_id"], "status": "UNPAID", "final": False,
                "amount": body["amount"], "items": body.get("items", []), "store_id": 7,
                "terminal_id": 1, "method": None, "reference": None, "qr_string": None,
                "qr_url": None, "checkout_url": None, "fee_merchant": None,
                "fee_customer": None, "total_fee": None, "amount_received": None,
                "expires_at": None, "paid_at": None, "created_at": now, "updated_at": now,
            }  # fmt: skip
            return httpx.Response(201, json=self.orders[body["order_id"]])
        if route == "create-payment":
            body = json.loads(request.content)
            order = self.order(
                body["order_id"],
                method=body["method"],
                reference=f"DEV-T{len(self.orders):05d}",
                qr_string=QR,
                qr_url=f"{BASE}/qr/{len(self.orders)}",
                expires_at="2025-06-15T03:15:00Z",
            )
            return httpx.Response(200, json=order)
        if route == "get-status-payment":
            order_id = request.url.params["order_id"]
            if order_id not in self.orders:
                return error(404, "order_not_found", f"There is no payment order {order_id}.")
            n = self.polls.get(order_id, 0)
            self.polls[order_id] = n + 1
            status = self.statuses[min(n, len(self.statuses) - 1)]
            paid_at = "2025-06-15T03:01:00Z" if status == "PAID" else None
            return httpx.Response(200, json=self.order(order_id, status=status, paid_at=paid_at))
        return httpx.Response(404)

    def routes(self) -> list[str]:
        return [r.url.path.rsplit("/", 1)[-1] for r in self.requests]


CHANNEL = {
    "code": "QRIS", "name": "QRIS by ShopeePay", "group": "E-Wallet", "active": True,
    "minimum_amount": 1000, "maximum_amount": 5000000, "fee_flat": 750,
    "fee_percent": "0.70", "icon_url": None,
}  # fmt: skip


@dataclass
class Timing:
    """Injected time: sleeps are recorded and move the monotonic clock."""

    slept: list[float] = field(default_factory=list)
    moment: float = 1000.0

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.moment += seconds

    def monotonic(self) -> float:
        return self.moment


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def timing() -> Timing:
    return Timing()


def make_service(till: Till, handler: Handler, timing: Timing) -> QrisService:
    client = PaymentsClient(
        httpx.Client(transport=httpx.MockTransport(handler)), base_url=BASE, token="tok-test"
    )
    return QrisService(
        client,
        terminal_code="T01",
        sleep=timing.sleep,
        rng=lambda: 0.0,
        monotonic=timing.monotonic,
        now=till.clock,
    )


@pytest.fixture
def qris(till: Till, server: FakeServer, timing: Timing) -> QrisService:
    return make_service(till, server, timing)


def flow_for(till: Till, qris: QrisGateway) -> TenderFlow:
    """The payment of the till's cart as it is now, with ``qris`` as its port."""
    return TenderFlow(till.checkout, qris, now=till.clock)


def start(flow: TenderFlow, typed: int = 0) -> QrisCharge:
    """Put a QR on screen for ``typed`` rupiah (or all that remains)."""
    shown = flow.start_qris(typed)
    assert shown is not None
    return shown.charge


def settle(flow: TenderFlow, qris: QrisService, charge: QrisCharge) -> QrisOutcome | None:
    """Wait for the charge as the service does and hand the final status to the flow."""
    return flow.on_status(charge.order_id, qris.wait(charge.order_id).status)


def sales_count(till: Till) -> int:
    return int(till.store.conn.execute("SELECT COUNT(*) FROM sales").fetchone()[0])


def ring_up(till: Till) -> int:
    """Indomie ×2 and a Teh Botol: Rp12.000, PPN included."""
    line = till.checkout.scan(INDOMIE)
    till.checkout.change_quantity(line.id, 2)
    till.checkout.scan(TEH)
    total = till.checkout.totals().total
    assert total == 12_000
    return total


# -- the happy path ---------------------------------------------------------------------


def test_a_cart_paid_by_qris_becomes_a_sale_with_the_tripay_reference(
    till: Till, qris: QrisService, server: FakeServer, timing: Timing
) -> None:
    total = ring_up(till)
    pending_before = till.store.pending_count()
    flow = flow_for(till, qris)

    charge = start(flow)

    assert charge.amount == total
    assert charge.qr_string == QR
    assert charge.qr_url is not None and charge.reference == "DEV-T00001"
    assert charge.expires_at == datetime(2025, 6, 15, 3, 15, tzinfo=UTC)
    assert charge.order_id.startswith("T01-") and len(charge.order_id) == 4 + 32
    sent = json.loads(server.requests[0].content)
    assert sent == {
        "order_id": charge.order_id,
        "amount": 12_000,
        "items": [
            {"sku": "IDM-001", "name": "Indomie Goreng 85g", "price": 3500, "quantity": 2},
            {"sku": "TEH-001", "name": "Teh Botol Sosro 450ml", "price": 5000, "quantity": 1},
        ],
    }
    assert json.loads(server.requests[1].content) == {
        "order_id": charge.order_id, "method": "QRIS", "expires_in_minutes": 15,
    }  # fmt: skip
    # Nothing is written on the till while the customer pays.
    assert sales_count(till) == 0 and till.store.pending_count() == pending_before

    final = qris.wait(charge.order_id)

    assert final.status == "PAID" and final.final
    assert server.polls[charge.order_id] == 2
    assert timing.slept == [1.0]
    assert flow.on_status(charge.order_id, final.status) is QrisOutcome.PAID
    assert flow.remaining == 0

    result = flow.pay()

    [payment] = result.sale.payments
    assert payment.method is PaymentMethod.QRIS
    assert (payment.amount, payment.reference, payment.order_id) == (
        12_000,
        "DEV-T00001",
        charge.order_id,
    )
    assert result.change == 0
    assert till.checkout.cart.is_empty
    assert sales_count(till) == 1 and till.store.pending_count() == pending_before + 1
    assert till.store.sale(result.sale.id) == result.sale
    # The same QRIS payment cannot pay a second sale.
    ring_up(till)
    with pytest.raises(QrisError) as used:
        flow.pay()
    assert "sudah dipakai" in used.value.text("id")
    assert sales_count(till) == 1


def test_split_tender_qris_part_and_cash_for_the_rest(
    till: Till, qris: QrisService, server: FakeServer
) -> None:
    till.checkout.scan(BERAS)  # 72.500 + PPN 7.975 on top
    total = till.checkout.totals().total
    assert total == 80_475

    flow = flow_for(till, qris)
    charge = start(flow, 50_000)
    assert json.loads(server.requests[0].content)["amount"] == 50_000
    assert settle(flow, qris, charge) is QrisOutcome.PAID
    assert flow.remaining == 30_475 and flow.change(31_000) == 525
    result = flow.pay(31_000)

    methods = {p.method: p for p in result.sale.payments}
    assert methods[PaymentMethod.QRIS].amount == 50_000
    assert methods[PaymentMethod.QRIS].reference == charge.reference
    assert methods[PaymentMethod.CASH].amount == 30_475
    assert methods[PaymentMethod.CASH].tendered == 31_000
    assert result.change == 525
    assert sum(p.amount for p in result.sale.payments) == result.sale.total == total


def test_split_tender_with_too_little_cash_writes_nothing(till: Till, qris: QrisService) -> None:
    till.checkout.scan(BERAS)
    flow = flow_for(till, qris)
    settle(flow, qris, start(flow, 50_000))
    with pytest.raises(PaymentError, match="more is needed"):
        flow.pay(20_000)
    assert sales_count(till) == 0 and len(till.checkout.cart.lines) == 1
    # The QRIS part is still good for the sale once the cash is right.
    result = flow.pay(30_475)
    assert result.change == 0 and sales_count(till) == 1


# -- payments that do not complete ------------------------------------------------------


@pytest.mark.parametrize("outcome", ["EXPIRED", "FAILED"])
def test_an_expired_or_failed_qris_records_nothing_and_keeps_the_cart(
    till: Till, qris: QrisService, server: FakeServer, outcome: str
) -> None:
    server.statuses = ["UNPAID", "UNPAID", outcome]
    ring_up(till)
    pending_before = till.store.pending_count()
    flow = flow_for(till, qris)
    charge = start(flow)

    final = qris.wait(charge.order_id)

    assert final.status == outcome and final.final
    assert flow.on_status(charge.order_id, final.status) is QrisOutcome(outcome.lower())
    assert flow.paid == [] and flow.shown is None and flow.remaining == 12_000
    with pytest.raises(PaymentError) as refused:
        flow.pay()
    assert refused.value.text("id") == "Uang masih kurang Rp12.000."
    assert sales_count(till) == 0 and till.store.pending_count() == pending_before
    assert len(till.checkout.cart.lines) == 2
    # Cash still takes the same cart.
    assert till.checkout.checkout_cash(20_000).change == 8_000


def test_server_unreachable_refuses_qris_in_plain_words_and_cash_still_works(
    till: Till, server: FakeServer, timing: Timing
) -> None:
    for route in ("get-payment-channel", "create-transaction", "create-payment"):
        server.fail[route] = httpx.ConnectError("connection refused")
    qris = make_service(till, server, timing)
    ring_up(till)
    pending_before = till.store.pending_count()
    flow = flow_for(till, qris)

    with pytest.raises(QrisOffline) as refused:
        flow.start_qris()
    assert flow.step is QrisStep.IDLE and flow.can_start_qris()

    assert refused.value.text("id") == (
        "QRIS perlu koneksi ke server, dan kasir sedang offline. Terima pembayaran tunai."
    )
    assert refused.value.text("en") == (
        "QRIS needs the server, and the till is offline. Take cash instead."
    )
    assert "ConnectError" in (refused.value.detail or "")
    assert qris.available() is False
    assert sales_count(till) == 0 and till.store.pending_count() == pending_before
    result = till.checkout.checkout_cash(12_000)
    assert [p.method for p in result.sale.payments] == [PaymentMethod.CASH]


def test_a_server_without_our_error_shape_counts_as_offline(
    till: Till, server: FakeServer, timing: Timing
) -> None:
    # A reverse proxy's 502 page: the server is not usable, Tripay is not the reason.
    server.fail["create-payment"] = httpx.Response(502, text="<html>Bad Gateway</html>")
    with pytest.raises(QrisOffline):
        make_service(till, server, timing).start(5_000)


@pytest.mark.parametrize(
    ("status", "code", "retryable", "words_id", "words_en"),
    [
        (502, "tripay_unavailable", True, "sedang bermasalah", "has a problem"),
        (504, "tripay_timeout", True, "tidak menjawab", "did not answer"),
        (502, "tripay_rejected", False, "menolak", "refused"),
    ],
)
def test_tripay_failing_gives_a_clear_message_and_nothing_half_written(
    till: Till,
    server: FakeServer,
    timing: Timing,
    status: int,
    code: str,
    retryable: bool,
    words_id: str,
    words_en: str,
) -> None:
    server.fail["create-payment"] = error(
        status,
        code,
        "Tripay has a problem (HTTP 500), so QRIS is not available right now.",
        tripay_message="Internal error",
        retryable=retryable,
    )
    qris = make_service(till, server, timing)
    ring_up(till)
    cart_before = till.checkout.cart.to_dict()
    pending_before = till.store.pending_count()

    with pytest.raises(QrisUnavailable) as refused:
        flow_for(till, qris).start_qris()

    assert words_id in refused.value.text("id") and "tunai" in refused.value.text("id")
    assert words_en in refused.value.text("en")
    assert refused.value.code == code
    assert refused.value.retryable is retryable
    assert "Internal error" in (refused.value.detail or "")
    assert server.routes() == ["create-transaction", "create-payment"]
    assert till.checkout.cart.to_dict() == cart_before
    assert sales_count(till) == 0
    assert till.store.pending_count() == pending_before
    assert till.checkout.checkout_cash(12_000).sale.total == 12_000


def test_an_amount_qris_does_not_take_is_refused_with_the_limits(
    till: Till, server: FakeServer, timing: Timing
) -> None:
    server.fail["create-transaction"] = error(
        422, "amount_out_of_range", "QRIS takes 1,000 to 5,000,000 rupiah.",
        minimum=1000, maximum=5_000_000,
    )  # fmt: skip
    with pytest.raises(QrisError) as refused:
        make_service(till, server, timing).start(500)
    assert refused.value.text("id").startswith("QRIS hanya untuk Rp 1.000 sampai Rp 5.000.000")
    with pytest.raises(QrisError) as zero:
        make_service(till, server, timing).start(0)
    assert "lebih dari Rp0" in zero.value.text("id")


def test_create_payment_in_progress_is_retried(
    till: Till, server: FakeServer, timing: Timing
) -> None:
    busy = error(409, "payment_in_progress", "still being made", retryable=True)
    answers = iter([busy, busy])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("create-payment"):
            answer = next(answers, None)
            if answer is not None:
                return answer
        return server(request)

    charge = make_service(till, handler, timing).start(5_000)
    assert charge.qr_string == QR
    assert timing.slept == [1.0, 2.0]


# -- polling ----------------------------------------------------------------------------


def test_poll_delays_grow_1_2_4_then_cap_at_5_seconds_with_jitter() -> None:
    first = poll_delays(rng=lambda: 0.0)
    assert [next(first) for _ in range(6)] == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    assert [poll_delay(n, rng=lambda: 0.5) for n in range(4)] == pytest.approx([0.9, 1.8, 3.6, 4.5])
    # Jitter only shortens: never above the cap, never below 80 % of the step.
    for n in range(50):
        for r in (0.0, 0.3, 0.999):
            delay = poll_delay(n, rng=itertools.repeat(r).__next__)
            assert 0.8 * min(5.0, 2.0**n) <= delay <= 5.0


def test_wait_polls_on_the_backoff_schedule_until_final(
    till: Till, server: FakeServer, timing: Timing
) -> None:
    server.statuses = ["UNPAID"] * 6 + ["PAID"]
    rolls = iter([0.0, 0.5, 0.0, 0.5, 0.0, 0.5])
    qris = QrisService(
        PaymentsClient(
            httpx.Client(transport=httpx.MockTransport(server)), base_url=BASE, token="tok-test"
        ),
        terminal_code="T01",
        sleep=timing.sleep,
        rng=lambda: next(rolls),
        monotonic=timing.monotonic,
        now=till.clock,
    )
    charge = qris.start(5_000)

    assert qris.wait(charge.order_id).status == "PAID"

    assert timing.slept == pytest.approx([1.0, 1.8, 4.0, 4.5, 5.0, 4.5])
    assert server.polls[charge.order_id] == 7


def test_wait_gives_up_a_little_after_expiry_and_reports_unpaid(
    till: Till, server: FakeServer, timing: Timing
) -> None:
    server.statuses = ["UNPAID"]
    qris = make_service(till, server, timing)
    charge = qris.start(5_000)
    till.clock.advance(minutes=15)  # at expiry; 90 s of grace remain

    last = qris.wait(charge.order_id)

    assert last.status == "UNPAID" and not last.final
    assert sum(timing.slept) <= 90
    assert sum(timing.slept) > 80


def test_wait_rides_out_a_dropped_connection(
    till: Till, server: FakeServer, timing: Timing
) -> None:
    drops = iter([True, True, False])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("get-status-payment") and next(drops, False):
            raise httpx.ReadTimeout("timed out")
        return server(request)

    qris = make_service(till, handler, timing)
    charge = qris.start(5_000)
    server.statuses = ["PAID"]
    assert qris.wait(charge.order_id).status == "PAID"
    assert timing.slept == [1.0, 2.0]


def test_wait_raises_when_the_server_never_answers(
    till: Till, server: FakeServer, timing: Timing
) -> None:
    qris = make_service(till, server, timing)
    charge = qris.start(5_000)
    server.fail["get-status-payment"] = httpx.ConnectError("refused")
    with pytest.raises(QrisOffline):
        qris.wait(charge.order_id, timeout=10)
    assert sum(timing.slept) <= 10


def test_cancel_during_a_wait_stops_the_polling(
    till: Till, server: FakeServer, timing: Timing
) -> None:
    server.statuses = ["UNPAID"]
    orders: list[str] = []

    def sleep_then_cancel(seconds: float) -> None:
        timing.sleep(seconds)
        service.cancel(orders[0])  # the cashier presses cancel during the first pause

    service = QrisService(
        PaymentsClient(
            httpx.Client(transport=httpx.MockTransport(server)), base_url=BASE, token="tok-test"
        ),
        terminal_code="T01",
        sleep=sleep_then_cancel,
        rng=lambda: 0.0,
        monotonic=timing.monotonic,
        now=till.clock,
    )
    charge = service.start(5_000)
    orders.append(charge.order_id)

    last = service.wait(charge.order_id)

    assert last.status == "UNPAID" and service.cancelled(charge.order_id)
    assert timing.slept == [1.0] and server.polls[charge.order_id] == 1


def test_cancel_interrupts_a_wait_in_another_thread(till: Till, server: FakeServer) -> None:
    server.statuses = ["UNPAID"]
    polled = threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        answer = server(request)
        if request.url.path.endswith("get-status-payment"):
            polled.set()
        return answer

    qris = QrisService(
        PaymentsClient(
            httpx.Client(transport=httpx.MockTransport(handler)), base_url=BASE, token="tok-test"
        ),
        terminal_code="T01",
        now=till.clock,
    )  # the real sleep: a wait that cancel interrupts
    ring_up(till)
    flow = flow_for(till, qris)
    charge = start(flow)
    answer: list[PaymentOrderOut] = []
    waiter = threading.Thread(target=lambda: answer.append(qris.wait(charge.order_id)))
    waiter.start()
    assert polled.wait(5)

    assert flow.cancel_qris() == charge.order_id
    flow.release(charge.order_id)
    waiter.join(5)

    assert not waiter.is_alive()
    assert answer[0].status == "UNPAID"
    assert qris.cancelled(charge.order_id)
    assert server.polls[charge.order_id] == 1  # no poll after the cancel
    # A late answer for the cancelled QR changes nothing; the sale still needs paying.
    assert flow.on_status(charge.order_id, "PAID") is None
    with pytest.raises(PaymentError):
        flow.pay()
    assert sales_count(till) == 0 and len(till.checkout.cart.lines) == 2
    # Cancelling sends nothing: the order simply expires on the server.
    assert set(server.routes()) == {"create-transaction", "create-payment", "get-status-payment"}


# -- drawing and the screen's port ------------------------------------------------------


def test_the_qr_png_decodes_back_to_the_qr_string() -> None:
    png = qr_png(QR)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png)).convert("L")
    [decoded] = pyzbar.decode(image)
    assert decoded.type == "QRCODE"
    assert decoded.data.decode() == QR


def test_the_service_is_the_payment_screens_gateway(
    till: Till, server: FakeServer, timing: Timing
) -> None:
    gateway: QrisGateway = make_service(till, server, timing)
    started = gateway.start(7_000, [OrderItemIn(name="Indomie", price=3500, quantity=2)])
    assert started.qr_string == QR and started.reference == "DEV-T00001"
    assert started.expires_at - till.clock() == timedelta(minutes=15)
    assert [gateway.poll(started.order_id), gateway.poll(started.order_id)] == ["UNPAID", "PAID"]
    gateway.cancel(started.order_id)

    server.statuses = ["REFUND"]
    refunded = gateway.start(7_000, [])
    assert gateway.poll(refunded.order_id) in FINAL_STATUSES


def test_refusals_reach_the_screen_as_codes_in_either_language(
    till: Till, server: FakeServer, timing: Timing
) -> None:
    server.fail["create-transaction"] = httpx.ConnectError("refused")
    gateway = make_service(till, server, timing)
    with pytest.raises(QrisError) as offline:
        gateway.start(5_000, [])
    assert "kasir sedang offline" in offline.value.text("id")
    assert "the till is offline" in offline.value.text("en")
    with pytest.raises(QrisError) as unknown:
        gateway.poll("T01-unknown")
    assert "Server menolak" in unknown.value.text("id")


def test_available_when_the_server_offers_an_active_qris_channel(
    till: Till, server: FakeServer, timing: Timing
) -> None:
    assert make_service(till, server, timing).available() is True
    server.fail["get-payment-channel"] = error(502, "tripay_unavailable", "down", retryable=True)
    assert make_service(till, server, timing).available() is False
