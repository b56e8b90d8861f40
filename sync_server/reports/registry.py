"""The one list of period reports: the JSON/CSV API and the manager's pages both read it.

A report over a period is one :class:`Report` entry: the service function that runs
it, the answer it gives, which rows of that answer make the table and the CSV, and
how the page draws it (columns, chart, totals). Add a report here and its API route,
its CSV download and its page follow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from sync_server.reports import service
from sync_server.reports.schemas import (
    CashierRow,
    PaymentMethodRow,
    ProductRow,
    RefundsVoidsDiscounts,
    SalesOverTime,
    TerminalRow,
)

ColumnKind = Literal["text", "money", "number", "payment_method"]

GRANULARITIES = {"day": "Harian", "week": "Mingguan", "month": "Bulanan", "year": "Tahunan"}
"""The groupings of the sales report, with the page's name for each."""

PAYMENT_METHOD_LABELS = {
    "cash": "Tunai",
    "qris": "QRIS",
    "qris_static": "QRIS statis",
    "external": "Di luar kasir",
}
"""How the pages name a payment method (others are shown upper-cased)."""


def payment_method_label(method: str) -> str:
    """``cash`` → ``Tunai``; an unknown method upper-cased."""
    return PAYMENT_METHOD_LABELS.get(method, method.upper())


@dataclass(frozen=True)
class Column:
    """A column of a report's table on the page: heading, row field and kind of value."""

    title: str
    key: str
    kind: ColumnKind = "text"


@dataclass(frozen=True)
class Figure:
    """A headline figure over the whole period (a card above the table)."""

    label: str
    values: tuple[tuple[str, ColumnKind], ...]
    """Fields of the answer's ``totals`` shown in the card, joined with a dot."""


@dataclass(frozen=True)
class Report:
    """One period report: what runs it, what it answers, and how its page shows it."""

    slug: str
    """The page, ``/web/reports/<slug>``."""
    path: str
    """The API route, ``/api/v1/reports/<path>``."""
    title: str
    """The page's title and menu entry."""
    summary: str
    description: str
    run: Callable[..., Any]
    """``run(db, *, store_id, start, end, **options)``: a reports service function."""
    answer: Any
    """The JSON answer's schema (the API's response model)."""
    rows: Callable[[Any], Sequence[BaseModel]]
    """The rows of an answer: the page's table and the CSV file."""
    columns: tuple[Column, ...]
    chart_caption: str
    chart_label: Callable[[Any], str]
    chart_value: Callable[[Any], int]
    chart_limit: int | None = None
    """Draw only the first rows (the table still lists them all)."""
    totals: tuple[Figure, ...] = ()
    by_granularity: bool = False
    """The report takes ``granularity`` (day, week, month, year)."""
    flag_filter: bool = False
    """The report takes ``exclude_flagged`` (leave out sales with an open flag)."""

    def csv_name(self, *, start: Any, end: Any, granularity: str | None = None) -> str:
        """The CSV download's file name (without ``.csv``)."""
        parts = [self.path]
        if self.by_granularity and granularity:
            parts.append(granularity)
        return "-".join([*parts, str(start), str(end)])


def _as_list(answer: Any) -> Sequence[BaseModel]:
    return list(answer)


FIGURE_COLUMNS = (
    Column("Transaksi", "sales_count", "number"),
    Column("Kotor", "gross", "money"),
    Column("Diskon", "discounts", "money"),
    Column("Pajak", "tax", "money"),
    Column("Penjualan", "net", "money"),
    Column("Retur", "refunds_amount", "money"),
    Column("Batal", "voids_amount", "money"),
    Column("Penjualan bersih", "net_after_refunds", "money"),
)

_SALES_TOTALS = (
    # One meaning on the till's X/Z and here: sales - refunds - voids (voided sales
    # are not in ``net``; docs/pricing.md).
    Figure("Penjualan bersih", (("net_after_refunds", "money"),)),
    Figure("Transaksi", (("sales_count", "number"),)),
    Figure("Diskon", (("discounts", "money"),)),
    Figure("Retur", (("refunds_amount", "money"),)),
    Figure("Batal", (("voids_amount", "money"),)),
)


def _money_out(day: Any) -> int:
    return int(day.discounts + day.refunds_amount + day.voids_amount)


def _sales_per(
    *,
    group: str,
    title: str,
    summary: str,
    description: str,
    run: Callable[..., Any],
    row: type[BaseModel],
    columns: tuple[Column, ...],
    chart_label: Callable[[Any], str],
) -> Report:
    """A report of the sales figures per cashier or per till: one row each, the row's
    own ``columns`` then :data:`FIGURE_COLUMNS`, charted by net after refunds."""
    return Report(
        slug=group,
        path=group,
        title=title,
        summary=summary,
        description=description,
        run=run,
        answer=list[row],  # type: ignore[valid-type]
        rows=_as_list,
        columns=(*columns, *FIGURE_COLUMNS),
        chart_caption=f"Penjualan bersih per {title.lower()}",
        chart_label=chart_label,
        chart_value=lambda answer_row: answer_row.net_after_refunds,
    )


PERIOD_REPORTS: tuple[Report, ...] = (
    Report(
        slug="sales",
        path="sales",
        title="Penjualan",
        summary="Sales by day, ISO week, month or year",
        description=(
            "Sales count, gross, discounts, tax, net, refunds and voids per period (voided "
            "sales are not counted as sales). `exclude_flagged=true` leaves out sales with "
            "an open flag; `tax_claimed`/`tax_recomputed` give the period's PPN as the tills "
            "claimed it and as the server recomputes it. Example: "
            "`?granularity=month&start=2025-01-01&end=2025-12-31`."
        ),
        run=service.sales_over_time,
        answer=SalesOverTime,
        rows=lambda answer: list(answer.periods),
        columns=(Column("Periode", "label"), *FIGURE_COLUMNS),
        chart_caption="Penjualan bersih per periode",
        chart_label=lambda row: row.label,
        chart_value=lambda row: row.net_after_refunds,
        totals=_SALES_TOTALS,
        by_granularity=True,
        flag_filter=True,
    ),
    Report(
        slug="products",
        path="top-products",
        title="Produk terlaris",
        summary="Best-selling products",
        description="Units, revenue and refunds per product, best first.",
        run=service.top_products,
        answer=list[ProductRow],
        rows=_as_list,
        columns=(
            Column("SKU", "sku"),
            Column("Nama", "name"),
            Column("Terjual", "quantity", "number"),
            Column("Pendapatan", "revenue", "money"),
            Column("Diretur", "refunded_quantity", "number"),
            Column("Nilai retur", "refunded_amount", "money"),
        ),
        chart_caption="Pendapatan produk terlaris",
        chart_label=lambda row: row.sku,
        chart_value=lambda row: row.revenue,
        chart_limit=15,
    ),
    Report(
        slug="payment-methods",
        path="payment-methods",
        title="Metode bayar",
        summary="Money by payment method",
        description="Cash and QRIS taken and refunded; each part of a split tender counts once.",
        run=service.by_payment_method,
        answer=list[PaymentMethodRow],
        rows=_as_list,
        columns=(
            Column("Metode", "method", "payment_method"),
            Column("Pembayaran", "payments_count", "number"),
            Column("Jumlah", "amount", "money"),
            Column("Retur", "refunds_count", "number"),
            Column("Nilai retur", "refunds_amount", "money"),
        ),
        chart_caption="Uang diterima per metode",
        chart_label=lambda row: payment_method_label(row.method),
        chart_value=lambda row: row.amount,
    ),
    _sales_per(
        group="cashiers",
        title="Kasir",
        summary="By cashier",
        description="Sales, refunds and voids each cashier rang up.",
        run=service.by_cashier,
        row=CashierRow,
        columns=(Column("Kasir", "full_name"),),
        chart_label=lambda row: row.username,
    ),
    _sales_per(
        group="terminals",
        title="Terminal",
        summary="By terminal",
        description="Sales, refunds and voids per till.",
        run=service.by_terminal,
        row=TerminalRow,
        columns=(Column("Terminal", "code"), Column("Nama", "name")),
        chart_label=lambda row: row.code,
    ),
    Report(
        slug="refunds",
        path="refunds-voids-discounts",
        title="Retur, batal, diskon",
        summary="Refunds, voids and discounts per day",
        description=(
            "Discounts given (line and order/voucher), refunds and voids, in total and per day."
        ),
        run=service.refunds_voids_discounts,
        answer=RefundsVoidsDiscounts,
        rows=lambda answer: list(answer.days),
        columns=(
            Column("Tanggal", "day"),
            Column("Diskon", "discounts", "money"),
            Column("Retur", "refunds_count", "number"),
            Column("Nilai retur", "refunds_amount", "money"),
            Column("Batal", "voids_count", "number"),
            Column("Nilai batal", "voids_amount", "money"),
        ),
        chart_caption="Diskon + retur + batal per hari",
        chart_label=lambda row: row.day.strftime("%d/%m"),
        chart_value=_money_out,
        totals=(
            Figure("Diskon", (("discounts", "money"),)),
            Figure("Retur", (("refunds_count", "number"), ("refunds_amount", "money"))),
            Figure("Batal", (("voids_count", "number"), ("voids_amount", "money"))),
        ),
    ),
)
"""The period reports, in the pages' menu order."""

REPORTS_BY_SLUG = {report.slug: report for report in PERIOD_REPORTS}


def report_by_slug(slug: str) -> Report | None:
    """The period report a page names, or None."""
    return REPORTS_BY_SLUG.get(slug)
