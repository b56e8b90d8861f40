"""Refunds and voids on the till: money and stock going back, each in one transaction.

A refund writes its lines, the stock moves back in and its outbox row together; a void
marks the whole sale voided, puts all of its stock back and queues the void event. Both
check the sale again inside their transaction, so two refunds of one sale rung at once
can never return more than was sold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from pos_client.domain.errors import RefundError
from pos_client.domain.refunds import SoldLine
from pos_client.store.base import StoreBase, to_db_time
from shared.ids import new_id
from shared.models import EventType, RefundIn, StockMoveKind, VoidIn
from shared.pricing import refund_amount


@dataclass(frozen=True, slots=True)
class RefundedLine:
    """Units of one sale line that a refund gave back."""

    name: str
    quantity: int
    amount: int


@dataclass(frozen=True, slots=True)
class RefundRecord:
    """A refund as the till recorded it (for the sale's history and the refund slip)."""

    id: UUID
    sale_id: UUID
    created_at: datetime
    cashier_id: int
    approved_by: int
    reason: str
    method: str
    total: int
    lines: tuple[RefundedLine, ...]


@dataclass(frozen=True, slots=True)
class VoidRecord:
    """A void as the till recorded it."""

    sale_id: UUID
    created_at: datetime
    cashier_id: int
    approved_by: int
    reason: str


class RefundsMixin(StoreBase):
    """Refund part of a sale or void all of it, each with its stock moves and outbox row."""

    def sold_lines(self, sale_id: UUID) -> list[SoldLine]:
        """A sale's lines with the units already refunded across all its refunds."""
        rows = self.conn.execute(
            "SELECT l.id, l.quantity, l.total, COALESCE(sum(r.quantity), 0), l.name "
            "FROM sale_lines l LEFT JOIN refund_lines r "
            "ON r.sale_id = l.sale_id AND r.sale_line_id = l.id "
            "WHERE l.sale_id = ? GROUP BY l.id ORDER BY l.line_no",
            (str(sale_id),),
        ).fetchall()
        return [
            SoldLine(id=UUID(r[0]), quantity=r[1], total=r[2], refunded=r[3], name=r[4])
            for r in rows
        ]

    def refunds_of_sale(self, sale_id: UUID) -> list[RefundRecord]:
        """Every refund of a sale, oldest first, with the lines each gave back."""
        return self._refund_records(sale_id=str(sale_id))

    def refund_record(self, refund_id: UUID) -> RefundRecord | None:
        """One refund by id, or None."""
        found = self._refund_records(refund_id=str(refund_id))
        return found[0] if found else None

    def _refund_records(
        self, *, sale_id: str | None = None, refund_id: str | None = None
    ) -> list[RefundRecord]:
        rows = self._all(
            "SELECT r.id, r.sale_id, r.created_at, r.cashier_id, r.approved_by, r.reason, "
            "r.method, r.total FROM refunds r "
            "WHERE (:sale IS NULL OR r.sale_id = :sale) AND (:refund IS NULL OR r.id = :refund) "
            "ORDER BY r.created_at, r.id",
            {"sale": sale_id, "refund": refund_id},
        )
        records = []
        for r in rows:
            lines = self.conn.execute(
                "SELECT l.name, rl.quantity, rl.amount FROM refund_lines rl "
                "JOIN sale_lines l ON l.sale_id = rl.sale_id AND l.id = rl.sale_line_id "
                "WHERE rl.refund_id = ? "
                "ORDER BY l.line_no",
                (r["id"],),
            ).fetchall()
            records.append(
                RefundRecord(
                    id=UUID(r["id"]),
                    sale_id=UUID(r["sale_id"]),
                    created_at=datetime.fromisoformat(r["created_at"]),
                    cashier_id=r["cashier_id"],
                    approved_by=r["approved_by"],
                    reason=r["reason"],
                    method=r["method"],
                    total=r["total"],
                    lines=tuple(RefundedLine(name=n, quantity=q, amount=a) for n, q, a in lines),
                )
            )
        return records

    def void_of_sale(self, sale_id: UUID) -> VoidRecord | None:
        """The void of a sale, or None when it was not voided."""
        row = self._one(
            "SELECT created_at, cashier_id, approved_by, reason FROM voids WHERE sale_id = ?",
            (str(sale_id),),
        )
        if row is None:
            return None
        return VoidRecord(
            sale_id=sale_id,
            created_at=datetime.fromisoformat(row["created_at"]),
            cashier_id=row["cashier_id"],
            approved_by=row["approved_by"],
            reason=row["reason"],
        )

    def record_refund(self, refund: RefundIn) -> None:
        """Write a refund, its lines, stock moves back in and its outbox row (one transaction).

        Quantities and amounts are checked again inside the transaction against every
        earlier refund of the sale: :class:`RefundError` if the sale is unknown or voided,
        a line is not the sale's, more units than sold would come back, or an amount is not
        what :func:`shared.pricing.refund_amount` gives.
        """
        event_id = str(new_id())
        sale_id = str(refund.sale_id)
        with self._write() as conn:
            status = self._scalar("SELECT status FROM sales WHERE id = ?", (sale_id,))
            if status is None:
                raise RefundError("sale_not_on_till")
            if status == "voided":
                raise RefundError("sale_voided")
            sold = {line.id: line for line in self.sold_lines(refund.sale_id)}
            moves: list[tuple[int, int]] = []
            refunded_now: dict[UUID, int] = {}
            for item in refund.lines:
                line = sold.get(item.sale_line_id)
                if line is None:
                    raise RefundError("refund_line_not_in_sale")
                before = line.refunded + refunded_now.get(line.id, 0)
                if before + item.quantity > line.quantity:
                    left = line.quantity - before
                    if line.name:
                        raise RefundError("refund_only_left", left=left, name=line.name)
                    raise RefundError("refund_only_left_line", left=left)
                expected = refund_amount(
                    line_total=line.total,
                    sold_quantity=line.quantity,
                    refunded_before=before,
                    quantity=item.quantity,
                )
                if item.amount != expected:
                    raise RefundError("refund_amount_mismatch")
                refunded_now[line.id] = refunded_now.get(line.id, 0) + item.quantity
                product_id = self._scalar(
                    "SELECT product_id FROM sale_lines WHERE sale_id = ? AND id = ?",
                    (sale_id, str(line.id)),
                )
                moves.append((int(product_id), item.quantity))
            if refund.total != sum(item.amount for item in refund.lines):
                raise RefundError("refund_total_mismatch")
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
                "INSERT INTO refund_lines (id, refund_id, sale_id, sale_line_id, quantity, "
                "amount) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        str(i.id),
                        str(refund.id),
                        sale_id,
                        str(i.sale_line_id),
                        i.quantity,
                        i.amount,
                    )
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
            self._insert_outbox_event(event_id, EventType.REFUND, refund.created_at, refund)

    def record_void(self, void: VoidIn, *, shift_id: UUID | None) -> None:
        """Cancel a whole sale: mark it voided, put its stock back, queue the void event.

        :class:`RefundError` if the sale is unknown, already voided, or partly refunded.
        """
        event_id = str(new_id())
        sale_id = str(void.sale_id)
        with self._write() as conn:
            status = self._scalar("SELECT status FROM sales WHERE id = ?", (sale_id,))
            if status is None:
                raise RefundError("sale_not_on_till")
            if status == "voided":
                raise RefundError("sale_already_voided")
            if self._scalar("SELECT 1 FROM refunds WHERE sale_id = ? LIMIT 1", (sale_id,)):
                raise RefundError("void_after_refund")
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
            self._insert_outbox_event(event_id, EventType.VOID, void.created_at, void)
