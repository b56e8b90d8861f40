"""Wire schemas of the QRIS payment API (``/api/v1/payment/*``), shared by till and server.

The till sends :class:`CreateTransactionIn` and :class:`CreatePaymentIn` and reads
:class:`PaymentOrderOut`; the server also answers managers (:class:`OrderListOut`) and
Tripay's callback (:class:`TripayCallbackIn`, :class:`CallbackAnswer`). Money is whole
rupiah.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue
from pydantic.config import JsonDict

from shared.models.common import (
    MAX_BIGINT,
    MAX_INT,
    MAX_RUPIAH,
    Count,
    Quantity,
    RowId,
    Rupiah,
    WireModel,
)

QrisMethod = Literal["QRIS", "QRISC", "QRIS2"]
OrderStatus = Literal["UNPAID", "PAID", "EXPIRED", "FAILED", "REFUND"]

ORDER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"

TripayRupiah = Annotated[
    int,
    Field(
        ge=-MAX_RUPIAH,
        le=MAX_RUPIAH,
        description=(
            f"Whole rupiah as Tripay reports it; at most MAX_RUPIAH = {MAX_RUPIAH} either way."
        ),
    ),
]
"""Money in Tripay's bodies and our copies of them: not strict (Tripay's JSON decides),
but within :data:`~shared.models.common.MAX_RUPIAH` like every amount."""


class PaymentChannelOut(WireModel):
    """A Tripay channel the till may offer, with its limits and fee."""

    code: str = Field(examples=["QRIS"])
    name: str = Field(examples=["QRIS by ShopeePay"])
    group: str = Field(examples=["E-Wallet"])
    active: bool
    minimum_amount: TripayRupiah | None = Field(examples=[1000])
    maximum_amount: TripayRupiah | None = Field(examples=[5000000])
    fee_flat: TripayRupiah = Field(description="Flat fee in rupiah.", examples=[750])
    fee_percent: str = Field(description="Percentage fee, e.g. `0.70`.", examples=["0.70"])
    icon_url: str | None = None


class OrderItemIn(WireModel):
    """One cart line shown to the payer."""

    sku: str | None = Field(default=None, max_length=64, examples=["8991002101234"])
    name: str = Field(min_length=1, max_length=200, examples=["Indomie Goreng"])
    price: Rupiah = Field(examples=[3500])
    quantity: Quantity = Field(examples=[2])


EXAMPLE_ITEM: JsonDict = {
    "sku": "8991002101234",
    "name": "Indomie Goreng",
    "price": 3500,
    "quantity": 2,
}
"""The cart line of the order examples (two packs of Indomie)."""


class CreateTransactionIn(WireModel):
    """A pending QRIS order for (part of) a cart.

    Send your own ``order_id`` (made on the till, e.g. from the payment's UUID) so a
    retry after a lost answer returns the same order; without one the server makes one.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "order_id": "T01-0190f3c2a7b84c1d9e2f",
                    "amount": 7000,
                    "items": [EXAMPLE_ITEM],
                }
            ]
        }
    )

    order_id: str | None = Field(
        default=None,
        pattern=ORDER_ID_PATTERN,
        description="Becomes Tripay's merchant_ref. Letters, digits, '-' and '_'; ≤ 64.",
    )
    amount: Rupiah = Field(description="Rupiah to collect by QRIS.", examples=[7000])
    items: list[OrderItemIn] = Field(default_factory=list, max_length=500)
    customer_name: str | None = Field(default=None, max_length=100)
    customer_email: str | None = Field(default=None, max_length=100)


class CreatePaymentIn(WireModel):
    """Ask for the QR of an order. Calling it again returns the same QR."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"order_id": "T01-0190f3c2a7b84c1d9e2f", "method": "QRIS", "expires_in_minutes": 15}
            ]
        }
    )

    order_id: str = Field(pattern=ORDER_ID_PATTERN)
    method: QrisMethod = "QRIS"
    expires_in_minutes: int = Field(
        default=15, ge=10, le=1440, description="QRIS: 10–60; QRISC and QRIS2: 10–1440."
    )


class PaymentOrderOut(WireModel):
    """An order as the till and the manager see it. Poll until ``final`` is true."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "order_id": "T01-0190f3c2a7b84c1d9e2f",
                    "status": "UNPAID",
                    "final": False,
                    "amount": 7000,
                    "items": [EXAMPLE_ITEM],
                    "store_id": 1,
                    "terminal_id": 1,
                    "method": "QRIS",
                    "reference": "DEV-T1234500000001ABCDE",
                    "qr_string": "00020101021226...6304ABCD",
                    "qr_url": "http://127.0.0.1:8765/api-sandbox/qr/DEV-T1234500000001ABCDE",
                    "checkout_url": None,
                    "fee_merchant": 799,
                    "fee_customer": 0,
                    "total_fee": 799,
                    "amount_received": 6201,
                    "expires_at": "2024-05-01T10:15:00Z",
                    "paid_at": None,
                    "created_at": "2024-05-01T10:00:00Z",
                    "updated_at": "2024-05-01T10:00:01Z",
                }
            ]
        }
    )

    order_id: str
    status: OrderStatus
    final: bool = Field(description="True once PAID, EXPIRED, FAILED or REFUND: stop polling.")
    amount: TripayRupiah
    items: list[OrderItemIn]
    store_id: RowId
    terminal_id: RowId
    method: str | None
    reference: str | None = Field(description="Tripay's reference; null until the QR exists.")
    qr_string: str | None = Field(description="Draw this as the QR code.")
    qr_url: str | None
    checkout_url: str | None
    fee_merchant: TripayRupiah | None
    fee_customer: TripayRupiah | None
    total_fee: TripayRupiah | None
    amount_received: TripayRupiah | None
    expires_at: datetime | None
    paid_at: datetime | None
    created_at: datetime
    updated_at: datetime


class OrderListOut(WireModel):
    """A page of orders, newest first."""

    orders: list[PaymentOrderOut]
    next_offset: Count | None = Field(description="Pass as ``offset`` for the next page.")


CALLBACK_EXAMPLE: dict[str, JsonValue] = {
    "reference": "DEV-T1234500000001ABCDE",
    "merchant_ref": "T01-0190f3c2a7b84c1d9e2f",
    "payment_method": "QRIS by ShopeePay",
    "payment_method_code": "QRIS",
    "total_amount": 7000,
    "fee_merchant": 799,
    "fee_customer": 0,
    "total_fee": 799,
    "amount_received": 6201,
    "is_closed_payment": 1,
    "status": "PAID",
    "paid_at": 1714557600,
    "note": None,
}


class TripayCallbackIn(BaseModel):
    """The body Tripay POSTs to the callback (extra fields are accepted and ignored)."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={"examples": [CALLBACK_EXAMPLE]},
    )

    reference: str = Field(max_length=64)
    merchant_ref: str = Field(max_length=64)
    payment_method: str | None = None
    payment_method_code: str | None = None
    total_amount: TripayRupiah
    fee_merchant: TripayRupiah | None = None
    fee_customer: TripayRupiah | None = None
    total_fee: TripayRupiah | None = None
    amount_received: TripayRupiah | None = None
    is_closed_payment: int | None = Field(default=None, ge=0, le=MAX_INT)
    status: str
    paid_at: int | None = Field(default=None, ge=0, le=MAX_BIGINT, description="Unix time.")
    note: str | None = None


class CallbackAnswer(BaseModel):
    """What the callback answers Tripay: ``success`` true only when it was processed."""

    success: bool
    message: str | None = None
