"""Sales on the till: writing a sale (one transaction) and reading sales back.

A sale is written with its lines, payments, local stock moves, receipt number and the
outbox row that carries it to the server, all in ONE transaction: after a crash the sale
is whole or absent, and its receipt number was used or never taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from pos_client.domain.receipts import format_receipt_number
from pos_client.domain.sale import SaleDraft
from pos_client.store.base import StoreBase, dumps, to_db_time
from shared.barcodes import MeasureKind
from shared.ids import new_id
from shared.models import (
    EventType,
    LineMeasure,
    PaymentIn,
    PaymentMethod,
    SaleIn,
    SaleLineIn,
    StockMoveKind,
)
from shared.models.customers import SaleCustomerIn


@dataclass(frozen=True, slots=True)
class SaleSummary:
    """One line of the recent-sales list."""

    id: UUID
    receipt_number: str
    created_at: datetime
    total: int
    status: str


@dataclass(frozen=True, slots=True)
class SaleListing:
    """One sale in the till's history: what the list shows and what search looks at."""

    id: UUID
    receipt_number: str
    created_at: datetime
    total: int
    status: str
    shift_id: UUID | None
    refunded: int
    """Money given back by refunds of this sale so far."""
    methods: tuple[str, ...]
    """The payment methods used, e.g. ``("cash",)`` or ``("cash", "qris")``."""


# The statements of a sale, prepared once per connection (sqlite3 caches them by text).
_NEXT_RECEIPT_SEQ = (
    "INSERT INTO receipt_sequences (terminal_code, day, last_seq) VALUES (?, ?, 1) "
    "ON CONFLICT(terminal_code, day) DO UPDATE SET last_seq = last_seq + 1 "
    "RETURNING last_seq"
)
_INSERT_SALE = (
    "INSERT INTO sales (id, receipt_number, shift_id, cashier_id, created_at, "
    "order_discount, voucher_code, subtotal, discount_total, tax_total, total, "
    "event_id, catalog_cursor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_SALE_LINE = (
    "INSERT INTO sale_lines (id, sale_id, line_no, product_id, sku, name, quantity, "
    "unit_price, discount, order_discount, tax_rate_bp, tax_inclusive, tax, total, "
    "measure_kind, measure_value, measure_base_price) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_PAYMENT = (
    "INSERT INTO payments (id, sale_id, method, amount, tendered, change, reference, "
    "order_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_STOCK_MOVE = (
    "INSERT INTO stock_moves (id, product_id, quantity, kind, ref_id, event_id, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_OUTBOX = "INSERT INTO outbox (id, type, created_at, payload) VALUES (?, ?, ?, ?)"
_INSERT_SALE_CUSTOMER = "INSERT INTO sale_customers (sale_id, customer) VALUES (?, ?)"

# The payload is serialised before the write lock with a placeholder number; the real
# number (known inside the transaction) replaces it. A JSON string value never holds an
# unescaped quote, so the field below occurs once, as the sale's own key.
_NUMBER_PLACEHOLDER = "PENDING"
_NUMBER_KEY = '"receipt_number":'
_NUMBER_FIELD = f'{_NUMBER_KEY}"{_NUMBER_PLACEHOLDER}"'


def _measure(row: dict[str, Any]) -> LineMeasure | None:
    """The label a stored sale line was rung up from, or None."""
    if row["measure_kind"] is None:
        return None
    return LineMeasure(
        kind=MeasureKind(row["measure_kind"]),
        value=row["measure_value"],
        base_price=row["measure_base_price"],
    )


class SalesMixin(StoreBase):
    """Record sales and read them back (for reprints, refunds and the recent-sales list)."""

    def record_sale(self, draft: SaleDraft, *, terminal_code: str, day: date) -> SaleIn:
        """Write a sale, its lines, payments, stock moves and outbox row in one transaction.

        The receipt sequence of ``(terminal_code, day)`` is allocated in the same
        transaction, so numbers are unique and gap-free per terminal and day without the
        network. Returns the sale as sent to the server (with its receipt number).

        Every row and the outbox payload are built before the write lock is taken; inside
        it run only the six prepared statements (sequence, sale, lines, payments, moves,
        outbox) and the receipt number is put into what was built. One commit, one fsync.
        """
        event_id = str(new_id())
        # Validate and serialise before taking the write lock; only the number is missing.
        unnumbered = draft.to_wire(_NUMBER_PLACEHOLDER)
        # pydantic's own serialiser writes what dumps(model_dump(mode="json")) writes
        # (compact, UTF-8 kept), a few times faster.
        payload = unnumbered.model_dump_json()
        if payload.count(_NUMBER_FIELD) != 1:
            raise RuntimeError("the sale payload must carry its receipt number once")
        head, _, tail = payload.partition(_NUMBER_FIELD)
        sale_id = str(unnumbered.id)
        created = to_db_time(unnumbered.created_at)
        sale_row = (
            str(unnumbered.shift_id) if unnumbered.shift_id else None,
            unnumbered.cashier_id,
            created,
            unnumbered.order_discount,
            unnumbered.voucher_code,
            unnumbered.subtotal,
            unnumbered.discount_total,
            unnumbered.tax_total,
            unnumbered.total,
            event_id,
            unnumbered.catalog_cursor,
        )
        customer = unnumbered.customer.model_dump_json() if unnumbered.customer else None
        line_rows = [
            (
                str(line.id),
                sale_id,
                n,
                line.product_id,
                line.sku,
                line.name,
                line.quantity,
                line.unit_price,
                line.discount,
                share,
                line.tax_rate_bp,
                line.tax_inclusive,
                line.tax,
                line.total,
                line.measure.kind.value if line.measure else None,
                line.measure.value if line.measure else None,
                line.measure.base_price if line.measure else None,
            )
            for n, (line, share) in enumerate(
                zip(unnumbered.lines, draft.line_order_discounts, strict=True), start=1
            )
        ]
        payment_rows = [
            (
                str(p.id),
                sale_id,
                p.method.value,
                p.amount,
                p.tendered,
                p.change,
                p.reference,
                p.order_id,
            )
            for p in unnumbered.payments
        ]
        # A sale's move is its line's: the line id names it (nothing refers to a move's
        # id, and a move lives only until the server acknowledges the sale).
        move_rows = [
            (
                line_id,
                line.product_id,
                -line.quantity,
                StockMoveKind.SALE.value,
                sale_id,
                event_id,
                created,
            )
            for line_id, line in zip((row[0] for row in line_rows), unnumbered.lines, strict=True)
        ]
        with self._write() as conn:
            seq = conn.execute(_NEXT_RECEIPT_SEQ, (terminal_code, day.isoformat())).fetchone()[0]
            number = format_receipt_number(terminal_code, day, seq)
            conn.execute(_INSERT_SALE, (sale_id, number, *sale_row))
            conn.executemany(_INSERT_SALE_LINE, line_rows)
            conn.executemany(_INSERT_PAYMENT, payment_rows)
            conn.executemany(_INSERT_STOCK_MOVE, move_rows)
            if customer is not None:
                conn.execute(_INSERT_SALE_CUSTOMER, (sale_id, customer))
            conn.execute(
                _INSERT_OUTBOX,
                (
                    event_id,
                    EventType.SALE,
                    created,
                    f"{head}{_NUMBER_KEY}{dumps(number)}{tail}",
                ),
            )
        return unnumbered.model_copy(update={"receipt_number": number})

    def sale(self, sale_id: UUID) -> SaleIn | None:
        """A sale as it was rung up (for reprint and refunds), or None."""
        row = self._one("SELECT * FROM sales WHERE id = ?", (str(sale_id),))
        if row is None:
            return None
        lines = self._all(
            "SELECT * FROM sale_lines WHERE sale_id = ? ORDER BY line_no", (row["id"],)
        )
        payments = self._all("SELECT * FROM payments WHERE sale_id = ? ORDER BY id", (row["id"],))
        customer = self._scalar(
            "SELECT customer FROM sale_customers WHERE sale_id = ?", (row["id"],)
        )
        return SaleIn(
            id=UUID(row["id"]),
            receipt_number=row["receipt_number"],
            shift_id=UUID(row["shift_id"]) if row["shift_id"] else None,
            cashier_id=row["cashier_id"],
            created_at=datetime.fromisoformat(row["created_at"]),
            lines=[
                SaleLineIn(
                    id=UUID(x["id"]),
                    product_id=x["product_id"],
                    sku=x["sku"],
                    name=x["name"],
                    quantity=x["quantity"],
                    unit_price=x["unit_price"],
                    discount=x["discount"],
                    tax_rate_bp=x["tax_rate_bp"],
                    tax_inclusive=bool(x["tax_inclusive"]),
                    tax=x["tax"],
                    total=x["total"],
                    measure=_measure(x),
                )
                for x in lines
            ],
            order_discount=row["order_discount"],
            voucher_code=row["voucher_code"],
            subtotal=row["subtotal"],
            discount_total=row["discount_total"],
            tax_total=row["tax_total"],
            total=row["total"],
            payments=[
                PaymentIn(
                    id=UUID(p["id"]),
                    method=PaymentMethod(p["method"]),
                    amount=p["amount"],
                    tendered=p["tendered"],
                    change=p["change"],
                    reference=p["reference"],
                    order_id=p["order_id"],
                )
                for p in payments
            ],
            catalog_cursor=row["catalog_cursor"],
            customer=SaleCustomerIn.model_validate_json(customer) if customer else None,
        )

    def sale_id_by_receipt(self, receipt_number: str) -> UUID | None:
        """The sale printed with ``receipt_number`` (e.g. scanned from its QR), or None."""
        value = self._scalar(
            "SELECT id FROM sales WHERE receipt_number = ?", (receipt_number.strip().upper(),)
        )
        return None if value is None else UUID(value)

    def sale_status(self, sale_id: UUID) -> str | None:
        """``completed`` or ``voided``, or None for an unknown sale."""
        value = self._scalar("SELECT status FROM sales WHERE id = ?", (str(sale_id),))
        return None if value is None else str(value)

    def recent_sales(self, limit: int = 50) -> list[SaleSummary]:
        """The latest sales on this till, newest first."""
        return [
            SaleSummary(
                id=UUID(r["id"]),
                receipt_number=r["receipt_number"],
                created_at=datetime.fromisoformat(r["created_at"]),
                total=r["total"],
                status=r["status"],
            )
            for r in self._all(
                "SELECT id, receipt_number, created_at, total, status FROM sales "
                "ORDER BY created_at DESC, id DESC LIMIT ?",
                (limit,),
            )
        ]

    def sales_since(
        self, since: datetime, *, shift_id: UUID | None = None, limit: int = 500
    ) -> list[SaleListing]:
        """Sales rung up on this till from ``since`` on (and in ``shift_id`` when given),
        newest first, each with its refunded total and payment methods."""
        rows = self._all(
            "SELECT s.id, s.receipt_number, s.created_at, s.total, s.status, s.shift_id, "
            "(SELECT COALESCE(sum(r.total), 0) FROM refunds r WHERE r.sale_id = s.id) "
            "AS refunded, "
            "(SELECT group_concat(DISTINCT p.method) FROM payments p WHERE p.sale_id = s.id) "
            "AS methods FROM sales s "
            "WHERE s.created_at >= :since AND (:shift IS NULL OR s.shift_id = :shift) "
            "ORDER BY s.created_at DESC, s.id DESC LIMIT :limit",
            {
                "since": to_db_time(since),
                "shift": str(shift_id) if shift_id else None,
                "limit": limit,
            },
        )
        return [
            SaleListing(
                id=UUID(r["id"]),
                receipt_number=r["receipt_number"],
                created_at=datetime.fromisoformat(r["created_at"]),
                total=r["total"],
                status=r["status"],
                shift_id=UUID(r["shift_id"]) if r["shift_id"] else None,
                refunded=r["refunded"],
                methods=tuple(sorted((r["methods"] or "").split(","))) if r["methods"] else (),
            )
            for r in rows
        ]
