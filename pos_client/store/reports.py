"""Read-only figures of this till's own sales, for the Manager area when it is offline.

Only what this till rang up is here (its ``sales``, ``sale_lines`` and ``payments``);
voided sales are left out like the server's reports do. Times are the stored UTC
moments; the caller turns the store's local days into UTC bounds and groups the
moments into days, weeks, months or years (:mod:`pos_client.services.manager`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pos_client.store.base import StoreBase, from_db_time, to_db_time

_COMPLETED_BETWEEN = "WHERE s.status = 'completed' AND s.created_at >= ? AND s.created_at < ? "
"""The completed sales (alias ``s``) from a start moment up to an end moment."""


class ReportsMixin(StoreBase):
    """Sums over the till's completed sales between two UTC moments (start included)."""

    def sale_moments(self, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
        """``(created_at, total)`` of every completed sale from ``start`` up to ``end``."""
        rows = self._all(
            "SELECT created_at, total FROM sales "
            "WHERE status = 'completed' AND created_at >= ? AND created_at < ? "
            "ORDER BY created_at",
            (to_db_time(start), to_db_time(end)),
        )
        moments: list[tuple[datetime, int]] = []
        for row in rows:
            moment = from_db_time(row["created_at"])
            assert moment is not None
            moments.append((moment, int(row["total"])))
        return moments

    def top_products_between(
        self, start: datetime, end: datetime, limit: int = 5
    ) -> list[tuple[str, int, int]]:
        """``(name, quantity, revenue)`` of the best-selling products by revenue."""
        return self._ranked(
            "SELECT l.name AS name, SUM(l.quantity) AS quantity, SUM(l.total) AS revenue "
            "FROM sale_lines l JOIN sales s ON s.id = l.sale_id " + _COMPLETED_BETWEEN,
            "GROUP BY l.product_id ORDER BY revenue DESC, quantity DESC, name LIMIT ?",
            params=(to_db_time(start), to_db_time(end), limit),
        )

    def payment_methods_between(self, start: datetime, end: datetime) -> list[tuple[str, int, int]]:
        """``(method, payments, amount)`` per payment method, the largest amount first."""
        return self._ranked(
            "SELECT p.method AS method, COUNT(*) AS n, SUM(p.amount) AS amount "
            "FROM payments p JOIN sales s ON s.id = p.sale_id " + _COMPLETED_BETWEEN,
            "GROUP BY p.method ORDER BY amount DESC, method",
            params=(to_db_time(start), to_db_time(end)),
        )

    def cashiers_between(self, start: datetime, end: datetime) -> list[tuple[str, int, int]]:
        """``(full name, sales, net)`` per cashier, the largest net first."""
        return self._ranked(
            "SELECT COALESCE(u.full_name, 'User ' || s.cashier_id) AS name, "
            "COUNT(*) AS n, SUM(s.total) AS net "
            "FROM sales s LEFT JOIN users u ON u.id = s.cashier_id " + _COMPLETED_BETWEEN,
            "GROUP BY s.cashier_id ORDER BY net DESC, name",
            params=(to_db_time(start), to_db_time(end)),
        )

    def _ranked(
        self, query: str, grouping: str, *, params: tuple[Any, ...]
    ) -> list[tuple[str, int, int]]:
        """``(label, count, amount)`` of each group of a query over completed sales."""
        cursor = self.conn.execute(query + grouping, params)
        return [(str(label), int(count), int(amount)) for label, count, amount in cursor]
