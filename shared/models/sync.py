"""Sync protocol v1 envelopes: push a batch of outbox events, pull changes since a cursor."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from shared.models.catalog import CategoryOut, ProductOut, StoreOut, TaxRateOut, VoucherOut
from shared.models.common import WireModel
from shared.models.sales import (
    CashMoveIn,
    RefundIn,
    SaleIn,
    ShiftCloseIn,
    ShiftOpenIn,
    VoidIn,
)
from shared.models.users import UserOut

MAX_PUSH_EVENTS = 500
"""Most events one push may carry."""

MAX_PUSH_BYTES = 4 * 1024 * 1024
"""Largest push body in bytes."""

MAX_PULL_LIMIT = 5000
"""Most changes one pull page may carry."""


class EventType(StrEnum):
    """Every kind of event a till sends."""

    SALE = "sale"
    REFUND = "refund"
    VOID = "void"
    SHIFT_OPEN = "shift_open"
    SHIFT_CLOSE = "shift_close"
    CASH_MOVE = "cash_move"


PAYLOAD_SCHEMAS: dict[EventType, type[BaseModel]] = {
    EventType.SALE: SaleIn,
    EventType.REFUND: RefundIn,
    EventType.VOID: VoidIn,
    EventType.SHIFT_OPEN: ShiftOpenIn,
    EventType.SHIFT_CLOSE: ShiftCloseIn,
    EventType.CASH_MOVE: CashMoveIn,
}
"""The schema each event type's payload must match."""


class OutboxEvent(WireModel):
    """One change made on the till, carried until the server acknowledges its id.

    ``type`` is a plain string so that one unknown type rejects that event only,
    not the whole batch; the payload is checked against ``PAYLOAD_SCHEMAS``.
    """

    id: UUID
    type: str = Field(max_length=32, examples=["sale"])
    created_at: datetime
    payload: dict[str, Any]


class PushRequest(WireModel):
    """A batch of outbox events, oldest first."""

    events: list[OutboxEvent] = Field(max_length=MAX_PUSH_EVENTS)
    waiting: int | None = Field(
        default=None, ge=0, description="Events still waiting on the till (for sync health)."
    )


class EventStatus(StrEnum):
    """What the server did with one event."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class EventResult(WireModel):
    """The answer for one event id."""

    id: UUID
    status: EventStatus
    code: str | None = None
    reason: str | None = None


class PushResponse(WireModel):
    """One result per pushed event, in the order sent."""

    results: list[EventResult]
    server_time: datetime


class StockLevelOut(WireModel):
    """On-hand of one product in one store, as the server knows it."""

    product_id: int
    store_id: int
    on_hand: int
    change_no: int


class PullResponse(WireModel):
    """Changes with change numbers above ``cursor`` sent, oldest first.

    Save ``cursor`` in the same transaction as the rows; ask again while ``has_more``.
    """

    cursor: int
    has_more: bool
    remaining: int = Field(description="Changes still to come after this page (for progress).")
    categories: list[CategoryOut] = Field(default_factory=list)
    tax_rates: list[TaxRateOut] = Field(default_factory=list)
    products: list[ProductOut] = Field(default_factory=list)
    vouchers: list[VoucherOut] = Field(default_factory=list)
    users: list[UserOut] = Field(default_factory=list)
    stores: list[StoreOut] = Field(default_factory=list)
    stock: list[StockLevelOut] = Field(default_factory=list)
