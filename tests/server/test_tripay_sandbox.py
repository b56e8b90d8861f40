"""The local Tripay sandbox speaks Tripay's protocol: keys, signatures, ranges, QRIS, callbacks."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from sync_server.payments.tripay import OrderItem, TripayClient, TripayError, create_signature
from sync_server.tripay_sandbox.app import SandboxState, merchant_fee
from sync_server.tripay_sandbox.cli import build_parser, main, simulate
from sync_server.tripay_sandbox.qris import crc16_ccitt_false, crc_is_valid, parse_tlv, with_crc
from tests.server.tripay_helpers import running_sandbox

API_KEY = "DEV-sandbox-test-key"
PRIVATE_KEY = "sandbox-test-private"
MERCHANT = "T0042"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


class CallbackCatcher:
    """A merchant endpoint (as an httpx transport) that records callbacks."""

    def __init__(self, answers: list[dict[str, Any]] | None = None) -> None:
        self.received: list[httpx.Request] = []
        self.answers = answers or []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.received.append(request)
            index = len(self.received) - 1
        answer = self.answers[index] if index < len(self.answers) else {"success": True}
        return httpx.Response(200, json=answer)


@pytest.fixture
def catcher() -> CallbackCatcher:
    return CallbackCatcher()


@pytest.fixture
def sandbox(catcher: CallbackCatcher, sandbox_clock: list[float]) -> Iterator[TestClient]:
    with (
        running_sandbox(
            (API_KEY, PRIVATE_KEY, MERCHANT),
            sandbox_clock,
            retry_interval=0.01,
            attempts=3,
            callback_client=httpx.Client(transport=httpx.MockTransport(catcher)),
        ) as app,
        TestClient(app) as client,
    ):
        yield client


def state_of(sandbox: TestClient) -> SandboxState:
    state: SandboxState = sandbox.app.state.sandbox  # type: ignore[attr-defined]
    return state


def create_body(
    amount: int = 100000, ref: str = "INV-1", method: str = "QRIS", **overrides: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "method": method,
        "merchant_ref": ref,
        "amount": amount,
        "customer_name": "Budi",
        "customer_email": "budi@example.com",
        "order_items": [{"sku": "A1", "name": "Beras 5 kg", "price": amount, "quantity": 1}],
        "callback_url": "https://kasir.test/api/v1/payment/callback",
        "expired_time": int(time.time()) + 15 * 60,
        "signature": create_signature(
            private_key=PRIVATE_KEY, merchant_code=MERCHANT, merchant_ref=ref, amount=amount
        ),
    }
    body.update(overrides)
    return body


# -- QRIS payloads ---------------------------------------------------------------------


def test_crc16_ccitt_false_known_check_value() -> None:
    assert crc16_ccitt_false(b"123456789") == 0x29B1
    assert crc16_ccitt_false(b"") == 0xFFFF


def test_with_crc_appends_tag_63_over_the_payload_including_6304() -> None:
    payload = with_crc("000201")
    assert payload.startswith("0002016304")
    assert crc_is_valid(payload)
    broken = payload[:-1] + ("0" if payload[-1] != "0" else "1")
    assert not crc_is_valid(broken)


# -- auth and signatures ---------------------------------------------------------------


def test_wrong_or_missing_api_key_is_refused(sandbox: TestClient) -> None:
    for headers in ({"Authorization": "Bearer nope"}, {}):
        answer = sandbox.get("/api-sandbox/merchant/payment-channel", headers=headers)
        assert answer.json() == {"success": False, "message": "Invalid API Key"}
    answer = sandbox.post("/api-sandbox/transaction/create", json=create_body(), headers={})
    assert answer.json() == {"success": False, "message": "Invalid API Key"}
    assert state_of(sandbox).transactions == {}


def test_bad_signature_is_refused(sandbox: TestClient) -> None:
    body = create_body(signature="0" * 64)
    answer = sandbox.post("/api-sandbox/transaction/create", json=body, headers=AUTH)
    assert answer.json() == {"success": False, "message": "Invalid signature"}
    # A signature over another amount does not fit this amount.
    body = create_body(amount=100000)
    body["amount"] = 100001
    answer = sandbox.post("/api-sandbox/transaction/create", json=body, headers=AUTH)
    assert answer.json()["message"] == "Invalid signature"
    assert state_of(sandbox).transactions == {}


# -- channels and fees -----------------------------------------------------------------


def test_payment_channels_list_the_three_qris_channels(sandbox: TestClient) -> None:
    answer = sandbox.get("/api-sandbox/merchant/payment-channel", headers=AUTH).json()
    assert answer["success"] is True
    rows = {row["code"]: row for row in answer["data"]}
    assert set(rows) == {"QRIS", "QRISC", "QRIS2"}
    qris = rows["QRIS"]
    assert qris["name"] == "QRIS by ShopeePay"
    assert qris["type"] == "direct"
    assert qris["total_fee"] == {"flat": 750, "percent": "0.70"}
    assert (qris["minimum_amount"], qris["maximum_amount"]) == (1000, 5000000)
    assert qris["active"] is True


def test_fee_calculator_qris_100000_is_1450(sandbox: TestClient) -> None:
    answer = sandbox.get(
        "/api-sandbox/merchant/fee-calculator",
        params={"amount": 100000, "code": "QRIS"},
        headers=AUTH,
    ).json()
    assert answer["success"] is True
    (row,) = answer["data"]
    assert row["code"] == "QRIS"
    assert row["fee"] == {"flat": 750, "percent": "0.70", "min": None, "max": None}
    assert row["total_fee"] == {"merchant": 1450, "customer": 0}
    assert merchant_fee(100000) == 1450


# -- create ----------------------------------------------------------------------------


def test_create_from_json_answers_a_qris_transaction(sandbox: TestClient) -> None:
    answer = sandbox.post("/api-sandbox/transaction/create", json=create_body(), headers=AUTH)
    body = answer.json()
    assert body["success"] is True, body
    data = body["data"]
    assert data["reference"].startswith("DEV-T")
    assert data["merchant_ref"] == "INV-1"
    assert data["payment_method"] == "QRIS"
    assert data["status"] == "UNPAID"
    assert data["amount"] == 100000
    assert (data["fee_merchant"], data["fee_customer"], data["total_fee"]) == (1450, 0, 1450)
    assert data["amount_received"] == 98550
    assert data["pay_code"] is None
    assert data["order_items"][0]["subtotal"] == 100000
    assert data["instructions"][0]["steps"]
    assert data["qr_url"].endswith(data["reference"])
    fields = dict(parse_tlv(data["qr_string"]))
    assert crc_is_valid(data["qr_string"])
    assert fields["00"] == "01"
    assert fields["53"] == "360"
    assert fields["54"] == "100000"
    assert fields["58"] == "ID"
    assert data["reference"] in fields["62"]
    assert list(dict(parse_tlv(data["qr_string"])))[-1] == "63"


def test_create_from_a_form_body_with_bracketed_items(sandbox: TestClient) -> None:
    ref = "INV-FORM"
    form = {
        "method": "QRIS2",
        "merchant_ref": ref,
        "amount": "7000",
        "customer_name": "Siti",
        "customer_email": "siti@example.com",
        "order_items[0][sku]": "899100",
        "order_items[0][name]": "Indomie Goreng",
        "order_items[0][price]": "3500",
        "order_items[0][quantity]": "2",
        "expired_time": str(int(time.time()) + 3600),
        "signature": create_signature(
            private_key=PRIVATE_KEY, merchant_code=MERCHANT, merchant_ref=ref, amount=7000
        ),
    }
    answer = sandbox.post("/api-sandbox/transaction/create", data=form, headers=AUTH).json()
    assert answer["success"] is True, answer
    data = answer["data"]
    assert data["payment_method"] == "QRIS2"
    assert data["order_items"][0]["sku"] == "899100"
    assert data["order_items"][0]["quantity"] == 2
    assert data["order_items"][0]["subtotal"] == 7000
    assert crc_is_valid(data["qr_string"])


@pytest.mark.parametrize("amount", [999, 5_000_001])
def test_amount_out_of_range_is_refused(sandbox: TestClient, amount: int) -> None:
    answer = sandbox.post(
        "/api-sandbox/transaction/create", json=create_body(amount=amount), headers=AUTH
    ).json()
    assert answer["success"] is False
    assert "amount" in answer["message"].lower()
    assert state_of(sandbox).transactions == {}


def test_expiry_ranges_are_per_channel(sandbox: TestClient) -> None:
    now = int(time.time())
    too_long_for_qris = create_body(expired_time=now + 120 * 60)
    answer = sandbox.post("/api-sandbox/transaction/create", json=too_long_for_qris, headers=AUTH)
    assert answer.json()["success"] is False
    assert "between 10 and 60 minutes" in answer.json()["message"]
    ok_for_qrisc = create_body(method="QRISC", expired_time=now + 120 * 60)
    answer = sandbox.post("/api-sandbox/transaction/create", json=ok_for_qrisc, headers=AUTH)
    assert answer.json()["success"] is True
    too_short = create_body(method="QRISC", expired_time=now + 5 * 60)
    answer = sandbox.post("/api-sandbox/transaction/create", json=too_short, headers=AUTH)
    assert answer.json()["success"] is False
    # Without expired_time Tripay uses 24 h, beyond QRIS's 60 minutes.
    no_expiry = create_body()
    del no_expiry["expired_time"]
    answer = sandbox.post("/api-sandbox/transaction/create", json=no_expiry, headers=AUTH)
    assert answer.json()["success"] is False


def test_missing_fields_unknown_channel_and_items_not_adding_up(sandbox: TestClient) -> None:
    body = create_body()
    del body["customer_email"]
    answer = sandbox.post("/api-sandbox/transaction/create", json=body, headers=AUTH).json()
    assert answer == {"success": False, "message": "The customer_email field is required."}
    answer = sandbox.post(
        "/api-sandbox/transaction/create", json=create_body(method="BRIVA"), headers=AUTH
    ).json()
    assert answer == {"success": False, "message": "Payment channel not found"}
    body = create_body()
    body["order_items"][0]["price"] = 99999
    answer = sandbox.post("/api-sandbox/transaction/create", json=body, headers=AUTH).json()
    assert answer["success"] is False
    assert "does not match the amount" in answer["message"]


# -- reading back -----------------------------------------------------------------------


def _create(sandbox: TestClient, ref: str = "INV-1", **kw: Any) -> dict[str, Any]:
    answer = sandbox.post(
        "/api-sandbox/transaction/create", json=create_body(ref=ref, **kw), headers=AUTH
    )
    data: dict[str, Any] = answer.json()["data"]
    return data


def test_detail_check_status_and_transactions(sandbox: TestClient) -> None:
    first = _create(sandbox, "INV-A")
    _create(sandbox, "INV-B")
    detail = sandbox.get(
        "/api-sandbox/transaction/detail", params={"reference": first["reference"]}, headers=AUTH
    ).json()
    assert detail["success"] is True
    assert detail["data"]["merchant_ref"] == "INV-A"
    assert detail["data"]["paid_at"] is None
    status = sandbox.get(
        "/api-sandbox/transaction/check-status",
        params={"reference": first["reference"]},
        headers=AUTH,
    ).json()
    assert status == {"success": True, "message": "Status transaksi saat ini UNPAID"}
    missing = sandbox.get(
        "/api-sandbox/transaction/detail", params={"reference": "DEV-Tnope"}, headers=AUTH
    ).json()
    assert missing == {"success": False, "message": "Transaction not found"}
    listed = sandbox.get(
        "/api-sandbox/merchant/transactions", params={"merchant_ref": "INV-B"}, headers=AUTH
    ).json()
    assert [r["merchant_ref"] for r in listed["data"]] == ["INV-B"]
    everything = sandbox.get(
        "/api-sandbox/merchant/transactions", params={"per_page": 1, "page": 2}, headers=AUTH
    ).json()
    assert everything["pagination"]["total_records"] == 2
    assert everything["pagination"]["last_page"] == 2
    assert len(everything["data"]) == 1


def test_an_unpaid_transaction_past_its_expiry_reads_expired(
    sandbox: TestClient, sandbox_clock: list[float]
) -> None:
    tx = _create(sandbox)
    sandbox_clock[0] += 16 * 60
    detail = sandbox.get(
        "/api-sandbox/transaction/detail", params={"reference": tx["reference"]}, headers=AUTH
    ).json()
    assert detail["data"]["status"] == "EXPIRED"


def test_the_tripay_client_works_against_the_sandbox(sandbox: TestClient) -> None:
    client = TripayClient(
        sandbox, base_url="http://testserver/api-sandbox/", api_key=API_KEY,
        private_key=PRIVATE_KEY, merchant_code=MERCHANT,
    )  # fmt: skip
    assert {c.code for c in client.payment_channels()} == {"QRIS", "QRISC", "QRIS2"}
    tx = client.create_transaction(
        method="QRIS",
        merchant_ref="INV-CL",
        amount=25000,
        items=[OrderItem(name="Gula", price=12500, quantity=2)],
        customer_name="a",
        customer_email="a@example.com",
        expired_time=int(time.time()) + 600,
    )
    assert client.transaction_detail(reference=tx.reference).merchant_ref == "INV-CL"
    assert client.check_status(reference=tx.reference).value == "UNPAID"
    assert [t.reference for t in client.transactions(merchant_ref="INV-CL")] == [tx.reference]
    wrong_key = TripayClient(
        sandbox, base_url="http://testserver/api-sandbox/", api_key="bad",
        private_key=PRIVATE_KEY, merchant_code=MERCHANT,
    )  # fmt: skip
    with pytest.raises(TripayError, match="Invalid API Key"):
        wrong_key.payment_channels()


# -- simulator and callbacks ------------------------------------------------------------


def test_pay_posts_a_callback_signed_over_its_exact_bytes(
    sandbox: TestClient, catcher: CallbackCatcher
) -> None:
    tx = _create(sandbox)
    answer = sandbox.post(f"/api-sandbox/simulator/{tx['reference']}/pay").json()
    assert answer["success"] is True
    assert answer["data"]["status"] == "PAID"
    state_of(sandbox).wait_for_callbacks()
    (request,) = catcher.received
    assert str(request.url) == "https://kasir.test/api/v1/payment/callback"
    assert request.headers["X-Callback-Event"] == "payment_status"
    expected = hmac.new(PRIVATE_KEY.encode(), request.content, hashlib.sha256).hexdigest()
    assert request.headers["X-Callback-Signature"] == expected
    body = json.loads(request.content)
    assert body["reference"] == tx["reference"]
    assert body["merchant_ref"] == "INV-1"
    assert body["status"] == "PAID"
    assert body["total_amount"] == 100000
    assert body["is_closed_payment"] == 1
    assert body["payment_method_code"] == "QRIS"
    assert isinstance(body["paid_at"], int)
    detail = sandbox.get(
        "/api-sandbox/transaction/detail", params={"reference": tx["reference"]}, headers=AUTH
    ).json()
    assert detail["data"]["status"] == "PAID"
    assert detail["data"]["paid_at"] == body["paid_at"]


def test_callbacks_are_retried_until_success_at_most_the_configured_times(
    sandbox: TestClient, catcher: CallbackCatcher
) -> None:
    catcher.answers = [{"success": False}, {"nope": 1}, {"success": True}]
    tx = _create(sandbox)
    sandbox.post(f"/api-sandbox/simulator/{tx['reference']}/fail")
    state_of(sandbox).wait_for_callbacks()
    assert len(catcher.received) == 3
    assert len({r.content for r in catcher.received}) == 1  # the same bytes each time
    attempts = sandbox.get(f"/api-sandbox/simulator/{tx['reference']}/callbacks").json()["data"]
    assert [a["success"] for a in attempts] == [False, False, True]

    catcher.received.clear()
    catcher.answers = [{"success": False}] * 10
    tx = _create(sandbox, "INV-2")
    sandbox.post(f"/api-sandbox/simulator/{tx['reference']}/expire")
    state_of(sandbox).wait_for_callbacks()
    assert len(catcher.received) == 1 + 3  # the first delivery and three retries


def test_simulator_refuses_moves_tripay_would_not_make(sandbox: TestClient) -> None:
    tx = _create(sandbox)
    assert (
        sandbox.post(f"/api-sandbox/simulator/{tx['reference']}/refund").json()["success"] is False
    )
    assert sandbox.post(f"/api-sandbox/simulator/{tx['reference']}/pay").json()["success"] is True
    again = sandbox.post(f"/api-sandbox/simulator/{tx['reference']}/expire").json()
    assert again == {"success": False, "message": "Transaction is PAID; expire needs UNPAID"}
    assert (
        sandbox.post(f"/api-sandbox/simulator/{tx['reference']}/refund").json()["success"] is True
    )
    assert sandbox.post("/api-sandbox/simulator/DEV-Tnope/pay").json()["success"] is False


def test_cli_simulate_and_parser(sandbox: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    tx = _create(sandbox)
    answer = simulate(tx["reference"], "pay", url="http://testserver", http=sandbox)
    assert answer["success"] is True
    parser = build_parser()
    for command in ("serve", "pay", "expire", "fail", "refund"):
        assert command in parser.format_help()
    args = parser.parse_args(["expire", "DEV-T1", "--url", "http://127.0.0.1:1"])
    assert (args.command, args.reference, args.url) == ("expire", "DEV-T1", "http://127.0.0.1:1")
    # Nothing listens on port 1: a clear message and a failing exit status.
    assert main(["pay", "DEV-T1", "--url", "http://127.0.0.1:1"]) == 1
    assert "Cannot reach the sandbox" in capsys.readouterr().err


def test_qr_and_checkout_pages(sandbox: TestClient) -> None:
    tx = _create(sandbox)
    qr = sandbox.get(f"/api-sandbox/qr/{tx['reference']}")
    assert qr.status_code == 200
    assert qr.headers["content-type"] in ("image/png", "text/plain; charset=utf-8")
    page = sandbox.get(f"/api-sandbox/checkout/{tx['reference']}")
    assert tx["reference"] in page.text
    assert "/pay" in page.text
