"""The port the sync worker is written against: what it may ask of the local store.

:class:`pos_client.store.LocalStore` implements it; the worker never sees SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from shared.models import EventResult, OutboxEvent, PullResponse


@dataclass(frozen=True, slots=True)
class RejectedLocal:
    """An outbox event the server rejected: kept on the till and listed for the manager."""

    id: UUID
    type: str
    created_at: datetime
    code: str | None
    reason: str | None
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LocalSyncStatus:
    """What the UI shows about sync: events waiting, rejected, last success and error."""

    pending: int
    rejected: int
    last_success_at: datetime | None
    last_error: str | None
    cursor: int


class SyncStore(Protocol):
    """The local store as the sync worker uses it (one instance per thread)."""

    def pending_events(self, limit: int) -> list[OutboxEvent]:
        """Up to ``limit`` pending events, oldest first (rejected ones excluded)."""
        ...

    def pending_count(self) -> int:
        """How many events wait to be pushed."""
        ...

    def acknowledge(self, results: Sequence[EventResult]) -> None:
        """In one transaction: delete applied/duplicate events, mark rejected ones."""
        ...

    def rejected_events(self) -> list[RejectedLocal]:
        """Events the server rejected, oldest first."""
        ...

    def retry_rejected(self, event_id: UUID) -> None:
        """Put a rejected event back in the queue."""
        ...

    def pull_cursor(self) -> int:
        """The server change number the catalog cache is up to."""
        ...

    def apply_pull_page(self, page: PullResponse) -> None:
        """In one transaction: upsert every row of ``page`` and save ``page.cursor``."""
        ...

    def record_sync_result(self, *, ok: bool, error: str | None, at: datetime) -> None:
        """Remember how the last sync went (success time, or the error)."""
        ...

    def sync_status(self) -> LocalSyncStatus:
        """Counts and times for the UI's sync badge."""
        ...

    def device_token(self) -> str | None:
        """The bearer token from enrollment, or None before enrollment."""
        ...

    def close(self) -> None:
        """Close this thread's connection."""
        ...
