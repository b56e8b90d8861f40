"""The one list of period reports: the JSON/CSV API and the manager's pages both read it.

A report over a period is one :class:`Report` entry: the service function that runs
it, the answer it gives, which rows of that answer make the table and the CSV, and
how the page draws it (columns, chart, totals). Add a report here and its API route,
its CSV download and its page follow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel

from sync_server.reports import margin, service
from sync_server.reports.csv_export import csv_fields
from sync_server.reports.schemas import (
    CashierRow,
    DayFigures,
    HourlySales,
    HourRow,
    MarginByCategory,
    MarginByProduct,
    MarginCategoryRow,
    MarginOverTime,
    MarginPeriod,
    MarginProductRow,
    PaymentMethodRow,
    ProductRow,
    RefundsVoidsDiscounts,
    SalesOverTime,
    SalesPeriod,
    TerminalRow,
)

ColumnKind = Literal[
    "text",
    "money",
    "number",
    "payment_method",
    "date",
    "datetime",
    "period",
    "qris_status",
    "event_type",
    "yes_no",
]
"""How a cell is shown: ``money`` Rp 12.500, ``number`` 1.250, ``date`` dd/mm/yyyy,
``datetime`` dd/mm/yyyy HH:MM (store time), ``period`` a sales period's label
(:func:`period_label`), and the Indonesian names of payment methods, QRIS statuses,
sync event types and yes/no (:func:`label_of`)."""

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


QRIS_STATUS_LABELS = {
    "UNPAID": "Belum dibayar",
    "PAID": "Lunas",
    "EXPIRED": "Kedaluwarsa",
    "FAILED": "Gagal",
    "REFUND": "Dikembalikan",
}
"""A QRIS order's status as the pages and Excel files name it (the JSON and the CSV
keep Tripay's codes)."""

EVENT_TYPE_LABELS = {
    "sale": "Penjualan",
    "refund": "Retur",
    "void": "Pembatalan",
    "shift_open": "Buka shift",
    "shift_close": "Tutup shift",
    "cash_move": "Kas masuk/keluar",
    "no_sale": "Buka laci tanpa transaksi",
}
"""A sync event's type in the manager's words (unknown types show their code)."""

MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)


def period_label(label: str) -> str:
    """A sales period as the shop reads it: ``2025-03-01`` → ``01/03/2025``,
    ``2025-W09`` → ``Minggu 9/2025``, ``2025-03`` → ``Maret 2025``, ``2025`` unchanged."""
    parts = label.split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return f"{parts[2]}/{parts[1]}/{parts[0]}"
    if len(parts) == 2 and parts[1].startswith("W") and parts[1][1:].isdigit():
        return f"Minggu {int(parts[1][1:])}/{parts[0]}"
    if len(parts) == 2 and parts[1].isdigit() and 1 <= int(parts[1]) <= 12:
        return f"{MONTHS[int(parts[1]) - 1]} {parts[0]}"
    return label


def label_of(kind: ColumnKind, value: Any) -> str | None:
    """The Indonesian text of a coded value (None: ``kind`` is not a coded kind)."""
    if kind == "payment_method":
        return payment_method_label(str(value))
    if kind == "qris_status":
        return QRIS_STATUS_LABELS.get(str(value), str(value))
    if kind == "event_type":
        return EVENT_TYPE_LABELS.get(str(value), str(value))
    if kind == "yes_no":
        return "Ya" if value else "Tidak"
    if kind == "period":
        return period_label(str(value))
    return None


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
    row: type[BaseModel] | None = None
    """The rows' schema, whose field names are the CSV's header (default: the item type
    of a ``list[...]`` answer, else the columns' keys)."""

    def csv_columns(self) -> list[str]:
        """The CSV header: stable machine names, written even for an empty period."""
        row = self.row
        if row is None and get_origin(self.answer) is list:
            row = get_args(self.answer)[0]
        if row is None:
            return [column.key for column in self.columns]
        return csv_fields(row)

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


_MARGIN_COLUMNS = (
    Column("Terjual", "quantity", "number"),
    Column("Penjualan tanpa PPN", "revenue", "money"),
    Column("HPP", "cost", "money"),
    Column("Laba kotor", "gross_margin", "money"),
    Column("Margin", "margin_label"),
    Column("HPP belum diketahui (baris)", "unknown_lines", "number"),
)
"""The figures of every margin report (purchasing: reports/margin.py)."""

_MARGIN_TOTALS = (
    Figure("Laba kotor", (("gross_margin", "money"),)),
    Figure("HPP", (("cost", "money"),)),
    Figure("Penjualan tanpa PPN", (("revenue", "money"),)),
    Figure("HPP belum diketahui (baris)", (("unknown_lines", "number"),)),
)

_MARGIN_NOTE = (
    " Revenue is without PPN; refunds are taken out at the cost their line was sold at. "
    "Lines whose cost was unknown when sold are counted in `unknown_lines` and left out "
    "of the margin (`gross_margin = costed_revenue - cost`), never taken as cost 0."
)

_MARGIN_REPORTS: tuple[Report, ...] = (
    Report(
        slug="margin",
        path="margin",
        title="Laba kotor",
        summary="Gross margin and cost of goods sold (HPP) by day, week, month or year",
        description="HPP and gross margin per period." + _MARGIN_NOTE,
        run=margin.margin_over_time,
        answer=MarginOverTime,
        rows=lambda answer: list(answer.periods),
        columns=(Column("Periode", "label", "period"), *_MARGIN_COLUMNS),
        chart_caption="Laba kotor per periode",
        chart_label=lambda row: row.label,
        chart_value=lambda row: row.gross_margin,
        totals=_MARGIN_TOTALS,
        by_granularity=True,
        row=MarginPeriod,
    ),
    Report(
        slug="margin-products",
        path="margin-products",
        title="Laba per produk",
        summary="Gross margin and HPP per product",
        description="HPP and gross margin per product, largest margin first." + _MARGIN_NOTE,
        run=margin.margin_by_product,
        answer=MarginByProduct,
        rows=lambda answer: list(answer.rows),
        columns=(Column("SKU", "sku"), Column("Nama", "name"), *_MARGIN_COLUMNS),
        chart_caption="Laba kotor per produk",
        chart_label=lambda row: row.name or row.sku,  # named as the shop knows them
        chart_value=lambda row: row.gross_margin,
        chart_limit=15,
        totals=_MARGIN_TOTALS,
        row=MarginProductRow,
    ),
    Report(
        slug="margin-categories",
        path="margin-categories",
        title="Laba per kategori",
        summary="Gross margin and HPP per category",
        description="HPP and gross margin per product category." + _MARGIN_NOTE,
        run=margin.margin_by_category,
        answer=MarginByCategory,
        rows=lambda answer: list(answer.rows),
        columns=(Column("Kategori", "category"), *_MARGIN_COLUMNS),
        chart_caption="Laba kotor per kategori",
        chart_label=lambda row: row.category,
        chart_value=lambda row: row.gross_margin,
        totals=_MARGIN_TOTALS,
        row=MarginCategoryRow,
    ),
)
"""Margin and HPP (purchasing), appended at the end of :data:`PERIOD_REPORTS`."""


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
        columns=(Column("Periode", "label", "period"), *FIGURE_COLUMNS),
        chart_caption="Penjualan bersih per periode",
        chart_label=lambda row: row.label,
        chart_value=lambda row: row.net_after_refunds,
        totals=_SALES_TOTALS,
        by_granularity=True,
        flag_filter=True,
        row=SalesPeriod,
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
        # Named as the shop knows them (the SKU stays a column).
        chart_label=lambda row: row.name or row.sku,
        chart_value=lambda row: row.revenue,
        chart_limit=15,
    ),
    Report(
        slug="hours",
        path="hourly",
        title="Jam ramai",
        summary="Sales by hour of the day (busy hours)",
        description=(
            "Transactions, net and average basket per store-local hour 00-23 over the "
            "period (voided sales left out; all 24 hours listed), and the busiest hour. "
            "Example: `?start=2025-01-01&end=2025-12-31`."
        ),
        run=service.hourly_sales,
        answer=HourlySales,
        rows=lambda answer: list(answer.hours),
        columns=(
            Column("Jam", "label"),
            Column("Transaksi", "sales_count", "number"),
            Column("Penjualan", "net", "money"),
            Column("Rata-rata per transaksi", "average_basket", "money"),
        ),
        chart_caption="Penjualan per jam",
        chart_label=lambda row: f"{row.hour:02d}",
        chart_value=lambda row: row.net,
        totals=(
            Figure("Jam tersibuk", (("busiest_label", "text"),)),
            Figure("Transaksi", (("sales_count", "number"),)),
            Figure("Penjualan", (("net", "money"),)),
            Figure("Rata-rata per transaksi", (("average_basket", "money"),)),
        ),
        row=HourRow,
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
            Column("Tanggal", "day", "date"),
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
        row=DayFigures,
    ),
    *_MARGIN_REPORTS,
)
"""The period reports, in the pages' menu order."""

REPORTS_BY_SLUG = {report.slug: report for report in PERIOD_REPORTS}


def report_by_slug(slug: str) -> Report | None:
    """The period report a page names, or None."""
    return REPORTS_BY_SLUG.get(slug)


# --- the lists' downloads ------------------------------------------------------------------
#
# The API's list answers (and the pages showing them) download as Excel with these
# columns; their CSV keeps the rows' field names (see ``csv_export``).

DAY_COLUMNS = (Column("Tanggal", "day", "date"), *FIGURE_COLUMNS)
"""The dashboard's last 7 days."""

PAYMENT_ORDER_COLUMNS = (
    Column("No. pesanan", "order_id"),
    Column("Dibuat", "created_at", "datetime"),
    Column("Jumlah", "amount", "money"),
    Column("Status", "status", "qris_status"),
    Column("Kanal", "method"),
    Column("Referensi", "reference"),
    Column("Kedaluwarsa", "expires_at", "datetime"),
    Column("Dibayar", "paid_at", "datetime"),
    Column("Catatan", "last_error"),
)
"""QRIS payment orders."""

TERMINAL_HEALTH_COLUMNS = (
    Column("Kode", "code"),
    Column("Nama", "name"),
    Column("Terdaftar", "enrolled", "yes_no"),
    Column("Dicabut", "revoked", "yes_no"),
    Column("Terakhir terlihat", "last_seen_at", "datetime"),
    Column("Menit sejak terlihat", "minutes_since_seen", "number"),
    Column("Lama tak terlihat", "stale", "yes_no"),
    Column("Antre", "events_waiting", "number"),
    Column("Ditolak", "unresolved_rejected", "number"),
)
"""The tills' sync health."""

REJECTED_EVENT_COLUMNS = (
    Column("Terminal", "terminal_code"),
    Column("Jenis", "type", "event_type"),
    Column("Kode", "code"),
    Column("Alasan", "reason"),
    Column("Percobaan", "attempts", "number"),
    Column("Pertama", "first_seen_at", "datetime"),
    Column("Terakhir", "last_seen_at", "datetime"),
    Column("Diselesaikan", "resolved_at", "datetime"),
    Column("Catatan", "resolution"),
)
"""Transactions the server refused."""

STOCK_LEVEL_COLUMNS = (
    Column("SKU", "sku"),
    Column("Nama", "name"),
    Column("Stok", "on_hand", "number"),
    Column("Batas stok rendah", "low_stock_threshold", "number"),
    Column("Minus", "negative", "yes_no"),
    Column("Rendah", "low", "yes_no"),
)
"""Stock on hand."""
