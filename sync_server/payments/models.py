"""QRIS payment orders and the log of every Tripay callback received."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.core.database import Base, BigId, UTCDateTime, utcnow


class PaymentOrder(Base):
    """A till's request to be paid by QRIS; ``order_id`` is Tripay's ``merchant_ref``.

    The row exists before Tripay is asked, so a callback that overtakes the create
    answer still finds its order. ``creating_token`` is the claim one create-payment
    call holds while it talks to Tripay: taking it is a conditional UPDATE, so two
    replicas never open two Tripay transactions for one order.
    """

    __tablename__ = "payment_orders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), nullable=False, index=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id"), nullable=False, index=True)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    items: Mapped[str] = mapped_column(Text, nullable=False, default="[]")
    customer_name: Mapped[str] = mapped_column(String(100), nullable=False)
    customer_email: Mapped[str] = mapped_column(String(100), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="UNPAID", index=True)
    method: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reference: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    qr_string: Mapped[str | None] = mapped_column(Text, nullable=True)
    qr_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    checkout_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    fee_merchant: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    fee_customer: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    total_fee: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    amount_received: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    creating_token: Mapped[str | None] = mapped_column(String(36), nullable=True)
    creating_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    create_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # True while a create may exist at Tripay that we have not stored (timeout, 5xx).
    create_uncertain: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class PaymentCallback(Base):
    """Every callback that reached the server, accepted or not, with its raw body."""

    __tablename__ = "payment_callbacks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    event: Mapped[str | None] = mapped_column(String(64), nullable=True)
    signature_ok: Mapped[bool] = mapped_column(Boolean, nullable=False)
    reference: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    merchant_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("payment_orders.id"), nullable=True, index=True
    )
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    raw_body: Mapped[str] = mapped_column(Text, nullable=False)
