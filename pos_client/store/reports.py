"""Read-only figures of this till's own sales, for the Manager area when it is offline.

Only what this till rang up is here (its ``sales``, ``sale_lines`` and ``payments``);
voided sales are left out like the server's reports do. Times are the stored UTC
moments; the caller turns the store's local days into UTC bounds and groups the
moments into days, weeks, months or years (:mod:`pos_client.services.manager`).
"""

from __future__ import annotations

from datetime import datetime

from pos_client.store.base import StoreBase, from_db_time, to_db_time


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
        rows = self._all(
            "SELECT l.name AS name, SUM(l.quantity) AS quantity, SUM(l.total) AS revenue "
            "FROM sale_lines l JOIN sales s ON s.id = l.sale_id "
            "WHERE s.status = 'completed' AND s.created_at >= ? AND s.created_at < ? "
            "GROUP BY l.product_id ORDER BY revenue DESC, quantity DESC, name LIMIT ?",
            (to_db_time(start), to_db_time(end), limit),
        )
        return [(str(r["name"]), int(r["quantity"]), int(r["revenue"])) for r in rows]

    def payment_methods_between(self, start: datetime, end: datetime) -> list[tuple[str, int, int]]:
        """``(method, payments, amount)`` per payment method, the largest amount first."""
        rows = self._all(
            "SELECT p.method AS method, COUNT(*) AS n, SUM(p.amount) AS amount "
            "FROM payments p JOIN sales s ON s.id = p.sale_id "
            "WHERE s.status = 'completed' AND s.created_at >= ? AND s.created_at < ? "
            "GROUP BY p.method ORDER BY amount DESC, method",
            (to_db_time(start), to_db_time(end)),
        )
        return [(str(r["method"]), int(r["n"]), int(r["amount"])) for r in rows]

    def cashiers_between(self, start: datetime, end: datetime) -> list[tuple[str, int, int]]:
        """``(full name, sales, net)`` per cashier, the largest net first."""
        rows = self._all(
            "SELECT COALESCE(u.full_name, 'User ' || s.cashier_id) AS name, "
            "COUNT(*) AS n, SUM(s.total) AS net "
            "FROM sales s LEFT JOIN users u ON u.id = s.cashier_id "
            "WHERE s.status = 'completed' AND s.created_at >= ? AND s.created_at < ? "
            "GROUP BY s.cashier_id ORDER BY net DESC, name",
            (to_db_time(start), to_db_time(end)),
        )
        return [(str(r["name"]), int(r["n"]), int(r["net"])) for r in rows]
