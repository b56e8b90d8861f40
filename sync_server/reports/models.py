"""Rollup tables the reports read: running totals per store, period and key.

Each table keeps two grains side by side: ``grain = 'D'`` rows are one store-local
business day (``period`` is that day), ``grain = 'M'`` rows one calendar month
(``period`` is its first day). A report over a year reads whole months from the 'M'
rows and only the ragged ends from the 'D' rows, so it touches a few thousand rows
whatever the number of sales.

Every table is keyed by terminal too, so an ingest batch only ever adds to its own
terminal's rows (tills of one store never write one row at the same moment); the
reports sum over terminals.

The rows are derived data: :func:`sync_server.reports.rollups.rebuild_rollups`
recomputes every one of them from the raw sales tables. Ingest keeps them current in
the same transaction as the sales it writes (:func:`~sync_server.reports.rollups.record_batch`).

How voids count: a voided sale is not a sale. When a void arrives, its sale is taken
back out of the sales figures (count, gross, discounts, tax, net; products; payments)
of the sale's own business day, terminal and cashier, and counted in ``voids_count`` /
``voids_amount`` there instead. Refunds are their own business: they are counted on
the refund's business day, terminal and cashier, and never change the sale's figures.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.core.database import Base

GRAIN_DAY = "D"
GRAIN_MONTH = "M"


class SalesTotals(Base):
    """Sales, refunds and voids per store, period, terminal and cashier."""

    __tablename__ = "report_sales_totals"

    store_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    period: Mapped[date] = mapped_column(Date, primary_key=True)
    terminal_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    cashier_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sales_count: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    gross: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    """Sum of ``sales.subtotal``: price times quantity before any discount."""
    discounts: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    """Line discounts plus order discounts (vouchers)."""
    tax: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    net: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    """Sum of ``sales.total``: what customers paid."""
    refunds_count: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    refunds_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    voids_count: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    voids_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class ProductTotals(Base):
    """Units and money per store, period, terminal and product (voided sales left out),
    with the cost of goods sold the margin reports read.

    Readers sum over terminals; ``terminal_id`` 0 holds the totals from before the rows
    were kept per terminal (revision 0007) until :func:`rebuild_rollups` runs. Refunds
    count on the refund's day and till, at the cost their sale line was sold at. The
    cost columns of rows written before revision 0009 stay 0 until
    :func:`rebuild_rollups` runs.
    """

    __tablename__ = "report_product_totals"

    store_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    period: Mapped[date] = mapped_column(Date, primary_key=True)
    # Per terminal, so that tills of one store never write one row at ingest.
    terminal_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    product_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    quantity: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    revenue: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    """Sum of line totals (after discounts, with tax)."""
    refunded_quantity: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    # Cost of goods sold and the revenue it stands against (the margin reports,
    # :mod:`sync_server.reports.margin`; revision 0009). Kept in these rows rather than
    # a table of the same key, so one upsert per push carries both.
    net_revenue: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    """Sum of line totals less line tax (revenue without PPN)."""
    costed_revenue: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    """``net_revenue`` of the lines whose cost was known when they were sold."""
    cost: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    """HPP: ``sale_lines.unit_cost`` × quantity of those lines."""
    unknown_lines: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    """Lines sold with no known cost (never counted as cost 0)."""
    refunded_net_revenue: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    """A refund's amount less its share of the sale line's tax (floored)."""
    refunded_costed_revenue: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    refunded_cost: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    """Refunded units at the cost their sale line was sold at."""
    refunded_unknown_lines: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class PaymentTotals(Base):
    """Money taken and given back per store, period and payment method."""

    __tablename__ = "report_payment_totals"

    store_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    period: Mapped[date] = mapped_column(Date, primary_key=True)
    # Per terminal, so that tills of one store never queue on one row at ingest.
    terminal_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    method: Mapped[str] = mapped_column(String(16), primary_key=True)
    payments_count: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    refunds_count: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    refunds_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
