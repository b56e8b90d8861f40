"""Writing what happens at the till: sales, refunds, voids, shifts, cash moves, held carts.

Each public write is ONE transaction holding the business rows, the local stock moves and
the outbox row that carries them to the server: after a crash a sale is whole or absent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from pos_client.domain.errors import RefundError, ShiftError
from pos_client.domain.receipts import format_receipt_number
from pos_client.domain.refunds import SoldLine
from pos_client.domain.sale import SaleDraft
from pos_client.domain.shifts import ShiftFigures
from pos_client.store.base import StoreBase, dumps, from_db_time, to_db_time
from shared.ids import new_id
from shared.models import (
    CashMoveIn,
    EventType,
    PaymentIn,
    PaymentMethod,
    RefundIn,
    SaleIn,
    SaleLineIn,
    ShiftCloseIn,
    ShiftOpenIn,
    StockMoveKind,
    VoidIn,
)
from shared.pricing import refund_amount


@dataclass(frozen=True, slots=True)
class ShiftRow:
    """A shift as stored on the till."""

    id: UUID
    user_id: int
    opening_float: int
    opened_at: datetime
    closed_at: datetime | None
    closed_by: int | None
    counted_cash: int | None
    expected_cash: int | None


@dataclass(frozen=True, slots=True)
class HeldCart:
    """A cart put aside; ``payload`` is :meth:`pos_client.domain.Cart.to_dict`."""

    id: UUID
    label: str
    cashier_id: int
    created_at: datetime
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SaleSummary:
    """One line of the recent-sales list."""

    id: UUID
    receipt_number: str
    created_at: datetime
    total: int
    status: str


class LedgerMixin(StoreBase):
    """Every write of a sale, refund, void, shift and cash move, each with its outbox row."""

    # -- sales ---------------------------------------------------------------------------
    def record_sale(self, draft: SaleDraft, *, terminal_code: str, day: date) -> SaleIn:
        """Write a sale, its lines, payments, stock moves and outbox row in one transaction.

        The receipt sequence of ``(terminal_code, day)`` is allocated in the same
        transaction, so numbers are unique and gap-free per terminal and day without the
        network. Returns the sale as sent to the server (with its receipt number).
        """
        event_id = str(new_id())
        # Validate and serialise before taking the write lock; only the number is missing.
        unnumbered = draft.to_wire("PENDING")
        payload = unnumbered.model_dump(mode="json")
        with self._write() as conn:
            seq = conn.execute(
                "INSERT INTO receipt_sequences (terminal_code, day, last_seq) VALUES (?, ?, 1) "
                "ON CONFLICT(terminal_code, day) DO UPDATE SET last_seq = last_seq + 1 "
                "RETURNING last_seq",
                (terminal_code, day.isoformat()),
            ).fetchone()[0]
            number = format_receipt_number(terminal_code, day, seq)
            sale = unnumbered.model_copy(update={"receipt_number": number})
            payload["receipt_number"] = number
            sale_id = str(sale.id)
            created = to_db_time(sale.created_at)
            conn.execute(
                "INSERT INTO sales (id, receipt_number, shift_id, cashier_id, created_at, "
                "order_discount, voucher_code, subtotal, discount_total, tax_total, total, "
                "event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    sale_id,
                    sale.receipt_number,
                    str(sale.shift_id) if sale.shift_id else None,
                    sale.cashier_id,
                    created,
                    sale.order_discount,
                    sale.voucher_code,
                    sale.subtotal,
                    sale.discount_total,
                    sale.tax_total,
                    sale.total,
                    event_id,
                ),
            )
            conn.executemany(
                "INSERT INTO sale_lines (id, sale_id, line_no, product_id, sku, name, quantity, "
                "unit_price, discount, order_discount, tax_rate_bp, tax_inclusive, tax, total) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
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
                    )
                    for n, (line, share) in enumerate(
                        zip(sale.lines, draft.line_order_discounts, strict=True), start=1
                    )
                ],
            )
            conn.executemany(
                "INSERT INTO payments (id, sale_id, method, amount, tendered, change, reference, "
                "order_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
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
                    for p in sale.payments
                ],
            )
            self._insert_stock_moves(
                [(line.product_id, -line.quantity) for line in sale.lines],
                kind=StockMoveKind.SALE,
                ref_id=sale_id,
                event_id=event_id,
                created=created,
            )
            self._insert_outbox(event_id, EventType.SALE, sale.created_at, payload)
        return sale

    def _insert_stock_moves(
        self,
        moves: Sequence[tuple[int, int]],
        *,
        kind: StockMoveKind,
        ref_id: str,
        event_id: str,
        created: str,
    ) -> None:
        self.conn.executemany(
            "INSERT INTO stock_moves (id, product_id, quantity, kind, ref_id, event_id, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (str(new_id()), product_id, qty, kind.value, ref_id, event_id, created)
                for product_id, qty in moves
            ],
        )

    def sale(self, sale_id: UUID) -> SaleIn | None:
        """A sale as it was rung up (for reprint and refunds), or None."""
        row = self._one("SELECT * FROM sales WHERE id = ?", (str(sale_id),))
        if row is None:
            return None
        lines = self._all(
            "SELECT * FROM sale_lines WHERE sale_id = ? ORDER BY line_no", (row["id"],)
        )
        payments = self._all("SELECT * FROM payments WHERE sale_id = ? ORDER BY id", (row["id"],))
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

    def sold_lines(self, sale_id: UUID) -> list[SoldLine]:
        """A sale's lines with the units already refunded across all its refunds."""
        rows = self.conn.execute(
            "SELECT l.id, l.quantity, l.total, COALESCE(sum(r.quantity), 0), l.name "
            "FROM sale_lines l LEFT JOIN refund_lines r ON r.sale_line_id = l.id "
            "WHERE l.sale_id = ? GROUP BY l.id ORDER BY l.line_no",
            (str(sale_id),),
        ).fetchall()
        return [
            SoldLine(id=UUID(r[0]), quantity=r[1], total=r[2], refunded=r[3], name=r[4])
            for r in rows
        ]

    # -- refunds and voids ---------------------------------------------------------------
    def record_refund(self, refund: RefundIn) -> None:
        """Write a refund, its lines, stock moves back in and its outbox row (one transaction).

        Quantities and amounts are checked again inside the transaction against every
        earlier refund of the sale: :class:`RefundError` if the sale is unknown or voided,
        a line is not the sale's, more units than sold would come back, or an amount is not
        what :func:`shared.pricing.refund_amount` gives.
        """
        event_id = str(new_id())
        with self._write() as conn:
            status = self._scalar("SELECT status FROM sales WHERE id = ?", (str(refund.sale_id),))
            if status is None:
                raise RefundError("That sale is not on this till.")
            if status == "voided":
                raise RefundError("That sale was voided; there is nothing to refund.")
            sold = {line.id: line for line in self.sold_lines(refund.sale_id)}
            moves: list[tuple[int, int]] = []
            refunded_now: dict[UUID, int] = {}
            for item in refund.lines:
                line = sold.get(item.sale_line_id)
                if line is None:
                    raise RefundError("A refund line is not part of that sale.")
                before = line.refunded + refunded_now.get(line.id, 0)
                if before + item.quantity > line.quantity:
                    raise RefundError(f"Cannot refund more {line.name or 'units'} than were sold.")
                expected = refund_amount(
                    line_total=line.total,
                    sold_quantity=line.quantity,
                    refunded_before=before,
                    quantity=item.quantity,
                )
                if item.amount != expected:
                    raise RefundError("The refund amount does not match the sale.")
                refunded_now[line.id] = refunded_now.get(line.id, 0) + item.quantity
                product_id = self._scalar(
                    "SELECT product_id FROM sale_lines WHERE id = ?", (str(line.id),)
                )
                moves.append((int(product_id), item.quantity))
            if refund.total != sum(item.amount for item in refund.lines):
                raise RefundError("The refund total is not the sum of its lines.")
            created = to_db_time(refund.created_at)
            conn.execute(
                "INSERT INTO refunds (id, sale_id, shift_id, cashier_id, approved_by, reason, "
                "created_at, total, method, event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    str(refund.id),
                    str(refund.sale_id),
                    str(refund.shift_id) if refund.shift_id else None,
                    refund.cashier_id,
                    refund.approved_by,
                    refund.reason,
                    created,
                    refund.total,
                    refund.method.value,
                    event_id,
                ),
            )
            conn.executemany(
                "INSERT INTO refund_lines (id, refund_id, sale_line_id, quantity, amount) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (str(i.id), str(refund.id), str(i.sale_line_id), i.quantity, i.amount)
                    for i in refund.lines
                ],
            )
            self._insert_stock_moves(
                moves,
                kind=StockMoveKind.REFUND,
                ref_id=str(refund.id),
                event_id=event_id,
                created=created,
            )
            self._insert_outbox(
                event_id, EventType.REFUND, refund.created_at, refund.model_dump(mode="json")
            )

    def record_void(self, void: VoidIn, *, shift_id: UUID | None) -> None:
        """Cancel a whole sale: mark it voided, put its stock back, queue the void event.

        :class:`RefundError` if the sale is unknown, already voided, or partly refunded.
        """
        event_id = str(new_id())
        sale_id = str(void.sale_id)
        with self._write() as conn:
            status = self._scalar("SELECT status FROM sales WHERE id = ?", (sale_id,))
            if status is None:
                raise RefundError("That sale is not on this till.")
            if status == "voided":
                raise RefundError("That sale is already voided.")
            if self._scalar("SELECT 1 FROM refunds WHERE sale_id = ? LIMIT 1", (sale_id,)):
                raise RefundError("A refunded sale cannot be voided; refund the rest instead.")
            created = to_db_time(void.created_at)
            conn.execute("UPDATE sales SET status = 'voided' WHERE id = ?", (sale_id,))
            conn.execute(
                "INSERT INTO voids (sale_id, shift_id, cashier_id, approved_by, reason, "
                "created_at, event_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    sale_id,
                    str(shift_id) if shift_id else None,
                    void.cashier_id,
                    void.approved_by,
                    void.reason,
                    created,
                    event_id,
                ),
            )
            lines = conn.execute(
                "SELECT product_id, quantity FROM sale_lines WHERE sale_id = ?", (sale_id,)
            ).fetchall()
            self._insert_stock_moves(
                [(product_id, qty) for product_id, qty in lines],
                kind=StockMoveKind.VOID,
                ref_id=sale_id,
                event_id=event_id,
                created=created,
            )
            self._insert_outbox(
                event_id, EventType.VOID, void.created_at, void.model_dump(mode="json")
            )

    # -- shifts --------------------------------------------------------------------------
    def open_shift(self, shift: ShiftOpenIn) -> None:
        """Open a shift with its float (one transaction with its outbox row).

        :class:`ShiftError` when a shift is already open on this till.
        """
        event_id = str(new_id())
        with self._write() as conn:
            if self._scalar("SELECT 1 FROM shifts WHERE closed_at IS NULL"):
                raise ShiftError("A shift is already open on this till.")
            conn.execute(
                "INSERT INTO shifts (id, user_id, opening_float, opened_at, open_event_id) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    str(shift.id),
                    shift.user_id,
                    shift.opening_float,
                    to_db_time(shift.opened_at),
                    event_id,
                ),
            )
            self._insert_outbox(
                event_id, EventType.SHIFT_OPEN, shift.opened_at, shift.model_dump(mode="json")
            )

    def close_shift(self, close: ShiftCloseIn) -> None:
        """Close the open shift with counted and expected cash (one transaction)."""
        event_id = str(new_id())
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE shifts SET closed_at = ?, closed_by = ?, counted_cash = ?, "
                "expected_cash = ?, close_event_id = ? WHERE id = ? AND closed_at IS NULL",
                (
                    to_db_time(close.closed_at),
                    close.user_id,
                    close.counted_cash,
                    close.expected_cash,
                    event_id,
                    str(close.id),
                ),
            )
            if cursor.rowcount != 1:
                raise ShiftError("That shift is not open.")
            self._insert_outbox(
                event_id, EventType.SHIFT_CLOSE, close.closed_at, close.model_dump(mode="json")
            )

    def record_cash_move(self, move: CashMoveIn) -> None:
        """Cash put in (positive) or taken out (negative) of the open shift's drawer."""
        event_id = str(new_id())
        with self._write() as conn:
            if not self._scalar(
                "SELECT 1 FROM shifts WHERE id = ? AND closed_at IS NULL", (str(move.shift_id),)
            ):
                raise ShiftError("Cash can only move during an open shift.")
            conn.execute(
                "INSERT INTO cash_moves (id, shift_id, user_id, amount, reason, created_at, "
                "event_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    str(move.id),
                    str(move.shift_id),
                    move.user_id,
                    move.amount,
                    move.reason,
                    to_db_time(move.created_at),
                    event_id,
                ),
            )
            self._insert_outbox(
                event_id, EventType.CASH_MOVE, move.created_at, move.model_dump(mode="json")
            )

    def open_shift_row(self) -> ShiftRow | None:
        """The shift open on this till, or None."""
        row = self._one("SELECT * FROM shifts WHERE closed_at IS NULL")
        return None if row is None else _shift(row)

    def shift(self, shift_id: UUID) -> ShiftRow | None:
        """A shift by id, open or closed."""
        row = self._one("SELECT * FROM shifts WHERE id = ?", (str(shift_id),))
        return None if row is None else _shift(row)

    def shift_figures(self, shift_id: UUID) -> ShiftFigures:
        """The sums an X or Z report shows for one shift (see :class:`ShiftFigures`)."""
        sid = str(shift_id)
        opening = self._scalar("SELECT opening_float FROM shifts WHERE id = ?", (sid,))
        if opening is None:
            raise ShiftError("Unknown shift.")
        sales = self.conn.execute(
            "SELECT count(*), COALESCE(sum(subtotal), 0), COALESCE(sum(discount_total), 0), "
            "COALESCE(sum(tax_total), 0), COALESCE(sum(total), 0) FROM sales WHERE shift_id = ?",
            (sid,),
        ).fetchone()
        by_method: dict[str, int] = {
            method: amount
            for method, amount in self.conn.execute(
                "SELECT p.method, sum(p.amount) FROM payments p JOIN sales s ON s.id = p.sale_id "
                "WHERE s.shift_id = ? GROUP BY p.method",
                (sid,),
            )
        }
        for method, amount in self.conn.execute(
            "SELECT p.method, sum(p.amount) FROM voids v JOIN payments p ON p.sale_id = v.sale_id "
            "WHERE v.shift_id = ? GROUP BY p.method",
            (sid,),
        ):
            by_method[method] = by_method.get(method, 0) - amount
        refunds = self.conn.execute(
            "SELECT count(*), COALESCE(sum(total), 0) FROM refunds WHERE shift_id = ?", (sid,)
        ).fetchone()
        refunds_by_method = dict(
            self.conn.execute(
                "SELECT method, sum(total) FROM refunds WHERE shift_id = ? GROUP BY method",
                (sid,),
            ).fetchall()
        )
        voids = self.conn.execute(
            "SELECT count(*), COALESCE(sum(s.total), 0) FROM voids v "
            "JOIN sales s ON s.id = v.sale_id WHERE v.shift_id = ?",
            (sid,),
        ).fetchone()
        cash = self.conn.execute(
            "SELECT COALESCE(sum(CASE WHEN amount > 0 THEN amount END), 0), "
            "COALESCE(-sum(CASE WHEN amount < 0 THEN amount END), 0) "
            "FROM cash_moves WHERE shift_id = ?",
            (sid,),
        ).fetchone()
        return ShiftFigures(
            opening_float=int(opening),
            sales_count=sales[0],
            sales_subtotal=sales[1],
            discount_total=sales[2],
            tax_total=sales[3],
            sales_total=sales[4],
            refunds_count=refunds[0],
            refunds_total=refunds[1],
            voids_count=voids[0],
            voids_total=voids[1],
            payments_by_method=by_method,
            refunds_by_method=refunds_by_method,
            cash_in=cash[0],
            cash_out=cash[1],
        )

    # -- held carts ----------------------------------------------------------------------
    def hold_cart(
        self,
        cart_id: UUID,
        *,
        label: str,
        cashier_id: int,
        created_at: datetime,
        payload: dict[str, Any],
    ) -> None:
        """Put a cart aside (replacing an earlier hold of the same cart)."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO held_carts (id, label, cashier_id, created_at, payload) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET label = excluded.label, "
                "cashier_id = excluded.cashier_id, created_at = excluded.created_at, "
                "payload = excluded.payload",
                (str(cart_id), label, cashier_id, to_db_time(created_at), dumps(payload)),
            )

    def held_carts(self) -> list[HeldCart]:
        """Carts put aside, oldest first."""
        return [
            HeldCart(
                id=UUID(r["id"]),
                label=r["label"],
                cashier_id=r["cashier_id"],
                created_at=datetime.fromisoformat(r["created_at"]),
                payload=json.loads(r["payload"]),
            )
            for r in self._all("SELECT * FROM held_carts ORDER BY created_at, id")
        ]

    def take_held_cart(self, cart_id: UUID) -> dict[str, Any] | None:
        """Remove a held cart and return its payload (None if another hand took it)."""
        with self._write() as conn:
            row = conn.execute(
                "DELETE FROM held_carts WHERE id = ? RETURNING payload", (str(cart_id),)
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))


def _shift(row: dict[str, Any]) -> ShiftRow:
    opened = from_db_time(row["opened_at"])
    assert opened is not None
    return ShiftRow(
        id=UUID(row["id"]),
        user_id=row["user_id"],
        opening_float=row["opening_float"],
        opened_at=opened,
        closed_at=from_db_time(row["closed_at"]),
        closed_by=row["closed_by"],
        counted_cash=row["counted_cash"],
        expected_cash=row["expected_cash"],
    )
