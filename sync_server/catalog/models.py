"""Catalog tables. Every row carries the change number pull pages by."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.core.database import Base, BigId, UTCDateTime, utcnow


class _CatalogRow:
    """What every catalog row has: its id, whether it is on sale or in use, and the change
    number tills pull it by."""

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True, sort_order=-1)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    change_no: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, index=True)


class Category(_CatalogRow, Base):
    """A shelf grouping (Minuman, Makanan Ringan, ...)."""

    __tablename__ = "categories"

    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)


class TaxRate(_CatalogRow, Base):
    """A tax class: PPN 11 % inclusive by default. Rates are basis points."""

    __tablename__ = "tax_rates"

    code: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    rate_bp: Mapped[int] = mapped_column(Integer, nullable=False)
    inclusive: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class Product(_CatalogRow, Base):
    """Something the shop sells. Price is whole rupiah; barcode is unique when present."""

    __tablename__ = "products"

    sku: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    barcode: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), nullable=True)
    unit: Mapped[str] = mapped_column(String(16), nullable=False, default="pcs")
    price: Mapped[int] = mapped_column(BigInteger, nullable=False)
    tax_rate_id: Mapped[int | None] = mapped_column(ForeignKey("tax_rates.id"), nullable=True)
    low_stock_threshold: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Voucher(_CatalogRow, Base):
    """A code that takes a percentage (basis points) or a fixed amount off a sale."""

    __tablename__ = "vouchers"

    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    min_spend: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    usage_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    used_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
