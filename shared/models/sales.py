"""Sales, refunds, voids, shifts, cash moves and stock moves as the till sends them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import Field, model_validator

from shared.barcodes import MeasureKind
from shared.models.common import (
    BasisPoints,
    ChangeNumber,
    Quantity,
    RowId,
    Rupiah,
    SignedCount,
    SignedRupiah,
    WireModel,
)
from shared.models.customers import SaleCustomerIn


class PaymentMethod(StrEnum):
    """How a customer paid."""

    CASH = "cash"
    QRIS = "qris"
    QRIS_STATIC = "qris_static"
    """The store's static QRIS, shown while the till was offline: the cashier confirmed
    it after seeing the customer's payment proof (no Tripay order backs it), so the
    server flags every one for the manager to reconcile against the bank statement."""


class RefundMethod(StrEnum):
    """How a refund's money went back to the customer.

    The first three keep the values of :class:`PaymentMethod` (a refund sent before
    ``external`` existed still parses, and keeps its digest)."""

    CASH = "cash"
    """Cash from the drawer: the only refunds the drawer's expected cash counts."""
    QRIS = "qris"
    """Kept for events sent before ``external``: a QRIS sale refunded outside the till."""
    QRIS_STATIC = "qris_static"
    EXTERNAL = "external"
    """Outside the till ("Di luar kasir"), e.g. a manual bank transfer to a QRIS payer:
    no money left the drawer."""


class PriceOverrideIn(WireModel):
    """A line sold at a price other than the catalog's, approved on the till by a PIN."""

    approved_by: RowId = Field(description="The supervisor, manager or admin who approved it.")


MAX_MEASURE_VALUE = 999_999_999
"""Largest value an in-store label can carry: the nine value digits a scheme with a
one-digit item code leaves (grams or rupiah)."""


class LineMeasure(WireModel):
    """What an in-store scale label said, for a line rung up from one (pricing.md §9).

    ``weight``: ``value`` grams, the line's ``unit_price`` is
    ``shared.pricing.weighed_price(base_price, value)``. ``price``: ``value`` rupiah is the
    line's ``unit_price`` (the shop's own scale printed it). ``base_price`` is the catalog
    price the till priced from: per kg for a weight label, the product's price for a
    price label.
    """

    kind: MeasureKind
    value: int = Field(
        strict=True, gt=0, le=MAX_MEASURE_VALUE, description="Grams (weight) or rupiah (price)."
    )
    base_price: Rupiah = Field(description="The catalog price the till had (per kg for weight).")


class SaleLineIn(WireModel):
    """One line of a sale, with the price and tax rule at the moment it was rung up."""

    id: UUID
    product_id: RowId
    sku: str = Field(default="", max_length=64)
    name: str = Field(default="", max_length=200)
    quantity: Quantity
    unit_price: Rupiah
    discount: Rupiah = Field(default=0, description="Line discount in rupiah (already rounded).")
    tax_rate_bp: BasisPoints = 0
    tax_inclusive: bool = True
    tax: Rupiah = Field(description="Tax on this line as the till computed it.")
    total: Rupiah = Field(description="What the customer pays for this line.")
    price_override: PriceOverrideIn | None = Field(
        default=None, description="Set when the cashier changed the price, with its approver."
    )
    measure: LineMeasure | None = Field(
        default=None, description="Set for a line rung up from an in-store weight or price label."
    )


class PaymentIn(WireModel):
    """One tender of a sale. ``amount`` is what it covers; cash change is separate."""

    id: UUID
    method: PaymentMethod
    amount: Rupiah
    tendered: Rupiah | None = Field(default=None, description="Cash handed over.")
    change: Rupiah = 0
    reference: str | None = Field(default=None, max_length=64, description="Tripay reference.")
    order_id: str | None = Field(default=None, max_length=64, description="QRIS order id.")


class SaleIn(WireModel):
    """A completed sale, totals included so the server can check them."""

    id: UUID
    receipt_number: str = Field(min_length=3, max_length=40)
    shift_id: UUID | None = None
    cashier_id: RowId
    created_at: datetime
    lines: list[SaleLineIn] = Field(min_length=1, max_length=500)
    order_discount: Rupiah = 0
    voucher_code: str | None = Field(default=None, max_length=32)
    subtotal: Rupiah
    discount_total: Rupiah
    tax_total: Rupiah
    total: Rupiah
    payments: list[PaymentIn] = Field(min_length=1, max_length=10)
    catalog_cursor: ChangeNumber | None = Field(
        default=None,
        description="The till's pull cursor when the sale was made: which prices it knew.",
    )
    customer: SaleCustomerIn | None = Field(
        default=None, description="The customer of the sale and the points it redeemed."
    )

    @model_validator(mode="after")
    def _unique_line_ids(self) -> SaleIn:
        ids = [line.id for line in self.lines]
        if len(set(ids)) != len(ids):
            raise ValueError("line ids must be unique within a sale")
        return self


class RefundLineIn(WireModel):
    """How many units of one sale line go back, and the money for them."""

    id: UUID
    sale_line_id: UUID
    quantity: Quantity
    amount: Rupiah


class RefundIn(WireModel):
    """A full or partial refund of an earlier sale, approved by a manager's PIN."""

    id: UUID
    sale_id: UUID
    shift_id: UUID | None = None
    cashier_id: RowId
    approved_by: RowId
    reason: str = Field(default="", max_length=200)
    created_at: datetime
    lines: list[RefundLineIn] = Field(min_length=1, max_length=500)
    total: Rupiah
    method: RefundMethod = RefundMethod.CASH


class VoidIn(WireModel):
    """A whole sale cancelled (stock goes back), approved by a manager's PIN."""

    sale_id: UUID
    cashier_id: RowId
    approved_by: RowId
    reason: str = Field(default="", max_length=200)
    created_at: datetime


class ShiftOpenIn(WireModel):
    """A cashier opens a shift with a cash float."""

    id: UUID
    user_id: RowId
    opening_float: Rupiah
    opened_at: datetime


class ShiftCloseIn(WireModel):
    """A shift closed with the cash counted in the drawer."""

    id: UUID
    user_id: RowId
    counted_cash: Rupiah
    expected_cash: SignedRupiah
    closed_at: datetime


class CashMoveIn(WireModel):
    """Cash put in (positive) or taken out (negative) of the drawer during a shift."""

    id: UUID
    shift_id: UUID
    user_id: RowId
    amount: SignedRupiah
    reason: str = Field(default="", max_length=200)
    created_at: datetime


class NoSaleIn(WireModel):
    """The cash drawer opened with no sale, approved on the till by a supervisor's PIN."""

    id: UUID
    shift_id: UUID | None = Field(default=None, description="The till's open shift, if any.")
    cashier_id: RowId
    approved_by: RowId = Field(description="The supervisor, manager or admin who approved it.")
    reason: str = Field(default="", max_length=200)
    created_at: datetime


class StockMoveKind(StrEnum):
    """Why stock moved. On hand is the sum of all moves."""

    SALE = "sale"
    REFUND = "refund"
    VOID = "void"
    RECEIVE = "receive"
    ADJUST = "adjust"
    COUNT = "count"


class StockMoveOut(WireModel):
    """One signed movement of the stock ledger."""

    id: UUID
    product_id: RowId
    store_id: RowId
    kind: StockMoveKind
    quantity: SignedCount
    ref_id: str | None = None
    note: str = ""
    created_at: datetime
