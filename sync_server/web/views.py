"""What the manager pages show: formatted figures, error sentences, report and dashboard
layouts, the receipt preview and the label sheet. Everything comes from the features'
services; nothing here reads a table.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypedDict
from urllib.parse import urlencode

from pydantic import BaseModel, ValidationError

from shared.messages import has_message
from shared.messages import render as render_message
from shared.models import Role
from shared.money import format_rupiah
from shared.timezones import DEFAULT_TIMEZONE, store_zone
from sync_server.core.database import Database
from sync_server.flags.schemas import FlagOut
from sync_server.reports import service as reports_service
from sync_server.reports.registry import (
    GRANULARITIES,
    MONTHS,
    PERIOD_REPORTS,
    Column,
    ColumnKind,
    Report,
    label_of,
)
from sync_server.web.access import WebSession
from sync_server.web.charts import Chart, bar_chart, number

__all__ = ["GRANULARITIES", "number"]

ROLE_LABELS = {
    Role.CASHIER: "Kasir",
    Role.SUPERVISOR: "Supervisor",
    Role.MANAGER: "Manajer",
    Role.ADMIN: "Admin",
}

QRIS_STATUSES = ("UNPAID", "PAID", "EXPIRED", "FAILED", "REFUND")
"""The statuses a QRIS order can have, as the payments page filters them."""


# ---------------------------------------------------------------- formatting


def rupiah(amount: int | None) -> str:
    """``12500`` → ``Rp 12.500`` (the Jinja filter ``rupiah``)."""
    return format_rupiah(int(amount or 0))


def local_time(moment: datetime | None, timezone: str = DEFAULT_TIMEZONE) -> str:
    """A UTC moment as the store reads it: ``31/12/2024 21:05``, or a dash."""
    if moment is None:
        return "—"
    zone = store_zone(timezone)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime("%d/%m/%Y %H:%M")


# ---------------------------------------------------------------- errors


def error_text(exc: BaseException) -> str:
    """The sentence a manager reads for a refused action, in Bahasa Indonesia.

    Errors that carry a message code render it through the Indonesian table
    (``exc.text("id")``); anything else shows its own text.
    """
    text = getattr(exc, "text", None)
    if callable(text):
        return str(text("id"))
    return str(exc)


def validation_messages(exc: ValidationError) -> list[str]:
    """A pydantic error as short sentences naming the field."""
    out = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err.get("loc", ()))
        out.append(f"{where}: {err.get('msg', '')}" if where else str(err.get("msg", "")))
    return out


def error_messages(exc: Exception) -> list[str]:
    """What a form shows for a refused change: the service's sentence(s)."""
    if isinstance(exc, ValidationError):
        return validation_messages(exc)
    return [error_text(exc)]


# ---------------------------------------------------------------- list downloads


class CatalogRow(BaseModel):
    """A product as the catalog's CSV export writes it (the import's columns)."""

    sku: str
    barcode: str = ""
    name: str
    category: str = ""
    unit: str = ""
    price: int = 0
    tax_code: str = ""
    active: bool = True
    low_stock_threshold: int = 0


CATALOG_COLUMNS = (
    Column("SKU", "sku"),
    Column("Barcode", "barcode"),
    Column("Nama", "name"),
    Column("Kategori", "category"),
    Column("Satuan", "unit"),
    Column("Harga", "price", "money"),
    Column("Kode pajak", "tax_code"),
    Column("Aktif", "active", "yes_no"),
    Column("Batas stok rendah", "low_stock_threshold", "number"),
)
"""The catalog's Excel download (its CSV is the import format, see ``catalog.csv_io``)."""


def catalog_rows(csv_text: str) -> list[CatalogRow]:
    """The rows of the catalog's CSV export, typed for the Excel file."""
    return [CatalogRow.model_validate(line) for line in csv.DictReader(io.StringIO(csv_text))]


class UserRow(BaseModel):
    """A person as the users list downloads them."""

    username: str
    full_name: str
    role: str
    role_label: str
    active: bool
    has_pin: bool
    has_password: bool
    created_at: datetime


USER_COLUMNS = (
    Column("Nama pengguna", "username"),
    Column("Nama", "full_name"),
    Column("Peran", "role_label"),
    Column("Aktif", "active", "yes_no"),
    Column("PIN", "has_pin", "yes_no"),
    Column("Kata sandi", "has_password", "yes_no"),
    Column("Dibuat", "created_at", "datetime"),
)
USER_CSV_COLUMNS = ("username", "full_name", "role", "active", "has_pin", "has_password")
"""The users list's CSV header (machine names; the role as its code)."""


def user_rows(users: Sequence[Any]) -> list[UserRow]:
    """People (``UserPublic``) as the users list downloads them."""
    return [
        UserRow(
            username=u.username,
            full_name=u.full_name,
            role=str(Role(u.role).value),
            role_label=ROLE_LABELS.get(Role(u.role), str(u.role)),
            active=u.active,
            has_pin=u.has_pin,
            has_password=u.has_password,
            created_at=u.created_at,
        )
        for u in users
    ]


def rejection_text(code: str) -> str | None:
    """Why the server refused a till's transaction, in Indonesian (None: a code with no
    message; the page then shows the server's own technical reason)."""
    key = f"rejected_{code}"
    return render_message(key, {}, "id") if has_message(key, "id") else None


# ---------------------------------------------------------------- people


def assignable_roles(ws: WebSession) -> list[Role]:
    """Roles this manager may give: cashier and supervisor; an admin any."""
    if ws.is_admin:
        return list(Role)
    return [Role.CASHIER, Role.SUPERVISOR]


# ---------------------------------------------------------------- reports


PRESETS = {
    "today": "Hari ini",
    "7d": "7 hari",
    "30d": "30 hari",
    "month": "Bulan ini",
    "year": "Tahun ini",
}

REPORTS = tuple((report.slug, report.title) for report in PERIOD_REPORTS)
"""The report pages under ``/web/reports/<slug>``, in menu order (from the registry)."""


def report_period(
    today: date, *, preset: str | None, start: date | None, end: date | None
) -> tuple[date, date, str | None]:
    """The days a report covers: a preset, or typed dates (default: the last 30 days)."""
    if preset == "today":
        return today, today, preset
    if preset == "7d":
        return today - timedelta(days=6), today, preset
    if preset == "month":
        return today.replace(day=1), today, preset
    if preset == "year":
        return today.replace(month=1, day=1), today, preset
    if start is None and end is None:
        return today - timedelta(days=29), today, "30d"
    end = end or today
    start = start or end - timedelta(days=29)
    if start > end:
        start, end = end, start
    return start, end, None


def day_text(value: Any) -> str:
    """A day as the shop writes it: ``2025-03-01`` → ``01/03/2025`` (the filter ``tanggal``)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value)[:10])
        except ValueError:
            return str(value)
    return value.strftime("%d/%m/%Y")


def show(kind: ColumnKind, value: Any, timezone: str = DEFAULT_TIMEZONE) -> str:
    """A table cell: rupiah, a count, a payment method's name, a day (dd/mm/yyyy), a
    moment in the store's time (dd/mm/yyyy HH:MM), a coded value's Indonesian name
    (:func:`~sync_server.reports.registry.label_of`), or the value as text."""
    if kind == "money":
        return rupiah(value)
    if kind == "number":
        return "—" if value is None else number(value)
    label = label_of(kind, value)
    if label is not None:
        return label
    if kind == "date":
        return day_text(value)
    if kind == "datetime":
        if value is not None and not isinstance(value, datetime):
            try:
                value = datetime.fromisoformat(str(value))
            except ValueError:
                return str(value)
        return local_time(value, timezone)
    return "" if value is None else str(value)


@dataclass(frozen=True)
class ColumnView:
    """A report table column as the template uses it."""

    title: str
    key: str
    kind: ColumnKind = "text"

    def show(self, row: Any) -> str:
        """The cell text of ``row``."""
        return show(self.kind, getattr(row, self.key, None))

    @property
    def numeric(self) -> bool:
        """Right-aligned columns."""
        return self.kind in ("money", "number")


@dataclass
class ReportView:
    """What a report page shows: a chart, a table, totals and its CSV download."""

    slug: str
    title: str
    chart: Chart
    chart_label: str
    columns: list[ColumnView]
    rows: list[Any]
    csv_path: str
    totals: list[tuple[str, str]] = field(default_factory=list)
    flag_filter: bool = False
    """The report can leave out sales with an open flag (a toggle on the page)."""
    by_granularity: bool = False
    """The report groups by day, week, month or year (tabs on the page)."""
    exclude_flagged: bool = False
    flagged_note: str | None = None
    """What the sales with an open flag add up to, when there are any."""
    tax_note: tuple[str, str] | None = None
    """PPN as the tills claimed it and as the server recomputes it, when they differ."""


def _short_label(label: str, granularity: str) -> str:
    """Chart labels: ``2025-03-01`` → ``01/03``, ``2025-W09`` → ``Mg 9``, ``2025-03`` →
    ``Mar '25``; others unchanged."""
    if granularity == "day" and len(label) == 10:
        return f"{label[8:10]}/{label[5:7]}"
    if granularity == "week" and "-W" in label:
        week = label.split("-W", 1)[1]
        return f"Mg {int(week)}" if week.isdigit() else label
    if granularity == "month" and len(label) == 7 and label[5:].isdigit():
        month = int(label[5:])
        if 1 <= month <= 12:
            return f"{MONTHS[month - 1][:3]} '{label[2:4]}"
    return label


def _figure(totals: Any, values: Sequence[tuple[str, ColumnKind]]) -> str:
    return " · ".join(show(kind, getattr(totals, key)) for key, kind in values)


def _column(column: Column) -> ColumnView:
    return ColumnView(column.title, column.key, column.kind)


@dataclass(frozen=True)
class ReportPeriod:
    """The store a report page reads and the days it covers (``preset`` when one was chosen)."""

    store_id: int
    start: date
    end: date
    preset: str | None = None


def report_view(
    report: Report,
    *,
    db: Database,
    period: ReportPeriod,
    granularity: str = "day",
    exclude_flagged: bool = False,
) -> ReportView:
    """Run a registry report through the reports service and lay it out for the page."""
    store_id, start, end = period.store_id, period.start, period.end
    options: dict[str, Any] = {"granularity": granularity} if report.by_granularity else {}
    exclude_flagged = exclude_flagged and report.flag_filter
    if report.flag_filter:
        options["exclude_flagged"] = exclude_flagged
    answer = report.run(db, store_id=store_id, start=start, end=end, **options)
    rows = list(report.rows(answer))
    charted = rows[: report.chart_limit] if report.chart_limit else rows
    points = []
    for row in charted:
        label = report.chart_label(row)
        if report.by_granularity:
            label = _short_label(label, granularity)
        points.append((label, report.chart_value(row)))
    title = report.title
    csv_path = f"{report.path}?"
    if report.by_granularity:
        title = f"{report.title} {GRANULARITIES[granularity].lower()}"
        csv_path = f"{report.path}?granularity={granularity}&"
    if exclude_flagged:
        csv_path += "exclude_flagged=true&"
    totals = getattr(answer, "totals", None)
    flagged = getattr(answer, "flagged", None)
    flagged_note = None
    if flagged is not None and (flagged.sales_count or flagged.voids_count):
        count = flagged.sales_count + flagged.voids_count
        verb = "tidak dihitung" if exclude_flagged else "termasuk"
        flagged_note = (
            f"{number(count)} transaksi bertanda belum diselesaikan ({rupiah(flagged.net)}) "
            f"{verb} dalam angka di bawah."
        )
    claimed = getattr(answer, "tax_claimed", None)
    recomputed = getattr(answer, "tax_recomputed", None)
    tax_note = None
    if claimed is not None and recomputed is not None and claimed != recomputed:
        tax_note = (rupiah(claimed), rupiah(recomputed))
    return ReportView(
        slug=report.slug,
        title=title,
        chart=bar_chart(points),
        chart_label=report.chart_caption,
        columns=[_column(c) for c in report.columns],
        rows=rows,
        csv_path=csv_path,
        totals=[
            (
                figure.label,
                " · ".join(show(kind, getattr(totals, key)) for key, kind in figure.values),
            )
            for figure in report.totals
        ],
        flag_filter=report.flag_filter,
        by_granularity=report.by_granularity,
        exclude_flagged=exclude_flagged,
        flagged_note=flagged_note,
        tax_note=tax_note,
    )


def csv_url(view: ReportView, period: ReportPeriod, fmt: str = "csv") -> str:
    """The reports API's CSV (or ``fmt``) download of what the page shows (the session
    cookie works)."""
    return (
        f"/api/v1/reports/{view.csv_path}format={fmt}&store_id={period.store_id}"
        f"&start={period.start.isoformat()}&end={period.end.isoformat()}"
    )


def xlsx_url(view: ReportView, period: ReportPeriod) -> str:
    """The reports API's Excel download of what the page shows."""
    return csv_url(view, period, "xlsx")


def form_query(form: dict[str, Any]) -> str:
    """A list's filters as a query string, blank ones left out (for its links)."""
    return urlencode({k: v for k, v in form.items() if v != ""})


class DownloadUrls(TypedDict):
    """A list page's links to its API's downloads."""

    csv_url: str
    xlsx_url: str


def download_urls(api: str, query: str) -> DownloadUrls:
    """The API's CSV and Excel downloads of the same query (the session cookie works)."""
    return {
        "csv_url": f"/api/v1/{api}?format=csv&{query}",
        "xlsx_url": f"/api/v1/{api}?format=xlsx&{query}",
    }


@dataclass(frozen=True)
class Change:
    """Today's figure against yesterday's."""

    label: str
    today: str
    yesterday: str
    percent: int | None
    up: bool


def _change(label: str, today: int, yesterday: int, money: bool = True) -> Change:
    shown = rupiah if money else number
    percent = None if yesterday == 0 else round((today - yesterday) * 100 / abs(yesterday))
    return Change(label, shown(today), shown(yesterday), percent, today >= yesterday)


@dataclass
class DashboardView:
    """The dashboard: today against yesterday, the week's chart and the alerts."""

    today: date
    changes: list[Change]
    chart: Chart
    alerts: list[tuple[str, str, str]]
    open_flags: int = 0
    exclude_flagged: bool = False


def dashboard_view(*, db: Database, store_id: int, exclude_flagged: bool = False) -> DashboardView:
    """Lay out the reports service's dashboard for the page."""
    board = reports_service.dashboard(db, store_id=store_id, exclude_flagged=exclude_flagged)
    t, y = board.today_figures, board.yesterday_figures
    changes = [
        _change("Penjualan bersih", t.net_after_refunds, y.net_after_refunds),
        _change("Transaksi", t.sales_count, y.sales_count, money=False),
        _change(
            "Rata-rata per transaksi",
            t.net // t.sales_count if t.sales_count else 0,
            y.net // y.sales_count if y.sales_count else 0,
        ),
        _change("Retur", t.refunds_amount, y.refunds_amount),
    ]
    days = ["Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min"]
    chart = bar_chart(
        [(f"{days[d.day.weekday()]} {d.day.day}", d.net_after_refunds) for d in board.last_7_days],
        height=240,
    )
    a = board.alerts
    alerts: list[tuple[str, str, str]] = []
    if a.negative_stock:
        alerts.append(
            ("bad", f"{a.negative_stock} produk stoknya minus", "/web/stock?only=negative")
        )
    if a.low_stock:
        alerts.append(("warn", f"{a.low_stock} produk stoknya rendah", "/web/stock?only=low"))
    if a.stale_terminals:
        alerts.append(
            ("warn", f"{a.stale_terminals} terminal tidak terlihat > 30 menit", "/web/terminals")
        )
    if a.unresolved_rejected:
        alerts.append(
            (
                "bad",
                f"{a.unresolved_rejected} transaksi ditolak saat sinkron",
                "/web/terminals#rejected",
            )
        )
    if a.failed_payments_today:
        alerts.append(
            (
                "bad",
                f"{a.failed_payments_today} pembayaran QRIS gagal/kedaluwarsa hari ini",
                "/web/payments?preset=today",
            )
        )
    return DashboardView(
        today=board.today,
        changes=changes,
        chart=chart,
        alerts=alerts,
        open_flags=a.open_flags,
        exclude_flagged=exclude_flagged,
    )


# ---------------------------------------------------------------- flags


FLAG_KIND_LABELS = {
    "price_mismatch": "Harga tidak cocok",
    "tax_mismatch": "PPN tidak cocok",
    "voucher_overused": "Voucher melebihi batas pakai",
    "voucher_unknown": "Voucher tidak dikenal",
    "voucher_invalid": "Voucher tidak berlaku",
    "qris_unverified": "QRIS tidak terverifikasi",
    "shift_foreign": "Shift milik terminal lain",
    "clock_skew": "Jam kasir tidak wajar",
    "qris_orphan": "QRIS dibayar tanpa penjualan",
    "qris_static": "QRIS statis: cocokkan dengan mutasi rekening",
    "points_overdrawn": "Poin ditukar melebihi saldo",
    "points_mismatch": "Potongan poin tidak cocok",
}
"""Each kind of flag in the manager's words (unknown kinds show their code)."""

FLAG_STATUSES = {"open": "Belum selesai", "resolved": "Sudah selesai", "all": "Semua"}


def flag_kind_label(kind: str) -> str:
    """``price_mismatch`` → ``Harga tidak cocok``."""
    return FLAG_KIND_LABELS.get(kind, kind)


def percent_bp(basis_points: Any) -> str:
    """``1100`` → ``11%``, ``1150`` → ``11,5%`` (basis points as the shop reads them)."""
    whole, part = divmod(int(basis_points or 0), 100)
    return f"{whole}%" if not part else f"{whole},{part:02d}".rstrip("0") + "%"


def _moment(value: Any, timezone: str) -> str:
    """A moment from a flag's details (ISO text) as the store reads it."""
    try:
        return local_time(datetime.fromisoformat(str(value)), timezone)
    except ValueError:
        return str(value)


def _day(value: Any) -> str:
    try:
        return datetime.fromisoformat(str(value)).strftime("%d/%m/%Y")
    except ValueError:
        return str(value)


_VOUCHER_PROBLEMS = {
    "inactive": lambda d, tz: "voucher tidak aktif",
    "not_yet_valid": lambda d, tz: f"belum berlaku (mulai {_day(d.get('valid_from'))})",
    "expired": lambda d, tz: f"sudah kedaluwarsa (berlaku sampai {_day(d.get('valid_until'))})",
    "below_min_spend": lambda d, tz: (
        f"belanja {rupiah(d.get('spend'))} di bawah minimum {rupiah(d.get('min_spend'))}"
    ),
}

_QRIS_PROBLEMS = {
    "no_reference": lambda p: "tanpa nomor order atau referensi",
    "unknown_order": lambda p: "order tidak dikenal server",
    "not_paid": lambda p: f"order belum lunas (status {p.get('status')})",
    "other_terminal": lambda p: "order dibuat terminal lain",
    "amount_mismatch": lambda p: f"order bernilai {rupiah(p.get('expected_amount'))}",
    "already_used": lambda p: "order sudah dipakai penjualan lain",
}


def _line_name(flag: FlagOut, line: dict[str, Any]) -> str:
    name = flag.line_names.get(str(line.get("line_id")))
    return f"Baris {line.get('line')} ({name or 'produk #' + str(line.get('product_id'))})"


def flag_details(flag: FlagOut, *, terminals: dict[int, str], timezone: str) -> list[str]:
    """What a flag is about, in plain Indonesian: what the server expected, what the till
    claimed (money in rupiah), one sentence per line, payment or problem."""
    d = flag.details
    kind = flag.kind
    if kind == "price_mismatch":
        out = []
        for line in d.get("lines", ()):
            text = (
                f"{_line_name(flag, line)}: harga di kasir {rupiah(line.get('claimed'))}, "
                f"seharusnya {rupiah(line.get('expected'))}."
            )
            if line.get("override_refused"):
                text += (
                    f" Persetujuan harga oleh pengguna #{line.get('override_by')} tidak "
                    "diterima (bukan supervisor, manajer atau admin toko ini)."
                )
            out.append(text)
        return out
    if kind == "tax_mismatch":
        return [
            f"{_line_name(flag, line)}: PPN di kasir {percent_bp(line.get('claimed'))}, "
            f"seharusnya {percent_bp(line.get('expected'))}."
            for line in d.get("lines", ())
        ]
    if kind == "voucher_overused":
        return [
            f"Voucher {d.get('code')} dipakai untuk ke-{d.get('use_number')} kalinya; "
            f"batasnya {d.get('usage_limit')} kali."
        ]
    if kind == "voucher_unknown":
        return [f"Voucher {d.get('code')} tidak dikenal server."]
    if kind == "voucher_invalid":
        problems = [
            _VOUCHER_PROBLEMS[p](d, timezone) if p in _VOUCHER_PROBLEMS else str(p)
            for p in d.get("problems", ())
        ]
        return [f"Voucher {d.get('code')} tidak berlaku: {'; '.join(problems)}."]
    if kind == "qris_unverified":
        out = []
        for pay in d.get("payments", ()):
            problem = pay.get("problem")
            why = _QRIS_PROBLEMS[problem](pay) if problem in _QRIS_PROBLEMS else str(problem)
            order = pay.get("order_id") or pay.get("reference")
            named = f" (order {order})" if order else ""
            out.append(f"QRIS {rupiah(pay.get('claimed_amount'))}{named} di kasir: {why}.")
        return out
    if kind == "shift_foreign":
        other = d.get("shift_terminal_id")
        code = terminals.get(int(other), f"#{other}") if other is not None else "lain"
        return [f"Memakai shift milik terminal {code}; disimpan tanpa shift."]
    if kind == "clock_skew":
        claimed = _moment(d.get("claimed"), timezone)
        if d.get("problem") == "future":
            server = _moment(d.get("server_time"), timezone)
            return [f"Jam kasir terlalu maju: transaksi bertanggal {claimed}, jam server {server}."]
        since = _moment(d.get("store_since"), timezone)
        return [f"Transaksi bertanggal {claimed}, sebelum toko mulai dipakai ({since})."]
    if kind == "qris_orphan":
        paid = _moment(d.get("paid_at"), timezone)
        return [
            f"QRIS {rupiah(d.get('amount'))} (order {d.get('order_id')}) lunas {paid}, "
            "tetapi tidak ada penjualan tersinkron yang memakainya."
        ]
    if kind == "qris_static":
        return [
            f"QRIS statis {rupiah(d.get('amount'))} dikonfirmasi kasir dari bukti bayar "
            "pelanggan, tanpa konfirmasi Tripay: cocokkan dengan mutasi rekening toko."
        ]
    if kind == "points_overdrawn":
        return [
            f"Saldo poin pelanggan {d.get('balance')}, ditukar {d.get('points_redeemed')}: "
            f"saldo menjadi {d.get('balance_after')}."
        ]
    if kind == "points_mismatch":
        return [
            f"{d.get('points_redeemed')} poin ditukar dengan potongan "
            f"{rupiah(d.get('claimed_discount'))}, seharusnya "
            f"{rupiah(d.get('expected_discount'))}."
        ]
    return [f"{key}: {value}" for key, value in sorted(d.items())]


@dataclass(frozen=True)
class FlagRow:
    """One flag as the exceptions page lists it."""

    flag: FlagOut
    kind_label: str
    details: list[str]

    @property
    def open(self) -> bool:
        """Nobody resolved it yet."""
        return self.flag.resolved_at is None


def flag_rows(
    flags: Sequence[FlagOut], *, terminals: dict[int, str], timezone: str
) -> list[FlagRow]:
    """Lay out a page of flags."""
    return [
        FlagRow(
            flag=f,
            kind_label=flag_kind_label(f.kind),
            details=flag_details(f, terminals=terminals, timezone=timezone),
        )
        for f in flags
    ]
