"""Shifts on the till: opening with a float, cash in and out, closing, and the X/Z sums.

At most one shift is open per till (a unique index says so). Opening, closing, every
cash move and every drawer opened with no sale are each one transaction with the outbox
row that carries them to the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from pos_client.domain.errors import ShiftError
from pos_client.domain.shifts import ShiftFigures
from pos_client.store.base import StoreBase, from_db_time, to_db_time
from shared.ids import new_id
from shared.models import CashMoveIn, EventType, NoSaleIn, ShiftCloseIn, ShiftOpenIn


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


_SHIFT_SUMS = (
    "SELECT count(*) AS sales_count, COALESCE(sum(subtotal), 0) AS sales_subtotal, "
    "COALESCE(sum(discount_total), 0) AS discount_total, COALESCE(sum(tax_total), 0) AS tax_total, "
    "COALESCE(sum(total), 0) AS sales_total FROM sales WHERE shift_id = ?",
    "SELECT count(*) AS refunds_count, COALESCE(sum(total), 0) AS refunds_total "
    "FROM refunds WHERE shift_id = ?",
    "SELECT count(*) AS voids_count, COALESCE(sum(s.total), 0) AS voids_total FROM voids v "
    "JOIN sales s ON s.id = v.sale_id WHERE v.shift_id = ?",
    "SELECT COALESCE(sum(CASE WHEN amount > 0 THEN amount END), 0) AS cash_in, "
    "COALESCE(-sum(CASE WHEN amount < 0 THEN amount END), 0) AS cash_out "
    "FROM cash_moves WHERE shift_id = ?",
)
"""The figures of a shift that are one sum each, by :class:`ShiftFigures` field name."""


class ShiftsMixin(StoreBase):
    """Open and close shifts, move cash, and add up a shift for its X or Z report."""

    def open_shift(self, shift: ShiftOpenIn) -> None:
        """Open a shift with its float (one transaction with its outbox row).

        :class:`ShiftError` when a shift is already open on this till.
        """
        with self._write():
            if self._scalar("SELECT 1 FROM shifts WHERE closed_at IS NULL"):
                raise ShiftError("shift_already_open")
            self._insert_with_event(
                "INSERT INTO shifts (id, user_id, opening_float, opened_at, open_event_id) "
                "VALUES (?, ?, ?, ?, ?)",
                (str(shift.id), shift.user_id, shift.opening_float, to_db_time(shift.opened_at)),
                event_type=EventType.SHIFT_OPEN,
                created_at=shift.opened_at,
                event=shift,
            )

    def close_shift(self, close: ShiftCloseIn) -> None:
        """Close the open shift with counted and expected cash (one transaction).

        :class:`ShiftError` when that shift is not the open one.
        """
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
                raise ShiftError("shift_not_open")
            self._insert_outbox_event(event_id, EventType.SHIFT_CLOSE, close.closed_at, close)

    def record_cash_move(self, move: CashMoveIn) -> None:
        """Cash put in (positive) or taken out (negative) of the open shift's drawer."""
        with self._write():
            if not self._is_open_shift(move.shift_id):
                raise ShiftError("cash_move_needs_open_shift")
            self._insert_with_event(
                "INSERT INTO cash_moves (id, shift_id, user_id, amount, reason, created_at, "
                "event_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    str(move.id),
                    str(move.shift_id),
                    move.user_id,
                    move.amount,
                    move.reason,
                    to_db_time(move.created_at),
                ),
                event_type=EventType.CASH_MOVE,
                created_at=move.created_at,
                event=move,
            )

    def record_no_sale(self, opening: NoSaleIn) -> None:
        """Queue the ``no_sale`` event of a drawer opened with no sale (one transaction).

        Its shift, when it names one, must be the open shift (:class:`ShiftError`
        otherwise). The till keeps no table of its own for it: the server's
        ``drawer_opens`` is the record, and the outbox row carries it there.
        """
        event_id = str(new_id())
        with self._write():
            if opening.shift_id is not None and not self._is_open_shift(opening.shift_id):
                raise ShiftError("shift_not_open")
            self._insert_outbox_event(event_id, EventType.NO_SALE, opening.created_at, opening)

    def _is_open_shift(self, shift_id: UUID) -> bool:
        """True when ``shift_id`` is the shift open on this till."""
        return bool(
            self._scalar(
                "SELECT 1 FROM shifts WHERE id = ? AND closed_at IS NULL", (str(shift_id),)
            )
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
            raise ShiftError("shift_unknown")
        sums: dict[str, Any] = {}
        for query in _SHIFT_SUMS:
            sums.update(self._one(query, (sid,)) or {})
        by_method: dict[str, int] = {
            method: amount
            for method, amount in self.conn.execute(
                "SELECT p.method, sum(p.amount) FROM payments p JOIN sales s ON s.id = p.sale_id "
                "WHERE s.shift_id = ? GROUP BY p.method",
                (sid,),
            )
        }
        # A void takes its sale's payments back out of the shift it was voided in.
        for method, amount in self.conn.execute(
            "SELECT p.method, sum(p.amount) FROM voids v JOIN payments p ON p.sale_id = v.sale_id "
            "WHERE v.shift_id = ? GROUP BY p.method",
            (sid,),
        ):
            by_method[method] = by_method.get(method, 0) - amount
        refunds_by_method = dict(
            self.conn.execute(
                "SELECT method, sum(total) FROM refunds WHERE shift_id = ? GROUP BY method",
                (sid,),
            ).fetchall()
        )
        return ShiftFigures(
            opening_float=int(opening),
            payments_by_method=by_method,
            refunds_by_method=refunds_by_method,
            **sums,
        )


def _shift(row: dict[str, Any]) -> ShiftRow:
    opened = from_db_time(row["opened_at"])
    assert opened is not None  # opened_at is NOT NULL
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
