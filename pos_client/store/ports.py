"""The seam between the sync worker and the local store.

The worker only ever talks to the store through :class:`SyncStore`, so it can be
tested against an in-memory fake and the store can change its tables freely.
Each worker thread opens its own store (its own SQLite connection).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from shared.models import EventResult, OutboxEvent, PullResponse


@dataclass(frozen=True)
class RejectedLocal:
    """An outbox event the server rejected: kept on the till and shown to the manager."""

    id: UUID
    type: str
    created_at: datetime
    code: str
    reason: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class LocalSyncStatus:
    """What the store knows about sync: events waiting, rejected, last outcome, cursor."""

    pending: int
    rejected: int
    last_success_at: datetime | None
    last_error: str | None
    cursor: int


class SyncStore(Protocol):
    """What the sync worker needs from the local store."""

    def pending_events(self, limit: int) -> list[OutboxEvent]:
        """Up to ``limit`` pending outbox events, oldest first (rejected ones excluded)."""
        ...

    def pending_count(self) -> int:
        """How many outbox events wait to be pushed (rejected ones excluded)."""
        ...

    def acknowledge(self, results: Sequence[EventResult]) -> None:
        """In one transaction: delete applied/duplicate events by exact id; mark rejected."""
        ...

    def rejected_events(self) -> list[RejectedLocal]:
        """Every event the server rejected, oldest first; never dropped."""
        ...

    def retry_rejected(self, event_id: UUID) -> None:
        """Put a rejected event back in the pending queue."""
        ...

    def pull_cursor(self) -> int:
        """The server change number the catalog cache is up to (0 when empty)."""
        ...

    def apply_pull_page(self, page: PullResponse) -> None:
        """In one transaction: upsert the page's rows and save its cursor."""
        ...

    def record_sync_result(self, *, ok: bool, error: str | None, at: datetime) -> None:
        """Remember the outcome of a sync round (last success, last error)."""
        ...

    def sync_status(self) -> LocalSyncStatus:
        """The store's view of sync health."""
        ...

    def device_token(self) -> str | None:
        """The bearer token this till got at enrollment, or None before enrollment."""
        ...

    def close(self) -> None:
        """Close the connection (called by the thread that opened it)."""
        ...
