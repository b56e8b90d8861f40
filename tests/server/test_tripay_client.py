"""The Tripay client: signatures, request shape, and every failure as a clear TripayError."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from sync_server.payments.tripay import (
    OrderItem,
    TripayClient,
    TripayError,
    TripayErrorKind,
    TripayStatus,
    callback_signature,
    create_signature,
    tripay_items,
    verify_callback_signature,
)

BASE = "https://tripay.test/api-sandbox/"


def make_client(
    handler: Callable[[httpx.Request], httpx.Response], **kwargs: object
) -> TripayClient:
    return TripayClient(
        httpx.Client(transport=httpx.MockTransport(handler)),
        base_url=BASE,
        api_key="DEV-key",
        private_key="private",
        merchant_code="T0001",
        **kwargs,  # type: ignore[arg-type]
    )


def ok_answer(data: object) -> httpx.Response:
    """Tripay's successful answer carrying ``data``."""
    return httpx.Response(200, json={"success": True, "message": "", "data": data})


def create_answer(merchant_ref: str = "INV1", amount: int = 7000) -> dict[str, object]:
    return {
        "success": True,
        "message": "",
        "data": {
            "reference": "DEV-T000100000001AAAAA",
            "merchant_ref": merchant_ref,
            "payment_method": "QRIS",
            "payment_name": "QRIS by ShopeePay",
            "amount": amount,
            "fee_merchant": 799,
            "fee_customer": 0,
            "total_fee": 799,
            "amount_received": amount - 799,
            "status": "UNPAID",
            "expired_time": 1_900_000_000,
            "qr_string": "SANDBOX MODE",
            "qr_url": "https://tripay.test/qr/x",
        },
    }


def test_create_signature_matches_the_documented_vector() -> None:
    signature = create_signature(
        private_key="ytf6ooi2gmlNPfpchd94jDOk8hRWOu",
        merchant_code="T0001",
        merchant_ref="INV55567",
        amount=1500000,
    )
    assert signature == "9f167eba844d1fcb369404e2bda53702e2f78f7aa12e91da6715414e65b8c86a"


def test_callback_signature_is_over_the_exact_bytes() -> None:
    raw = b'{"reference":"DEV-T1","status":"PAID"}'
    signature = callback_signature(private_key="k", raw_body=raw)
    assert verify_callback_signature(private_key="k", raw_body=raw, signature=signature)
    assert verify_callback_signature(private_key="k", raw_body=raw, signature=signature.upper())
    # Re-serialised JSON (a space) is different bytes: refused.
    reserialised = b'{"reference": "DEV-T1","status":"PAID"}'
    assert not verify_callback_signature(
        private_key="k", raw_body=reserialised, signature=signature
    )
    assert not verify_callback_signature(private_key="other", raw_body=raw, signature=signature)
    assert not verify_callback_signature(private_key="k", raw_body=raw, signature=None)
    assert not verify_callback_signature(private_key="k", raw_body=raw, signature="")


def test_create_transaction_sends_a_signed_closed_payment_with_bearer_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=create_answer("INV1", 7000))

    client = make_client(handler)
    tx = client.create_transaction(
        method="QRIS",
        merchant_ref="INV1",
        amount=7000,
        items=[OrderItem(name="Indomie", price=3500, quantity=2, sku="899")],
        customer_name="Pelanggan",
        customer_email="p@example.com",
        expired_time=1_900_000_000,
        callback_url="https://kasir.test/api/v1/payment/callback",
    )
    assert tx.reference == "DEV-T000100000001AAAAA"
    assert tx.status == TripayStatus.UNPAID
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == BASE + "transaction/create"
    assert request.headers["Authorization"] == "Bearer DEV-key"
    body = json.loads(request.content)
    assert body["signature"] == create_signature(
        private_key="private", merchant_code="T0001", merchant_ref="INV1", amount=7000
    )
    assert body["expired_time"] == 1_900_000_000
    assert body["order_items"] == [{"name": "Indomie", "price": 3500, "quantity": 2, "sku": "899"}]
    assert body["callback_url"] == "https://kasir.test/api/v1/payment/callback"


def test_create_transaction_refuses_items_that_do_not_add_up() -> None:
    client = make_client(lambda r: httpx.Response(200, json=create_answer()))
    with pytest.raises(ValueError, match="add up"):
        _call_create(client, item_price=1000)


def test_tripay_items_keep_lines_that_add_up_and_replace_those_that_do_not() -> None:
    lines = [
        OrderItem(name="a", price=1000, quantity=2),
        OrderItem(name="b", price=500, quantity=1),
    ]
    assert tripay_items(lines, 2500, label="Belanja X") == lines
    assert tripay_items(lines, 2000, label="Belanja X") == [
        OrderItem(name="Belanja X", price=2000, quantity=1)
    ]
    assert tripay_items([], 1500, label="L") == [OrderItem(name="L", price=1500, quantity=1)]


def _call_create(client: TripayClient, item_price: int = 7000) -> None:
    """Ask for a Rp7.000 QRIS transaction of one item priced ``item_price``."""
    client.create_transaction(
        method="QRIS",
        merchant_ref="INV1",
        amount=7000,
        items=[OrderItem(name="x", price=item_price, quantity=1)],
        customer_name="a",
        customer_email="a@b.c",
        expired_time=1,
    )


@pytest.mark.parametrize(
    ("handler", "kind", "words"),
    [
        (lambda r: httpx.Response(500, text="oops"), TripayErrorKind.SERVER_ERROR, "HTTP 500"),
        (
            lambda r: httpx.Response(503, json={"success": True}),
            TripayErrorKind.SERVER_ERROR,
            "503",
        ),
        (
            lambda r: httpx.Response(200, json={"success": False, "message": "Invalid signature"}),
            TripayErrorKind.REJECTED,
            "Invalid signature",
        ),
        (
            lambda r: httpx.Response(401, json={"success": False, "message": "Invalid API Key"}),
            TripayErrorKind.REJECTED,
            "Invalid API Key",
        ),
        (lambda r: httpx.Response(200, text="<html>"), TripayErrorKind.BAD_ANSWER, "cannot read"),
        (
            lambda r: httpx.Response(200, json={"success": True, "data": {"nope": 1}}),
            TripayErrorKind.BAD_ANSWER,
            "cannot read",
        ),
    ],
)
def test_failures_become_a_tripay_error_with_a_readable_message(
    handler: Callable[[httpx.Request], httpx.Response], kind: TripayErrorKind, words: str
) -> None:
    with pytest.raises(TripayError) as caught:
        _call_create(make_client(handler))
    assert caught.value.kind == kind
    assert words in caught.value.message


def test_timeout_and_unreachable_become_tripay_errors() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(TripayError) as caught:
        _call_create(make_client(timeout))
    assert caught.value.kind == TripayErrorKind.TIMEOUT
    assert "did not answer in time" in caught.value.message
    with pytest.raises(TripayError) as caught:
        _call_create(make_client(refused))
    assert caught.value.kind == TripayErrorKind.UNREACHABLE
    assert "take cash" in caught.value.message


def test_a_create_answer_about_another_order_is_refused() -> None:
    client = make_client(lambda r: httpx.Response(200, json=create_answer("OTHER", 7000)))
    with pytest.raises(TripayError) as caught:
        _call_create(client)
    assert caught.value.kind == TripayErrorKind.BAD_ANSWER


def test_payment_channels_are_cached_for_a_few_minutes() -> None:
    calls = 0
    now = [1000.0]

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return ok_answer(
            [
                {
                    "group": "E-Wallet",
                    "code": "QRIS",
                    "name": "QRIS by ShopeePay",
                    "type": "direct",
                    "total_fee": {"flat": 750, "percent": "0.70"},
                    "minimum_amount": 1000,
                    "maximum_amount": 5000000,
                    "active": True,
                }
            ]
        )

    client = make_client(handler, clock=lambda: now[0], channel_cache_seconds=300)
    assert [c.code for c in client.payment_channels()] == ["QRIS"]
    client.payment_channels()
    assert calls == 1
    now[0] += 301
    client.payment_channels()
    assert calls == 2


def test_check_status_reads_the_status_from_the_message() -> None:
    client = make_client(
        lambda r: httpx.Response(
            200, json={"success": True, "message": "Status transaksi saat ini PAID"}
        )
    )
    assert client.check_status(reference="DEV-T1") == TripayStatus.PAID


def test_fee_calculator_and_detail_parse_tripay_answers() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("fee-calculator"):
            assert request.url.params["amount"] == "100000"
            assert request.url.params["code"] == "QRIS"
            return ok_answer(
                [
                    {
                        "code": "QRIS",
                        "name": "QRIS by ShopeePay",
                        "fee": {"flat": 750, "percent": "0.70", "min": None, "max": None},
                        "total_fee": {"merchant": 1450, "customer": 0},
                    }
                ]
            )
        assert request.url.params["reference"] == "DEV-T000100000001AAAAA"
        answer = create_answer()
        answer["data"]["status"] = "PAID"  # type: ignore[index]
        answer["data"]["paid_at"] = 1_800_000_000  # type: ignore[index]
        return httpx.Response(200, json=answer)

    client = make_client(handler)
    (quote,) = client.fee_calculator(amount=100000, code="QRIS")
    assert quote.merchant_fee == 1450
    assert quote.customer_fee == 0
    tx = client.transaction_detail(reference="DEV-T000100000001AAAAA")
    assert tx.status == TripayStatus.PAID
    assert tx.paid_at == 1_800_000_000
