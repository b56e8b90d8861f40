"""QRIS payments on the server, against the local Tripay sandbox in-process (both databases).

The server's Tripay client talks to the sandbox through a TestClient (a real httpx
transport into the sandbox app); the sandbox delivers callbacks through a TestClient
into the server. Failure cases swap in an ``httpx.MockTransport``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy import select, update

from shared.models import PROTOCOL_HEADER, PROTOCOL_VERSION
from shared.models.payments import CreatePaymentIn
from sync_server.core.database import Database, utcnow
from sync_server.main import create_app
from sync_server.payments import orders, service
from sync_server.payments.models import PaymentCallback, PaymentOrder
from sync_server.payments.tripay import TripayClient, callback_signature
from sync_server.tripay_sandbox.app import SandboxState
from sync_server.tripay_sandbox.qris import crc_is_valid, parse_tlv
from tests.server.conftest import World, make_settings
from tests.server.tripay_helpers import running_sandbox

API_KEY = "DEV-server-test-key"
PRIVATE_KEY = "server-test-private-key"
MERCHANT = "T0007"
SANDBOX = "http://sandbox"


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def sandbox_app(sandbox_clock: list[float]) -> Iterator[FastAPI]:
    keys = (API_KEY, PRIVATE_KEY, MERCHANT)
    with running_sandbox(keys, sandbox_clock, retry_interval=0.01, attempts=1) as app:
        yield app


def tripay_client(http: httpx.Client) -> TripayClient:
    return TripayClient(
        http,
        base_url=f"{SANDBOX}/api-sandbox/",
        api_key=API_KEY,
        private_key=PRIVATE_KEY,
        merchant_code=MERCHANT,
    )


@pytest.fixture
def app(db_url: str, sandbox_app: FastAPI) -> Iterator[FastAPI]:
    """The server wired to the in-process sandbox, both ways."""
    settings = make_settings(
        db_url,
        tripay_base_url=f"{SANDBOX}/api-sandbox/",
        tripay_api_key=API_KEY,
        tripay_private_key=PRIVATE_KEY,
        tripay_merchant_code=MERCHANT,
        public_base_url="http://testserver",
    )
    application = create_app(settings)
    application.state.tripay_client = tripay_client(TestClient(sandbox_app, base_url=SANDBOX))
    sandbox_state(sandbox_app).http = TestClient(application)
    yield application
    application.state.db.dispose()


def sandbox_state(sandbox_app: FastAPI) -> SandboxState:
    state: SandboxState = sandbox_app.state.sandbox
    return state


def forward_to(sandbox_app: FastAPI) -> Callable[[httpx.Request], httpx.Response]:
    """A MockTransport handler that passes a request on to the sandbox."""
    sandbox = TestClient(sandbox_app, base_url=SANDBOX)

    def forward(request: httpx.Request) -> httpx.Response:
        answer = sandbox.request(
            request.method,
            str(request.url),
            content=request.content,
            headers={k: v for k, v in request.headers.items() if k.lower() != "content-length"},
        )
        return httpx.Response(
            answer.status_code,
            content=answer.content,
            headers={"content-type": answer.headers["content-type"]},
        )

    return forward


def use_transport(app: FastAPI, handler: Callable[[httpx.Request], httpx.Response]) -> None:
    app.state.tripay_client = tripay_client(httpx.Client(transport=httpx.MockTransport(handler)))


# -- helpers ----------------------------------------------------------------------------


def new_order(
    client: TestClient,
    world: World,
    order_id: str = "T01-ORDER-1",
    amount: int = 100000,
    terminal: int = 0,
    items: list[dict[str, Any]] | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {"order_id": order_id, "amount": amount}
    body["items"] = (
        items
        if items is not None
        else [{"sku": "899", "name": "Beras 5 kg", "price": amount, "quantity": 1}]
    )
    return client.post(
        "/api/v1/payment/create-transaction", json=body, headers=world.terminal_headers(terminal)
    )


def open_qr(
    client: TestClient, world: World, order_id: str = "T01-ORDER-1", terminal: int = 0
) -> httpx.Response:
    return client.post(
        "/api/v1/payment/create-payment",
        json={"order_id": order_id},
        headers=world.terminal_headers(terminal),
    )


def status_of(client: TestClient, world: World, order_id: str = "T01-ORDER-1") -> dict[str, Any]:
    answer = client.get(
        "/api/v1/payment/get-status-payment",
        params={"order_id": order_id},
        headers=world.terminal_headers(0),
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def order_row(db: Database, order_id: str = "T01-ORDER-1") -> dict[str, Any]:
    with db.session() as s:
        order = s.scalar(select(PaymentOrder).where(PaymentOrder.order_id == order_id))
        assert order is not None
        return {c.name: getattr(order, c.key) for c in PaymentOrder.__table__.columns}


def all_orders(db: Database) -> list[dict[str, Any]]:
    with db.session() as s:
        return [
            {c.name: getattr(o, c.key) for c in PaymentOrder.__table__.columns}
            for o in s.scalars(select(PaymentOrder).order_by(PaymentOrder.id))
        ]


def callback_log(db: Database) -> list[PaymentCallback]:
    with db.session() as s:
        rows = list(s.scalars(select(PaymentCallback).order_by(PaymentCallback.id)))
        s.expunge_all()
        return rows


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def callback_body(order: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    body = {
        "reference": order["reference"],
        "merchant_ref": order["order_id"],
        "payment_method": "QRIS by ShopeePay",
        "payment_method_code": "QRIS",
        "total_amount": order["amount"],
        "fee_merchant": 1450,
        "fee_customer": 0,
        "total_fee": 1450,
        "amount_received": order["amount"] - 1450,
        "is_closed_payment": 1,
        "status": "PAID",
        "paid_at": int(time.time()),
        "note": None,
    }
    body.update(overrides)
    return body


def post_callback(
    client: TestClient | httpx.Client,
    body: dict[str, Any] | bytes,
    *,
    key: str = PRIVATE_KEY,
    event: str | None = "payment_status",
    signature: str | None = None,
) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if event is not None:
        headers["X-Callback-Event"] = event
    headers["X-Callback-Signature"] = (
        signature if signature is not None else callback_signature(private_key=key, raw_body=raw)
    )
    return client.post("http://testserver/api/v1/payment/callback", content=raw, headers=headers)


@pytest.fixture
def opened(client: TestClient, world: World, db: Database) -> dict[str, Any]:
    """An order with its QR opened at the sandbox (UNPAID)."""
    assert new_order(client, world).status_code == 201
    answer = open_qr(client, world)
    assert answer.status_code == 200, answer.text
    return order_row(db)


# -- channels ---------------------------------------------------------------------------


def test_payment_channels_for_a_till(client: TestClient, world: World) -> None:
    answer = client.get("/api/v1/payment/get-payment-channel", headers=world.terminal_headers())
    assert answer.status_code == 200, answer.text
    channels = {c["code"]: c for c in answer.json()}
    assert channels["QRIS"]["fee_flat"] == 750
    assert channels["QRIS"]["fee_percent"] == "0.70"
    assert channels["QRIS"]["minimum_amount"] == 1000
    assert client.get("/api/v1/payment/get-payment-channel").status_code == 401
    manager = client.get(
        "/api/v1/payment/get-payment-channel",
        headers={**world.manager_headers(), PROTOCOL_HEADER: str(PROTOCOL_VERSION)},
    )
    assert manager.status_code == 403


# -- create-transaction -----------------------------------------------------------------


def test_create_transaction_is_idempotent_and_refuses_other_content(
    client: TestClient, world: World, db: Database
) -> None:
    first = new_order(client, world)
    assert first.status_code == 201, first.text
    order = first.json()
    assert order["order_id"] == "T01-ORDER-1"
    assert order["status"] == "UNPAID"
    assert order["final"] is False
    assert order["reference"] is None
    assert order["terminal_id"] == world.terminal_ids[0]
    again = new_order(client, world)
    assert again.status_code == 200
    assert again.json() == order
    other_amount = new_order(client, world, amount=100001)
    assert other_amount.status_code == 409
    assert other_amount.json()["error"]["code"] == "order_conflict"
    other_till = new_order(client, world, terminal=1)
    assert other_till.status_code == 409
    assert len(all_orders(db)) == 1


def test_create_transaction_without_an_order_id_makes_one(client: TestClient, world: World) -> None:
    answer = client.post(
        "/api/v1/payment/create-transaction",
        json={"amount": 5000},
        headers=world.terminal_headers(),
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["order_id"].startswith("T01-")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"order_id": "T01-X", "amount": 999}, 422, "amount_out_of_range"),
        ({"order_id": "T01-X", "amount": 5_000_001}, 422, "amount_out_of_range"),
        ({"order_id": "T01-X", "amount": 1500.5}, 422, "invalid"),
        ({"order_id": "has space", "amount": 5000}, 422, "invalid"),
    ],
)
def test_create_transaction_refuses_bad_input(
    client: TestClient, world: World, db: Database, body: dict[str, Any], status: int, code: str
) -> None:
    answer = client.post(
        "/api/v1/payment/create-transaction", json=body, headers=world.terminal_headers()
    )
    assert answer.status_code == status
    assert answer.json()["error"]["code"] == code
    assert all_orders(db) == []


def test_payment_routes_need_a_terminal_speaking_the_protocol(
    client: TestClient, world: World
) -> None:
    headers = {"Authorization": world.terminal_headers()["Authorization"]}
    answer = client.post(
        "/api/v1/payment/create-transaction", json={"amount": 5000}, headers=headers
    )
    assert answer.status_code == 426
    answer = client.post(
        "/api/v1/payment/create-transaction",
        json={"amount": 5000},
        headers={**world.cashier_headers(), PROTOCOL_HEADER: str(PROTOCOL_VERSION)},
    )
    assert answer.status_code == 403


# -- create-payment ---------------------------------------------------------------------


def test_create_payment_returns_a_qris_code_and_repeats_never_create_a_second(
    client: TestClient, world: World, db: Database, sandbox_app: FastAPI
) -> None:
    new_order(client, world)
    answer = open_qr(client, world)
    assert answer.status_code == 200, answer.text
    order = answer.json()
    assert order["reference"].startswith("DEV-T")
    assert order["status"] == "UNPAID"
    assert order["method"] == "QRIS"
    assert (order["fee_merchant"], order["fee_customer"], order["total_fee"]) == (1450, 0, 1450)
    assert order["amount_received"] == 98550
    assert crc_is_valid(order["qr_string"])
    assert dict(parse_tlv(order["qr_string"]))["54"] == "100000"
    assert order["qr_url"].endswith(order["reference"])
    expires_in = datetime.fromisoformat(order["expires_at"]) - utcnow()
    assert timedelta(minutes=14) < expires_in <= timedelta(minutes=15, seconds=1)

    again = open_qr(client, world)
    assert again.status_code == 200
    assert again.json() == order
    assert len(sandbox_state(sandbox_app).transactions) == 1
    # The sandbox's transaction is the one stored, with our callback URL.
    (tx,) = sandbox_state(sandbox_app).transactions.values()
    assert tx.data["reference"] == order["reference"]
    assert tx.data["merchant_ref"] == "T01-ORDER-1"
    assert tx.data["callback_url"] == "http://testserver/api/v1/payment/callback"


def test_create_payment_for_an_unknown_or_foreign_order_is_404(
    client: TestClient, world: World
) -> None:
    assert open_qr(client, world, "T01-NOPE").status_code == 404
    new_order(client, world)
    answer = open_qr(client, world, terminal=1)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "order_not_found"


def test_create_payment_expiry_must_fit_the_channel(client: TestClient, world: World) -> None:
    new_order(client, world)
    answer = client.post(
        "/api/v1/payment/create-payment",
        json={"order_id": "T01-ORDER-1", "method": "QRIS", "expires_in_minutes": 120},
        headers=world.terminal_headers(),
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "expiry_out_of_range"
    answer = client.post(
        "/api/v1/payment/create-payment",
        json={"order_id": "T01-ORDER-1", "method": "QRIS2", "expires_in_minutes": 120},
        headers=world.terminal_headers(),
    )
    assert answer.status_code == 200, answer.text


def test_concurrent_create_payment_calls_make_one_tripay_transaction(
    client: TestClient, world: World, db: Database, sandbox_app: FastAPI
) -> None:
    new_order(client, world)
    forward = forward_to(sandbox_app)
    creates = 0
    lock = threading.Lock()

    def slow(request: httpx.Request) -> httpx.Response:
        nonlocal creates
        if request.url.path.endswith("transaction/create"):
            with lock:
                creates += 1
            time.sleep(0.5)
        return forward(request)

    tripay = tripay_client(httpx.Client(transport=httpx.MockTransport(slow)))
    results: list[Any] = []

    def call() -> None:
        try:
            results.append(
                orders.create_payment(
                    db,
                    client=tripay,
                    terminal_id=world.terminal_ids[0],
                    data=CreatePaymentIn(order_id="T01-ORDER-1"),
                    callback_url="http://testserver/api/v1/payment/callback",
                )
            )
        except Exception as exc:  # surfaced by the assertion below
            results.append(exc)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert creates == 1
    assert len(results) == 4
    assert all(not isinstance(r, Exception) for r in results), results
    assert len({r.reference for r in results}) == 1
    assert len(sandbox_state(sandbox_app).transactions) == 1


# -- Tripay failing ---------------------------------------------------------------------


def _untouched(row: dict[str, Any]) -> dict[str, Any]:
    """The columns a failed create must leave as they were."""
    keys = ("status", "reference", "qr_string", "qr_url", "opened_at", "expires_at", "paid_at",
            "creating_token", "fee_merchant", "amount")  # fmt: skip
    return {k: row[k] for k in keys}


@pytest.mark.parametrize(
    ("failure", "status", "code", "words"),
    [
        ("http500", 502, "tripay_unavailable", "HTTP 500"),
        ("timeout", 504, "tripay_timeout", "did not answer in time"),
        ("refused", 502, "tripay_rejected", "Merchant is not active"),
    ],
)
def test_tripay_failing_gives_the_till_a_clear_error_and_leaves_the_order_retryable(
    app: FastAPI,
    client: TestClient,
    world: World,
    db: Database,
    sandbox_app: FastAPI,
    failure: str,
    status: int,
    code: str,
    words: str,
) -> None:
    new_order(client, world)
    before = _untouched(order_row(db))
    seen: list[str] = []

    def broken(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if failure == "timeout":
            raise httpx.ReadTimeout("slow", request=request)
        if failure == "http500":
            return httpx.Response(500, text="Internal Server Error")
        return httpx.Response(200, json={"success": False, "message": "Merchant is not active"})

    use_transport(app, broken)
    answer = open_qr(client, world)
    assert answer.status_code == status
    error = answer.json()["error"]
    assert error["code"] == code
    assert words in error["message"]
    assert error["details"]["retryable"] is True
    assert _untouched(order_row(db)) == before
    assert order_row(db)["reference"] is None

    # Tripay is back: the retry succeeds, and only a refusal skips the lookup.
    seen.clear()
    forward = forward_to(sandbox_app)

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return forward(request)

    use_transport(app, recording)
    retry = open_qr(client, world)
    assert retry.status_code == 200, retry.text
    assert retry.json()["reference"].startswith("DEV-T")
    looked_up = "/api-sandbox/merchant/transactions" in seen
    assert looked_up is (failure != "refused")
    assert len(sandbox_state(sandbox_app).transactions) == 1


def test_a_create_that_timed_out_after_tripay_made_it_is_adopted_not_repeated(
    app: FastAPI, client: TestClient, world: World, db: Database, sandbox_app: FastAPI
) -> None:
    new_order(client, world)
    forward = forward_to(sandbox_app)

    def lost_answer(request: httpx.Request) -> httpx.Response:
        forward(request)  # Tripay made it...
        raise httpx.ReadTimeout("answer lost", request=request)  # ...but we never heard

    use_transport(app, lost_answer)
    assert open_qr(client, world).status_code == 504
    assert order_row(db)["reference"] is None
    use_transport(app, forward)
    retry = open_qr(client, world)
    assert retry.status_code == 200, retry.text
    (tx,) = sandbox_state(sandbox_app).transactions.values()
    assert retry.json()["reference"] == tx.data["reference"]
    assert crc_is_valid(retry.json()["qr_string"])


def test_a_callback_that_arrives_before_the_create_answer_is_kept(
    app: FastAPI, client: TestClient, world: World, db: Database, sandbox_app: FastAPI
) -> None:
    new_order(client, world)
    forward = forward_to(sandbox_app)
    server = TestClient(app)
    early: list[httpx.Response] = []

    def callback_first(request: httpx.Request) -> httpx.Response:
        answer = forward(request)
        if request.url.path.endswith("transaction/create"):
            data = answer.json()["data"]
            order = {"reference": data["reference"], "order_id": data["merchant_ref"],
                     "amount": data["amount"]}  # fmt: skip
            early.append(post_callback(server, callback_body(order)))
        return answer

    use_transport(app, callback_first)
    answer = open_qr(client, world)
    assert answer.status_code == 200, answer.text
    assert early[0].status_code == 200
    assert early[0].json() == {"success": True}
    order = answer.json()
    assert order["status"] == "PAID"
    assert order["final"] is True
    assert order["paid_at"] is not None
    assert crc_is_valid(order["qr_string"])
    row = order_row(db)
    assert row["reference"] == order["reference"]
    assert row["status"] == "PAID"
    assert [c.outcome for c in callback_log(db)] == ["processed"]


# -- the callback -----------------------------------------------------------------------


def test_a_paid_callback_marks_the_order_paid_and_is_logged(
    client: TestClient, world: World, db: Database, opened: dict[str, Any]
) -> None:
    processed = metric("kasir_tripay_callbacks_total", outcome="processed")
    answer = post_callback(client, callback_body(opened, paid_at=1_800_000_000))
    assert answer.status_code == 200
    assert answer.json() == {"success": True}
    row = order_row(db)
    assert row["status"] == "PAID"
    assert int(row["paid_at"].timestamp()) == 1_800_000_000
    assert status_of(client, world)["status"] == "PAID"
    (logged,) = callback_log(db)
    assert (logged.outcome, logged.signature_ok, logged.reference) == (
        "processed",
        True,
        opened["reference"],
    )
    assert json.loads(logged.raw_body)["status"] == "PAID"
    assert metric("kasir_tripay_callbacks_total", outcome="processed") == processed + 1


def test_the_same_callback_twice_changes_nothing_the_second_time(
    client: TestClient, db: Database, opened: dict[str, Any]
) -> None:
    body = callback_body(opened)
    assert post_callback(client, body).json() == {"success": True}
    after_first = order_row(db)
    duplicates = metric("kasir_tripay_callbacks_total", outcome="duplicate")
    again = post_callback(client, body)
    assert again.status_code == 200
    assert again.json() == {"success": True}
    assert order_row(db) == after_first
    assert [c.outcome for c in callback_log(db)] == ["processed", "duplicate"]
    assert metric("kasir_tripay_callbacks_total", outcome="duplicate") == duplicates + 1


def _forged(opened: dict[str, Any]) -> dict[str, Any]:
    return {"body": callback_body(opened), "key": "not-the-private-key"}


REFUSALS: dict[str, tuple[Callable[[dict[str, Any]], dict[str, Any]], int, str]] = {
    "forged signature": (_forged, 401, "bad_signature"),
    "missing signature": (
        lambda o: {"body": callback_body(o), "signature": ""},
        401,
        "bad_signature",
    ),
    "wrong event header": (
        lambda o: {"body": callback_body(o), "event": "payment_expired"},
        400,
        "wrong_event",
    ),
    "no event header": (lambda o: {"body": callback_body(o), "event": None}, 400, "wrong_event"),
    "amount mismatch": (
        lambda o: {"body": callback_body(o, total_amount=o["amount"] - 1)},
        422,
        "amount_mismatch",
    ),
    "unknown reference": (
        lambda o: {"body": callback_body(o, reference="DEV-T999", merchant_ref="NOPE")},
        404,
        "unknown_order",
    ),
    "reference of another order": (
        lambda o: {"body": callback_body(o, merchant_ref="T01-OTHER")},
        409,
        "merchant_ref_mismatch",
    ),
    "known merchant_ref, other reference": (
        lambda o: {"body": callback_body(o, reference="DEV-T999")},
        409,
        "reference_mismatch",
    ),
    "unpaid is not a callback status": (
        lambda o: {"body": callback_body(o, status="UNPAID")},
        400,
        "bad_status",
    ),
    "signed garbage": (lambda o: {"body": b'{"reference": 1'}, 400, "malformed"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_bad_callback_changes_nothing_is_logged_and_counted(
    client: TestClient, world: World, db: Database, opened: dict[str, Any], case: str
) -> None:
    new_order(client, world, order_id="T01-OTHER")  # exists, never sent to Tripay
    build, status, reason = REFUSALS[case]
    before = all_orders(db)
    failures = metric("kasir_tripay_callback_failures_total", reason=reason)
    answer = post_callback(client, **build(opened))
    assert answer.status_code == status
    assert answer.json()["success"] is False
    assert answer.json()["message"]
    assert all_orders(db) == before
    (logged,) = callback_log(db)
    assert (logged.outcome, logged.reason) == ("rejected", reason)
    assert logged.order_id is None
    assert metric("kasir_tripay_callback_failures_total", reason=reason) == failures + 1


def test_a_callback_for_an_order_never_sent_to_tripay_is_unknown(
    client: TestClient, world: World, db: Database
) -> None:
    new_order(client, world)
    row = order_row(db)
    body = callback_body({"reference": "DEV-T123", "order_id": row["order_id"], "amount": 100000})
    answer = post_callback(client, body)
    assert answer.status_code == 404
    assert order_row(db) == row


def test_status_moves_only_along_the_allowed_paths(
    client: TestClient, db: Database, opened: dict[str, Any]
) -> None:
    assert post_callback(client, callback_body(opened, status="PAID")).json()["success"] is True
    refund = post_callback(client, callback_body(opened, status="REFUND"))
    assert refund.json() == {"success": True}
    assert order_row(db)["status"] == "REFUND"
    # A late PAID after the refund is old news: acknowledged, nothing changes.
    before = order_row(db)
    late = post_callback(client, callback_body(opened, status="PAID"))
    assert late.json() == {"success": True}
    assert order_row(db) == before
    expired = post_callback(client, callback_body(opened, status="EXPIRED"))
    assert expired.status_code == 409
    assert expired.json()["success"] is False
    assert order_row(db) == before


def test_expired_cannot_become_paid(
    client: TestClient, db: Database, opened: dict[str, Any]
) -> None:
    assert post_callback(client, callback_body(opened, status="EXPIRED")).json()["success"]
    before = order_row(db)
    failures = metric("kasir_tripay_callback_failures_total", reason="invalid_transition")
    answer = post_callback(client, callback_body(opened, status="PAID"))
    assert answer.status_code == 409
    assert order_row(db) == before
    assert metric("kasir_tripay_callback_failures_total", reason="invalid_transition") == (
        failures + 1
    )


# -- the whole loop in-process ----------------------------------------------------------


def test_simulated_payment_reaches_the_till_as_paid(
    client: TestClient, world: World, db: Database, sandbox_app: FastAPI
) -> None:
    new_order(client, world)
    reference = open_qr(client, world).json()["reference"]
    assert status_of(client, world)["status"] == "UNPAID"
    sandbox = TestClient(sandbox_app, base_url=SANDBOX)
    assert sandbox.post(f"/api-sandbox/simulator/{reference}/pay").json()["success"] is True
    sandbox_state(sandbox_app).wait_for_callbacks()
    order = status_of(client, world)
    assert order["status"] == "PAID"
    assert order["final"] is True
    attempts = sandbox_state(sandbox_app).transactions[reference].callbacks
    assert [a.success for a in attempts] == [True]


# -- settling without a callback --------------------------------------------------------


def _lose_callbacks(sandbox_app: FastAPI) -> None:
    sandbox_state(sandbox_app).http = httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(503))
    )


def test_status_asks_tripay_when_the_callback_is_overdue(
    client: TestClient, world: World, db: Database, sandbox_app: FastAPI, opened: dict[str, Any]
) -> None:
    _lose_callbacks(sandbox_app)
    sandbox_state(sandbox_app).simulate(opened["reference"], "pay")
    sandbox_state(sandbox_app).wait_for_callbacks()
    assert status_of(client, world)["status"] == "UNPAID"  # callback lost, not yet in doubt
    with db.session() as s:
        s.execute(
            update(PaymentOrder)
            .where(PaymentOrder.order_id == opened["order_id"])
            .values(opened_at=utcnow() - timedelta(minutes=2))
        )
    order = status_of(client, world)
    assert order["status"] == "PAID"
    assert order_row(db)["last_checked_at"] is not None


def test_settle_expired_orders_asks_tripay_for_the_detail(
    app: FastAPI, db: Database, sandbox_app: FastAPI, sandbox_clock: list[float],
    opened: dict[str, Any],
) -> None:  # fmt: skip
    _lose_callbacks(sandbox_app)
    tripay: TripayClient = app.state.tripay_client
    # Before expiry Tripay still says UNPAID: checked, unchanged.
    assert service.settle_expired_orders(db, tripay) == 0
    assert order_row(db)["status"] == "UNPAID"
    assert order_row(db)["last_checked_at"] is not None
    sandbox_clock[0] += 16 * 60
    later = utcnow() + timedelta(minutes=16)
    expired = REGISTRY.get_sample_value("kasir_payments_total", {"status": "EXPIRED"}) or 0.0
    assert service.settle_expired_orders(db, tripay, now=later) == 1
    assert order_row(db)["status"] == "EXPIRED"
    # A move learnt by asking Tripay counts in /metrics like one a callback brought.
    assert REGISTRY.get_sample_value("kasir_payments_total", {"status": "EXPIRED"}) == expired + 1
    assert service.settle_expired_orders(db, tripay, now=later + timedelta(minutes=1)) == 0


def test_settle_leaves_orders_alone_when_tripay_is_down(
    app: FastAPI, db: Database, opened: dict[str, Any]
) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down", request=request)

    use_transport(app, down)
    later = utcnow() + timedelta(minutes=16)
    assert service.settle_expired_orders(db, app.state.tripay_client, now=later) == 0
    assert order_row(db)["status"] == "UNPAID"


# -- manager view -----------------------------------------------------------------------


def test_managers_list_orders_with_their_status(
    client: TestClient, world: World, db: Database, opened: dict[str, Any]
) -> None:
    new_order(client, world, order_id="T01-ORDER-2", amount=5000)
    post_callback(client, callback_body(opened))
    answer = client.get("/api/v1/payment/orders", headers=world.manager_headers())
    assert answer.status_code == 200, answer.text
    listed = answer.json()
    assert [(o["order_id"], o["status"]) for o in listed["orders"]] == [
        ("T01-ORDER-2", "UNPAID"),
        ("T01-ORDER-1", "PAID"),
    ]
    assert listed["next_offset"] is None
    paid = client.get(
        "/api/v1/payment/orders", params={"status": "PAID", "limit": 1},
        headers=world.manager_headers(),
    ).json()  # fmt: skip
    assert [o["order_id"] for o in paid["orders"]] == ["T01-ORDER-1"]
    page = client.get(
        "/api/v1/payment/orders", params={"limit": 1}, headers=world.manager_headers()
    ).json()
    assert page["next_offset"] == 1
    assert client.get("/api/v1/payment/orders", headers=world.terminal_headers()).status_code == 403
    assert client.get("/api/v1/payment/orders", headers=world.cashier_headers()).status_code == 403


def test_openapi_documents_the_payment_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/payment/get-payment-channel",
        "/api/v1/payment/create-transaction",
        "/api/v1/payment/create-payment",
        "/api/v1/payment/get-status-payment",
        "/api/v1/payment/callback",
        "/api/v1/payment/orders",
    ):
        assert path in paths
        for operation in paths[path].values():
            assert operation["summary"]
    callback = paths["/api/v1/payment/callback"]["post"]
    assert callback["requestBody"]["content"]["application/json"]["example"]["status"] == "PAID"
