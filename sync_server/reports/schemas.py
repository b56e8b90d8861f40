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
    "HourRow",
    "HourlySales",
    "HourlyTotals",
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


class HourRow(WireModel):
    """The sales rung up in one local hour of the day (``hour`` 0–23), over a period."""

    hour: int = Field(ge=0, le=23, description="The store-local hour: 13 is 13:00–13:59.")
    label: str = Field(examples=["13:00"])
    sales_count: int = 0
    net: int = Field(default=0, description="What customers paid (sales totals).")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def average_basket(self) -> int:
        """Net per sale, rounded down (0 with no sales)."""
        return self.net // self.sales_count if self.sales_count else 0


class HourlyTotals(WireModel):
    """The whole period, and its busiest hour."""

    sales_count: int = 0
    net: int = 0
    busiest_hour: int | None = Field(
        default=None,
        description="The hour with the most sales (on a tie the larger net, then the earliest).",
    )
    busiest_label: str = Field(default="—", examples=["12:00–12:59"])

    @computed_field  # type: ignore[prop-decorator]
    @property
    def average_basket(self) -> int:
        """Net per sale, rounded down (0 with no sales)."""
        return self.net // self.sales_count if self.sales_count else 0


class HourlySales(WireModel):
    """Sales per local hour of the day (busy hours) between two store-local days.

    Voided sales are left out, as in every sales figure; refunds are not taken off.
    All 24 hours are listed, empty ones with zeros."""

    store_id: int
    start: date
    end: date
    timezone: str = Field(examples=["Asia/Jakarta"])
    hours: list[HourRow]
    totals: HourlyTotals


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


# --- margin (laba kotor) and HPP: sync_server/reports/margin.py --------------------------


class MarginFigures(WireModel):
    """Cost of goods sold (HPP) and gross margin over some sales, refunds taken out.

    Revenue is without PPN. The margin counts only lines whose cost was known when they
    were sold (``costed_revenue - cost``); lines of unknown cost are counted in
    ``unknown_lines``, never taken as free goods."""

    quantity: int = Field(default=0, description="Units sold less units refunded.")
    revenue: int = Field(default=0, description="Net sales without PPN, refunds taken out.")
    costed_revenue: int = Field(
        default=0, description="The part of `revenue` from lines whose cost is known."
    )
    cost: int = Field(default=0, description="HPP: cost of the units sold less those refunded.")
    unknown_lines: int = Field(
        default=0, description="Sale and refund lines whose cost was unknown (not in HPP)."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def gross_margin(self) -> int:
        """Laba kotor: revenue of the costed lines less their HPP."""
        return self.costed_revenue - self.cost

    @computed_field  # type: ignore[prop-decorator]
    @property
    def margin_bp(self) -> int | None:
        """Gross margin over costed revenue in hundredths of a percent (None: no revenue)."""
        if self.costed_revenue == 0:
            return None
        return round(self.gross_margin * 10_000 / self.costed_revenue)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def margin_label(self) -> str:
        """The margin as the pages write it: ``23,5%`` (``–`` without revenue)."""
        if self.margin_bp is None:
            return "–"
        return f"{self.margin_bp / 100:.1f}%".replace(".", ",")


class MarginProductRow(MarginFigures):
    """One product's HPP and gross margin over a period."""

    product_id: int
    sku: str
    name: str
    category: str


class MarginCategoryRow(MarginFigures):
    """One category's HPP and gross margin over a period (0: products with none)."""

    category_id: int
    category: str


class MarginPeriod(MarginFigures):
    """One day, ISO week, month or year of HPP and gross margin."""

    period_start: date
    period_end: date
    label: str


class MarginByProduct(WireModel):
    """HPP and gross margin per product, largest margin first."""

    store_id: int
    start: date
    end: date
    rows: list[MarginProductRow]
    totals: MarginFigures


class MarginByCategory(WireModel):
    """HPP and gross margin per category, largest margin first."""

    store_id: int
    start: date
    end: date
    rows: list[MarginCategoryRow]
    totals: MarginFigures


class MarginOverTime(WireModel):
    """HPP and gross margin per period between two store-local days (both included)."""

    store_id: int
    granularity: Granularity
    start: date
    end: date
    periods: list[MarginPeriod]
    totals: MarginFigures
