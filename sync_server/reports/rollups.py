"""Keeping the report rollups equal to the raw sales tables.

:func:`record_batch` is called by ingest inside the transaction that writes a batch of
sales, refunds and voids, so the rollups can never disagree with the rows they sum:
either both commit or neither does. It adds one upsert per rollup table, with the
batch's changes summed per key first and the keys sorted, so concurrent batches take
row locks in the same order (no deadlocks between them). Every key holds the terminal
of the sale or refund, so a batch writes its own terminal's rows only (a void of
another till's sale excepted: it takes the sale out of that till's rows).

:func:`rebuild_rollups` recomputes everything from the raw rows (a one-shot repair,
and the check the tests make against the incremental path).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Insert,
    Table,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    union_all,
)
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.orm import Session

from sync_server.core.database import Database, driver_statement
from sync_server.reports.models import (
    GRAIN_DAY,
    GRAIN_MONTH,
    PaymentTotals,
    ProductTotals,
    SalesTotals,
)
from sync_server.sync.models import Refund, RefundLine, Sale, SaleLine, SalePayment


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


SALES_TOTALS = _table(SalesTotals)
PRODUCT_TOTALS = _table(ProductTotals)
PAYMENT_TOTALS = _table(PaymentTotals)
ROLLUPS: tuple[Table, ...] = (SALES_TOTALS, PRODUCT_TOTALS, PAYMENT_TOTALS)
"""Rollup tables, in the order every transaction writes them."""

SALES = _table(Sale)
SALE_LINES = _table(SaleLine)
SALE_PAYMENTS = _table(SalePayment)
REFUNDS = _table(Refund)
REFUND_LINES = _table(RefundLine)

SALES_VALUES = (
    "sales_count",
    "gross",
    "discounts",
    "tax",
    "net",
    "refunds_count",
    "refunds_amount",
    "voids_count",
    "voids_amount",
)
PRODUCT_VALUES = ("quantity", "revenue", "refunded_quantity", "refunded_amount")
"""What the product reports read of ``report_product_totals``."""
COST_VALUES = (
    "net_revenue",
    "costed_revenue",
    "cost",
    "unknown_lines",
    "refunded_net_revenue",
    "refunded_costed_revenue",
    "refunded_cost",
    "refunded_unknown_lines",
)
"""What the margin reports read of ``report_product_totals`` besides the units: HPP and
the revenue without PPN it stands against (kept in the product rows, not a table of the
same key, so one upsert per push carries both)."""
PAYMENT_VALUES = ("payments_count", "amount", "refunds_count", "refunds_amount")

VALUE_COLUMNS: dict[Table, tuple[str, ...]] = {
    SALES_TOTALS: SALES_VALUES,
    PRODUCT_TOTALS: PRODUCT_VALUES + COST_VALUES,
    PAYMENT_TOTALS: PAYMENT_VALUES,
}


def key_columns(table: Table) -> tuple[str, ...]:
    """The primary key columns of a rollup table, in order."""
    return tuple(col.name for col in table.primary_key.columns)


def periods(day: date) -> tuple[tuple[str, date], tuple[str, date]]:
    """The (grain, period) pairs a business day adds to: the day and its month."""
    return ((GRAIN_DAY, day), (GRAIN_MONTH, day.replace(day=1)))


class RollupDeltas:
    """Changes to the rollups, summed per key before they reach the database."""

    def __init__(self) -> None:
        self.changes: dict[Table, dict[tuple[Any, ...], list[int]]] = {
            table: defaultdict(lambda t=table: [0] * len(VALUE_COLUMNS[t]))  # type: ignore[misc]
            for table in ROLLUPS
        }

    def add(self, table: Table, at: Mapping[str, Any], key: Any, **values: int) -> None:
        """Add ``values`` (by column name) at the store, business day (and its month) and
        terminal of ``at`` (a sale or refund row) and ``key`` (a cashier, product or
        payment method)."""
        names = VALUE_COLUMNS[table]
        for grain, period in periods(at["business_date"]):
            row = self.changes[table][(at["store_id"], grain, period, at["terminal_id"], key)]
            for name, value in values.items():
                row[names.index(name)] += value

    def add_sale(self, sale: Mapping[str, Any], sign: int = 1) -> None:
        """A sale's own figures (``sign=-1`` takes them back out, for a void)."""
        self.add(
            SALES_TOTALS,
            sale,
            sale["cashier_id"],
            sales_count=sign,
            gross=sign * sale["subtotal"],
            discounts=sign * sale["discount_total"],
            tax=sign * sale["tax_total"],
            net=sign * sale["total"],
            voids_count=1 if sign < 0 else 0,
            voids_amount=sale["total"] if sign < 0 else 0,
        )

    def add_line(self, sale: Mapping[str, Any], line: Mapping[str, Any], sign: int = 1) -> None:
        """A sale line's units and money, its cost of goods and the revenue without PPN
        it stands against (``sign=-1`` for a void): ``line`` has product_id, quantity,
        total, tax and unit_cost (None: unknown)."""
        net = line["total"] - line["tax"]
        cost = line["unit_cost"]
        self.add(
            PRODUCT_TOTALS,
            sale,
            line["product_id"],
            quantity=sign * line["quantity"],
            revenue=sign * line["total"],
            net_revenue=sign * net,
            costed_revenue=0 if cost is None else sign * net,
            cost=0 if cost is None else sign * cost * line["quantity"],
            unknown_lines=sign if cost is None else 0,
        )

    def add_refund_line(
        self, refund: Mapping[str, Any], line: Mapping[str, Any], sold: LineCost | None
    ) -> None:
        """A refund line's units and amount, taken back out at the cost its sale line
        was sold at; its revenue without PPN is the amount less the line's tax share
        (floored)."""
        unit_cost, total, tax = sold if sold is not None else (None, 0, 0)
        amount = line["amount"]
        net = refund_net(amount, total=total, tax=tax)
        self.add(
            PRODUCT_TOTALS,
            refund,
            line["product_id"],
            refunded_quantity=line["quantity"],
            refunded_amount=amount,
            refunded_net_revenue=net,
            refunded_costed_revenue=0 if unit_cost is None else net,
            refunded_cost=0 if unit_cost is None else unit_cost * line["quantity"],
            refunded_unknown_lines=1 if unit_cost is None else 0,
        )

    def rows(self, table: Table) -> list[tuple[Any, ...]]:
        """The summed changes of ``table`` as insert rows, sorted by key (lock order):
        the key's columns (:func:`key_columns`), then :data:`VALUE_COLUMNS`."""
        return [
            (*key, *values) for key, values in sorted(self.changes[table].items()) if any(values)
        ]


_UPSERTS: dict[tuple[str, str], Insert] = {}


def _upsert(dialect: str, table: Table) -> Insert:
    """``INSERT ... ON CONFLICT/DUPLICATE KEY`` adding the new values to the stored ones."""
    cached = _UPSERTS.get((dialect, table.name))
    if cached is not None:
        return cached
    names = VALUE_COLUMNS[table]
    stmt: Insert
    if dialect == "sqlite":
        lite = sqlite.insert(table)
        stmt = lite.on_conflict_do_update(
            index_elements=list(key_columns(table)),
            set_={n: table.c[n] + lite.excluded[n] for n in names},
        )
    else:
        # VALUES(col), not bound values: PyMySQL's multi-row executemany needs that.
        my = mysql.insert(table)
        stmt = my.on_duplicate_key_update({n: table.c[n] + my.inserted[n] for n in names})
    _UPSERTS[(dialect, table.name)] = stmt
    return stmt


_COLUMNS = {table: (*key_columns(table), *VALUE_COLUMNS[table]) for table in ROLLUPS}
"""Each rollup table's upsert columns: its key, then its values."""


def apply_deltas(session: Session, deltas: RollupDeltas) -> None:
    """Add ``deltas`` to the stored rollups, one upsert per table, keys in sorted order.

    Each upsert is compiled once per dialect and gets its rows as positional tuples."""
    dialect = session.get_bind().dialect
    for table in ROLLUPS:
        rows = deltas.rows(table)
        if rows:
            upsert = driver_statement(_upsert(dialect.name, table), _COLUMNS[table], dialect)
            upsert.execute_many(session, rows)


LineCost = tuple[int | None, int, int]
"""What a refund needs of the sale line it returns: (unit cost or None, total, tax)."""


def refund_net(amount: int, *, total: int, tax: int) -> int:
    """The part of a refunded ``amount`` without PPN: the amount less its share of the
    sale line's ``tax`` (``amount × tax // total``, floored)."""
    return amount - (amount * tax // total) if total > 0 else amount


def _void_deltas(session: Session, deltas: RollupDeltas, sale_ids: Sequence[uuid.UUID]) -> None:
    """Take voided sales back out of the figures; they are stored by now."""
    ids = sorted(set(sale_ids))
    sales = {
        row.id: row._asdict()
        for row in session.execute(
            select(
                SALES.c.id,
                SALES.c.store_id,
                SALES.c.business_date,
                SALES.c.terminal_id,
                SALES.c.cashier_id,
                SALES.c.subtotal,
                SALES.c.discount_total,
                SALES.c.tax_total,
                SALES.c.total,
            ).where(SALES.c.id.in_(ids))
        )
    }
    for sale in sales.values():
        deltas.add_sale(sale, sign=-1)
    for sale_id, product_id, qty, total, tax, unit_cost in session.execute(
        select(
            SALE_LINES.c.sale_id,
            SALE_LINES.c.product_id,
            SALE_LINES.c.quantity,
            SALE_LINES.c.total,
            SALE_LINES.c.tax,
            SALE_LINES.c.unit_cost,
        ).where(SALE_LINES.c.sale_id.in_(ids))
    ):
        line = {
            "product_id": product_id,
            "quantity": qty,
            "total": total,
            "tax": tax,
            "unit_cost": unit_cost,
        }
        deltas.add_line(sales[sale_id], line, sign=-1)
    for sale_id, method, amount in session.execute(
        select(SALE_PAYMENTS.c.sale_id, SALE_PAYMENTS.c.method, SALE_PAYMENTS.c.amount).where(
            SALE_PAYMENTS.c.sale_id.in_(ids)
        )
    ):
        sale = sales[sale_id]
        deltas.add(
            PAYMENT_TOTALS,
            sale,
            method,
            payments_count=-1,
            amount=-amount,
        )


def record_batch(
    session: Session,
    *,
    rows: Iterable[Mapping[Table, Sequence[Mapping[str, Any]]]],
    voided_sale_ids: Sequence[uuid.UUID] = (),
    line_costs: Mapping[uuid.UUID, LineCost] | None = None,
) -> None:
    """Bring the rollups up to date with what one ingest batch wrote (same transaction).

    ``rows`` are the rows each applied event inserted, keyed by table (an event's
    lines travel with their sale or refund); ``voided_sale_ids`` are the sales the batch
    voided. ``line_costs`` gives, per sale line a refund of the batch returns, what
    :data:`LineCost` says (sale lines of the batch itself are found in ``rows``).
    Call it after the batch's rows are written.
    """
    deltas = RollupDeltas()
    sold: dict[uuid.UUID, LineCost] = dict(line_costs or {})
    for event_rows in rows:
        for line in event_rows.get(SALE_LINES, ()):
            sold[line["id"]] = (line.get("unit_cost"), line["total"], line["tax"])
    for event_rows in rows:
        sales = {s["id"]: s for s in event_rows.get(SALES, ())}
        for sale in sales.values():
            deltas.add_sale(sale)
        for line in event_rows.get(SALE_LINES, ()):
            deltas.add_line(sales[line["sale_id"]], {"unit_cost": None, **line})
        for pay in event_rows.get(SALE_PAYMENTS, ()):
            sale = sales[pay["sale_id"]]
            deltas.add(
                PAYMENT_TOTALS,
                sale,
                pay["method"],
                payments_count=1,
                amount=pay["amount"],
            )
        refunds = {r["id"]: r for r in event_rows.get(REFUNDS, ())}
        for refund in refunds.values():
            deltas.add(
                SALES_TOTALS,
                refund,
                refund["cashier_id"],
                refunds_count=1,
                refunds_amount=refund["total"],
            )
            deltas.add(
                PAYMENT_TOTALS,
                refund,
                refund["method"],
                refunds_count=1,
                refunds_amount=refund["total"],
            )
        for line in event_rows.get(REFUND_LINES, ()):
            refund = refunds[line["refund_id"]]
            deltas.add_refund_line(refund, line, sold.get(line["sale_line_id"]))
    if voided_sale_ids:
        _void_deltas(session, deltas, voided_sale_ids)
    apply_deltas(session, deltas)


# --- rebuilding from the raw rows ----------------------------------------------------------


def _month_start(session: Session, column: ColumnElement[Any]) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "sqlite":
        return func.date(column, "start of month")
    return func.date_format(column, "%Y-%m-01")


def _zero() -> ColumnElement[int]:
    return literal(0)


def _day_selects() -> dict[Table, Any]:
    """For each rollup table, a SELECT of its 'D' rows straight from the raw tables."""
    live = SALES.c.voided.is_(False)

    def when_live(value: ColumnElement[Any]) -> ColumnElement[Any]:
        return case((live, value), else_=0)

    def when_voided(value: ColumnElement[Any]) -> ColumnElement[Any]:
        return case((live, 0), else_=value)

    sales_parts = union_all(
        select(
            SALES.c.store_id,
            SALES.c.business_date.label("period"),
            SALES.c.terminal_id,
            SALES.c.cashier_id,
            when_live(literal(1)).label("sales_count"),
            when_live(SALES.c.subtotal).label("gross"),
            when_live(SALES.c.discount_total).label("discounts"),
            when_live(SALES.c.tax_total).label("tax"),
            when_live(SALES.c.total).label("net"),
            _zero().label("refunds_count"),
            _zero().label("refunds_amount"),
            when_voided(literal(1)).label("voids_count"),
            when_voided(SALES.c.total).label("voids_amount"),
        ),
        select(
            REFUNDS.c.store_id,
            REFUNDS.c.business_date,
            REFUNDS.c.terminal_id,
            REFUNDS.c.cashier_id,
            *(_zero() for _ in range(5)),
            literal(1),
            REFUNDS.c.total,
            _zero(),
            _zero(),
        ),
    ).subquery("parts")
    payment_parts = union_all(
        select(
            SALES.c.store_id,
            SALES.c.business_date.label("period"),
            SALES.c.terminal_id,
            SALE_PAYMENTS.c.method,
            literal(1).label("payments_count"),
            SALE_PAYMENTS.c.amount.label("amount"),
            _zero().label("refunds_count"),
            _zero().label("refunds_amount"),
        )
        .select_from(SALE_PAYMENTS.join(SALES, SALES.c.id == SALE_PAYMENTS.c.sale_id))
        .where(live),
        select(
            REFUNDS.c.store_id,
            REFUNDS.c.business_date,
            REFUNDS.c.terminal_id,
            REFUNDS.c.method,
            _zero(),
            _zero(),
            literal(1),
            REFUNDS.c.total,
        ),
    ).subquery("parts")
    sold_line = SALE_LINES.alias("sold_line")
    line_net = SALE_LINES.c.total - SALE_LINES.c.tax
    costed = SALE_LINES.c.unit_cost.is_not(None)
    refund_tax = case(
        (sold_line.c.total > 0, REFUND_LINES.c.amount * sold_line.c.tax // sold_line.c.total),
        else_=0,
    )
    refund_net = REFUND_LINES.c.amount - refund_tax
    refund_costed = sold_line.c.unit_cost.is_not(None)
    product_parts = union_all(
        select(
            SALES.c.store_id,
            SALES.c.business_date.label("period"),
            SALES.c.terminal_id,
            SALE_LINES.c.product_id,
            SALE_LINES.c.quantity.label("quantity"),
            SALE_LINES.c.total.label("revenue"),
            _zero().label("refunded_quantity"),
            _zero().label("refunded_amount"),
            line_net.label("net_revenue"),
            case((costed, line_net), else_=0).label("costed_revenue"),
            func.coalesce(SALE_LINES.c.unit_cost * SALE_LINES.c.quantity, 0).label("cost"),
            case((costed, 0), else_=1).label("unknown_lines"),
            *(
                _zero().label(name)
                for name in (
                    "refunded_net_revenue",
                    "refunded_costed_revenue",
                    "refunded_cost",
                    "refunded_unknown_lines",
                )
            ),
        )
        .select_from(SALE_LINES.join(SALES, SALES.c.id == SALE_LINES.c.sale_id))
        .where(live),
        # A refund line's sale line is always there (a foreign key); outer-joined all
        # the same, so its units and amount count even without it (cost unknown).
        select(
            REFUNDS.c.store_id,
            REFUNDS.c.business_date,
            REFUNDS.c.terminal_id,
            REFUND_LINES.c.product_id,
            _zero(),
            _zero(),
            REFUND_LINES.c.quantity,
            REFUND_LINES.c.amount,
            *(_zero() for _ in range(4)),
            refund_net,
            case((refund_costed, refund_net), else_=0),
            func.coalesce(sold_line.c.unit_cost * REFUND_LINES.c.quantity, 0),
            case((refund_costed, 0), else_=1),
        ).select_from(
            REFUND_LINES.join(REFUNDS, REFUNDS.c.id == REFUND_LINES.c.refund_id).outerjoin(
                sold_line, sold_line.c.id == REFUND_LINES.c.sale_line_id
            )
        ),
    ).subquery("parts")
    selects: dict[Table, Any] = {}
    for table, parts in (
        (SALES_TOTALS, sales_parts),
        (PRODUCT_TOTALS, product_parts),
        (PAYMENT_TOTALS, payment_parts),
    ):
        keys = [parts.c[name] for name in key_columns(table) if name != "grain"]
        selects[table] = select(
            keys[0],
            literal(GRAIN_DAY).label("grain"),
            *keys[1:],
            *(func.sum(parts.c[name]) for name in VALUE_COLUMNS[table]),
        ).group_by(*keys)
    return selects


def rebuild_rollups(db: Database) -> None:
    """Recompute every rollup row from the raw sales, refunds and voids, in one transaction.

    A repair tool: run it while no till is pushing (a batch ingested meanwhile would
    be counted twice or not at all, depending on timing).
    """
    with db.session() as session:
        rebuild_in(session)


def rebuild_in(session: Session) -> None:
    """:func:`rebuild_rollups` inside the caller's transaction."""
    for table in ROLLUPS:
        session.execute(delete(table))
    for table, day_rows in _day_selects().items():
        keys = key_columns(table)
        names = VALUE_COLUMNS[table]
        session.execute(insert(table).from_select([*keys, *names], day_rows))
        month = _month_start(session, table.c.period)
        other_keys = [table.c[k] for k in keys if k not in ("store_id", "grain", "period")]
        session.execute(
            insert(table).from_select(
                [*keys, *names],
                select(
                    table.c.store_id,
                    literal(GRAIN_MONTH),
                    month,
                    *other_keys,
                    *(func.sum(table.c[n]) for n in names),
                )
                .where(table.c.grain == GRAIN_DAY)
                .group_by(table.c.store_id, month, *other_keys),
            )
        )
