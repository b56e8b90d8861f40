"""Reports for managers: sales over time, products, payments, cashiers, terminals, stock,
sync health, QRIS payments and the dashboard.

Every function takes the database to read (the reports replica when one is configured:
routers pass ``ReportsDbDep``) and keyword-only arguments, and returns wire schemas
from :mod:`sync_server.reports.schemas`. Sales figures come from the rollup tables
(:mod:`sync_server.reports.models`), so their cost depends on the length of the
period, not on the number of sales. Days are the store's local business days; ``start``
and ``end`` are both included.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from shared.pricing import tax_in_net
from shared.timezones import store_zone
from sync_server.auth.models import Terminal, User
from sync_server.catalog.models import Product
from sync_server.core.database import Database, utcnow
from sync_server.core.errors import Invalid, NotFound
from sync_server.core.models import Store
from sync_server.flags.models import Flag, FlagKind
from sync_server.flags.service import flags_open_count
from sync_server.payments.models import PaymentOrder
from sync_server.reports.models import GRAIN_DAY, GRAIN_MONTH
from sync_server.reports.rollups import (
    PAYMENT_TOTALS,
    PAYMENT_VALUES,
    PRODUCT_TOTALS,
    PRODUCT_VALUES,
    SALES_TOTALS,
    SALES_VALUES,
)
from sync_server.reports.schemas import (
    AlertCounts,
    CashierRow,
    Dashboard,
    DayFigures,
    Granularity,
    HourlySales,
    HourlyTotals,
    HourRow,
    PaymentMethodRow,
    PaymentOrderRow,
    ProductRow,
    RefundMethodRow,
    RefundsVoidsDiscounts,
    RejectedEventRow,
    SalesFigures,
    SalesOverTime,
    SalesPeriod,
    StockFilter,
    StockLevelRow,
    TerminalHealthRow,
    TerminalRow,
    method_label,
)
from sync_server.stock.service import list_levels, product_stock
from sync_server.stores.service import require_store_access, store_exists
from sync_server.sync.models import DrawerOpen, RejectedEvent, Sale, SaleLine

STALE_AFTER = timedelta(minutes=30)
"""A terminal not seen for longer than this is flagged on the dashboard."""

MAX_DAYS = 3660
"""Longest period a report answers (ten years)."""


# --- who may see which store, and the store's calendar -------------------------------------


def report_store(db: Database, *, user: User, store_id: int | None) -> int:
    """The store ``user`` may read reports of: their own, or any store for an admin.

    Managers naming another store get 403; an admin without a store must name one.
    """
    if store_id is None:
        if user.store_id is None:
            raise Invalid("store_required", code="store_required")
        store_id = user.store_id
    require_store_access(actor=user, store_id=store_id)
    with db.session() as session:
        if not store_exists(session, store_id=store_id):
            raise NotFound("unknown_store", code="unknown_store", store_id=store_id)
    return store_id


def _zone_of(session: Session, store_id: int) -> ZoneInfo:
    return store_zone(session.scalar(select(Store.timezone).where(Store.id == store_id)))


def store_timezone(db: Database, *, store_id: int) -> str:
    """The name of the store's time zone (Asia/Jakarta when unset or unknown)."""
    with db.session() as session:
        return str(_zone_of(session, store_id).key)


def store_today(db: Database, *, store_id: int, now: datetime | None = None) -> date:
    """The store's local calendar day at ``now`` (default: now)."""
    with db.session() as session:
        zone = _zone_of(session, store_id)
    return (now or utcnow()).astimezone(zone).date()


def _check_range(start: date, end: date) -> None:
    if end < start:
        raise Invalid("bad_period", code="bad_period")
    if (end - start).days > MAX_DAYS:
        raise Invalid("period_too_long", code="period_too_long", max_days=MAX_DAYS)


def _local_day_bounds(zone: ZoneInfo, start: date, end: date) -> tuple[datetime, datetime]:
    """UTC instants of the start of ``start`` and of the day after ``end``, store-local."""
    lo = datetime.combine(start, time(), zone).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time(), zone).astimezone(UTC)
    return lo, hi


# --- reading the rollups -------------------------------------------------------------------


def _month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    first = day.replace(day=1)
    nxt = (
        first.replace(year=first.year + 1, month=1)
        if first.month == 12
        else first.replace(month=first.month + 1)
    )
    return nxt - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Segment:
    """Rollup rows of one grain whose period lies between two days."""

    grain: str
    first: date
    last: date


def segments(start: date, end: date, *, months: bool = True) -> list[Segment]:
    """Cover ``start..end`` with whole months ('M' rows) and the ragged ends in days."""
    if not months:
        return [Segment(GRAIN_DAY, start, end)]
    first_month = start if start.day == 1 else _month_end(start) + timedelta(days=1)
    last_month: date | None = None
    month = first_month
    while _month_end(month) <= end:
        last_month = month
        month = _month_end(month) + timedelta(days=1)
    if last_month is None:
        return [Segment(GRAIN_DAY, start, end)]
    parts = []
    if start < first_month:
        parts.append(Segment(GRAIN_DAY, start, first_month - timedelta(days=1)))
    parts.append(Segment(GRAIN_MONTH, first_month, last_month))
    after = _month_end(last_month) + timedelta(days=1)
    if after <= end:
        parts.append(Segment(GRAIN_DAY, after, end))
    return parts


def _period_filter(
    table: Any, store_id: int, start: date, end: date, *, months: bool = True
) -> ColumnElement[bool]:
    return and_(
        table.c.store_id == store_id,
        or_(
            *(
                and_(table.c.grain == seg.grain, table.c.period.between(seg.first, seg.last))
                for seg in segments(start, end, months=months)
            )
        ),
    )


def _summed(table: Any, names: Sequence[str]) -> list[ColumnElement[Any]]:
    """``sum(name) AS name`` over ``table`` for each of ``names``."""
    return [func.sum(table.c[n]).label(n) for n in names]


def _ints(row: Any, names: Sequence[str]) -> dict[str, int]:
    """A result row's ``names`` as whole numbers, by name."""
    return {n: int(getattr(row, n)) for n in names}


def _sales_sums() -> list[ColumnElement[Any]]:
    return [func.coalesce(func.sum(SALES_TOTALS.c[n]), 0).label(n) for n in SALES_VALUES]


def _figures(row: Any) -> dict[str, int]:
    return {n: int(getattr(row, n) or 0) for n in SALES_VALUES}


def _sales_by(
    session: Session,
    *,
    store_id: int,
    start: date,
    end: date,
    keys: Sequence[ColumnElement[Any]],
    months: bool = True,
) -> list[Any]:
    stmt: Select[Any] = select(*keys, *_sales_sums()).where(
        _period_filter(SALES_TOTALS, store_id, start, end, months=months)
    )
    if keys:
        stmt = stmt.group_by(*keys)
    return list(session.execute(stmt))


def _sales_by_period(
    session: Session, *, store_id: int, start: date, end: date, months: bool
) -> list[Any]:
    """Sales figures per rollup period: per day, or per month when ``months``."""
    return _sales_by(
        session,
        store_id=store_id,
        start=start,
        end=end,
        keys=[SALES_TOTALS.c.period],
        months=months,
    )


# --- sales with an open flag ---------------------------------------------------------------
#
# The rollups hold every applied sale. A report "without flagged sales" takes the
# contributions of the sales whose own event raised a flag still open back out, read
# from the sales and flags tables: flags are few, so this stays a small query.


def _open_flag_events(store_id: int) -> Select[Any]:
    return select(Flag.event_id).where(Flag.store_id == store_id, Flag.resolved_at.is_(None))


def _flagged_by_day(
    session: Session, *, store_id: int, start: date, end: date
) -> dict[date, dict[str, int]]:
    """Per business day, what the sales with an open flag add to the sales figures."""
    rows = session.execute(
        select(
            Sale.business_date,
            Sale.voided,
            Sale.subtotal,
            Sale.discount_total,
            Sale.tax_total,
            Sale.total,
        ).where(
            Sale.store_id == store_id,
            Sale.business_date.between(start, end),
            Sale.event_id.in_(_open_flag_events(store_id)),
        )
    )
    out: dict[date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(SALES_VALUES, 0))
    for day, voided, subtotal, discounts, tax, total in rows:
        figures = out[day]
        if voided:  # a voided sale counts only in the voids (see reports.models)
            figures["voids_count"] += 1
            figures["voids_amount"] += total
        else:
            figures["sales_count"] += 1
            figures["gross"] += subtotal
            figures["discounts"] += discounts
            figures["tax"] += tax
            figures["net"] += total
    return out


def _tax_difference(
    session: Session, *, store_id: int, start: date, end: date, exclude_flagged: bool
) -> int:
    """Recomputed minus claimed PPN of the period's ``tax_mismatch`` lines.

    Each flagged line's tax is computed again on its own net amount at the rate the
    server expected (:func:`shared.pricing.tax_in_net`, as the till does). Voided sales
    are not in the figures, so not here either; with ``exclude_flagged``, neither are
    sales with an open flag.
    """
    stmt = (
        select(Flag.details)
        .join(Sale, Sale.event_id == Flag.event_id)
        .where(
            Flag.store_id == store_id,
            Flag.kind == FlagKind.TAX_MISMATCH.value,
            Flag.business_date.between(start, end),
            Sale.business_date.between(start, end),
            Sale.voided.is_(False),
        )
    )
    if exclude_flagged:
        stmt = stmt.where(Sale.event_id.not_in(_open_flag_events(store_id)))
    expected: dict[uuid.UUID, int] = {}
    for (details,) in session.execute(stmt):
        for line in json.loads(details).get("lines", ()):
            expected[uuid.UUID(str(line["line_id"]))] = int(line["expected"])
    if not expected:
        return 0
    difference = 0
    for line in session.scalars(select(SaleLine).where(SaleLine.id.in_(expected))):
        net = line.unit_price * line.quantity - line.discount - line.order_discount
        recomputed = tax_in_net(net, expected[line.id], inclusive=line.tax_inclusive)
        difference += recomputed - line.tax
    return difference


def _period_of(day: date, granularity: Granularity) -> tuple[date, date, str]:
    if granularity == "day":
        return day, day, day.isoformat()
    if granularity == "week":
        monday = day - timedelta(days=day.weekday())
        year, week, _ = day.isocalendar()
        return monday, monday + timedelta(days=6), f"{year}-W{week:02d}"
    if granularity == "month":
        first = day.replace(day=1)
        return first, _month_end(first), f"{day:%Y-%m}"
    return date(day.year, 1, 1), date(day.year, 12, 31), f"{day.year}"


def sales_over_time(
    db: Database,
    *,
    store_id: int,
    granularity: Granularity,
    start: date,
    end: date,
    exclude_flagged: bool = False,
) -> SalesOverTime:
    """Sales per day, ISO week (Monday first), month or year from ``start`` to ``end``.

    Every period in the range is listed, empty ones with zeros; the first and last
    periods are cut to the range (``period_start``/``period_end`` say where). With
    ``exclude_flagged``, sales with an open flag are left out of every figure. The
    answer also says what the flagged sales add up to, and the period's PPN as the tills
    claimed it and as the server recomputes it.
    """
    _check_range(start, end)
    months = granularity in ("month", "year")
    with db.session() as session:
        rows = _sales_by_period(session, store_id=store_id, start=start, end=end, months=months)
        flagged = _flagged_by_day(session, store_id=store_id, start=start, end=end)
        tax_difference = _tax_difference(
            session, store_id=store_id, start=start, end=end, exclude_flagged=exclude_flagged
        )
    buckets: dict[date, dict[str, int]] = {}
    labels: dict[date, tuple[date, date, str]] = {}
    day = start
    while day <= end:
        first, last, label = _period_of(day, granularity)
        if first not in labels:
            labels[first] = (max(first, start), min(last, end), label)
            buckets[first] = dict.fromkeys(SALES_VALUES, 0)
        day = last + timedelta(days=1)
    totals = dict.fromkeys(SALES_VALUES, 0)
    for row in rows:
        first = _period_of(row.period, granularity)[0]
        figures = _figures(row)
        for name, value in figures.items():
            buckets[first][name] += value
            totals[name] += value
    flagged_totals = dict.fromkeys(SALES_VALUES, 0)
    for day, figures in flagged.items():
        first = _period_of(day, granularity)[0]
        for name, value in figures.items():
            flagged_totals[name] += value
            if exclude_flagged:
                buckets[first][name] -= value
                totals[name] -= value
    periods = [
        SalesPeriod(period_start=labels[k][0], period_end=labels[k][1], label=labels[k][2], **v)
        for k, v in sorted(buckets.items())
    ]
    return SalesOverTime(
        store_id=store_id,
        granularity=granularity,
        start=start,
        end=end,
        periods=periods,
        totals=SalesFigures(**totals),
        exclude_flagged=exclude_flagged,
        flagged=SalesFigures(**flagged_totals),
        tax_claimed=totals["tax"],
        tax_recomputed=totals["tax"] + tax_difference,
    )


def sales_summary(db: Database, *, store_id: int, start: date, end: date) -> SalesFigures:
    """Sales, refunds and voids of a whole period in one set of figures."""
    _check_range(start, end)
    with db.session() as session:
        (row,) = _sales_by(session, store_id=store_id, start=start, end=end, keys=[])
    return SalesFigures(**_figures(row))


def top_products(
    db: Database,
    *,
    store_id: int,
    start: date,
    end: date,
    limit: int = 20,
    order_by: str = "revenue",
) -> list[ProductRow]:
    """The best-selling products of a period, by ``revenue`` (default) or ``quantity``."""
    _check_range(start, end)
    if order_by not in ("revenue", "quantity"):
        raise Invalid("bad_order", code="bad_order")
    t = PRODUCT_TOTALS
    sums = select(t.c.product_id, *_summed(t, PRODUCT_VALUES)).where(
        _period_filter(t, store_id, start, end)
    )
    sums = sums.group_by(t.c.product_id)
    ranked = (
        sums.order_by(func.sum(t.c[order_by]).desc(), t.c.product_id)
        .limit(limit)
        .subquery("ranked")
    )
    stmt = (
        select(ranked, Product.sku, Product.name)
        .join(Product, Product.id == ranked.c.product_id)
        .order_by(ranked.c[order_by].desc(), ranked.c.product_id)
    )
    with db.session() as session:
        return [
            ProductRow(product_id=r.product_id, sku=r.sku, name=r.name, **_ints(r, PRODUCT_VALUES))
            for r in session.execute(stmt)
        ]


def by_payment_method(
    db: Database, *, store_id: int, start: date, end: date
) -> list[PaymentMethodRow]:
    """Money by payment method; each part of a split tender counts under its method."""
    _check_range(start, end)
    t = PAYMENT_TOTALS
    stmt = (
        select(t.c.method, *_summed(t, PAYMENT_VALUES))
        .where(_period_filter(t, store_id, start, end))
        .group_by(t.c.method)
        .order_by(t.c.method)
    )
    with db.session() as session:
        return [
            PaymentMethodRow(
                method=r.method, label=method_label(r.method), **_ints(r, PAYMENT_VALUES)
            )
            for r in session.execute(stmt)
        ]


def _sales_by_named(
    db: Database, *, store_id: int, start: date, end: date, key: Any, names: Any
) -> tuple[list[Any], dict[int, tuple[str, str]]]:
    """Sales figures grouped by ``key`` and, per key id, two naming columns of ``names``.

    ``names`` is a select of (id, first name column, second name column).
    """
    _check_range(start, end)
    with db.session() as session:
        rows = _sales_by(session, store_id=store_id, start=start, end=end, keys=[key])
        ids = [getattr(r, key.name) for r in rows]
        named = {
            int(row_id): (str(a), str(b or ""))
            for row_id, a, b in session.execute(names.where(names.selected_columns[0].in_(ids)))
        }
    return rows, named


def _no_sale_opens(session: Session, *, store_id: int, start: date, end: date) -> dict[int, int]:
    """Drawer openings with no sale per cashier over the business days ``start``..``end``."""
    stmt = (
        select(DrawerOpen.cashier_id, func.count())
        .where(DrawerOpen.store_id == store_id, DrawerOpen.business_date.between(start, end))
        .group_by(DrawerOpen.cashier_id)
    )
    return {int(cashier): int(n) for cashier, n in session.execute(stmt)}


def by_cashier(db: Database, *, store_id: int, start: date, end: date) -> list[CashierRow]:
    """Sales, refunds and voids per cashier, largest net first, with how often each
    opened the drawer with no sale (a cashier who only did that gets a row too)."""
    rows, names = _sales_by_named(
        db,
        store_id=store_id,
        start=start,
        end=end,
        key=SALES_TOTALS.c.cashier_id,
        names=select(User.id, User.username, User.full_name),
    )
    with db.session() as session:
        opens = _no_sale_opens(session, store_id=store_id, start=start, end=end)
        unnamed = sorted(set(opens) - set(names))
        if unnamed:
            names.update(
                (int(uid), (str(a), str(b or "")))
                for uid, a, b in session.execute(
                    select(User.id, User.username, User.full_name).where(User.id.in_(unnamed))
                )
            )
    out = [
        CashierRow(
            cashier_id=r.cashier_id,
            username=names.get(r.cashier_id, ("?", ""))[0],
            full_name=names.get(r.cashier_id, ("?", ""))[1],
            no_sale_opens=opens.get(r.cashier_id, 0),
            **_figures(r),
        )
        for r in rows
    ]
    seen = {c.cashier_id for c in out}
    out += [
        CashierRow(
            cashier_id=cashier_id,
            username=names.get(cashier_id, ("?", ""))[0],
            full_name=names.get(cashier_id, ("?", ""))[1],
            no_sale_opens=count,
        )
        for cashier_id, count in opens.items()
        if cashier_id not in seen
    ]
    return sorted(out, key=lambda c: (-c.net, c.cashier_id))


def by_terminal(db: Database, *, store_id: int, start: date, end: date) -> list[TerminalRow]:
    """Sales, refunds and voids per terminal, by terminal code."""
    rows, names = _sales_by_named(
        db,
        store_id=store_id,
        start=start,
        end=end,
        key=SALES_TOTALS.c.terminal_id,
        names=select(Terminal.id, Terminal.code, Terminal.name),
    )
    out = [
        TerminalRow(
            terminal_id=r.terminal_id,
            code=names.get(r.terminal_id, ("?", ""))[0],
            name=names.get(r.terminal_id, ("?", ""))[1],
            **_figures(r),
        )
        for r in rows
    ]
    return sorted(out, key=lambda t: (t.code, t.terminal_id))


def _days(
    session: Session, *, store_id: int, start: date, end: date, exclude_flagged: bool = False
) -> list[DayFigures]:
    rows = _sales_by_period(session, store_id=store_id, start=start, end=end, months=False)
    found = {r.period: _figures(r) for r in rows}
    if exclude_flagged:
        for day, minus in _flagged_by_day(session, store_id=store_id, start=start, end=end).items():
            found[day] = {n: found.get(day, {}).get(n, 0) - v for n, v in minus.items()}
    empty = dict.fromkeys(SALES_VALUES, 0)
    return [
        DayFigures(day=start + timedelta(days=i), **found.get(start + timedelta(days=i), empty))
        for i in range((end - start).days + 1)
    ]


_REFUND_VALUES = ("refunds_count", "refunds_amount")


def refunds_voids_discounts(
    db: Database, *, store_id: int, start: date, end: date
) -> RefundsVoidsDiscounts:
    """Discounts given, refunds and voids of a period, in total and per day."""
    _check_range(start, end)
    t = PAYMENT_TOTALS
    by_method = (
        select(t.c.method, *_summed(t, _REFUND_VALUES))
        .where(_period_filter(t, store_id, start, end))
        .group_by(t.c.method)
        .having(func.sum(t.c.refunds_count) > 0)
        .order_by(t.c.method)
    )
    with db.session() as session:
        days = _days(session, store_id=store_id, start=start, end=end)
        refunds_by_method = [
            RefundMethodRow(
                method=r.method, label=method_label(r.method), **_ints(r, _REFUND_VALUES)
            )
            for r in session.execute(by_method)
        ]
    totals: dict[str, int] = defaultdict(int)
    for day in days:
        for name in SALES_VALUES:
            totals[name] += getattr(day, name)
    return RefundsVoidsDiscounts(
        store_id=store_id,
        start=start,
        end=end,
        totals=SalesFigures(**totals),
        days=days,
        refunds_by_method=refunds_by_method,
    )


# --- busy hours ----------------------------------------------------------------------------


def _bucket_seconds(zone: ZoneInfo, lo: datetime, hi: datetime) -> int:
    """How finely sales are bucketed in SQL: whole UTC hours when the store's offset is
    a whole number of hours all period (the Indonesian zones), else quarter hours (every
    offset in use is a multiple of 15 minutes), so each bucket lies in one local hour."""
    moment = lo
    while True:
        offset = moment.astimezone(zone).utcoffset() or timedelta()
        if offset.total_seconds() % 3600:
            return 900
        if moment >= hi:
            return 3600
        moment = min(moment + timedelta(days=28), hi)


def _bucket(session: Session, seconds: int) -> ColumnElement[Any]:
    """``Sale.created_at`` (naive UTC) as whole ``seconds``-long buckets since 1970."""
    if session.get_bind().dialect.name == "sqlite":
        epoch: ColumnElement[Any] = cast(func.strftime("%s", Sale.created_at), Integer)
        return (epoch / seconds).label("bucket")  # integer division on integers
    since = func.timestampdiff(literal_column("SECOND"), "1970-01-01 00:00:00", Sale.created_at)
    return since.op("DIV")(seconds).label("bucket")


def _hour_label(hour: int) -> str:
    return f"{hour:02d}:00"


def hourly_sales(db: Database, *, store_id: int, start: date, end: date) -> HourlySales:
    """Sales per local hour of the day (00–23) over the business days ``start..end``.

    Summed in SQL per UTC hour (or quarter hour, see :func:`_bucket_seconds`) over the
    sales of the period (index ``store_id, business_date``), so a year answers at most
    a few thousand rows whatever the number of sales; each bucket is then put in the
    store-local hour it falls in. Voided sales are left out.
    """
    _check_range(start, end)
    with db.session() as session:
        timezone = session.scalar(select(Store.timezone).where(Store.id == store_id))
        zone = store_zone(timezone)
        lo, hi = _local_day_bounds(zone, start, end)
        seconds = _bucket_seconds(zone, lo - timedelta(days=1), hi + timedelta(days=1))
        bucket = _bucket(session, seconds)
        stmt = (
            select(bucket, func.count(), func.coalesce(func.sum(Sale.total), 0))
            .where(
                Sale.store_id == store_id,
                Sale.business_date.between(start, end),
                Sale.voided.is_(False),
            )
            .group_by(bucket)
        )
        found = list(session.execute(stmt))
    counts = [0] * 24
    nets = [0] * 24
    for bucket_no, count, net in found:
        hour = datetime.fromtimestamp(int(bucket_no) * seconds, UTC).astimezone(zone).hour
        counts[hour] += int(count)
        nets[hour] += int(net)
    hours = [
        HourRow(hour=h, label=_hour_label(h), sales_count=counts[h], net=nets[h]) for h in range(24)
    ]
    busiest = max(range(24), key=lambda h: (counts[h], nets[h], -h)) if any(counts) else None
    return HourlySales(
        store_id=store_id,
        start=start,
        end=end,
        timezone=str(zone.key),
        hours=hours,
        totals=HourlyTotals(
            sales_count=sum(counts),
            net=sum(nets),
            busiest_hour=busiest,
            busiest_label="—" if busiest is None else f"{busiest:02d}:00–{busiest:02d}:59",
        ),
    )


# --- stock, terminals, payments ------------------------------------------------------------


def stock_on_hand(
    db: Database,
    *,
    store_id: int,
    only: StockFilter | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> list[StockLevelRow]:
    """On hand per product, optionally only the ``negative`` or ``low`` ones."""
    with db.session() as session:
        return list_levels(session, store_id=store_id, only=only, limit=limit, offset=offset)


def _stock_alerts(session: Session, store_id: int) -> tuple[int, int]:
    """Counts of negative and low products, by the rules of :func:`list_levels` (on hand
    is base plus the tills' deltas, read in one statement)."""
    stock = product_stock(store_id)
    on_hand = stock.on_hand
    base = (
        select(
            func.coalesce(func.sum(case((on_hand < 0, 1), else_=0)), 0),
            func.coalesce(func.sum(case((on_hand <= Product.low_stock_threshold, 1), else_=0)), 0),
        )
        .select_from(stock.joined)
        .where(or_(Product.active.is_(True), stock.stocked))
    )
    negative, low = session.execute(base).one()
    return int(negative), int(low)


def _rejected_rows(
    session: Session, *, store_id: int, unresolved_only: bool, limit: int
) -> list[RejectedEventRow]:
    stmt = (
        select(RejectedEvent, Terminal.code)
        .join(Terminal, Terminal.id == RejectedEvent.terminal_id)
        .where(Terminal.store_id == store_id)
        .order_by(RejectedEvent.last_seen_at.desc(), RejectedEvent.id.desc())
        .limit(limit)
    )
    if unresolved_only:
        stmt = stmt.where(RejectedEvent.resolved_at.is_(None))
    return [_rejected_row(ev, code) for ev, code in session.execute(stmt)]


def _rejected_row(ev: RejectedEvent, code: str) -> RejectedEventRow:
    return RejectedEventRow.of(ev, terminal_code=code)


def rejected_events(
    db: Database, *, store_id: int, unresolved_only: bool = True, limit: int = 500
) -> list[RejectedEventRow]:
    """Events the store's tills sent that were refused, newest first."""
    with db.session() as session:
        return _rejected_rows(
            session, store_id=store_id, unresolved_only=unresolved_only, limit=limit
        )


def terminal_health(
    db: Database, *, store_id: int, now: datetime | None = None
) -> list[TerminalHealthRow]:
    """Every terminal of the store: last seen, events waiting, unresolved rejected events."""
    now = now or utcnow()
    with db.session() as session:
        terminals = list(
            session.scalars(
                select(Terminal).where(Terminal.store_id == store_id).order_by(Terminal.code)
            )
        )
        rejected = _rejected_rows(session, store_id=store_id, unresolved_only=True, limit=5000)
    per_terminal: dict[int, list[RejectedEventRow]] = defaultdict(list)
    for row in rejected:
        per_terminal[row.terminal_id].append(row)
    out = []
    for t in terminals:
        minutes = (
            None if t.last_seen_at is None else int((now - t.last_seen_at).total_seconds() // 60)
        )
        active = t.enrolled_at is not None and t.revoked_at is None
        out.append(
            TerminalHealthRow(
                terminal_id=t.id,
                code=t.code,
                name=t.name,
                enrolled=t.enrolled_at is not None,
                revoked=t.revoked_at is not None,
                last_seen_at=t.last_seen_at,
                minutes_since_seen=minutes,
                stale=active and (t.last_seen_at is None or now - t.last_seen_at > STALE_AFTER),
                events_waiting=t.events_waiting,
                unresolved_rejected=len(per_terminal[t.id]),
                rejected=per_terminal[t.id],
            )
        )
    return out


def resolve_rejected(
    db: Database, *, user: User, event_id: uuid.UUID, note: str
) -> RejectedEventRow:
    """Mark a rejected event as dealt with (``note`` says how). Writes: pass the main db.

    Managers resolve their own store's events; admins any. Resolving again replaces
    the note.
    """
    with db.session() as session:
        found = session.execute(
            select(RejectedEvent, Terminal.code, Terminal.store_id)
            .join(Terminal, Terminal.id == RejectedEvent.terminal_id)
            .where(RejectedEvent.event_id == event_id)
            .with_for_update()
        ).first()
        if found is None:
            raise NotFound(
                "unknown_rejected_event", code="unknown_rejected_event", event_id=event_id
            )
        ev, code, store_id = found
        require_store_access(actor=user, store_id=store_id)
        session.execute(
            update(RejectedEvent)
            .where(RejectedEvent.id == ev.id)
            .values(resolved_at=utcnow(), resolved_by=user.id, resolution=note[:200])
        )
        session.refresh(ev)
        return _rejected_row(ev, code)


def payments(
    db: Database,
    *,
    store_id: int,
    start: date,
    end: date,
    status: str | None = None,
    limit: int = 500,
) -> list[PaymentOrderRow]:
    """QRIS payment orders created on the store's days ``start..end``, newest first."""
    _check_range(start, end)
    with db.session() as session:
        lo, hi = _local_day_bounds(_zone_of(session, store_id), start, end)
        stmt = (
            select(PaymentOrder)
            .where(
                PaymentOrder.store_id == store_id,
                PaymentOrder.created_at >= lo,
                PaymentOrder.created_at < hi,
            )
            .order_by(PaymentOrder.created_at.desc(), PaymentOrder.id.desc())
            .limit(limit)
        )
        if status is not None:
            stmt = stmt.where(PaymentOrder.status == status.upper())
        return [PaymentOrderRow.of(p) for p in session.scalars(stmt)]


# --- the dashboard -------------------------------------------------------------------------


def dashboard(
    db: Database,
    *,
    store_id: int,
    today: date | None = None,
    now: datetime | None = None,
    exclude_flagged: bool = False,
) -> Dashboard:
    """Today against yesterday, the last 7 days (today included) and the alerts.

    With ``exclude_flagged``, sales with an open flag are left out of the figures.
    """
    now = now or utcnow()
    with db.session() as session:
        zone = _zone_of(session, store_id)
        today = today or now.astimezone(zone).date()
        week = _days(
            session,
            store_id=store_id,
            start=today - timedelta(days=6),
            end=today,
            exclude_flagged=exclude_flagged,
        )
        negative, low = _stock_alerts(session, store_id)
        stale = session.scalar(
            select(func.count())
            .select_from(Terminal)
            .where(
                Terminal.store_id == store_id,
                Terminal.enrolled_at.is_not(None),
                Terminal.revoked_at.is_(None),
                or_(Terminal.last_seen_at.is_(None), Terminal.last_seen_at < now - STALE_AFTER),
            )
        )
        unresolved = session.scalar(
            select(func.count())
            .select_from(RejectedEvent)
            .join(Terminal, Terminal.id == RejectedEvent.terminal_id)
            .where(Terminal.store_id == store_id, RejectedEvent.resolved_at.is_(None))
        )
        lo, hi = _local_day_bounds(zone, today, today)
        failed = session.scalar(
            select(func.count())
            .select_from(PaymentOrder)
            .where(
                PaymentOrder.store_id == store_id,
                PaymentOrder.status.in_(("FAILED", "EXPIRED")),
                PaymentOrder.created_at >= lo,
                PaymentOrder.created_at < hi,
            )
        )
        open_flags = flags_open_count(session, store_id=store_id)
    today_row, yesterday_row = week[-1], week[-2]
    return Dashboard(
        store_id=store_id,
        today=today,
        today_figures=SalesFigures(**{n: getattr(today_row, n) for n in SALES_VALUES}),
        yesterday_figures=SalesFigures(**{n: getattr(yesterday_row, n) for n in SALES_VALUES}),
        last_7_days=week,
        alerts=AlertCounts(
            negative_stock=negative,
            low_stock=low,
            stale_terminals=int(stale or 0),
            unresolved_rejected=int(unresolved or 0),
            failed_payments_today=int(failed or 0),
            open_flags=open_flags,
        ),
        exclude_flagged=exclude_flagged,
    )
