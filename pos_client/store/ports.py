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
class PushFailure:
    """How the server failed on a push: its HTTP status, error code and message."""

    status_code: int
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class StuckLocal:
    """An event the server kept failing on (a 5xx, or 413/422 for it alone).

    It is set aside so the rest of the queue keeps flowing, and tried alone again at
    ``retry_at``; ``attempts`` counts the failed tries, ``failure`` is the last answer.
    It leaves this state when the server answers it: applied or duplicate (deleted),
    rejected or conflict (kept as rejected).
    """

    event: OutboxEvent
    failure: PushFailure
    attempts: int
    stuck_since: datetime
    retry_at: datetime


@dataclass(frozen=True, slots=True)
class LocalSyncStatus:
    """What the UI shows about sync: events waiting, stuck, rejected, last success and error.

    ``pending`` counts the events in the queue, ``stuck`` those set aside (not in
    ``pending``); ``next_stuck_retry_at`` is when the first stuck one is tried again.
    """

    pending: int
    rejected: int
    last_success_at: datetime | None
    last_error: str | None
    cursor: int
    stuck: int = 0
    next_stuck_retry_at: datetime | None = None


class SyncStore(Protocol):
    """The local store as the sync worker uses it (one instance per thread)."""

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database (between rounds, off the till's path)."""
        ...

    def pending_events(self, limit: int) -> list[OutboxEvent]:
        """Up to ``limit`` pending events, oldest first (rejected and stuck ones excluded)."""
        ...

    def pending_count(self) -> int:
        """How many events wait in the queue (stuck and rejected ones not counted)."""
        ...

    def acknowledge(self, results: Sequence[EventResult]) -> None:
        """In one transaction: delete applied/duplicate events, mark rejected ones.

        An answer for a stuck event releases it (deleted, or kept as rejected)."""
        ...

    def mark_stuck(
        self, event_id: UUID, failure: PushFailure, *, at: datetime, retry_at: datetime
    ) -> None:
        """Set a pending event aside (or keep a stuck one aside) until ``retry_at``.

        Keeps the server's answer and counts the attempt; ``at`` is when it first got
        stuck unless it already was. Raises :class:`LookupError` when no pending or stuck
        event has that id.
        """
        ...

    def stuck_events(self, due_by: datetime | None = None) -> list[StuckLocal]:
        """Stuck events oldest first; only those due at ``due_by`` when it is given."""
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
