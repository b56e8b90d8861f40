"""The background sync worker: push the outbox, pull catalog changes, back off when offline.

The worker runs in its own thread and opens its own store there (SQLite connections
are never shared between threads). Each round pushes every pending event in
batches, acknowledging each answer, then pulls pages until ``has_more`` is false.
When the server is unreachable it waits with exponential backoff and full jitter;
a protocol mismatch or a revoked token stops it with a message for people.

It never imports Kivy: results go to ``on_result`` from the worker thread as a
frozen :class:`SyncReport`, and the UI hands them to ``Clock.schedule_once``.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pos_client.store.ports import SyncStore
from pos_client.sync.client import (
    AuthRevoked,
    Offline,
    ProtocolMismatch,
    ServerRejected,
    SyncClient,
)
from shared.models import MAX_PUSH_BYTES, EventStatus, OutboxEvent, PullResponse

log = logging.getLogger("kasir.sync")

MAX_BACKOFF_EXPONENT = 30
"""Cap on n in ``base * 2**n`` so the power stays a sane number after days offline."""

# Room left in a push body for the envelope around the events.
_ENVELOPE_BYTES = 4096


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SyncReport:
    """A snapshot of sync health, safe to hand to another thread.

    ``online`` is None before the first attempt. ``stopped_reason`` is set when
    sync stopped for good (protocol mismatch, revoked token) and says what to do.
    ``pushed``, ``rejected_now`` and ``pulled`` count what the last round did;
    ``retry_in`` is the wait in seconds before the next attempt after a failure.
    """

    online: bool | None
    pending: int
    rejected: int
    last_success_at: datetime | None
    last_error: str | None
    stopped_reason: str | None = None
    cursor: int = 0
    pushed: int = 0
    rejected_now: int = 0
    pulled: int = 0
    retry_in: float | None = None
    at: datetime | None = None

    @property
    def stopped(self) -> bool:
        """True when sync stopped and will not retry by itself."""
        return self.stopped_reason is not None


class _RoundCounts:
    """What one round did so far (kept even when the round fails half way)."""

    def __init__(self) -> None:
        self.pushed = 0
        self.rejected = 0
        self.pulled = 0


def page_size(page: PullResponse) -> int:
    """How many changed rows one pull page carries."""
    return (
        len(page.categories)
        + len(page.tax_rates)
        + len(page.products)
        + len(page.vouchers)
        + len(page.users)
        + len(page.stores)
        + len(page.stock)
    )


def fit_push_bytes(events: Sequence[OutboxEvent], max_bytes: int = MAX_PUSH_BYTES) -> int:
    """How many of ``events`` (at least one) fit in one push body of ``max_bytes``."""
    budget = max_bytes - _ENVELOPE_BYTES
    used = 0
    for n, event in enumerate(events):
        used += len(event.model_dump_json()) + 1
        if used > budget:
            return max(n, 1)
    return len(events)


class SyncWorker:
    """Keeps the till and the server in step from a background thread."""

    def __init__(
        self,
        store_factory: Callable[[], SyncStore],
        client_factory: Callable[[], SyncClient],
        *,
        on_result: Callable[[SyncReport], None] | None = None,
        batch_size: int = 200,
        pull_limit: int = 5000,
        base_delay: float = 1.0,
        max_delay: float = 60.0,
        interval: float = 5.0,
        clock: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], object] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """Set up the worker; nothing runs until :meth:`start` or :meth:`run_once`.

        ``store_factory`` and ``client_factory`` are called in the thread that syncs,
        so each thread gets its own SQLite connection and HTTP client. ``sleep``
        defaults to a wait that :meth:`sync_now` and :meth:`stop` interrupt.
        """
        if batch_size < 1 or pull_limit < 1:
            raise ValueError("batch_size and pull_limit must be at least 1")
        self._store_factory = store_factory
        self._client_factory = client_factory
        self._on_result = on_result
        self._batch_size = batch_size
        self._pull_limit = pull_limit
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._interval = interval
        self._clock = clock
        self._sleep = sleep if sleep is not None else self._wait
        self._rng = rng if rng is not None else random.Random()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._round_lock = threading.Lock()  # rounds never overlap (thread vs run_once)
        self._status_lock = threading.Lock()
        self._failures = 0
        self._thread: threading.Thread | None = None
        self._status = SyncReport(
            online=None, pending=0, rejected=0, last_success_at=None, last_error=None
        )

    # -- public control -------------------------------------------------------------

    def start(self) -> None:
        """Start the background thread (once)."""
        if self._thread is not None:
            raise RuntimeError("the sync worker was already started")
        self._thread = threading.Thread(target=self._run, name="kasir-sync", daemon=True)
        self._thread.start()

    def sync_now(self) -> None:
        """Wake the worker for a round now (after a sale, or when the cashier taps sync)."""
        self._wake.set()

    def stop(self, timeout: float | None = 10.0) -> None:
        """Ask the thread to finish its round and wait for it to end."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        """True while the background thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> SyncReport:
        """The latest snapshot (safe from any thread)."""
        with self._status_lock:
            return self._status

    def next_delay(self) -> float:
        """The backoff before the next attempt: full jitter on a capped exponential."""
        n = min(max(self._failures - 1, 0), MAX_BACKOFF_EXPONENT)
        return self._rng.uniform(0, min(self._max_delay, self._base_delay * 2**n))

    def run_once(self) -> SyncReport:
        """Do one full round synchronously with a store and client of its own.

        Sync failures end up in the returned report; anything else (a store error,
        a bug) is raised to the caller, whereas the background thread logs it and
        backs off.
        """
        if self.status().stopped:
            return self.status()
        store = self._store_factory()
        try:
            with self._client_factory() as client:
                return self._round(store, client)
        finally:
            store.close()

    def initial_download(self, progress: Callable[[int, int], None]) -> int:
        """Pull the whole catalog now, calling ``progress(done, total)`` after each page.

        Starts from the store's cursor, which is 0 on a new terminal, so an interrupted
        first download resumes where it stopped. ``total`` is ``done`` plus the server's
        ``remaining``; the last call is ``(total, total)``. Returns the rows pulled.
        Errors are raised (the first start cannot go on without a catalog).
        """
        store = self._store_factory()
        try:
            with self._client_factory() as client, self._round_lock:
                counts = _RoundCounts()
                self._pull_all(store, client, counts, progress)
                store.record_sync_result(ok=True, error=None, at=self._clock())
                self._publish(self._snapshot(store, online=True, counts=counts))
                return counts.pulled
        finally:
            store.close()

    # -- the thread -----------------------------------------------------------------

    def _wait(self, seconds: float) -> None:
        self._wake.wait(seconds)

    def _run(self) -> None:
        try:
            store = self._store_factory()
        except Exception as exc:
            log.exception("sync: cannot open the local store")
            self._stop_with(f"Sync cannot start: the local database did not open ({exc}).")
            return
        try:
            try:
                client = self._client_factory()
            except Exception as exc:
                log.exception("sync: cannot build the client")
                self._stop_with(f"Sync cannot start: {exc}")
                return
            # Show what waits before the first round, which may hang on a dead network.
            self._publish(self._snapshot(store, online=self.status().online))
            with client:
                while not self._stopping.is_set():
                    self._wake.clear()
                    try:
                        report = self._round(store, client)
                    except Exception as exc:  # a bug or a broken disk must not kill sync
                        log.exception("sync: round failed")
                        report = self._failed(store, f"Sync error: {exc}", online=None)
                    if report.stopped or self._stopping.is_set():
                        break
                    delay = report.retry_in if report.retry_in is not None else self._interval
                    self._sleep(delay)
        finally:
            store.close()

    def _stop_with(self, reason: str) -> None:
        with self._status_lock:
            self._status = SyncReport(
                online=self._status.online,
                pending=self._status.pending,
                rejected=self._status.rejected,
                last_success_at=self._status.last_success_at,
                last_error=reason,
                stopped_reason=reason,
                cursor=self._status.cursor,
                at=self._clock(),
            )
        self._notify(self.status())

    # -- one round ------------------------------------------------------------------

    def _round(self, store: SyncStore, client: SyncClient) -> SyncReport:
        """Push everything, pull everything, record and publish the outcome."""
        with self._round_lock:
            counts = _RoundCounts()
            try:
                self._push_all(store, client, counts)
                self._pull_all(store, client, counts, None)
            except Offline as exc:
                return self._failed(store, exc.message, online=False, counts=counts)
            except ServerRejected as exc:
                error = f"{exc.message} ({exc.code})"
                return self._failed(store, error, online=True, counts=counts)
            except ProtocolMismatch as exc:
                return self._stopped(store, f"Sync stopped: {exc.message}", counts)
            except AuthRevoked as exc:
                reason = (
                    "Sync stopped: this till is no longer allowed to sync "
                    f"({exc.message}). Ask a manager to enroll it again."
                )
                return self._stopped(store, reason, counts)
            self._failures = 0
            store.record_sync_result(ok=True, error=None, at=self._clock())
            report = self._snapshot(store, online=True, counts=counts)
            self._publish(report)
            return report

    def _push_all(self, store: SyncStore, client: SyncClient, counts: _RoundCounts) -> None:
        while not self._stopping.is_set():
            events = store.pending_events(self._batch_size)
            if not events:
                return
            events = events[: fit_push_bytes(events)]
            waiting = store.pending_count()
            response = client.push(events, waiting=waiting)
            sent = {event.id for event in events}
            results = [r for r in response.results if r.id in sent]
            store.acknowledge(results)
            for result in results:
                if result.status is EventStatus.REJECTED:
                    counts.rejected += 1
                else:
                    counts.pushed += 1
            answered = {r.id for r in results}
            if answered != sent:
                # Unanswered events stay pending; pushing again now would loop forever.
                raise ServerRejected(
                    f"The server answered {len(answered)} of {len(sent)} events; "
                    "the rest will be sent again.",
                    status_code=200,
                    code="incomplete_answer",
                )

    def _pull_all(
        self,
        store: SyncStore,
        client: SyncClient,
        counts: _RoundCounts,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        cursor = store.pull_cursor()
        while True:
            page = client.pull(cursor, self._pull_limit)
            store.apply_pull_page(page)
            counts.pulled += page_size(page)
            if progress is not None:
                progress(counts.pulled, counts.pulled + page.remaining)
            if not page.has_more:
                return
            if page.cursor <= cursor:
                raise ServerRejected(
                    f"The server's change cursor did not move past {cursor}.",
                    status_code=200,
                    code="cursor_stalled",
                )
            cursor = page.cursor

    def _failed(
        self,
        store: SyncStore,
        error: str,
        *,
        online: bool | None,
        counts: _RoundCounts | None = None,
    ) -> SyncReport:
        self._failures += 1
        delay = self.next_delay()
        log.warning("sync: %s (retry in %.1f s)", error, delay)
        try:
            store.record_sync_result(ok=False, error=error, at=self._clock())
            report = self._snapshot(store, online=online, counts=counts, retry_in=delay)
        except Exception:  # the store itself is failing: report what we know
            log.exception("sync: cannot record the failure")
            previous = self.status()
            report = SyncReport(
                online=online,
                pending=previous.pending,
                rejected=previous.rejected,
                last_success_at=previous.last_success_at,
                last_error=error,
                cursor=previous.cursor,
                retry_in=delay,
                at=self._clock(),
            )
        self._publish(report)
        return report

    def _stopped(self, store: SyncStore, reason: str, counts: _RoundCounts) -> SyncReport:
        log.error("sync: %s", reason)
        store.record_sync_result(ok=False, error=reason, at=self._clock())
        report = self._snapshot(store, online=True, counts=counts, stopped_reason=reason)
        self._publish(report)
        return report

    def _snapshot(
        self,
        store: SyncStore,
        *,
        online: bool | None,
        counts: _RoundCounts | None = None,
        retry_in: float | None = None,
        stopped_reason: str | None = None,
    ) -> SyncReport:
        local = store.sync_status()
        counts = counts or _RoundCounts()
        return SyncReport(
            online=online,
            pending=local.pending,
            rejected=local.rejected,
            last_success_at=local.last_success_at,
            last_error=local.last_error,
            stopped_reason=stopped_reason,
            cursor=local.cursor,
            pushed=counts.pushed,
            rejected_now=counts.rejected,
            pulled=counts.pulled,
            retry_in=retry_in,
            at=self._clock(),
        )

    def _publish(self, report: SyncReport) -> None:
        with self._status_lock:
            self._status = report
        self._notify(report)

    def _notify(self, report: SyncReport) -> None:
        if self._on_result is None:
            return
        try:
            self._on_result(report)
        except Exception:  # the UI's callback must never stop sync
            log.exception("sync: on_result callback failed")
