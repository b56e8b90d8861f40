"""Events received from tills and what they became: sales, refunds, voids, shifts, cash
moves and drawers opened with no sale.

The primary key of ``sync_events`` is the till-generated event id: inserting it in the
same transaction as the rows the event creates is what makes ingest exactly-once.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.core.database import Base, BigId, UTCDateTime, utcnow


class SyncEvent(Base):
    """An applied event. Its id's uniqueness is the exactly-once guarantee."""

    __tablename__ = "sync_events"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id"), nullable=False, index=True)
    type: Mapped[str] = mapped_column(String(32), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """sha256 (hex) of the event's canonical form: the same id with another digest is a
    conflict. NULL for events applied before digests were kept (any copy is a duplicate)."""


class RejectedEvent(Base):
    """An event the server refused, kept with its reason for the manager to resolve.

    A record belongs to the terminal that sent the event: another terminal pushing the
    same id gets a record of its own and can never change this one.
    """

    __tablename__ = "rejected_events"
    __table_args__ = (UniqueConstraint("terminal_id", "event_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id"), nullable=False, index=True)
    type: Mapped[str] = mapped_column(String(32), nullable=False)
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    resolution: Mapped[str | None] = mapped_column(String(200), nullable=True)


class Sale(Base):
    """A completed sale as rung up on a till. Totals were checked against the lines."""

    __tablename__ = "sales"
    __table_args__ = (
        Index("ix_sales_store_business_date", "store_id", "business_date"),
        # The manager's sales list: newest first, paged by (created_at, id).
        Index("ix_sales_store_created_at", "store_id", "created_at", "id"),
        # Voids in a period (each shift's drawer gives a voided sale's money back).
        Index("ix_sales_store_voided_at", "store_id", "voided_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, unique=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), nullable=False)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id"), nullable=False, index=True)
    receipt_number: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    shift_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    cashier_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    business_date: Mapped[date] = mapped_column(Date, nullable=False)
    subtotal: Mapped[int] = mapped_column(BigInteger, nullable=False)
    discount_total: Mapped[int] = mapped_column(BigInteger, nullable=False)
    order_discount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    tax_total: Mapped[int] = mapped_column(BigInteger, nullable=False)
    total: Mapped[int] = mapped_column(BigInteger, nullable=False)
    voucher_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    voided: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    voided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    void_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class SaleLine(Base):
    """One product line of a sale with the price and tax at the moment of sale."""

    __tablename__ = "sale_lines"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    sale_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales.id"), nullable=False, index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), nullable=False, index=True)
    sku: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_price: Mapped[int] = mapped_column(BigInteger, nullable=False)
    discount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    order_discount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    tax_rate_bp: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    tax_inclusive: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    tax: Mapped[int] = mapped_column(BigInteger, nullable=False)
    total: Mapped[int] = mapped_column(BigInteger, nullable=False)
    refunded_quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    unit_cost: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """The outlet's moving-average cost of one unit when the sale was ingested (HPP);
    None: unknown (no goods received with a cost yet)."""


class SalePayment(Base):
    """One tender of a sale (cash or QRIS)."""

    __tablename__ = "sale_payments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    sale_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales.id"), nullable=False, index=True)
    method: Mapped[str] = mapped_column(String(16), nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    tendered: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    change: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    reference: Mapped[str | None] = mapped_column(String(64), nullable=True)
    order_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Refund(Base):
    """Money and goods going back for part or all of a sale."""

    __tablename__ = "refunds"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, unique=True)
    sale_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales.id"), nullable=False, index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), nullable=False)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id"), nullable=False)
    shift_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    cashier_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    approved_by: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    reason: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    method: Mapped[str] = mapped_column(String(16), nullable=False, default="cash")
    """``cash`` from the drawer, or ``external`` (older tills: ``qris``) given back
    outside the till."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    business_date: Mapped[date] = mapped_column(Date, nullable=False)
    total: Mapped[int] = mapped_column(BigInteger, nullable=False)


class RefundLine(Base):
    """Units of one sale line refunded and the money returned for them."""

    __tablename__ = "refund_lines"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    refund_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("refunds.id"), nullable=False, index=True
    )
    sale_line_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sale_lines.id"), nullable=False, index=True
    )
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)


class Shift(Base):
    """A cashier's shift on a till: float in, cash counted at close."""

    __tablename__ = "shifts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id"), nullable=False, index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    opening_float: Mapped[int] = mapped_column(BigInteger, nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    counted_cash: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    expected_cash: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class CashMove(Base):
    """Cash put in or taken out of the drawer during a shift (signed rupiah)."""

    __tablename__ = "cash_moves"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    shift_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shifts.id"), nullable=False, index=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    reason: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class DrawerOpen(Base):
    """The cash drawer opened with no sale on a till, approved by a supervisor's PIN."""

    __tablename__ = "drawer_opens"
    __table_args__ = (Index("ix_drawer_opens_store_business_date", "store_id", "business_date"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, unique=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), nullable=False)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id"), nullable=False)
    shift_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    cashier_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    approved_by: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    reason: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    business_date: Mapped[date] = mapped_column(Date, nullable=False)
