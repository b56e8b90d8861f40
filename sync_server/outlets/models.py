"""Tables of per-outlet prices and stock transfers between outlets.

An outlet is a store (``stores``). A product's price at an outlet is the chain price
(``products.price``) unless the outlet has an override (:class:`OutletPrice` with a
price). Setting or clearing an override numbers its row with a fresh change number, so
the outlet's tills get the product again at their next pull (``sync/pull.py``), and
writes an :class:`OutletPriceHistory` row ingest checks a till's line prices against.

A transfer (:class:`StockTransfer`) moves goods from one outlet to another:
``draft → sent → received`` or ``cancelled`` before it is received. Stock leaves the
source when it is sent and enters the destination when it is received, through the
stock ledger (``stock.service.apply_stock_moves``).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.core.database import Base, BigId, UTCDateTime, utcnow


class OutletPrice(Base):
    """A product's price at one outlet; ``price`` None: cleared (the chain price again).

    A cleared override keeps its row, numbered by the clearing, so the outlet's tills
    learn at their next pull that the chain price is back.
    """

    __tablename__ = "outlet_prices"
    # A pull reads one outlet's overrides above a change number.
    __table_args__ = (Index("ix_outlet_prices_store_change", "store_id", "change_no"),)

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    price: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    change_no: Mapped[int] = mapped_column(BigInteger, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class OutletPriceHistory(Base):
    """An override set (``price``) or cleared (None) at ``valid_from``, change ``change_no``."""

    __tablename__ = "outlet_price_history"
    __table_args__ = (
        Index("ix_outlet_price_history_store_product", "store_id", "product_id", "change_no"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), nullable=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), nullable=False)
    price: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    change_no: Mapped[int] = mapped_column(BigInteger, nullable=False)


class StockTransfer(Base):
    """Goods moving from one outlet to another; the id is the client's (idempotent)."""

    __tablename__ = "stock_transfers"
    __table_args__ = (
        Index("ix_stock_transfers_from_status", "from_store_id", "status"),
        Index("ix_stock_transfers_to_status", "to_store_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    from_store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), nullable=False)
    to_store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    note: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    sent_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    received_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    loss_reason: Mapped[str] = mapped_column(String(200), nullable=False, default="")


class StockTransferLine(Base):
    """One product of a transfer: how many were sent, and how many arrived."""

    __tablename__ = "stock_transfer_lines"

    transfer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("stock_transfers.id"), primary_key=True
    )
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    received: Mapped[int | None] = mapped_column(Integer, nullable=True)
