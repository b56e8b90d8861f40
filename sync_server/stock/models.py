"""Stock moves (the ledger) and the on hand per store and product, in two parts.

On hand is ``stock_levels.on_hand`` (the base, what tills pull) plus the sum of the
``stock_deltas`` rows of that store and product (one per terminal). Ingest adds a
till's sales to that till's own delta rows only, so tills of one store never write a
shared row; a fold before each pull moves the deltas into the base
(:func:`sync_server.stock.service.fold_stock_deltas`) without changing the sum.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.core.database import Base, UTCDateTime, utcnow


class StockMove(Base):
    """One signed movement: sale (-), refund (+), void (+), receive (+), adjust, count."""

    __tablename__ = "stock_moves"
    __table_args__ = (
        Index("ix_stock_moves_product_store_created", "product_id", "store_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), nullable=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    ref_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    terminal_id: Mapped[int | None] = mapped_column(ForeignKey("terminals.id"), nullable=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    note: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    unit_cost: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """What one unit cost, on a ``receive`` move that named it (None: not given)."""


class StockLevel(Base):
    """The base of a product's on hand in a store; what tills pull.

    ``on_hand`` plus the product's :class:`StockDelta` rows is always the sum of its
    moves (read it through :func:`sync_server.stock.service.on_hand_of`). May go negative.
    """

    __tablename__ = "stock_levels"
    # A pull reads one store's levels above a change number (migration 0008).
    __table_args__ = (Index("ix_stock_levels_store_change", "store_id", "change_no"),)

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    on_hand: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    change_no: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class StockDelta(Base):
    """What one terminal's pushes changed on hand by, not yet folded into the base.

    Written by ingest for its own terminal only, in product order; the fold subtracts
    exactly what it adds to :class:`StockLevel` (and deletes the emptied row), so base
    plus deltas never changes and the table holds only what is not folded yet.
    """

    __tablename__ = "stock_deltas"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
