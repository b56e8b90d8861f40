"""Step 1 of ingest: check each event's id, times and payload, outside any transaction.

Every number of a payload is bounded by its schema (:mod:`shared.models`), so nothing
that passes here overflows a column. An event that passes gets its digest: the sha256
of its canonical form, kept with the applied event so that the same id pushed again
with other content is told apart from a retry.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from shared.models import PAYLOAD_SCHEMAS, EventStatus, EventType, OutboxEvent

EARLIEST_TIME = datetime(1000, 1, 2, tzinfo=UTC)
LATEST_TIME = datetime(9999, 12, 30, tzinfo=UTC)
"""Times an event may carry: what a DATETIME column holds, a day inside either end so
that the store's calendar day can always be computed. Anything else is refused."""

CONFLICT = "conflict"
"""Code (and status) of an event whose id was already used for something else."""


class Rejection(Exception):
    """Why an event was refused: a stable code and a sentence for the manager."""

    def __init__(
        self, code: str, reason: str, *, status: EventStatus = EventStatus.REJECTED
    ) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.status = status


def conflict(event_id: uuid.UUID) -> Rejection:
    """The refusal of an id already used for another event.

    The same sentence whoever used it, so a terminal learns nothing about another
    terminal's events.
    """
    return Rejection(
        CONFLICT,
        f"Event id {event_id} was already used for a different event; this event was not "
        "applied. Keep it and show it to a manager.",
        status=EventStatus.CONFLICT,
    )


@dataclass(slots=True)
class ParsedEvent:
    """An event with its payload checked against its schema (or why it failed)."""

    event: OutboxEvent
    kind: EventType | None = None
    payload: BaseModel | None = None
    rejection: Rejection | None = None
    bad_id: bool = False
    """The id is not canonical: refused before anything is looked up by it."""
    repeat_of: int | None = None
    """Index of an earlier event of the same batch with the same id."""
    digest: str | None = None
    """sha256 of the canonical form of a valid event (stored when it is applied)."""
    fingerprint: str | None = None
    """``digest``, or for an invalid event the sha256 of what was sent: compares copies
    of one id within a batch. None when not even that could be computed."""


def _error_text(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:10]:
        loc = ".".join(str(p) for p in err.get("loc", ())) or "payload"
        parts.append(f"{loc}: {err.get('msg', '')}")
    return "; ".join(parts)[:2000]


def _datetimes(model: BaseModel) -> Iterator[tuple[str, datetime]]:
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, datetime):
            yield name, value


def time_problem(name: str, moment: datetime) -> Rejection | None:
    """Why ``moment`` cannot be taken (no UTC offset, or outside the storable years)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        return Rejection("invalid_payload", f"{name}: the time must carry a UTC offset.")
    try:
        ok = EARLIEST_TIME <= moment.astimezone(UTC) <= LATEST_TIME
    except OverflowError:
        ok = False
    if not ok:
        return Rejection(
            "time_out_of_range",
            f"{name}: {moment.isoformat()} is outside the times this server can store "
            f"({EARLIEST_TIME.date()} to {LATEST_TIME.date()}, UTC).",
        )
    return None


def _canonical_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"no canonical form for {type(value).__name__}")


def _sha256_json(body: Any) -> str:
    text = json.dumps(
        body,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=_canonical_value,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


OPTIONAL_FIELDS_ADDED_LATER = frozenset({"catalog_cursor", "price_override", "measure", "customer"})
"""Wire fields added after digests were first stored. Left out of the canonical form
while they are unset, so an event applied before they existed and pushed again after
an upgrade keeps its digest (a ``duplicate``, never a ``conflict``)."""


def _without_unset_later_fields(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _without_unset_later_fields(v)
            for k, v in value.items()
            if not (v is None and k in OPTIONAL_FIELDS_ADDED_LATER)
        }
    if isinstance(value, list):
        return [_without_unset_later_fields(v) for v in value]
    return value


def event_digest(kind: EventType, created_at: datetime, payload: BaseModel) -> str:
    """sha256 (hex) of a valid event's canonical JSON: type, time and checked payload,
    sorted keys, no whitespace, times in UTC, ids in their canonical spelling (fields of
    :data:`OPTIONAL_FIELDS_ADDED_LATER` left out while unset)."""
    return _sha256_json(
        {
            "type": kind.value,
            "created_at": created_at,
            "payload": _without_unset_later_fields(payload.model_dump(mode="python")),
        }
    )


def _raw_fingerprint(event: OutboxEvent) -> str | None:
    try:
        return _sha256_json(
            {"type": event.type, "created_at": event.created_at.isoformat(), "raw": event.payload}
        )
    except (RecursionError, TypeError, ValueError):
        return None


def _check(item: ParsedEvent) -> None:
    """Type, times and payload of one event; sets ``payload`` and ``digest`` or ``rejection``."""
    event = item.event
    try:
        item.kind = EventType(event.type)
    except ValueError:
        item.rejection = Rejection(
            "unknown_event_type", f"This server does not know events of type {event.type!r}."
        )
        return
    item.rejection = time_problem("created_at", event.created_at)
    if item.rejection is not None:
        return
    try:
        payload = PAYLOAD_SCHEMAS[item.kind].model_validate(event.payload)
    except ValidationError as exc:
        item.rejection = Rejection("invalid_payload", _error_text(exc))
        return
    except RecursionError:
        item.rejection = Rejection("invalid_payload", "The payload is nested too deeply.")
        return
    for name, moment in _datetimes(payload):
        item.rejection = time_problem(name, moment)
        if item.rejection is not None:
            return
    item.payload = payload
    item.digest = event_digest(item.kind, event.created_at, payload)


def parse_events(events: Sequence[OutboxEvent]) -> list[ParsedEvent]:
    """Check every event; bad ids, unknown types, bad times and bad payloads are refused.

    Pure (no database), so it runs once even when the transaction is retried.
    """
    parsed: list[ParsedEvent] = []
    first_index: dict[uuid.UUID, int] = {}
    for index, event in enumerate(events):
        item = ParsedEvent(event=event)
        parsed.append(item)
        id_problem = event.id_problem()
        if id_problem is not None:
            item.bad_id = True
            item.rejection = Rejection("invalid_event_id", id_problem)
            continue
        _check(item)
        item.fingerprint = item.digest or _raw_fingerprint(event)
        if event.id in first_index:
            item.repeat_of = first_index[event.id]
        else:
            first_index[event.id] = index
    return parsed


def same_event(a: ParsedEvent, b: ParsedEvent) -> bool:
    """True when two copies of one id carry the same content."""
    return a.fingerprint is not None and a.fingerprint == b.fingerprint
