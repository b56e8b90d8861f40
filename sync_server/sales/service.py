"""Sales and shifts as a manager reads them: the list of sales, a sale's detail, the
shifts of the tills with their drawer recomputed, and the daily cash reconciliation.

Every function takes the database to read (routers pass the reports database) and
keyword-only arguments, and returns the schemas of :mod:`sync_server.sales.schemas`.
The store was checked by the caller (:func:`sync_server.reports.service.report_store`);
a detail checks the row's own store and answers 404 for another store's (revealing
nothing). Days are the store's local business days, both ends included.

**Paging sales.** The list is newest first by ``(created_at, id)`` and pages by keyset:
the cursor is that pair of the last row, so a page costs the same at the millionth
sale as at the first and a sale is never shown twice or skipped, even when many share
one second (MariaDB keeps whole seconds).

**The drawer of a shift** is the till's rule (``pos_client.domain.shifts.expected_cash``
over the figures of ``pos_client.store.shifts``), recomputed from the server's rows:
opening float + what the shift's sales took in cash (a payment's ``amount`` is what it
covers, so change is already out) − the cash of sales voided while it was open on that
till − its cash refunds + cash in − cash out. A void carries no shift on the wire: it
belongs to the shift open on the till that voided (its stock moves name the till) at
the moment of the void, as on the till.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi import Response
from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from shared.models import PaymentMethod, StockMoveKind
from shared.timezones import store_zone
from sync_server.auth.models import Terminal, User
from sync_server.core.database import Database, utcnow
from sync_server.core.errors import Invalid, NotFound
from sync_server.core.models import Store
from sync_server.flags import service as flags_service
from sync_server.flags.models import Flag
from sync_server.flags.schemas import MAX_PAGE as MAX_FLAGS_PAGE
from sync_server.flags.schemas import FlagOut, FlagQuery
from sync_server.reports.exports import ExportFormat, csv_fields, file_response
from sync_server.reports.registry import payment_method_label
from sync_server.sales.schemas import (
    MAX_SALES_PAGE,
    SALE_COLUMNS,
    SHIFT_COLUMNS,
    CashMoveOut,
    CashReconciliation,
    ReconciliationTotals,
    RefundLineOut,
    RefundOut,
    SaleDetail,
    SaleExportRow,
    SaleLineOut,
    SalePage,
    SalePaymentOut,
    SaleRow,
    SaleStatus,
    ShiftDetail,
    ShiftPage,
    ShiftRow,
    ShiftState,
    VoidOut,
)
from sync_server.stock.models import StockMove
from sync_server.stores.service import may_see_store
from sync_server.sync.models import (
    CashMove,
    Refund,
    RefundLine,
    Sale,
    SaleLine,
    SalePayment,
    Shift,
)

MAX_DAYS = 3660
"""Longest period a list covers (ten years), as the reports."""

FIRST_DAY, LAST_DAY = date(1970, 1, 2), date(9999, 12, 30)
"""Days a period may name: the moments around them stay within the calendar."""

MAX_EXPORT_ROWS = 100_000
"""Most sales one download carries."""

CASH = PaymentMethod.CASH.value

ZONE_SLACK = timedelta(hours=27)
"""More than the widest gap between a local day and the UTC day (UTC−12 to UTC+14)."""


# --- the store's calendar ------------------------------------------------------------------


def store_zone_of(session: Session, store_id: int) -> ZoneInfo:
    """The time zone of store ``store_id``."""
    return store_zone(session.scalar(select(Store.timezone).where(Store.id == store_id)))


def check_period(start: date, end: date) -> None:
    """422 ``bad_period`` when ``end`` is before ``start``; ``period_too_long`` past
    :data:`MAX_DAYS`."""
    if end < start or start < FIRST_DAY or end > LAST_DAY:
        raise Invalid("bad_period", code="bad_period")
    if (end - start).days > MAX_DAYS:
        raise Invalid("period_too_long", code="period_too_long", max_days=MAX_DAYS)


def day_bounds(zone: ZoneInfo, start: date, end: date) -> tuple[datetime, datetime]:
    """UTC instants of the start of local day ``start`` and of the day after ``end``."""
    lo = datetime.combine(start, time(), zone).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time(), zone).astimezone(UTC)
    return lo, hi


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone)


# --- the cursor ----------------------------------------------------------------------------


def encode_cursor(created_at: datetime, sale_id: uuid.UUID) -> str:
    """The opaque cursor after the sale ``(created_at, sale_id)``."""
    raw = f"{created_at.astimezone(UTC).isoformat()}|{sale_id.hex}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The ``(created_at, id)`` a cursor of :func:`encode_cursor` holds; 422
    ``bad_cursor`` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, _, hex_id = raw.partition("|")
        created_at = datetime.fromisoformat(moment)
        sale_id = uuid.UUID(hex=hex_id)
        if created_at.tzinfo is None or len(hex_id) != 32:
            raise ValueError(raw)
        return created_at.astimezone(UTC), sale_id
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise Invalid("bad_cursor", code="bad_cursor") from None


# --- names ---------------------------------------------------------------------------------


def _user_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(
        select(User.id, User.full_name, User.username).where(User.id.in_(wanted))
    )
    return {int(uid): str(full or username) for uid, full, username in rows}


def _terminal_codes(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = session.execute(select(Terminal.id, Terminal.code).where(Terminal.id.in_(wanted)))
    return {int(tid): str(code) for tid, code in rows}


@dataclass(frozen=True)
class Choices:
    """What a store's sales and shifts can be narrowed by: its tills and its people."""

    terminals: dict[int, str]
    """Terminal id → code."""
    cashiers: dict[int, str]
    """User id → full name."""


def choices(db: Database, *, store_id: int) -> Choices:
    """The tills and people of store ``store_id``, for the filters of the pages."""
    with db.session() as session:
        terminals = session.execute(
            select(Terminal.id, Terminal.code)
            .where(Terminal.store_id == store_id)
            .order_by(Terminal.code)
        ).all()
        people = session.execute(
            select(User.id, User.full_name, User.username)
            .where(User.store_id == store_id)
            .order_by(User.full_name, User.id)
        ).all()
    return Choices(
        terminals={int(tid): str(code) for tid, code in terminals},
        cashiers={int(uid): str(full or username) for uid, full, username in people},
    )


# --- the list of sales ---------------------------------------------------------------------


@dataclass(frozen=True)
class SaleFilter:
    """Which sales of a store a list shows (each filter optional)."""

    store_id: int
    start: date
    end: date
    terminal_id: int | None = None
    cashier_id: int | None = None
    method: str | None = None
    min_total: int | None = None
    max_total: int | None = None
    receipt: str | None = None
    """The receipt number, or its beginning."""
    status: SaleStatus = "all"


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


def _sale_conditions(filters: SaleFilter) -> list[ColumnElement[bool]]:
    # ``business_date`` is the store-local day of ``created_at`` at ingest. The moment
    # range, widened by more than any zone's offset (a store may have changed zones),
    # keeps exactly the same sales and lets an index on (store_id, created_at) both
    # find and order them.
    lo = datetime.combine(filters.start, time(), UTC) - ZONE_SLACK
    hi = datetime.combine(filters.end + timedelta(days=1), time(), UTC) + ZONE_SLACK
    where: list[ColumnElement[bool]] = [
        Sale.store_id == filters.store_id,
        Sale.business_date.between(filters.start, filters.end),
        Sale.created_at >= lo,
        Sale.created_at < hi,
    ]
    if filters.terminal_id is not None:
        where.append(Sale.terminal_id == filters.terminal_id)
    if filters.cashier_id is not None:
        where.append(Sale.cashier_id == filters.cashier_id)
    if filters.min_total is not None:
        where.append(Sale.total >= filters.min_total)
    if filters.max_total is not None:
        where.append(Sale.total <= filters.max_total)
    if filters.receipt:
        where.append(Sale.receipt_number.like(_like_prefix(filters.receipt), escape="\\"))
    if filters.method is not None:
        where.append(
            exists().where(SalePayment.sale_id == Sale.id, SalePayment.method == filters.method)
        )
    if filters.status == "voided":
        where.append(Sale.voided.is_(True))
    elif filters.status == "refunded":
        where.append(exists().where(Refund.sale_id == Sale.id))
    elif filters.status == "flagged":
        where.append(exists().where(Flag.sale_id == Sale.id))
    return where


def list_sales(
    db: Database, *, filters: SaleFilter, cursor: str | None = None, limit: int = 50
) -> SalePage:
    """One page of the store's sales, newest first, after ``cursor`` (see module doc)."""
    check_period(filters.start, filters.end)
    limit = max(1, min(limit, MAX_SALES_PAGE))
    where = _sale_conditions(filters)
    if cursor:
        after_at, after_id = decode_cursor(cursor)
        where.append(
            or_(
                Sale.created_at < after_at,
                and_(Sale.created_at == after_at, Sale.id < after_id),
            )
        )
    stmt = (
        select(
            Sale.id,
            Sale.receipt_number,
            Sale.created_at,
            Sale.business_date,
            Sale.terminal_id,
            Sale.cashier_id,
            Sale.total,
            Sale.voided,
        )
        .where(*where)
        .order_by(Sale.created_at.desc(), Sale.id.desc())
        .limit(limit + 1)
    )
    with db.session() as session:
        zone = store_zone_of(session, filters.store_id)
        found = list(session.execute(stmt))
        more = len(found) > limit
        found = found[:limit]
        items = _sale_rows(session, found, zone)
    next_cursor = encode_cursor(found[-1].created_at, found[-1].id) if more else None
    return SalePage(
        store_id=filters.store_id,
        start=filters.start,
        end=filters.end,
        items=items,
        next_cursor=next_cursor,
        limit=limit,
    )


def _sale_rows(session: Session, found: Sequence[Any], zone: ZoneInfo) -> list[SaleRow]:
    """The rows of a page with their names, methods, flags and refunds: a handful of
    queries keyed by the page's ids, never one per sale."""
    if not found:
        return []
    ids = [r.id for r in found]
    methods: dict[uuid.UUID, set[str]] = defaultdict(set)
    for sale_id, method in session.execute(
        select(SalePayment.sale_id, SalePayment.method).where(SalePayment.sale_id.in_(ids))
    ):
        methods[sale_id].add(method)
    flags: dict[uuid.UUID, tuple[int, int]] = {
        sale_id: (int(count), int(still_open or 0))
        for sale_id, count, still_open in session.execute(
            select(
                Flag.sale_id,
                func.count(),
                func.sum(case((Flag.resolved_at.is_(None), 1), else_=0)),
            )
            .where(Flag.sale_id.in_(ids))
            .group_by(Flag.sale_id)
        )
    }
    refunded = dict(
        session.execute(
            select(Refund.sale_id, func.sum(Refund.total))
            .where(Refund.sale_id.in_(ids))
            .group_by(Refund.sale_id)
        ).all()
    )
    terminals = _terminal_codes(session, (r.terminal_id for r in found))
    cashiers = _user_names(session, (r.cashier_id for r in found))
    return [
        SaleRow(
            id=r.id,
            receipt_number=r.receipt_number,
            created_at=r.created_at,
            local_time=_local(r.created_at, zone),
            business_date=r.business_date,
            terminal_id=r.terminal_id,
            terminal_code=terminals.get(r.terminal_id, f"#{r.terminal_id}"),
            cashier_id=r.cashier_id,
            cashier_name=cashiers.get(r.cashier_id, f"#{r.cashier_id}"),
            total=r.total,
            payment_methods=sorted(methods.get(r.id, ())),
            flags_count=flags.get(r.id, (0, 0))[0],
            open_flags=flags.get(r.id, (0, 0))[1],
            voided=bool(r.voided),
            refunded_amount=int(refunded.get(r.id) or 0),
        )
        for r in found
    ]


def export_rows(rows: Sequence[SaleRow]) -> list[SaleExportRow]:
    """Sales as the flat lines of a download (methods joined with ``+``)."""
    return [
        SaleExportRow(
            receipt_number=r.receipt_number,
            created_at=r.created_at,
            business_date=r.business_date,
            terminal_code=r.terminal_code,
            cashier_name=r.cashier_name,
            total=r.total,
            payment_methods="+".join(r.payment_methods),
            payment_labels=" + ".join(payment_method_label(m) for m in r.payment_methods),
            flags_count=r.flags_count,
            voided=r.voided,
            refunded_amount=r.refunded_amount,
            id=r.id,
        )
        for r in rows
    ]


def all_sales(db: Database, *, filters: SaleFilter, limit: int = MAX_EXPORT_ROWS) -> list[SaleRow]:
    """Every sale the filters keep, newest first, at most ``limit`` (for downloads)."""
    out: list[SaleRow] = []
    cursor: str | None = None
    while len(out) < limit:
        page = list_sales(
            db, filters=filters, cursor=cursor, limit=min(MAX_SALES_PAGE, limit - len(out))
        )
        out += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    return out


# --- one sale ------------------------------------------------------------------------------


def _flags_of_sale(session: Session, *, user: User, sale: Sale) -> list[FlagOut]:
    """The sale's flags, read through the flags service: its till's flags of the days
    around its business day, kept when they name this sale."""
    out: list[FlagOut] = []
    offset = 0
    query = FlagQuery(
        store_id=sale.store_id,
        terminal_id=sale.terminal_id,
        day_from=sale.business_date - timedelta(days=1),
        day_to=sale.business_date + timedelta(days=1),
        limit=MAX_FLAGS_PAGE,
    )
    while True:
        page = flags_service.list_flags(
            session, user=user, query=query.model_copy(update={"offset": offset})
        )
        out += [f for f in page.items if f.sale_id == sale.id]
        offset += page.limit
        if offset >= page.total or not page.items:
            break
    return sorted(out, key=lambda f: f.id)


def sale_detail(db: Database, *, user: User, sale_id: uuid.UUID) -> SaleDetail:
    """A sale with its lines, payments, refunds, void and flags; 404 when it does not
    exist or belongs to a store ``user`` may not see."""
    with db.session() as session:
        sale = session.get(Sale, sale_id)
        if sale is None or not may_see_store(user, sale.store_id):
            raise NotFound("sale_unknown", code="sale_not_found", sale_id=str(sale_id))
        zone = store_zone_of(session, sale.store_id)
        lines = list(
            session.scalars(
                select(SaleLine).where(SaleLine.sale_id == sale.id).order_by(SaleLine.id)
            )
        )
        payments = list(
            session.scalars(
                select(SalePayment).where(SalePayment.sale_id == sale.id).order_by(SalePayment.id)
            )
        )
        refunds = list(
            session.scalars(
                select(Refund)
                .where(Refund.sale_id == sale.id)
                .order_by(Refund.created_at, Refund.id)
            )
        )
        refund_lines: dict[uuid.UUID, list[RefundLine]] = defaultdict(list)
        if refunds:
            for rl in session.scalars(
                select(RefundLine)
                .where(RefundLine.refund_id.in_([r.id for r in refunds]))
                .order_by(RefundLine.id)
            ):
                refund_lines[rl.refund_id].append(rl)
        people = _user_names(
            session,
            [
                sale.cashier_id,
                sale.voided_by,
                *(r.cashier_id for r in refunds),
                *(r.approved_by for r in refunds),
            ],
        )
        terminals = _terminal_codes(session, [sale.terminal_id, *(r.terminal_id for r in refunds)])
        flags = _flags_of_sale(session, user=user, sale=sale)
        line_names = {line.id: line.name for line in lines}
        return SaleDetail(
            id=sale.id,
            store_id=sale.store_id,
            receipt_number=sale.receipt_number,
            created_at=sale.created_at,
            local_time=_local(sale.created_at, zone),
            received_at=sale.received_at,
            business_date=sale.business_date,
            terminal_id=sale.terminal_id,
            terminal_code=terminals.get(sale.terminal_id, f"#{sale.terminal_id}"),
            cashier_id=sale.cashier_id,
            cashier_name=people.get(sale.cashier_id, f"#{sale.cashier_id}"),
            shift_id=sale.shift_id,
            subtotal=sale.subtotal,
            discount_total=sale.discount_total,
            order_discount=sale.order_discount,
            tax_total=sale.tax_total,
            total=sale.total,
            voucher_code=sale.voucher_code,
            voided=sale.voided,
            refunded_amount=sum(r.total for r in refunds),
            lines=[SaleLineOut.of(line) for line in lines],
            payments=[SalePaymentOut.of(p) for p in payments],
            refunds=[
                RefundOut.of(
                    r,
                    local_time=_local(r.created_at, zone),
                    terminal_code=terminals.get(r.terminal_id, f"#{r.terminal_id}"),
                    cashier_name=people.get(r.cashier_id, f"#{r.cashier_id}"),
                    approved_by_name=people.get(r.approved_by, f"#{r.approved_by}"),
                    lines=[
                        RefundLineOut(
                            sale_line_id=rl.sale_line_id,
                            product_id=rl.product_id,
                            name=line_names.get(rl.sale_line_id, ""),
                            quantity=rl.quantity,
                            amount=rl.amount,
                        )
                        for rl in refund_lines[r.id]
                    ],
                )
                for r in refunds
            ],
            void=_void_out(sale, people, zone),
            flags=flags,
        )


def _void_out(sale: Sale, people: dict[int, str], zone: ZoneInfo) -> VoidOut | None:
    """The void of ``sale``, or None when it stands."""
    if not sale.voided:
        return None
    return VoidOut(
        voided_at=sale.voided_at,
        local_time=_local(sale.voided_at, zone) if sale.voided_at else None,
        voided_by=sale.voided_by,
        voided_by_name=people.get(sale.voided_by) if sale.voided_by else None,
        reason=sale.void_reason or "",
    )


# --- shifts --------------------------------------------------------------------------------


@dataclass
class _Drawer:
    """What one shift's drawer saw, summed from the server's rows."""

    sales_count: int = 0
    sales_total: int = 0
    cash_sales: int = 0
    cash_change: int = 0
    cash_voids: int = 0
    voids_count: int = 0
    refunds_count: int = 0
    cash_refunds: int = 0
    cash_in: int = 0
    cash_out: int = 0
    by_method: dict[str, int] = field(default_factory=dict)


def _drawers(
    session: Session, shifts: Sequence[Shift], *, store_id: int
) -> dict[uuid.UUID, _Drawer]:
    """The drawer figures of ``shifts`` (see the module doc), a few grouped queries."""
    out: dict[Any, _Drawer] = {s.id: _Drawer() for s in shifts}
    if not shifts:
        return out
    ids = list(out)
    for shift_id, count, total in session.execute(
        select(Sale.shift_id, func.count(), func.coalesce(func.sum(Sale.total), 0))
        .where(Sale.shift_id.in_(ids))
        .group_by(Sale.shift_id)
    ):
        out[shift_id].sales_count = int(count)
        out[shift_id].sales_total = int(total)
    for shift_id, method, amount, change in session.execute(
        select(
            Sale.shift_id,
            SalePayment.method,
            func.coalesce(func.sum(SalePayment.amount), 0),
            func.coalesce(func.sum(SalePayment.change), 0),
        )
        .join(SalePayment, SalePayment.sale_id == Sale.id)
        .where(Sale.shift_id.in_(ids))
        .group_by(Sale.shift_id, SalePayment.method)
    ):
        drawer = out[shift_id]
        drawer.by_method[method] = drawer.by_method.get(method, 0) + int(amount)
        if method == CASH:
            drawer.cash_sales += int(amount)
            drawer.cash_change += int(change)
    for shift_id, method, count, total in session.execute(
        select(
            Refund.shift_id, Refund.method, func.count(), func.coalesce(func.sum(Refund.total), 0)
        )
        .where(Refund.shift_id.in_(ids))
        .group_by(Refund.shift_id, Refund.method)
    ):
        out[shift_id].refunds_count += int(count)
        if method == CASH:
            out[shift_id].cash_refunds += int(total)
    for shift_id, cash_in, cash_out in session.execute(
        select(
            CashMove.shift_id,
            func.coalesce(func.sum(case((CashMove.amount > 0, CashMove.amount), else_=0)), 0),
            func.coalesce(func.sum(case((CashMove.amount < 0, -CashMove.amount), else_=0)), 0),
        )
        .where(CashMove.shift_id.in_(ids))
        .group_by(CashMove.shift_id)
    ):
        out[shift_id].cash_in = int(cash_in)
        out[shift_id].cash_out = int(cash_out)
    _add_voids(session, shifts, out, store_id=store_id)
    return out


def _add_voids(
    session: Session, shifts: Sequence[Shift], out: dict[uuid.UUID, _Drawer], *, store_id: int
) -> None:
    """Each void made while one of ``shifts`` was open on the till that voided takes
    its sale's payments back out of that shift (cash out of its drawer)."""
    first = min(s.opened_at for s in shifts)
    last = None if any(s.closed_at is None for s in shifts) else max(s.closed_at for s in shifts)  # type: ignore[type-var]
    stmt = select(Sale.id, Sale.terminal_id, Sale.voided_at).where(
        Sale.store_id == store_id, Sale.voided.is_(True), Sale.voided_at >= first
    )
    if last is not None:
        stmt = stmt.where(Sale.voided_at <= last)
    voided = list(session.execute(stmt))
    if not voided:
        return
    refs = {str(sale_id): sale_id for sale_id, _, _ in voided}
    voiding_till = {
        refs[ref]: int(terminal_id or 0)
        for ref, terminal_id in session.execute(
            select(StockMove.ref_id, StockMove.terminal_id).where(
                StockMove.kind == StockMoveKind.VOID.value,
                StockMove.ref_id.in_(list(refs)),
                StockMove.terminal_id.is_not(None),
            )
        )
        if ref in refs
    }
    payments: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    for sale_id, method, amount in session.execute(
        select(SalePayment.sale_id, SalePayment.method, func.sum(SalePayment.amount))
        .where(SalePayment.sale_id.in_(list(refs.values())))
        .group_by(SalePayment.sale_id, SalePayment.method)
    ):
        payments[sale_id][method] = int(amount)
    by_till: dict[int, list[Shift]] = defaultdict(list)
    for s in sorted(shifts, key=lambda s: s.opened_at, reverse=True):
        by_till[s.terminal_id].append(s)
    for sale_id, sale_terminal, voided_at in voided:
        if voided_at is None:
            continue
        till = voiding_till.get(sale_id, sale_terminal)
        for s in by_till.get(till, ()):
            if s.opened_at <= voided_at and (s.closed_at is None or voided_at <= s.closed_at):
                drawer = out[s.id]
                drawer.voids_count += 1
                for method, amount in payments[sale_id].items():
                    drawer.by_method[method] = drawer.by_method.get(method, 0) - amount
                drawer.cash_voids += payments[sale_id].get(CASH, 0)
                break


def expected_cash(opening_float: int, drawer: _Drawer) -> int:
    """The till's rule: float + cash taken − cash voided − cash refunded + in − out."""
    return (
        opening_float
        + drawer.cash_sales
        - drawer.cash_voids
        - drawer.cash_refunds
        + drawer.cash_in
        - drawer.cash_out
    )


def _shift_row(
    shift: Shift,
    drawer: _Drawer,
    *,
    zone: ZoneInfo,
    people: dict[int, str],
    terminals: dict[int, str],
) -> dict[str, Any]:
    expected = expected_cash(shift.opening_float, drawer)
    closed = shift.closed_at is not None
    return {
        "id": shift.id,
        "store_id": shift.store_id,
        "terminal_id": shift.terminal_id,
        "terminal_code": terminals.get(shift.terminal_id, f"#{shift.terminal_id}"),
        "opened_by": shift.user_id,
        "opened_by_name": people.get(shift.user_id, f"#{shift.user_id}"),
        "opened_at": shift.opened_at,
        "opened_local": _local(shift.opened_at, zone),
        "opening_float": shift.opening_float,
        "sales_count": drawer.sales_count,
        "cash_sales": drawer.cash_sales,
        "cash_change": drawer.cash_change,
        "cash_voids": drawer.cash_voids,
        "cash_refunds": drawer.cash_refunds,
        "cash_in": drawer.cash_in,
        "cash_out": drawer.cash_out,
        "expected_cash": expected,
        "claimed_expected_cash": shift.expected_cash,
        "expected_matches": None if not closed else shift.expected_cash == expected,
        "counted_cash": shift.counted_cash,
        "difference": None
        if not closed or shift.counted_cash is None
        else shift.counted_cash - expected,
        "closed_by": shift.closed_by,
        "closed_by_name": people.get(shift.closed_by) if shift.closed_by else None,
        "closed_at": shift.closed_at,
        "closed_local": _local(shift.closed_at, zone) if shift.closed_at else None,
        "open": not closed,
    }


def _shift_rows(session: Session, shifts: Sequence[Shift], *, store_id: int) -> list[ShiftRow]:
    zone = store_zone_of(session, store_id)
    drawers = _drawers(session, shifts, store_id=store_id)
    people = _user_names(session, [*(s.user_id for s in shifts), *(s.closed_by for s in shifts)])
    terminals = _terminal_codes(session, (s.terminal_id for s in shifts))
    return [
        ShiftRow(**_shift_row(s, drawers[s.id], zone=zone, people=people, terminals=terminals))
        for s in shifts
    ]


def list_shifts(
    db: Database,
    *,
    store_id: int,
    start: date,
    end: date,
    terminal_id: int | None = None,
    state: ShiftState = "all",
    limit: int = 100,
    offset: int = 0,
) -> ShiftPage:
    """Shifts of the store opened on the local days ``start..end``, newest first."""
    check_period(start, end)
    with db.session() as session:
        lo, hi = day_bounds(store_zone_of(session, store_id), start, end)
        where: list[ColumnElement[bool]] = [
            Shift.store_id == store_id,
            Shift.opened_at >= lo,
            Shift.opened_at < hi,
        ]
        if terminal_id is not None:
            where.append(Shift.terminal_id == terminal_id)
        if state == "open":
            where.append(Shift.closed_at.is_(None))
        elif state == "closed":
            where.append(Shift.closed_at.is_not(None))
        total = session.scalar(select(func.count()).select_from(Shift).where(*where)) or 0
        shifts = list(
            session.scalars(
                select(Shift)
                .where(*where)
                .order_by(Shift.opened_at.desc(), Shift.id.desc())
                .limit(limit)
                .offset(offset)
            )
        )
        items = _shift_rows(session, shifts, store_id=store_id)
    return ShiftPage(
        store_id=store_id,
        start=start,
        end=end,
        items=items,
        total=int(total),
        limit=limit,
        offset=offset,
    )


def shift_detail(db: Database, *, user: User, shift_id: uuid.UUID) -> ShiftDetail:
    """A shift with its cash moves and takings per method; 404 for another store's."""
    with db.session() as session:
        shift = session.get(Shift, shift_id)
        if shift is None or not may_see_store(user, shift.store_id):
            raise NotFound("shift_not_found", code="shift_not_found", shift_id=str(shift_id))
        zone = store_zone_of(session, shift.store_id)
        drawer = _drawers(session, [shift], store_id=shift.store_id)[shift.id]
        moves = list(
            session.scalars(
                select(CashMove)
                .where(CashMove.shift_id == shift.id)
                .order_by(CashMove.created_at, CashMove.id)
            )
        )
        people = _user_names(session, [shift.user_id, shift.closed_by, *(m.user_id for m in moves)])
        terminals = _terminal_codes(session, [shift.terminal_id])
        row = _shift_row(shift, drawer, zone=zone, people=people, terminals=terminals)
        return ShiftDetail(
            **row,
            sales_total=drawer.sales_total,
            refunds_count=drawer.refunds_count,
            voids_count=drawer.voids_count,
            payments_by_method=dict(sorted(drawer.by_method.items())),
            cash_moves=[
                CashMoveOut(
                    id=m.id,
                    created_at=m.created_at,
                    local_time=_local(m.created_at, zone),
                    user_id=m.user_id,
                    user_name=people.get(m.user_id, f"#{m.user_id}"),
                    amount=m.amount,
                    reason=m.reason,
                )
                for m in moves
            ],
        )


def cash_reconciliation(db: Database, *, store_id: int, day: date) -> CashReconciliation:
    """Every shift of the store open at some moment of local day ``day`` (opened before
    it ends, closed after it starts or still open), by till, and the outlet's totals."""
    check_period(day, day)
    with db.session() as session:
        lo, hi = day_bounds(store_zone_of(session, store_id), day, day)
        shifts = list(
            session.scalars(
                select(Shift)
                .join(Terminal, Terminal.id == Shift.terminal_id)
                .where(
                    Shift.store_id == store_id,
                    Shift.opened_at < hi,
                    or_(Shift.closed_at.is_(None), Shift.closed_at >= lo),
                )
                .order_by(Terminal.code, Shift.opened_at, Shift.id)
            )
        )
        rows = _shift_rows(session, shifts, store_id=store_id)
    closed = [r for r in rows if not r.open]
    totals = ReconciliationTotals(
        shifts_count=len(rows),
        open_count=len(rows) - len(closed),
        opening_float=sum(r.opening_float for r in rows),
        cash_sales=sum(r.cash_sales for r in rows),
        cash_voids=sum(r.cash_voids for r in rows),
        cash_refunds=sum(r.cash_refunds for r in rows),
        cash_in=sum(r.cash_in for r in rows),
        cash_out=sum(r.cash_out for r in rows),
        expected_cash=sum(r.expected_cash for r in rows),
        counted_cash=sum(r.counted_cash or 0 for r in closed),
        expected_closed=sum(r.expected_cash for r in closed),
        difference=sum(r.difference or 0 for r in closed),
    )
    return CashReconciliation(store_id=store_id, day=day, shifts=rows, totals=totals)


def today_of(db: Database, *, store_id: int, now: datetime | None = None) -> date:
    """The store's local calendar day at ``now`` (default: now)."""
    with db.session() as session:
        zone = store_zone_of(session, store_id)
    return (now or utcnow()).astimezone(zone).date()


# --- downloads -----------------------------------------------------------------------------


def store_timezone_name(db: Database, *, store_id: int) -> str:
    """The name of the store's time zone (``Asia/Jakarta``)."""
    with db.session() as session:
        return str(session.scalar(select(Store.timezone).where(Store.id == store_id)) or "")


def download(
    db: Database,
    fmt: ExportFormat,
    *,
    what: Literal["sales", "shifts"],
    name: str,
    rows: Sequence[SaleRow] | Sequence[ShiftRow],
    store_id: int,
) -> Response:
    """``rows`` as a CSV (the fields' names as headers) or Excel file (Indonesian
    headings, rupiah and dates as typed cells in the store's time zone)."""
    timezone = store_timezone_name(db, store_id=store_id) or None
    if what == "sales":
        lines = export_rows([r for r in rows if isinstance(r, SaleRow)])
        keys = [k for k in csv_fields(SaleExportRow) if k != "payment_labels"]
        return file_response(
            fmt, name, lines, SALE_COLUMNS, sheet="Transaksi", csv_columns=keys, timezone=timezone
        )
    return file_response(
        fmt,
        name,
        rows,
        SHIFT_COLUMNS,
        sheet="Shift",
        csv_columns=csv_fields(ShiftRow),
        timezone=timezone,
    )
