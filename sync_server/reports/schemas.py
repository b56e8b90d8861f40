"""What the reports answer: wire schemas shared by the JSON API, the CSV export and the
manager's web pages. Money is whole rupiah; dates are the store's local days."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import Field, computed_field

from shared.models import WireModel
from sync_server.stock.schemas import StockLevelRow

Granularity = Literal["day", "week", "month", "year"]
StockFilter = Literal["negative", "low"]

__all__ = [
    "AlertCounts",
    "CashierRow",
    "Dashboard",
    "DayFigures",
    "Granularity",
    "PaymentMethodRow",
    "PaymentOrderRow",
    "ProductRow",
    "RefundsVoidsDiscounts",
    "RejectedEventRow",
    "SalesFigures",
    "SalesOverTime",
    "SalesPeriod",
    "StockFilter",
    "StockLevelRow",
    "TerminalHealthRow",
    "TerminalRow",
]


class SalesFigures(WireModel):
    """Sales, refunds and voids summed over some rows. Voided sales are not in the sales."""

    sales_count: int = 0
    gross: int = Field(default=0, description="Price times quantity before discounts.")
    discounts: int = Field(default=0, description="Line discounts plus order discounts/vouchers.")
    tax: int = 0
    net: int = Field(default=0, description="What customers paid (sales totals).")
    refunds_count: int = 0
    refunds_amount: int = 0
    voids_count: int = 0
    voids_amount: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def net_after_refunds(self) -> int:
        """Net sales less money refunded."""
        return self.net - self.refunds_amount


class SalesPeriod(SalesFigures):
    """One period (day, ISO week from Monday, month or year) of sales."""

    period_start: date
    period_end: date
    label: str = Field(examples=["2025-03-01", "2025-W09", "2025-03", "2025"])


class SalesOverTime(WireModel):
    """Sales per period between two store-local days (both included)."""

    store_id: int
    granularity: Granularity
    start: date
    end: date
    periods: list[SalesPeriod]
    totals: SalesFigures
    exclude_flagged: bool = Field(
        default=False, description="Sales with an open flag were left out of every figure."
    )
    flagged: SalesFigures = Field(
        default_factory=SalesFigures,
        description="What the sales with an open flag add up to in the period "
        "(left out of the figures when `exclude_flagged`).",
    )
    tax_claimed: int = Field(
        default=0, description="PPN of the period as the tills computed it (= `totals.tax`)."
    )
    tax_recomputed: int = Field(
        default=0,
        description="PPN of the period with each `tax_mismatch` line recomputed at the rate "
        "the server expected; differs from `tax_claimed` only when such flags exist.",
    )


class ProductRow(WireModel):
    """A product's units and money over a period (voided sales left out)."""

    product_id: int
    sku: str
    name: str
    quantity: int
    revenue: int
    refunded_quantity: int
    refunded_amount: int


REFUND_METHOD_LABELS = {
    "cash": "Tunai",
    "qris": "QRIS",
    "qris_static": "QRIS statis",
    "external": "Di luar kasir",
}
"""How the reports name a payment or refund method. ``external``: a refund given back
outside the till (a transfer), never from the drawer."""


def method_label(method: str) -> str:
    """``external`` → ``Di luar kasir``; an unknown method upper-cased."""
    return REFUND_METHOD_LABELS.get(method, method.upper())


class PaymentMethodRow(WireModel):
    """Money taken and refunded by one payment method (split tenders count per part).

    Refunds count under the method the money went back by: ``external`` (outside the
    till) is a row of its own, with no payments."""

    method: str
    label: str = Field(default="", description="The method's name, e.g. 'Di luar kasir'.")
    payments_count: int
    amount: int
    refunds_count: int
    refunds_amount: int


class CashierRow(SalesFigures):
    """Sales of one cashier (refunds: those the cashier rang up)."""

    cashier_id: int
    username: str
    full_name: str
    no_sale_opens: int = Field(
        default=0, description="Times the cashier opened the drawer with no sale (approved)."
    )


class TerminalRow(SalesFigures):
    """Sales of one terminal."""

    terminal_id: int
    code: str
    name: str


class DayFigures(SalesFigures):
    """A day's figures."""

    day: date


class RefundMethodRow(WireModel):
    """Refunds of a period given back one way: ``cash`` from the drawer, ``external``
    outside the till (``qris``: the same, from tills older than ``external``)."""

    method: str
    label: str
    refunds_count: int
    refunds_amount: int


class RefundsVoidsDiscounts(WireModel):
    """Money that did not stay: discounts given, refunds and voids, in total and per day."""

    store_id: int
    start: date
    end: date
    totals: SalesFigures
    days: list[DayFigures]
    refunds_by_method: list[RefundMethodRow] = Field(default_factory=list)


class RejectedEventRow(WireModel):
    """An event a till sent that the server refused, with the reason."""

    event_id: uuid.UUID
    terminal_id: int
    terminal_code: str
    type: str
    code: str
    reason: str
    attempts: int
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None = None
    resolved_by: int | None = None
    resolution: str | None = None


class TerminalHealthRow(WireModel):
    """How a terminal's sync is doing."""

    terminal_id: int
    code: str
    name: str
    enrolled: bool
    revoked: bool
    last_seen_at: datetime | None
    minutes_since_seen: int | None
    stale: bool = Field(description="Not seen for more than 30 minutes (or never).")
    events_waiting: int | None = Field(description="As the till last reported it.")
    unresolved_rejected: int
    rejected: list[RejectedEventRow]


class PaymentOrderRow(WireModel):
    """A QRIS payment order and where it stands."""

    order_id: str
    terminal_id: int
    amount: int
    status: str
    method: str | None
    reference: str | None
    created_at: datetime
    expires_at: datetime | None
    paid_at: datetime | None
    last_error: str | None


class AlertCounts(WireModel):
    """What needs the manager's attention now."""

    negative_stock: int
    low_stock: int
    stale_terminals: int
    unresolved_rejected: int
    failed_payments_today: int = Field(description="QRIS orders FAILED or EXPIRED today.")
    open_flags: int = Field(default=0, description="Flags of the store no one resolved yet.")


class Dashboard(WireModel):
    """Today against yesterday, the last 7 days and the alerts."""

    store_id: int
    today: date
    today_figures: SalesFigures
    yesterday_figures: SalesFigures
    last_7_days: list[DayFigures]
    alerts: AlertCounts
    exclude_flagged: bool = Field(
        default=False, description="Sales with an open flag were left out of the figures."
    )
