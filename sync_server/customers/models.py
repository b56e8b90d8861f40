"""Tables of customers and the loyalty points ledger.

No row here is written by every till: a push inserts rows keyed by its own events (a
sale's customer row, its points moves, its change-log rows) and inserts a customer only
when the phone number is new. A balance is the sum of the customer's moves, never a
counter on a shared row. The one exception is a redemption: ingest touches the
customer's row (``last_redeemed_at``) before it sums the balance, so two tills
redeeming the same customer's points queue there (or, across Galera nodes, one is
retried) and the second sees the first's moves: an overdraw is always flagged.
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
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.core.database import Base, BigId, UTCDateTime, utcnow


class Customer(Base):
    """A customer of the chain, found by their (canonical, unique) phone number."""

    __tablename__ = "customers"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    """Made where the customer was first entered: the back office, or a till (offline)."""
    phone: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), nullable=True)
    """The store where the customer was first entered (None: the back office)."""
    last_redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """Touched by ingest before a redemption is checked (see the module)."""


class CustomerSale(Base):
    """A sale made to a customer, with the points it earned and redeemed."""

    __tablename__ = "customer_sales"
    __table_args__ = (
        Index("ix_customer_sales_customer_id_created_at", "customer_id", "created_at"),
        Index("ix_customer_sales_store_id_business_date", "store_id", "business_date"),
    )

    sale_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), nullable=False)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), nullable=False)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id"), nullable=False)
    total: Mapped[int] = mapped_column(BigInteger, nullable=False)
    points_earned: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    points_redeemed: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    points_discount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    business_date: Mapped[date] = mapped_column(Date, nullable=False)


class PointsMove(Base):
    """One signed move of a customer's points; unique per (event, kind): exactly once."""

    __tablename__ = "points_moves"
    __table_args__ = (
        UniqueConstraint("event_id", "kind"),
        Index("ix_points_moves_customer_id_id", "customer_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), nullable=False)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    """The till's event (sale, refund, void) or, for an adjustment, an id made for it."""
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    points: Mapped[int] = mapped_column(BigInteger, nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    """Rupiah the move is based on: the sale's total, the refund's total."""
    sale_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), nullable=True)
    terminal_id: Mapped[int | None] = mapped_column(ForeignKey("terminals.id"), nullable=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    reason: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class CustomerChange(Base):
    """A customer whose details or balance changed: what tills page through.

    Ids are handed out as rows are inserted, not as they commit, so a till's cursor
    stays behind changes younger than ``service.SETTLE`` (they are sent again, which is
    harmless: a page carries whole balances)."""

    __tablename__ = "customer_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id"), nullable=False, index=True
    )
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class LoyaltyConfig(Base):
    """The chain's points rule: one row (id 1); none means loyalty is off."""

    __tablename__ = "loyalty_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    earn_points: Mapped[int] = mapped_column(BigInteger, nullable=False)
    earn_per_rupiah: Mapped[int] = mapped_column(BigInteger, nullable=False)
    point_value: Mapped[int] = mapped_column(BigInteger, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
