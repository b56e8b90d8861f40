"""Tables of suppliers, purchase orders, receiving, stock requests and moving-average cost.

A purchase order goes ``draft → sent → partial → received``, or ``cancelled`` from
draft or sent; the database refuses any other status (a CHECK), and a line can never
hold more received than ordered (another CHECK), so even a bug in the service cannot
over-receive. A goods receipt is keyed by the id its sender chose: the same receipt
sent twice is applied once.

``product_costs`` keeps each outlet's moving-average cost per product (whole rupiah);
the cost of goods sold is kept in the product rollup (``report_product_totals``, by
:mod:`sync_server.reports.rollups`), from which the margin reports read.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.core.database import Base, BigId, UTCDateTime, utcnow

PO_STATUSES = ("draft", "sent", "partial", "received", "cancelled")
"""Where a purchase order stands; the order of its life."""

REQUEST_STATUSES = ("requested", "approved", "rejected", "ordered")
"""Where a stock request stands."""


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Supplier(Base):
    """Someone the shop buys goods from."""

    __tablename__ = "suppliers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    phone: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    address: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    note: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class PurchaseOrder(Base):
    """An order of goods from a supplier for one outlet."""

    __tablename__ = "purchase_orders"
    __table_args__ = (
        CheckConstraint(_in("status", PO_STATUSES), name="status"),
        Index("ix_purchase_orders_store_status", "store_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), nullable=False)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")
    note: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When it was fully received or cancelled."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class PurchaseOrderLine(Base):
    """A product ordered: how many, at what cost per unit, and how many arrived so far."""

    __tablename__ = "purchase_order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "product_id"),
        CheckConstraint("quantity_ordered > 0", name="ordered_positive"),
        CheckConstraint("unit_cost >= 0", name="cost_not_negative"),
        CheckConstraint(
            "quantity_received >= 0 AND quantity_received <= quantity_ordered",
            name="received_within_ordered",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("purchase_orders.id"), nullable=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), nullable=False)
    quantity_ordered: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_cost: Mapped[int] = mapped_column(BigInteger, nullable=False)
    quantity_received: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class GoodsReceipt(Base):
    """Goods that arrived, once: the id is the sender's, so a retry is applied once.

    Its stock moves carry the receipt's id as ``ref_id`` (kind ``receive``, with the
    cost per unit); ``digest`` is what was received, so the same id with other content
    is a conflict.
    """

    __tablename__ = "goods_receipts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), nullable=False)
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("purchase_orders.id"), nullable=True, index=True
    )
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    note: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class ProductCost(Base):
    """An outlet's moving-average cost of a product (whole rupiah), and the last paid."""

    __tablename__ = "product_costs"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    avg_cost: Mapped[int] = mapped_column(BigInteger, nullable=False)
    last_cost: Mapped[int] = mapped_column(BigInteger, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class StockRequest(Base):
    """An outlet asking for goods: ``requested → approved → ordered``, or ``rejected``."""

    __tablename__ = "stock_requests"
    __table_args__ = (
        CheckConstraint(_in("status", REQUEST_STATUSES), name="status"),
        Index("ix_stock_requests_store_status", "store_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="requested")
    note: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("purchase_orders.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class StockRequestLine(Base):
    """A product an outlet asks for, and how many."""

    __tablename__ = "stock_request_lines"
    __table_args__ = (
        UniqueConstraint("request_id", "product_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("stock_requests.id"), nullable=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
