"""Server-only catalog request/answer shapes the shared wire schemas do not cover.

Partial edits (``*Patch``) and the product page. The till never sees these, so they
live beside the catalog feature rather than in ``shared/models``.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shared.models import (
    MAX_RUPIAH,
    BasisPoints,
    Count,
    ProductOut,
    Rupiah,
    VoucherKind,
    WireModel,
)
from shared.models.catalog import NOT_BLANK


class CategoryPatch(WireModel):
    """A partial edit of a category: rename it or (de)activate it."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    active: bool | None = None


class TaxRatePatch(WireModel):
    """A partial edit of a tax rate."""

    code: str | None = Field(default=None, min_length=1, max_length=20, pattern=NOT_BLANK)
    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=NOT_BLANK)
    rate_bp: BasisPoints | None = None
    inclusive: bool | None = None
    active: bool | None = None


class VoucherPatch(WireModel):
    """A partial edit of a voucher; the merged result is checked like a new one."""

    code: str | None = Field(default=None, min_length=1, max_length=32, pattern=NOT_BLANK)
    kind: VoucherKind | None = None
    value: int | None = Field(default=None, ge=1, le=MAX_RUPIAH)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    min_spend: Rupiah | None = None
    usage_limit: Count | None = Field(default=None, ge=1)
    active: bool | None = None


class ProductPage(WireModel):
    """One page of products: page by ``offset``/``limit``, or by ``after_id`` (keyset)."""

    items: list[ProductOut]
    total: int = Field(description="Products matching the filters, over all pages.")
    limit: int
    offset: int
    next_after_id: int | None = Field(
        default=None, description="Pass as `after_id` for the next page (keyset paging)."
    )
