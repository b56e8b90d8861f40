"""Sync protocol v1 envelopes: push a batch of outbox events, pull changes since a cursor."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    Field,
    GetJsonSchemaHandler,
    ModelWrapValidatorHandler,
    PrivateAttr,
    TypeAdapter,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from shared.models.catalog import CategoryOut, ProductOut, StoreOut, TaxRateOut, VoucherOut
from shared.models.common import (
    MAX_BIGINT,
    MAX_INT,
    ChangeNumber,
    RowId,
    SignedCount,
    WireModel,
)
from shared.models.sales import (
    CashMoveIn,
    NoSaleIn,
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

CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
"""The one spelling of an event id: lower-case hex, hyphenated 8-4-4-4-12."""


class EventType(StrEnum):
    """Every kind of event a till sends."""

    SALE = "sale"
    REFUND = "refund"
    VOID = "void"
    SHIFT_OPEN = "shift_open"
    SHIFT_CLOSE = "shift_close"
    CASH_MOVE = "cash_move"
    NO_SALE = "no_sale"


PAYLOAD_SCHEMAS: dict[EventType, type[BaseModel]] = {
    EventType.SALE: SaleIn,
    EventType.REFUND: RefundIn,
    EventType.VOID: VoidIn,
    EventType.SHIFT_OPEN: ShiftOpenIn,
    EventType.SHIFT_CLOSE: ShiftCloseIn,
    EventType.CASH_MOVE: CashMoveIn,
    EventType.NO_SALE: NoSaleIn,
}
"""The schema each event type's payload must match."""


class _EventShape(WireModel):
    """What every event carries besides its type and payload (documentation only)."""

    id: UUID = Field(description="Canonical UUIDv7 made on the till (lower-case, hyphenated).")
    created_at: datetime


class SaleEvent(_EventShape):
    """A sale rung up on the till."""

    type: Literal["sale"]
    payload: SaleIn


class RefundEvent(_EventShape):
    """A refund of lines of an earlier sale."""

    type: Literal["refund"]
    payload: RefundIn


class VoidEvent(_EventShape):
    """An earlier sale voided."""

    type: Literal["void"]
    payload: VoidIn


class ShiftOpenEvent(_EventShape):
    """A cashier's shift opened with its opening float."""

    type: Literal["shift_open"]
    payload: ShiftOpenIn


class ShiftCloseEvent(_EventShape):
    """A shift closed with the cash counted."""

    type: Literal["shift_close"]
    payload: ShiftCloseIn


class CashMoveEvent(_EventShape):
    """Cash put into or taken out of the drawer during a shift."""

    type: Literal["cash_move"]
    payload: CashMoveIn


class NoSaleEvent(_EventShape):
    """The cash drawer opened with no sale, approved by a supervisor's PIN."""

    type: Literal["no_sale"]
    payload: NoSaleIn


EVENT_SHAPES = Annotated[
    SaleEvent
    | RefundEvent
    | VoidEvent
    | ShiftOpenEvent
    | ShiftCloseEvent
    | CashMoveEvent
    | NoSaleEvent,
    Field(discriminator="type"),
]
"""The published shape of an outbox event: a union discriminated by ``type``.

Only the JSON schema (the OpenAPI page) uses it. The server parses events as
:class:`OutboxEvent` and each payload by ``PAYLOAD_SCHEMAS`` afterwards, so one bad
event is rejected alone instead of failing the whole batch with 422.
"""


class OutboxEvent(WireModel):
    """One change made on the till, carried until the server acknowledges its id.

    ``type`` is a plain string so that one unknown type rejects that event only,
    not the whole batch; the payload is checked against ``PAYLOAD_SCHEMAS``.
    """

    id: UUID = Field(
        description="Canonical UUID (lower-case, hyphenated, not all zero); another "
        "spelling rejects this event with `invalid_event_id`."
    )
    type: str = Field(max_length=32, examples=["sale"])
    created_at: datetime
    payload: dict[str, Any]

    _id_text: str | None = PrivateAttr(default=None)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """Publish the event as the union of :data:`EVENT_SHAPES`, one schema per type."""
        return handler(TypeAdapter(EVENT_SHAPES).core_schema)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_id_spelling(
        cls, data: Any, handler: ModelWrapValidatorHandler[OutboxEvent]
    ) -> OutboxEvent:
        # Any UUID spelling parses, so the answer can still name the event; how it was
        # spelt is kept to refuse that one event rather than the whole batch.
        event = handler(data)
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            event._id_text = data["id"]
        return event

    def id_problem(self) -> str | None:
        """Why ``id`` is not a canonical event id, or None when it is one."""
        if self.id.int == 0:
            return "The all-zero UUID is not an event id."
        if self._id_text is not None and not CANONICAL_UUID.fullmatch(self._id_text):
            return (
                f"Event id {self._id_text!r} is not written as a canonical UUID "
                "(lower-case, hyphenated 8-4-4-4-12)."
            )
        return None


class PushRequest(WireModel):
    """A batch of outbox events, oldest first."""

    events: list[OutboxEvent] = Field(max_length=MAX_PUSH_EVENTS)
    waiting: int | None = Field(
        default=None,
        ge=0,
        le=MAX_INT,
        description="Events still waiting on the till (for sync health).",
    )
    stuck: int | None = Field(
        default=None,
        ge=0,
        le=MAX_INT,
        description="Events the server kept failing on, set aside on the till (sync health).",
    )


class EventStatus(StrEnum):
    """What the server did with one event."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    CONFLICT = "conflict"
    """The id was already used for a different event (or by another terminal).

    Like ``rejected``: the till keeps the event and shows it; it is never deleted."""

    @property
    def kept(self) -> bool:
        """True when the till must keep the event (refused), False when it may delete it."""
        return self in (EventStatus.REJECTED, EventStatus.CONFLICT)


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

    product_id: RowId
    store_id: RowId
    on_hand: SignedCount
    change_no: ChangeNumber


class PullResponse(WireModel):
    """Changes with change numbers above ``cursor`` sent, oldest first.

    Save ``cursor`` in the same transaction as the rows; ask again while ``has_more``.
    """

    cursor: ChangeNumber
    has_more: bool
    remaining: int = Field(
        ge=0, le=MAX_BIGINT, description="Changes still to come after this page (for progress)."
    )
    categories: list[CategoryOut] = Field(default_factory=list)
    tax_rates: list[TaxRateOut] = Field(default_factory=list)
    products: list[ProductOut] = Field(default_factory=list)
    vouchers: list[VoucherOut] = Field(default_factory=list)
    users: list[UserOut] = Field(default_factory=list)
    stores: list[StoreOut] = Field(default_factory=list)
    stock: list[StockLevelOut] = Field(default_factory=list)
