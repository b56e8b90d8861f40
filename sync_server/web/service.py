"""Page-only logic of the manager back office: sessions, CSRF, charts and form glue.

The web pages call the other features' services; what lives here is what only a page
needs: who the signed-in manager is (from the session cookie), the CSRF tokens that
every form carries, the geometry of the inline SVG charts, and small adapters from
HTML form fields to the services' wire schemas. Every function that writes runs its
own transaction, so a redirect after a POST always shows the committed result.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from fastapi import Request
from pydantic import ValidationError
from sqlalchemy import or_, select

from shared.models import ProductOut, Role
from shared.money import format_rupiah
from shared.receipt_text import (
    ReceiptData,
    ReceiptLine,
    ReceiptPayment,
    ReceiptStore,
    render_receipt,
)
from shared.timezones import DEFAULT_TIMEZONE, store_zone
from sync_server.auth import service as auth_service
from sync_server.auth.deps import SESSION_COOKIE, principal_of_token
from sync_server.auth.models import User
from sync_server.auth.schemas import UserPublic
from sync_server.catalog.labels import LabelItem, label_sheets_pdf
from sync_server.catalog.models import Product
from sync_server.core.config import Settings
from sync_server.core.database import Database, run_in_transaction
from sync_server.core.errors import AppError, NotFound, Unauthorized
from sync_server.core.models import Store
from sync_server.core.security import constant_time_equal, sign
from sync_server.reports import service as reports_service
from sync_server.reports.schemas import Granularity

LOGIN_NONCE_COOKIE = "kasir_login_nonce"
"""A random value set with the login form; the form's CSRF token is its HMAC."""

T = TypeVar("T")

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

FAILED_LOGIN_DELAY_SECONDS = 0.4
"""Each wrong password costs this much more wall time (the service locks at five)."""

ROLE_LABELS = {
    Role.CASHIER: "Kasir",
    Role.SUPERVISOR: "Supervisor",
    Role.MANAGER: "Manajer",
    Role.ADMIN: "Admin",
}


# ---------------------------------------------------------------- access


class LoginRequired(Exception):
    """No valid session: the page answers with a redirect to the login form."""

    def __init__(self, next_path: str = "/web/") -> None:
        super().__init__("login required")
        self.next_path = next_path


class WebForbidden(Exception):
    """Valid credentials that may not use the back office (or a refused CSRF token)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class WebSession:
    """The signed-in manager or admin of a page request, and the CSRF token of the session."""

    user: User
    token: str
    csrf: str

    @property
    def is_admin(self) -> bool:
        """True for an admin, who sees every store."""
        return Role(self.user.role) is Role.ADMIN


def csrf_token(secret_key: str, session_token: str) -> str:
    """The CSRF token of a session: an HMAC of the session token with the server secret.

    Nothing is stored: any replica recomputes it, and it dies with the session.
    """
    return sign(secret_key, f"csrf:{session_token}")


def csrf_valid(secret_key: str, session_token: str, supplied: str | None) -> bool:
    """True when ``supplied`` is this session's CSRF token (compared in constant time)."""
    if not supplied:
        return False
    return constant_time_equal(csrf_token(secret_key, session_token), supplied)


def new_login_nonce() -> str:
    """A random nonce for the login form's cookie."""
    return secrets.token_urlsafe(24)


def login_csrf_token(secret_key: str, nonce: str) -> str:
    """The login form's CSRF token: an HMAC of the nonce cookie (double submit, signed)."""
    return sign(secret_key, f"login:{nonce}")


def login_csrf_valid(secret_key: str, nonce: str | None, supplied: str | None) -> bool:
    """True when the login form came back with the token of the nonce cookie it was given."""
    if not nonce or not supplied:
        return False
    return constant_time_equal(login_csrf_token(secret_key, nonce), supplied)


def _request_token(request: Request) -> str | None:
    """A bearer token if one is sent (so terminals and cashiers get 403), else the cookie."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(SESSION_COOKIE)


def web_session(request: Request, *, db: Database, settings: Settings) -> WebSession:
    """Who is asking for a back-office page: a manager or admin, or refuse.

    No or a dead session redirects to the login form (:class:`LoginRequired`); a
    cashier, supervisor or terminal gets 403 (:class:`WebForbidden`).
    """
    token = _request_token(request)
    if not token:
        raise LoginRequired(_next_of(request))
    try:
        principal = principal_of_token(db, token)
    except Unauthorized:
        raise LoginRequired(_next_of(request)) from None
    if principal.user is None:
        raise WebForbidden("Terminal kasir tidak boleh membuka back office.")
    if not Role(principal.user.role).at_least(Role.MANAGER):
        raise WebForbidden("Back office hanya untuk manajer dan admin.")
    return WebSession(user=principal.user, token=token, csrf=csrf_token(settings.secret_key, token))


def _next_of(request: Request) -> str:
    if request.method != "GET":
        return "/web/"
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path


def safe_next(raw: str | None) -> str:
    """Where to go after logging in: only a back-office path (no open redirect)."""
    if raw and raw.startswith("/web/") and not raw.startswith("//") and "\\" not in raw:
        return raw
    return "/web/"


def cookie_secure(settings: Settings) -> bool:
    """Session cookies are Secure everywhere but on a developer's or test machine."""
    return settings.environment not in ("development", "test")


def failed_logins_of(*, db: Database, username: str) -> int:
    """The current count of wrong passwords of ``username`` (0 for an unknown name)."""
    with db.session() as session:
        count = session.scalar(select(User.failed_logins).where(User.username == username))
    return int(count or 0)


def user_of_token(*, db: Database, token: str) -> User | None:
    """The user a freshly issued session token belongs to."""
    try:
        return principal_of_token(db, token).user
    except AppError:
        return None


# ---------------------------------------------------------------- formatting


def rupiah(amount: int | None) -> str:
    """``12500`` → ``Rp 12.500`` (the Jinja filter ``rupiah``)."""
    return format_rupiah(int(amount or 0))


def number(value: int | None) -> str:
    """``12500`` → ``12.500``, Indonesian thousands."""
    return f"{int(value or 0):,}".replace(",", ".")


def local_time(moment: datetime | None, timezone: str = DEFAULT_TIMEZONE) -> str:
    """A UTC moment as the store reads it: ``31/12/2024 21:05``, or a dash."""
    if moment is None:
        return "—"
    zone = store_zone(timezone)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime("%d/%m/%Y %H:%M")


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
    if isinstance(exc, AppError):
        return [exc.message]
    return [str(exc)]


# ---------------------------------------------------------------- stores


def store_choices(*, db: Database, ws: WebSession) -> list[Store]:
    """The stores this manager may look at: their own, or every store for an admin."""
    with db.session() as session:
        query = select(Store).order_by(Store.code)
        if not ws.is_admin:
            query = query.where(Store.id == ws.user.store_id)
        rows = list(session.scalars(query))
        for row in rows:
            session.expunge(row)
    return rows


def current_store(*, db: Database, ws: WebSession, requested: int | None) -> Store | None:
    """The store a page shows: a manager's own; an admin's choice, or the first store."""
    stores = store_choices(db=db, ws=ws)
    if requested is not None:
        for store in stores:
            if store.id == requested:
                return store
    if ws.user.store_id is not None:
        for store in stores:
            if store.id == ws.user.store_id:
                return store
    return stores[0] if stores else None


# ---------------------------------------------------------------- charts


@dataclass(frozen=True)
class ChartPoint:
    """One bar of a chart, already placed in the SVG's coordinates."""

    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class Chart:
    """A bar chart drawn server-side as inline SVG (no script, works offline)."""

    width: int
    height: int
    points: list[ChartPoint]
    gridlines: list[tuple[float, str]] = field(default_factory=list)
    baseline: float = 0.0
    label_every: int = 1

    @property
    def empty(self) -> bool:
        """True when there is nothing to draw."""
        return not self.points


def _nice_ceiling(value: int) -> int:
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = int(step * magnitude)
        if top >= value:
            return top
    return 10 * magnitude


def _short_rupiah(value: int) -> str:
    if value >= 1_000_000_000:
        return f"{value / 1_000_000_000:.1f} M".replace(".", ",")
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f} jt".replace(".", ",")
    if value >= 1_000:
        return f"{value // 1_000} rb"
    return str(value)


def bar_chart(
    data: Sequence[tuple[str, int]],
    *,
    width: int = 720,
    height: int = 260,
    money: bool = True,
) -> Chart:
    """Lay out bars for ``(label, value)`` pairs; negative values are drawn as zero."""
    left, right, top, bottom = 64.0, 8.0, 12.0, 28.0
    plot_w = width - left - right
    plot_h = height - top - bottom
    peak = _nice_ceiling(max((max(v, 0) for _, v in data), default=0))
    slot = plot_w / max(len(data), 1)
    bar_w = max(slot * 0.7, 1.0)
    points = []
    for i, (label, value) in enumerate(data):
        h = plot_h * max(value, 0) / peak
        shown = format_rupiah(int(value)) if money else number(int(value))
        points.append(
            ChartPoint(
                label=label,
                value=int(value),
                x=round(left + i * slot + (slot - bar_w) / 2, 2),
                y=round(top + plot_h - h, 2),
                width=round(bar_w, 2),
                height=round(h, 2),
                title=f"{label}: {shown}",
            )
        )
    gridlines = []
    for k in range(5):
        value = peak * k // 4
        text = _short_rupiah(value) if money else number(value)
        gridlines.append((round(top + plot_h - plot_h * k / 4, 2), text))
    # Show every n-th label so that labels (about 7 px a character) never overlap.
    widest = max((len(label) for label, _ in data), default=1) * 7.0 + 10
    return Chart(
        width=width,
        height=height,
        points=points,
        gridlines=gridlines,
        baseline=top + plot_h,
        label_every=max(1, math.ceil(widest / slot)),
    )


# ---------------------------------------------------------------- stock forms


@dataclass(frozen=True)
class CodeLine:
    """A product named on a form by SKU or barcode, and a quantity typed next to it."""

    code: str
    quantity: int


def parse_code_lines(
    codes: Sequence[str], quantities: Sequence[str]
) -> tuple[list[CodeLine], list[str]]:
    """Pair the SKU/barcode and quantity fields of a stock form; blank rows are skipped."""
    lines: list[CodeLine] = []
    errors: list[str] = []
    for row, (code, qty) in enumerate(zip(codes, quantities, strict=False), start=1):
        code, qty = code.strip(), qty.strip()
        if not code and not qty:
            continue
        if not code:
            errors.append(f"Baris {row}: isi SKU atau barcode.")
            continue
        try:
            value = int(qty.replace(".", ""))
        except ValueError:
            errors.append(f"Baris {row}: jumlah {qty!r} bukan bilangan bulat.")
            continue
        lines.append(CodeLine(code=code, quantity=value))
    if not lines and not errors:
        errors.append("Isi paling sedikit satu baris.")
    return lines, errors


def resolve_codes(*, db: Database, codes: Sequence[str]) -> tuple[dict[str, int], list[str]]:
    """Product ids of SKUs or barcodes typed on a form, and the codes nobody knows."""
    wanted = sorted({c.strip() for c in codes if c.strip()})
    found: dict[str, int] = {}
    if wanted:
        with db.session() as session:
            rows = session.execute(
                select(Product.id, Product.sku, Product.barcode).where(
                    or_(Product.sku.in_(wanted), Product.barcode.in_(wanted))
                )
            ).all()
        for pid, sku, barcode in rows:
            if sku in wanted:
                found[sku] = pid
            if barcode in wanted:
                found[barcode] = pid
    unknown = [c for c in wanted if c not in found]
    return found, unknown


def product_names(*, db: Database, ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """``id → (sku, name)`` of products, to label stock moves and report rows."""
    if not ids:
        return {}
    with db.session() as session:
        rows = session.execute(
            select(Product.id, Product.sku, Product.name).where(Product.id.in_(set(ids)))
        ).all()
    return {pid: (sku, name) for pid, sku, name in rows}


# ---------------------------------------------------------------- catalog forms


def product_form_values(form: dict[str, str]) -> dict[str, Any]:
    """HTML fields of the product form as the values ``ProductIn``/``ProductPatch`` take.

    Blank optional fields become null; rupiah may be typed with thousands dots.
    """
    values: dict[str, Any] = {
        "sku": form.get("sku", "").strip(),
        "name": form.get("name", "").strip(),
        "unit": form.get("unit", "").strip() or "pcs",
        "barcode": form.get("barcode", "").strip() or None,
        "category_id": int(form["category_id"]) if form.get("category_id") else None,
        "tax_rate_id": int(form["tax_rate_id"]) if form.get("tax_rate_id") else None,
        "active": form.get("active") in ("on", "1", "true"),
    }
    for key in ("price", "low_stock_threshold"):
        raw = form.get(key, "").strip().replace(".", "").replace("Rp", "").strip()
        values[key] = int(raw) if raw.lstrip("-").isdigit() else raw or 0
    return values


def labels_pdf(products: Sequence[ProductOut], *, copies: int) -> tuple[bytes, list[str]]:
    """A PDF sheet of barcode labels, and the products left out for having no barcode."""
    items: list[LabelItem] = []
    skipped: list[str] = []
    for product in products:
        try:
            items.append(LabelItem.from_product(product))
        except ValueError:
            skipped.append(product.sku)
    if not items:
        raise AppError(
            "Tidak ada produk berbarcode yang dipilih.", code="no_labels", status_code=422
        )
    return label_sheets_pdf(items, copies=max(1, min(copies, 100))), skipped


# ---------------------------------------------------------------- receipt preview


SAMPLE_LINES = (
    ReceiptLine("Indomie Goreng 85g", 3, 3_500, 0, 10_500),
    ReceiptLine("Teh Botol Sosro 450ml", 2, 5_000, 1_000, 9_000),
    ReceiptLine("Beras Pandan Wangi 5kg", 1, 78_000, 0, 78_000),
)


def receipt_preview(
    *,
    name: str,
    address: str = "",
    npwp: str = "",
    phone: str = "",
    header: str = "",
    footer: str = "",
    logo_text: str = "",
    timezone: str = DEFAULT_TIMEZONE,
    width: int = 32,
) -> str:
    """The receipt template applied to a sample sale, as the till would print it."""
    store = ReceiptStore(
        name=name or "Nama toko",
        address=address,
        npwp=npwp,
        phone=phone,
        header=header,
        footer=footer,
        logo_text=logo_text,
        timezone=timezone,
    )
    total = sum(line.total for line in SAMPLE_LINES)
    data = ReceiptData(
        store=store,
        receipt_number="T01-20250101-000042",
        created_at=datetime(2025, 1, 1, 3, 15, tzinfo=UTC),
        cashier_name="Siti Rahmawati",
        lines=SAMPLE_LINES,
        subtotal=total + 1_000,
        discount_total=1_000,
        tax_total=total * 11 // 111,
        tax_inclusive=True,
        total=total,
        payments=(ReceiptPayment("cash", total, tendered=100_000, change=100_000 - total),),
    )
    return render_receipt(data, width=width if width in (32, 42, 48) else 32)


# ---------------------------------------------------------------- people, terminals, QRIS


QRIS_STATUSES = ("UNPAID", "PAID", "EXPIRED", "FAILED", "REFUND")
"""The statuses a QRIS order can have, as the payments page filters them."""


def assignable_roles(ws: WebSession) -> list[Role]:
    """Roles this manager may give: cashier and supervisor; an admin any."""
    if ws.is_admin:
        return list(Role)
    return [Role.CASHIER, Role.SUPERVISOR]


def find_user(*, db: Database, ws: WebSession, user_id: int) -> UserPublic:
    """One user this manager may see (404 for unknown users and other stores' people)."""
    for person in auth_service.list_users(
        db=db, actor=ws.user, store_id=None if ws.is_admin else ws.user.store_id
    ):
        if person.id == user_id:
            return person
    raise NotFound(f"Tidak ada pengguna {user_id}.", code="user_not_found")


# ---------------------------------------------------------------- transactions


def run(db: Database, work: Callable[..., T], /, **kwargs: Any) -> T:
    """Call a session-taking service function in its own committed transaction.

    Pages redirect after a POST, so the change must be committed before the answer
    leaves (a request-scoped session would commit only after it).
    """
    return run_in_transaction(db, lambda session: work(session, **kwargs))


# ---------------------------------------------------------------- reports


PRESETS = {
    "today": "Hari ini",
    "7d": "7 hari",
    "30d": "30 hari",
    "month": "Bulan ini",
    "year": "Tahun ini",
}

GRANULARITIES = {"day": "Harian", "week": "Mingguan", "month": "Bulanan", "year": "Tahunan"}

REPORTS = (
    ("sales", "Penjualan"),
    ("products", "Produk terlaris"),
    ("payment-methods", "Metode bayar"),
    ("cashiers", "Kasir"),
    ("terminals", "Terminal"),
    ("refunds", "Retur, batal, diskon"),
)
"""The report pages under ``/web/reports/<slug>``, in menu order."""


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


@dataclass(frozen=True)
class Column:
    """A report table column: its heading, the row field and how to show it."""

    title: str
    key: str
    kind: str = "text"  # text, money or number

    def show(self, row: Any) -> str:
        """The cell text of ``row``."""
        value = row.get(self.key) if isinstance(row, dict) else getattr(row, self.key, None)
        if self.kind == "money":
            return rupiah(value)
        if self.kind == "number":
            return number(value)
        return "" if value is None else str(value)

    @property
    def numeric(self) -> bool:
        """Right-aligned columns."""
        return self.kind in ("money", "number")


FIGURE_COLUMNS = [
    Column("Transaksi", "sales_count", "number"),
    Column("Kotor", "gross", "money"),
    Column("Diskon", "discounts", "money"),
    Column("Pajak", "tax", "money"),
    Column("Bersih", "net", "money"),
    Column("Retur", "refunds_amount", "money"),
    Column("Batal", "voids_amount", "money"),
    Column("Bersih − retur", "net_after_refunds", "money"),
]


@dataclass
class ReportView:
    """What a report page shows: a chart, a table, totals and its CSV download."""

    slug: str
    title: str
    chart: Chart
    chart_label: str
    columns: list[Column]
    rows: list[Any]
    csv_path: str
    totals: list[tuple[str, str]] = field(default_factory=list)


_PAYMENT_LABELS = {"cash": "Tunai", "qris": "QRIS"}


def _short_label(label: str, granularity: str) -> str:
    """Chart labels: ``2025-03-01`` → ``01/03``, ``2025-W09`` → ``W09``; others unchanged."""
    if granularity == "day" and len(label) == 10:
        return f"{label[8:10]}/{label[5:7]}"
    if granularity == "week" and "-W" in label:
        return label.split("-", 1)[1]
    return label


def _totals(figures: Any) -> list[tuple[str, str]]:
    return [
        ("Penjualan bersih", rupiah(figures.net)),
        ("Transaksi", number(figures.sales_count)),
        ("Diskon", rupiah(figures.discounts)),
        ("Retur", rupiah(figures.refunds_amount)),
        ("Batal", rupiah(figures.voids_amount)),
    ]


def report_view(
    slug: str,
    *,
    db: Database,
    store_id: int,
    start: date,
    end: date,
    granularity: Granularity = "day",
) -> ReportView:
    """Run report ``slug`` through the reports service and lay it out for the page."""
    titles = dict(REPORTS)
    if slug not in titles:
        raise NotFound("Laporan tidak dikenal.", code="unknown_report")
    title = titles[slug]
    if slug == "sales":
        over = reports_service.sales_over_time(
            db, store_id=store_id, granularity=granularity, start=start, end=end
        )
        return ReportView(
            slug,
            f"Penjualan {GRANULARITIES[granularity].lower()}",
            bar_chart([(_short_label(p.label, granularity), p.net) for p in over.periods]),
            "Penjualan bersih per periode",
            [Column("Periode", "label"), *FIGURE_COLUMNS],
            list(over.periods),
            f"sales?granularity={granularity}&",
            _totals(over.totals),
        )
    if slug == "products":
        products = reports_service.top_products(db, store_id=store_id, start=start, end=end)
        return ReportView(
            slug,
            title,
            bar_chart([(p.sku, p.revenue) for p in products[:15]]),
            "Pendapatan produk terlaris",
            [
                Column("SKU", "sku"),
                Column("Nama", "name"),
                Column("Terjual", "quantity", "number"),
                Column("Pendapatan", "revenue", "money"),
                Column("Diretur", "refunded_quantity", "number"),
                Column("Nilai retur", "refunded_amount", "money"),
            ],
            list(products),
            "top-products?",
        )
    if slug == "payment-methods":
        methods = [
            {**m.model_dump(), "label": _PAYMENT_LABELS.get(m.method, m.method.upper())}
            for m in reports_service.by_payment_method(db, store_id=store_id, start=start, end=end)
        ]
        return ReportView(
            slug,
            title,
            bar_chart([(m["label"], m["amount"]) for m in methods]),
            "Uang diterima per metode",
            [
                Column("Metode", "label"),
                Column("Pembayaran", "payments_count", "number"),
                Column("Jumlah", "amount", "money"),
                Column("Retur", "refunds_count", "number"),
                Column("Nilai retur", "refunds_amount", "money"),
            ],
            methods,
            "payment-methods?",
        )
    if slug == "cashiers":
        cashiers = reports_service.by_cashier(db, store_id=store_id, start=start, end=end)
        return ReportView(
            slug,
            title,
            bar_chart([(c.username, c.net) for c in cashiers]),
            "Penjualan bersih per kasir",
            [Column("Kasir", "full_name"), *FIGURE_COLUMNS],
            list(cashiers),
            "cashiers?",
        )
    if slug == "terminals":
        terminals = reports_service.by_terminal(db, store_id=store_id, start=start, end=end)
        return ReportView(
            slug,
            title,
            bar_chart([(t.code, t.net) for t in terminals]),
            "Penjualan bersih per terminal",
            [Column("Terminal", "code"), Column("Nama", "name"), *FIGURE_COLUMNS],
            list(terminals),
            "terminals?",
        )
    money_out = reports_service.refunds_voids_discounts(db, store_id=store_id, start=start, end=end)
    return ReportView(
        slug,
        title,
        bar_chart(
            [
                (d.day.strftime("%d/%m"), d.discounts + d.refunds_amount + d.voids_amount)
                for d in money_out.days
            ]
        ),
        "Diskon + retur + batal per hari",
        [
            Column("Tanggal", "day"),
            Column("Diskon", "discounts", "money"),
            Column("Retur", "refunds_count", "number"),
            Column("Nilai retur", "refunds_amount", "money"),
            Column("Batal", "voids_count", "number"),
            Column("Nilai batal", "voids_amount", "money"),
        ],
        list(money_out.days),
        "refunds-voids-discounts?",
        [
            ("Diskon", rupiah(money_out.totals.discounts)),
            (
                "Retur",
                f"{number(money_out.totals.refunds_count)} · "
                f"{rupiah(money_out.totals.refunds_amount)}",
            ),
            (
                "Batal",
                f"{number(money_out.totals.voids_count)} · {rupiah(money_out.totals.voids_amount)}",
            ),
        ],
    )


def csv_url(view: ReportView, *, store_id: int, start: date, end: date) -> str:
    """The reports API's CSV download of what the page shows (the session cookie works)."""
    return (
        f"/api/v1/reports/{view.csv_path}format=csv&store_id={store_id}"
        f"&start={start.isoformat()}&end={end.isoformat()}"
    )


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


def dashboard_view(*, db: Database, store_id: int) -> DashboardView:
    """Lay out the reports service's dashboard for the page."""
    board = reports_service.dashboard(db, store_id=store_id)
    t, y = board.today_figures, board.yesterday_figures
    changes = [
        _change("Penjualan bersih", t.net, y.net),
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
        [(f"{days[d.day.weekday()]} {d.day.day}", d.net) for d in board.last_7_days],
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
            ("bad", f"{a.unresolved_rejected} event sinkron ditolak", "/web/terminals#rejected")
        )
    if a.failed_payments_today:
        alerts.append(
            (
                "bad",
                f"{a.failed_payments_today} pembayaran QRIS gagal/kedaluwarsa hari ini",
                "/web/payments?preset=today",
            )
        )
    return DashboardView(today=board.today, changes=changes, chart=chart, alerts=alerts)
