"""What the till knows about products, vouchers and users, as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.models import Role, VoucherKind


@dataclass(frozen=True, slots=True)
class Product:
    """A product as it rings up: price and tax rule resolved from the catalog cache."""

    id: int
    sku: str
    name: str
    price: int
    barcode: str | None = None
    unit: str = "pcs"
    category_id: int | None = None
    tax_rate_bp: int = 0
    tax_inclusive: bool = True
    active: bool = True


@dataclass(frozen=True, slots=True)
class Voucher:
    """A voucher code from the server: percent (basis points) or fixed rupiah off."""

    code: str
    kind: VoucherKind
    value: int
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    min_spend: int = 0
    usage_limit: int | None = None
    used_count: int = 0
    active: bool = True


@dataclass(frozen=True, slots=True)
class User:
    """A person who may log in on this till (PIN hash pulled from the server)."""

    id: int
    username: str
    full_name: str
    role: Role
    pin_hash: str | None = None
    active: bool = True
    store_id: int | None = None
