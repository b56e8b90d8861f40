"""What the sales and shifts API answers (server-only shapes: the manager's API and pages).

Money is whole rupiah; ``created_at`` and the other moments are UTC, ``local_time`` the
same moment in the store's time zone; days are the store's local business days.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import Field

from shared.models import WireModel
from sync_server.flags.schemas import FlagOut
from sync_server.reports.registry import Column

SaleStatus = Literal["all", "voided", "refunded", "flagged"]
"""Which sales a list keeps: every one, the voided, those with a refund, those flagged."""
ShiftState = Literal["all", "open", "closed"]

MAX_SALES_PAGE = 200
"""Most sales one page carries."""
MAX_SHIFTS_PAGE = 500
"""Most shifts one page carries."""


class SaleRow(WireModel):
    """One sale in the list, newest first."""

    id: uuid.UUID
    receipt_number: str
    created_at: datetime
    local_time: datetime = Field(description="``created_at`` in the store's time zone.")
    business_date: date
    terminal_id: int
    terminal_code: str
    cashier_id: int
    cashier_name: str
    total: int
    payment_methods: list[str] = Field(description="Methods of its tenders (``cash``, ``qris``).")
    flags_count: int = Field(description="Flags raised on this sale, open or resolved.")
    open_flags: int
    voided: bool
    refunded_amount: int


class SalePage(WireModel):
    """One page of sales and the cursor of the next (``null``: this was the last)."""

    store_id: int
    start: date
    end: date
    items: list[SaleRow]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; opaque."
    )
    limit: int


class SaleExportRow(WireModel):
    """A sale as one flat line of the CSV and Excel downloads."""

    receipt_number: str
    created_at: datetime
    business_date: date
    terminal_code: str
    cashier_name: str
    total: int
    payment_methods: str = Field(description="Methods joined with ``+``: ``cash+qris``.")
    payment_labels: str = Field(description="The same in Indonesian: ``Tunai + QRIS``.")
    flags_count: int
    voided: bool
    refunded_amount: int
    id: uuid.UUID


class SaleLineOut(WireModel):
    """A line of a sale, with what was refunded of it."""

    id: uuid.UUID
    product_id: int
    sku: str
    name: str
    quantity: int
    unit_price: int
    discount: int
    order_discount: int
    tax_rate_bp: int
    tax_inclusive: bool
    tax: int
    total: int
    refunded_quantity: int
    refunded_amount: int


class SalePaymentOut(WireModel):
    """One tender: ``amount`` is what it covers, cash ``change`` is separate."""

    id: uuid.UUID
    method: str
    amount: int
    tendered: int | None
    change: int
    reference: str | None


class RefundLineOut(WireModel):
    """Units of one sale line refunded and the money returned for them."""

    sale_line_id: uuid.UUID
    product_id: int
    name: str
    quantity: int
    amount: int


class RefundOut(WireModel):
    """A refund of (part of) the sale: who, who approved, how the money went back."""

    id: uuid.UUID
    created_at: datetime
    local_time: datetime
    business_date: date
    terminal_id: int
    terminal_code: str
    cashier_id: int
    cashier_name: str
    approved_by: int
    approved_by_name: str
    reason: str
    method: str = Field(description="``cash`` from the drawer, or ``external``.")
    total: int
    lines: list[RefundLineOut]


class VoidOut(WireModel):
    """The sale cancelled whole: when, approved by whom, and why."""

    voided_at: datetime | None
    local_time: datetime | None
    voided_by: int | None
    voided_by_name: str | None
    reason: str


class SaleDetail(WireModel):
    """A sale with its lines, payments, refunds, void and flags."""

    id: uuid.UUID
    store_id: int
    receipt_number: str
    created_at: datetime
    local_time: datetime
    received_at: datetime
    business_date: date
    terminal_id: int
    terminal_code: str
    cashier_id: int
    cashier_name: str
    shift_id: uuid.UUID | None
    subtotal: int
    discount_total: int
    order_discount: int
    tax_total: int
    total: int
    voucher_code: str | None
    voided: bool
    refunded_amount: int
    lines: list[SaleLineOut]
    payments: list[SalePaymentOut]
    refunds: list[RefundOut]
    void: VoidOut | None
    flags: list[FlagOut]


class ShiftRow(WireModel):
    """A shift's drawer: what the server recomputes from its own rows and what the till
    claimed at close.

    ``expected_cash`` = opening float + cash sales (net of change) − cash given back by
    voids made in the shift − cash refunds + cash in − cash out: the till's own rule
    (its X/Z report). ``difference`` is counted − ``expected_cash``.
    """

    id: uuid.UUID
    store_id: int
    terminal_id: int
    terminal_code: str
    opened_by: int
    opened_by_name: str
    opened_at: datetime
    opened_local: datetime
    opening_float: int
    sales_count: int
    cash_sales: int = Field(description="Cash the shift's sales took, net of change.")
    cash_change: int = Field(description="Change given back from cash tendered.")
    cash_voids: int = Field(description="Cash of sales voided in this shift, given back.")
    cash_refunds: int
    cash_in: int
    cash_out: int = Field(description="A positive amount.")
    expected_cash: int = Field(description="Recomputed by the server from its own rows.")
    claimed_expected_cash: int | None = Field(description="What the till said at close.")
    expected_matches: bool | None = Field(
        description="The till's figure equals the server's (``null`` while open)."
    )
    counted_cash: int | None
    difference: int | None = Field(description="Counted − expected (``null`` while open).")
    closed_by: int | None
    closed_by_name: str | None
    closed_at: datetime | None
    closed_local: datetime | None
    open: bool


class ShiftPage(WireModel):
    """Shifts opened in the period, newest first."""

    store_id: int
    start: date
    end: date
    items: list[ShiftRow]
    total: int
    limit: int
    offset: int


class CashMoveOut(WireModel):
    """Cash put in (positive) or taken out (negative) of the drawer."""

    id: uuid.UUID
    created_at: datetime
    local_time: datetime
    user_id: int
    user_name: str
    amount: int
    reason: str


class ShiftDetail(ShiftRow):
    """A shift with its cash moves and what its sales took per method."""

    sales_total: int
    refunds_count: int
    voids_count: int
    payments_by_method: dict[str, int] = Field(
        description="Per method, what the shift's sales took (cash net of change)."
    )
    cash_moves: list[CashMoveOut]


class ReconciliationTotals(WireModel):
    """The outlet's drawers of one day added up (counted and difference: closed only)."""

    shifts_count: int
    open_count: int
    opening_float: int
    cash_sales: int
    cash_voids: int
    cash_refunds: int
    cash_in: int
    cash_out: int
    expected_cash: int
    counted_cash: int
    expected_closed: int = Field(description="Expected cash of the closed shifts only.")
    difference: int = Field(description="Counted − expected over the closed shifts.")


class CashReconciliation(WireModel):
    """One outlet's day: every shift that was open at some moment of it, and the totals."""

    store_id: int
    day: date
    shifts: list[ShiftRow]
    totals: ReconciliationTotals


# --- the downloads: Excel's Indonesian headings; CSV keeps the field names -------------------

SALE_COLUMNS = (
    Column("No. struk", "receipt_number"),
    Column("Waktu", "created_at", "datetime"),
    Column("Hari transaksi", "business_date", "date"),
    Column("Terminal", "terminal_code"),
    Column("Kasir", "cashier_name"),
    Column("Total", "total", "money"),
    Column("Metode bayar", "payment_labels"),
    Column("Tanda", "flags_count", "number"),
    Column("Dibatalkan", "voided"),
    Column("Diretur", "refunded_amount", "money"),
)

SHIFT_COLUMNS = (
    Column("Terminal", "terminal_code"),
    Column("Dibuka oleh", "opened_by_name"),
    Column("Dibuka", "opened_at", "datetime"),
    Column("Modal awal", "opening_float", "money"),
    Column("Transaksi", "sales_count", "number"),
    Column("Penjualan tunai", "cash_sales", "money"),
    Column("Batal tunai", "cash_voids", "money"),
    Column("Retur tunai", "cash_refunds", "money"),
    Column("Kas masuk", "cash_in", "money"),
    Column("Kas keluar", "cash_out", "money"),
    Column("Kas seharusnya", "expected_cash", "money"),
    Column("Menurut kasir", "claimed_expected_cash", "money"),
    Column("Kas dihitung", "counted_cash", "money"),
    Column("Selisih", "difference", "money"),
    Column("Ditutup oleh", "closed_by_name"),
    Column("Ditutup", "closed_at", "datetime"),
    Column("Masih buka", "open"),
)
