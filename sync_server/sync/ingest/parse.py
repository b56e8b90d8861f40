"""Step 1 of ingest: check each event's payload against its schema, outside any transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ValidationError

from shared.models import (
    PAYLOAD_SCHEMAS,
    CashMoveIn,
    EventType,
    OutboxEvent,
    RefundIn,
    SaleIn,
    ShiftCloseIn,
    ShiftOpenIn,
    VoidIn,
)

MAX_AMOUNT = 10**15
"""Largest number (rupiah, id or quantity) a payload may carry; far above any real sale."""


class Rejection(Exception):
    """Why an event was refused: a stable code and a sentence for the manager."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(slots=True)
class ParsedEvent:
    """An event with its payload checked against its schema (or why it failed)."""

    event: OutboxEvent
    kind: EventType | None = None
    payload: BaseModel | None = None
    rejection: Rejection | None = None
    repeat_of: int | None = None
    """Index of an earlier event of the same batch with the same id."""


def _error_text(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:10]:
        loc = ".".join(str(p) for p in err.get("loc", ())) or "payload"
        parts.append(f"{loc}: {err.get('msg', '')}")
    return "; ".join(parts)


def _numbers(payload: BaseModel) -> Iterator[int]:
    """Every integer of a payload that reaches a query or a column."""
    if isinstance(payload, SaleIn):
        yield from (payload.cashier_id, payload.order_discount, payload.subtotal)
        yield from (payload.discount_total, payload.tax_total, payload.total)
        for line in payload.lines:
            yield from (line.product_id, line.unit_price, line.discount, line.tax, line.total)
        for pay in payload.payments:
            yield from (pay.amount, pay.tendered or 0, pay.change)
    elif isinstance(payload, RefundIn):
        yield from (payload.cashier_id, payload.approved_by, payload.total)
        yield from (line.amount for line in payload.lines)
    elif isinstance(payload, VoidIn):
        yield from (payload.cashier_id, payload.approved_by)
    elif isinstance(payload, ShiftOpenIn):
        yield from (payload.user_id, payload.opening_float)
    elif isinstance(payload, ShiftCloseIn):
        yield from (payload.user_id, payload.counted_cash, payload.expected_cash)
    elif isinstance(payload, CashMoveIn):
        yield from (payload.user_id, payload.amount)


def _out_of_range(payload: BaseModel) -> bool:
    return any(not -MAX_AMOUNT <= n <= MAX_AMOUNT for n in _numbers(payload))


def _naive_datetime_field(model: BaseModel) -> str | None:
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, datetime) and value.tzinfo is None:
            return name
    return None


def parse_events(events: Sequence[OutboxEvent]) -> list[ParsedEvent]:
    """Check every payload against its schema; unknown types and bad payloads are refused.

    Pure (no database), so it runs once even when the transaction is retried.
    """
    parsed: list[ParsedEvent] = []
    first_index: dict[uuid.UUID, int] = {}
    for index, event in enumerate(events):
        item = ParsedEvent(event=event)
        parsed.append(item)
        if event.id in first_index:
            item.repeat_of = first_index[event.id]
            continue
        first_index[event.id] = index
        try:
            item.kind = EventType(event.type)
        except ValueError:
            item.rejection = Rejection(
                "unknown_event_type",
                f"This server does not know events of type {event.type!r}.",
            )
            continue
        if event.created_at.tzinfo is None:
            item.rejection = Rejection(
                "invalid_payload", "created_at: the time must carry a UTC offset."
            )
            continue
        try:
            item.payload = PAYLOAD_SCHEMAS[item.kind].model_validate(event.payload)
        except ValidationError as exc:
            item.rejection = Rejection("invalid_payload", _error_text(exc))
            continue
        naive = _naive_datetime_field(item.payload)
        if naive is not None:
            item.payload = None
            item.rejection = Rejection(
                "invalid_payload", f"{naive}: the time must carry a UTC offset."
            )
        elif _out_of_range(item.payload):
            item.payload = None
            item.rejection = Rejection(
                "invalid_payload", f"A number in the payload is beyond {MAX_AMOUNT}."
            )
    return parsed
