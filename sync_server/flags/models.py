"""Flags, and the usage rows that let ingest verify vouchers and QRIS payments.

A flag is written in the transaction that applies the event it is about, and is unique
per (event, kind), so an event applied once can never raise the same flag twice.
Voucher and QRIS uses are one row each (never a counter on a shared row): tills never
queue on one voucher's row during ingest, and the count is what the rows say.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.core.database import Base, BigId, UTCDateTime, utcnow


class FlagKind(StrEnum):
    """What did not match."""

    PRICE_MISMATCH = "price_mismatch"
    TAX_MISMATCH = "tax_mismatch"
    VOUCHER_OVERUSED = "voucher_overused"
    VOUCHER_UNKNOWN = "voucher_unknown"
    VOUCHER_INVALID = "voucher_invalid"
    QRIS_UNVERIFIED = "qris_unverified"
    SHIFT_FOREIGN = "shift_foreign"
    CLOCK_SKEW = "clock_skew"
    QRIS_ORPHAN = "qris_orphan"
    """A PAID QRIS order no synced sale took, long after it was paid (the settle job)."""
    QRIS_STATIC = "qris_static"
    """Paid to the store's static QRIS while the till was offline, confirmed by the
    cashier from the customer's proof: every one, to reconcile with the bank statement."""
    POINTS_OVERDRAWN = "points_overdrawn"
    """A till (offline) redeemed more loyalty points than the customer had: the sale
    stands, the balance went negative."""
    POINTS_MISMATCH = "points_mismatch"
    """The points discount claimed is not the points redeemed × the point value."""


class Flag(Base):
    """Something an applied event claimed that the server could not verify."""

    __tablename__ = "flags"
    __table_args__ = (
        UniqueConstraint("event_id", "kind"),
        Index("ix_flags_store_id_resolved_at", "store_id", "resolved_at"),
        Index("ix_flags_store_id_business_date", "store_id", "business_date"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), nullable=False)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    sale_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    cashier_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    business_date: Mapped[date] = mapped_column(Date, nullable=False)
    details: Mapped[str] = mapped_column(Text, nullable=False)
    """JSON: what the server expected and what the till claimed."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    resolution: Mapped[str | None] = mapped_column(String(500), nullable=True)


class VoucherUse(Base):
    """One sale's use of a voucher; a voucher's use count is the number of its rows."""

    __tablename__ = "voucher_uses"

    sale_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    voucher_id: Mapped[int] = mapped_column(ForeignKey("vouchers.id"), nullable=False, index=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id"), nullable=False)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class QrisPaymentUse(Base):
    """The one sale payment a PAID QRIS order pays for (an order pays one sale only)."""

    __tablename__ = "qris_payment_uses"

    payment_order_id: Mapped[int] = mapped_column(
        ForeignKey("payment_orders.id"), primary_key=True, autoincrement=False
    )
    sale_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    payment_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, unique=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id"), nullable=False)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
