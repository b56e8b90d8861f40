"""Outlet wire schemas the manager API speaks: outlet prices, stock across outlets and
stock transfers between outlets."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import Field, model_validator

from shared.models import Quantity, RowId, Rupiah, SignedCount, WireModel


class OutletPriceIn(WireModel):
    """Set a product's price at one outlet (the chain price stays for the others)."""

    product_id: RowId
    price: Rupiah


class OutletPriceOut(WireModel):
    """A product's chain price and its price at the outlet (None: the chain price)."""

    store_id: RowId
    product_id: RowId
    sku: str
    name: str
    chain_price: int
    price: int | None
    effective_price: int
    updated_at: datetime | None = None


class OutletStock(WireModel):
    """One outlet's on hand of a product, and what is on its way in and out."""

    store_id: RowId
    store_code: str
    store_name: str
    on_hand: SignedCount
    in_transit_in: SignedCount
    in_transit_out: SignedCount


class ProductOutletsOut(WireModel):
    """A product's stock at every outlet the caller may see."""

    product_id: RowId
    sku: str
    name: str
    outlets: list[OutletStock]


class InTransitRow(WireModel):
    """Units of one product in sent, not yet received transfers of an outlet."""

    product_id: RowId
    sku: str
    name: str
    incoming: int = 0
    outgoing: int = 0


class TransferStatus(StrEnum):
    """Where a transfer is: ``draft → sent → received``, or ``cancelled`` before."""

    DRAFT = "draft"
    SENT = "sent"
    RECEIVED = "received"
    CANCELLED = "cancelled"


class TransferLineIn(WireModel):
    """Units of one product to move."""

    product_id: RowId
    quantity: Quantity


class TransferIn(WireModel):
    """A new transfer, under the client's own id (sent again, applied once)."""

    id: UUID = Field(
        description="Your id of this transfer: the same content again is "
        "answered with the stored transfer; other content under it is 409."
    )
    from_store_id: RowId
    to_store_id: RowId
    lines: list[TransferLineIn] = Field(min_length=1, max_length=500)
    note: str = Field(default="", max_length=200)
    send: bool = Field(default=False, description="Send at once (stock leaves the source).")

    @model_validator(mode="after")
    def _distinct(self) -> TransferIn:
        ids = [line.product_id for line in self.lines]
        if len(set(ids)) != len(ids):
            raise ValueError("a product appears twice")
        if self.from_store_id == self.to_store_id:
            raise ValueError("from_store_id and to_store_id are the same outlet")
        return self


class ReceivedLineIn(WireModel):
    """How many units of a product arrived (at most the number sent)."""

    product_id: RowId
    received: int = Field(strict=True, ge=0, le=1_000_000)


class TransferReceiveIn(WireModel):
    """Goods of a sent transfer arrived; a product not listed arrived in full."""

    lines: list[ReceivedLineIn] = Field(default_factory=list, max_length=500)
    loss_reason: str = Field(default="", max_length=200)


class TransferLineOut(WireModel):
    """One product of a transfer."""

    product_id: RowId
    sku: str
    name: str
    quantity: int
    received: int | None


class TransferOut(WireModel):
    """A transfer with its lines and who moved it when."""

    id: UUID
    from_store_id: RowId
    to_store_id: RowId
    status: TransferStatus
    note: str
    loss_reason: str
    created_by: RowId
    created_at: datetime
    sent_at: datetime | None
    received_at: datetime | None
    cancelled_at: datetime | None
    lines: list[TransferLineOut]

    @property
    def units(self) -> int:
        """Units sent (or to send) over all lines."""
        return sum(line.quantity for line in self.lines)
