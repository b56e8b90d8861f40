"""Catalog wire schemas: categories, tax rates, products, vouchers, stores."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from shared.models.common import (
    MAX_RUPIAH,
    BasisPoints,
    ChangeNumber,
    Count,
    RowId,
    Rupiah,
    WireModel,
)

NOT_BLANK = r"\S"
"""Pattern of a code or name that must hold more than whitespace (it is stored stripped)."""


class CategoryIn(WireModel):
    """A category as a manager creates or edits it."""

    name: str = Field(min_length=1, max_length=100)
    active: bool = True


class CategoryOut(CategoryIn):
    """A category as the server stores it."""

    id: RowId
    change_no: ChangeNumber


class TaxRateIn(WireModel):
    """A tax rate (PPN 11 % by default); inclusive means shelf prices already contain it."""

    code: str = Field(min_length=1, max_length=20, pattern=NOT_BLANK, examples=["PPN"])
    name: str = Field(min_length=1, max_length=100, pattern=NOT_BLANK, examples=["PPN 11%"])
    rate_bp: BasisPoints = Field(examples=[1100])
    inclusive: bool = True
    active: bool = True


class TaxRateOut(TaxRateIn):
    """A tax rate as stored."""

    id: RowId
    change_no: ChangeNumber


class ProductIn(WireModel):
    """A product as a manager creates or edits it."""

    sku: str = Field(min_length=1, max_length=64, examples=["IDM-0001"])
    barcode: str | None = Field(
        default=None, max_length=64, description="EAN-13, EAN-8, UPC-A or Code128 text."
    )
    name: str = Field(min_length=1, max_length=200, examples=["Indomie Goreng 85g"])
    category_id: RowId | None = None
    unit: str = Field(default="pcs", min_length=1, max_length=16)
    price: Rupiah = Field(examples=[3500])
    tax_rate_id: RowId | None = None
    active: bool = True
    low_stock_threshold: Count = 0


class ProductPatch(WireModel):
    """A partial edit of a product: only the fields given change."""

    sku: str | None = Field(default=None, min_length=1, max_length=64)
    barcode: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    category_id: RowId | None = None
    unit: str | None = Field(default=None, min_length=1, max_length=16)
    price: Rupiah | None = None
    tax_rate_id: RowId | None = None
    active: bool | None = None
    low_stock_threshold: Count | None = None


class ProductOut(ProductIn):
    """A product as stored, with the change number pull uses."""

    id: RowId
    change_no: ChangeNumber
    updated_at: datetime | None = None


class VoucherKind(StrEnum):
    """How a voucher takes money off: a percentage or a fixed rupiah amount."""

    PERCENT = "percent"
    FIXED = "fixed"


class VoucherIn(WireModel):
    """A voucher code a cashier may apply to a sale."""

    code: str = Field(min_length=1, max_length=32, pattern=NOT_BLANK, examples=["HEMAT10"])
    kind: VoucherKind
    value: int = Field(
        ge=1,
        le=MAX_RUPIAH,
        description="Basis points for percent (1000 = 10 %), rupiah for fixed "
        f"(at most MAX_RUPIAH = {MAX_RUPIAH}).",
    )
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    min_spend: Rupiah = 0
    usage_limit: Count | None = Field(default=None, ge=1)
    active: bool = True


class VoucherOut(VoucherIn):
    """A voucher as stored."""

    id: RowId
    used_count: Count = 0
    change_no: ChangeNumber


class StoreOut(WireModel):
    """A store and its receipt template (header, footer, NPWP)."""

    id: RowId
    code: str
    name: str
    address: str = ""
    npwp: str = ""
    phone: str = ""
    timezone: str = "Asia/Jakarta"
    receipt_header: str = ""
    receipt_footer: str = ""
    logo_text: str = ""
    static_qris: str = Field(
        default="",
        max_length=512,
        description=(
            "The store's static QRIS payload (EMVCo text, as printed on its QR sticker), "
            "shown by a till that is offline; empty when the store has none."
        ),
    )
    change_no: ChangeNumber = 0


class ImportLineError(WireModel):
    """One bad line of a CSV import, by its line number in the file (header is line 1)."""

    line: Count
    errors: list[str]


class ImportResult(WireModel):
    """What a bulk CSV import did: how many rows were created, updated, and which failed."""

    created: Count
    updated: Count
    failed: list[ImportLineError]
