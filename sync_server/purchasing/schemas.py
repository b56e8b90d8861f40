"""Purchasing wire schemas of the manager API: suppliers, purchase orders, receipts,
stock requests and reorder suggestions."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field, field_validator

from shared.models import Count, Quantity, RowId, Rupiah, SignedCount, StockMoveOut, WireModel

PoStatus = Literal["draft", "sent", "partial", "received", "cancelled"]
RequestStatus = Literal["requested", "approved", "rejected", "ordered"]

PO_STATUS_LABELS = {
    "draft": "Draf",
    "sent": "Dikirim ke pemasok",
    "partial": "Diterima sebagian",
    "received": "Diterima",
    "cancelled": "Dibatalkan",
}
REQUEST_STATUS_LABELS = {
    "requested": "Diajukan",
    "approved": "Disetujui",
    "rejected": "Ditolak",
    "ordered": "Sudah dipesan",
}


def _clean(value: str) -> str:
    """Text as typed, without surrounding spaces; control characters refused."""
    if any(ord(ch) < 32 and ch not in "\t" for ch in value):
        raise ValueError("control characters are not allowed")
    return value.strip()


class SupplierIn(WireModel):
    """A supplier as the manager types it."""

    name: str = Field(min_length=1, max_length=120)
    phone: str = Field(default="", max_length=32, pattern=r"^[0-9+()\- ]*$")
    address: str = Field(default="", max_length=300)
    note: str = Field(default="", max_length=300)
    active: bool = True

    @field_validator("name", "phone", "address", "note")
    @classmethod
    def _text(cls, value: str) -> str:
        return _clean(value)

    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value:
            raise ValueError("a name is required")
        return value


class SupplierOut(WireModel):
    """A supplier."""

    id: int
    name: str
    phone: str
    address: str
    note: str
    active: bool
    created_at: datetime


class OrderLineIn(WireModel):
    """A product to order: how many and the agreed cost of one unit."""

    product_id: RowId
    quantity: Quantity
    unit_cost: Rupiah


class PurchaseOrderIn(WireModel):
    """A new purchase order (a draft) for an outlet."""

    store_id: RowId | None = Field(default=None, description="Default: your own store.")
    supplier_id: RowId
    lines: list[OrderLineIn] = Field(min_length=1, max_length=500)
    note: str = Field(default="", max_length=200)

    @field_validator("note")
    @classmethod
    def _text(cls, value: str) -> str:
        return _clean(value)


class OrderLineOut(WireModel):
    """A line of a purchase order with what arrived so far."""

    id: int
    product_id: int
    sku: str
    name: str
    quantity_ordered: int
    unit_cost: int
    quantity_received: int
    line_total: int = Field(description="quantity_ordered × unit_cost")


class PurchaseOrderOut(WireModel):
    """A purchase order and where it stands."""

    id: int
    store_id: int
    supplier_id: int
    supplier_name: str
    status: PoStatus
    status_label: str
    note: str
    created_by: int
    created_at: datetime
    sent_at: datetime | None
    closed_at: datetime | None
    lines: list[OrderLineOut]
    total_cost: int
    request_id: int | None = Field(default=None, description="The stock request it came from.")


class ReceiptLineIn(WireModel):
    """Units of one product that arrived; the cost defaults to the order line's."""

    product_id: RowId
    quantity: Quantity
    unit_cost: Rupiah | None = None


class OrderReceiptIn(WireModel):
    """Goods that arrived against a purchase order."""

    receipt_id: UUID = Field(
        description="Your id of this receipt: sent again, it is applied once "
        "(other content under the same id: 409)."
    )
    lines: list[ReceiptLineIn] = Field(min_length=1, max_length=500)
    note: str = Field(default="", max_length=200)

    @field_validator("note")
    @classmethod
    def _text(cls, value: str) -> str:
        return _clean(value)


class ProductCostOut(WireModel):
    """An outlet's moving-average cost of a product after a receipt."""

    product_id: int
    avg_cost: int


class ReceiptOut(WireModel):
    """What a receipt did (or, sent again, had done)."""

    receipt_id: UUID
    duplicate: bool = Field(description="This receipt was applied before; nothing changed now.")
    order: PurchaseOrderOut | None
    moves: list[StockMoveOut]
    costs: list[ProductCostOut]


class RequestLineIn(WireModel):
    """A product an outlet asks for."""

    product_id: RowId
    quantity: Quantity


class StockRequestIn(WireModel):
    """An outlet asking for goods."""

    store_id: RowId | None = Field(default=None, description="Default: your own store.")
    lines: list[RequestLineIn] = Field(min_length=1, max_length=500)
    note: str = Field(default="", max_length=200)

    @field_validator("note")
    @classmethod
    def _text(cls, value: str) -> str:
        return _clean(value)


class RequestLineOut(WireModel):
    """A product asked for."""

    product_id: int
    sku: str
    name: str
    quantity: int


class StockRequestOut(WireModel):
    """A stock request and where it stands."""

    id: int
    store_id: int
    status: RequestStatus
    status_label: str
    note: str
    requested_by: int
    decided_by: int | None
    decided_at: datetime | None
    order_id: int | None
    created_at: datetime
    lines: list[RequestLineOut]


class ToOrderIn(WireModel):
    """Turn an approved request, or the reorder suggestions, into a draft order."""

    supplier_id: RowId
    store_id: RowId | None = Field(default=None, description="Suggestions only; default yours.")
    note: str = Field(default="", max_length=200)

    @field_validator("note")
    @classmethod
    def _text(cls, value: str) -> str:
        return _clean(value)


class SuggestionRow(WireModel):
    """A product at or below its reorder point (or out of stock) and how many to order."""

    product_id: int
    sku: str
    name: str
    on_hand: SignedCount
    reorder_point: Count
    on_order: int = Field(description="Still to arrive on draft, sent and partial orders.")
    suggested_quantity: int
    last_cost: int | None = Field(description="What one unit cost on the last receipt.")
