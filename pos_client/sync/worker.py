"""The background sync worker: push the outbox, pull catalog changes, back off when offline.

The worker runs in its own thread and opens its own store there (SQLite connections
are never shared between threads). Each round pushes every pending event in
batches, acknowledging each answer, then pulls pages until ``has_more`` is false; when
a pull has several pages, the next ones are fetched and decoded in two more threads
while the store writes the one before (the stored cursor still moves one whole page at
a time).
When the server is unreachable it waits with exponential backoff and full jitter;
a protocol mismatch or a revoked token stops it with a message for people.

One event never stalls the queue. A push the server fails on (a 5xx other than
502/503/504, or 400/413/422 about the batch) is retried once after the usual
backoff; when it fails again the batch is cut in halves until the failing event is
alone. That event is set aside as *stuck* in the local store with the server's
answer, the rest keep flowing, and it is tried alone again after 1 min, 2, 4, ...
(at most 1 h) until the server answers it (applied, duplicate, rejected or conflict).
Events that refer to a stuck one (a refund of a stuck sale, the sales of a stuck
shift) are held back, not sent ahead of it. Several events in a row failing alone
mean the server fails on everything: the round then stops and backs off.

While backing off after a failure, :meth:`SyncWorker.sync_now` (called after each
sale) does not start a round: the round comes when the backoff ends. A cashier's
tap (``sync_now(manual=True)``) may start one, at most once per ``manual_gap``.

It never imports Kivy: results go to ``on_result`` from the worker thread as a
frozen :class:`SyncReport`, and the UI hands them to ``Clock.schedule_once``.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TypeVar
from uuid import UUID

from pos_client.store.ports import PushFailure, SyncStore
from pos_client.sync.client import (
    PULL_PATH,
    AuthRevoked,
    DamagedAnswer,
    Offline,
    ProtocolMismatch,
    ServerRejected,
    SyncClient,
    SyncError,
    pull_head,
)
from pos_client.sync.customers_client import CustomersRefresher
from pos_client.sync.http import INVALID, RETRYABLE_4XX, collector_paused, damaged_answer
from pos_client.sync.receipt_link import ReceiptKeyKeeper
from shared.models import (
    MAX_PUSH_BYTES,
    EventResult,
    EventStatus,
    EventType,
    OutboxEvent,
    PullResponse,
)

log = logging.getLogger("kasir.sync")

_T = TypeVar("_T")

MAX_BACKOFF_EXPONENT = 30
"""Cap on n in ``base * 2**n`` so the power stays a sane number after days offline."""

DAMAGED_PAGE_RETRIES = 3
"""How many damaged pages in a row a first download fetches again before it gives up."""

PREFETCH_PAGES = 1
"""Pull pages waiting between two steps of a download (fetched for the decoding, decoded
for the store): one is all the overlap needs, and a decoded page of 5,000 products is
some 8 MB of models on a till."""

UNAVAILABLE_STATUSES = frozenset({502, 503, 504}) | RETRYABLE_4XX
"""Answers that say the server (or its database) cannot take anything now: offline."""

BATCH_REFUSED_4XX = frozenset({400, 413, 422})
"""Client errors about the body of a push, so about one of its events."""

# Room left in a push body for the envelope around the events.
_ENVELOPE_BYTES = 4096


def _kept_as_rejected(result: EventResult) -> EventResult:
    """A ``conflict`` (the id was used for another event) is kept on the till like a
    rejection, code ``conflict``: never deleted, shown to the manager."""
    if result.status is not EventStatus.CONFLICT:
        return result
    return result.model_copy(
        update={"status": EventStatus.REJECTED, "code": result.code or "conflict"}
    )


def _utcnow() -> datetime:
    return datetime.now(UTC)


def push_failure(exc: SyncError) -> PushFailure | None:
    """The server's failure on the events of a push, or None when ``exc`` is not one.

    A transport error or timeout, a 502/503/504/408/425/429 (the server or its database
    is not usable) and any refusal not about the body (401, 403, 426, ...) are not.
    """
    if isinstance(exc, Offline):
        status = exc.status_code
        if status is None or status in UNAVAILABLE_STATUSES:
            return None
        return PushFailure(status_code=status, code=exc.code, message=exc.message)
    if isinstance(exc, ServerRejected) and exc.status_code in BATCH_REFUSED_4XX:
        return PushFailure(status_code=exc.status_code, code=exc.code, message=exc.message)
    return None


def stuck_delay(attempts: int, *, base: float = 60.0, cap: float = 3600.0) -> float:
    """Seconds before a stuck event's next try after ``attempts`` failed ones."""
    n = min(max(attempts - 1, 0), MAX_BACKOFF_EXPONENT)
    return float(min(cap, base * 2**n))


def _provides(event: OutboxEvent) -> set[str]:
    """The ids later events may refer to: the sale or the shift this event creates."""
    if event.type in (EventType.SALE, EventType.SHIFT_OPEN):
        return {str(event.payload.get("id"))}
    return set()


def _requires(event: OutboxEvent) -> set[str]:
    """The sale and shift ids this event refers to (the server needs them first)."""
    keys = [event.payload.get("sale_id"), event.payload.get("shift_id")]
    if event.type == EventType.SHIFT_CLOSE:
        keys.append(event.payload.get("id"))
    return {str(key) for key in keys if key}


@dataclass(frozen=True)
class SyncReport:
    """A snapshot of sync health, safe to hand to another thread.

    ``online`` is None before the first attempt. ``stopped_reason`` is set when
    sync stopped for good (protocol mismatch, revoked token) and says what to do.
    ``pushed``, ``rejected_now`` and ``pulled`` count what the last round did;
    ``retry_in`` is the wait in seconds before the next attempt after a failure.
    ``stuck`` counts events the server keeps failing on, set aside (not in
    ``pending``) and retried alone from ``next_stuck_retry_at``; ``stuck_now`` and
    ``unstuck_now`` count those set aside and released by the last round.
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
    stuck: int = 0
    stuck_now: int = 0
    unstuck_now: int = 0
    next_stuck_retry_at: datetime | None = None

    @property
    def stopped(self) -> bool:
        """True when sync stopped and will not retry by itself."""
        return self.stopped_reason is not None


class _PushFailed(Exception):
    """The server failed on the events of one push (it answered; the network is fine)."""

    def __init__(self, failure: PushFailure) -> None:
        super().__init__(failure.message)
        self.failure = failure

    def describe(self) -> str:
        f = self.failure
        return f"Server error {f.status_code} ({f.code}): {f.message}"


class _Handover:
    """Items passed from one thread to the next in order, at most ``depth`` waiting."""

    def __init__(self, depth: int) -> None:
        self._depth = max(depth, 1)
        self._items: deque[object] = deque()
        self._changed = threading.Condition()
        self._closed = False

    def put(self, item: object) -> bool:
        """Add ``item`` once there is room; False when closed meanwhile (then dropped)."""
        with self._changed:
            while len(self._items) >= self._depth and not self._closed:
                self._changed.wait()
            if self._closed:
                return False
            self._items.append(item)
            self._changed.notify_all()
            return True

    def take(self) -> object:
        """The next item (waiting for it); :data:`_CLOSED` once closed."""
        with self._changed:
            while not self._items and not self._closed:
                self._changed.wait()
            if self._closed:
                return _CLOSED
            item = self._items.popleft()
            self._changed.notify_all()
            return item

    def close(self) -> None:
        """Drop what waits and wake both sides."""
        with self._changed:
            self._closed = True
            self._items.clear()
            self._changed.notify_all()


_CLOSED = object()


@dataclass(frozen=True)
class _Body:
    """A page's checked bytes, asked for above ``cursor``, with what its head says."""

    body: bytes
    cursor: int
    head: tuple[int, bool]


class _PageFetcher:
    """Fetches pull pages one after another ahead of the store, in two threads of its own.

    One thread downloads: it asks for the page above ``after``, then for the page after
    it as soon as the body is in, reading the next cursor from the head of the JSON
    (:func:`~pos_client.sync.client.pull_head`; a page that does not start as the server
    writes it is parsed there first). The other decodes each body into a page and checks
    it says what its head said, so the server makes the next page while this one is
    decoded and stored. At most ``depth`` items wait between two steps.

    A step that raises (offline, a damaged page, a head the page contradicts) ends it:
    :meth:`next` raises that error in the taking thread, after every page before it.
    :meth:`close` stops both threads and waits for a request under way, so the client
    is used by one thread at a time.
    """

    def __init__(
        self,
        client: SyncClient,
        request: Callable[[Callable[[], bytes]], bytes],
        *,
        after: int,
        limit: int,
        depth: int,
    ) -> None:
        """Start fetching the pages above ``after``; ``request`` sends each request."""
        self._client, self._request, self._limit = client, request, limit
        self._bodies, self._pages = _Handover(depth), _Handover(depth)
        self._threads = [
            threading.Thread(target=target, args=args, name=name, daemon=True)
            for target, args, name in (
                (self._download, (after,), "kasir-pull-fetch"),
                (self._decode, (), "kasir-pull-decode"),
            )
        ]
        for thread in self._threads:
            thread.start()

    def _download(self, cursor: int) -> None:
        try:
            while True:
                body = self._request(partial(self._client.pull_body, cursor, self._limit))
                head = pull_head(body)
                item: _Body | PullResponse
                if head is None:
                    item = self._client.parse_pull(body, cursor)
                    head = (item.cursor, item.has_more)
                else:
                    item = _Body(body, cursor, head)
                if not self._bodies.put(item):
                    return
                next_cursor, more = head
                if not more or next_cursor <= cursor:
                    return  # the last page, or a stalled cursor (the taker says so)
                cursor = next_cursor
        except BaseException as exc:  # whatever it is, it is raised in the taking thread
            self._bodies.put(exc)

    def _decode(self) -> None:
        try:
            while True:
                item = self._bodies.take()
                if item is _CLOSED:
                    return
                if isinstance(item, _Body):
                    page = self._client.parse_pull(item.body, item.cursor)
                    if (page.cursor, page.has_more) != item.head:
                        raise damaged_answer(
                            PULL_PATH,
                            INVALID,
                            f"the page says {page.cursor}, its head {item.head[0]}",
                            code="pull_page_damaged",
                            details={"cursor": item.cursor},
                        )
                    item = page
                if not self._pages.put(item) or not isinstance(item, PullResponse):
                    return
                if not item.has_more:
                    return
        except BaseException as exc:  # whatever it is, it is raised in the taking thread
            self._pages.put(exc)

    def next(self) -> PullResponse:
        """The next page in order (waiting for it); raises the error that ended fetching."""
        item = self._pages.take()
        if isinstance(item, BaseException):
            raise item
        if not isinstance(item, PullResponse):
            raise RuntimeError("the pull fetcher was closed")
        return item

    def close(self) -> None:
        """Stop fetching and wait for a request under way to end; pages not taken are
        dropped."""
        self._bodies.close()
        self._pages.close()
        for thread in self._threads:
            thread.join()


class _Round:
    """What one round did so far (kept even when the round fails half way), and what it
    holds back behind stuck events."""

    def __init__(self) -> None:
        self.pushed = 0
        self.rejected = 0
        self.pulled = 0
        self.stuck_now = 0
        self.unstuck_now = 0
        self.stuck_total = 0
        self.isolating = False
        self.alone_in_a_row = 0
        self.blocked: set[str] = set()  # sale/shift ids of stuck or held events
        self.held: set[UUID] = set()  # pending events waiting for a stuck one


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
        stuck_base_delay: float = 60.0,
        stuck_max_delay: float = 3600.0,
        isolate_after: int = 2,
        max_alone_in_a_row: int = 3,
        manual_gap: float = 10.0,
        clock: Callable[[], datetime] = _utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """Set up the worker; nothing runs until :meth:`start` or :meth:`run_once`.

        ``store_factory`` and ``client_factory`` are called in the thread that syncs,
        so each thread gets its own SQLite connection and HTTP client. ``sleep``
        defaults to a wait that :meth:`sync_now` and :meth:`stop` interrupt; a backoff
        lasts until ``monotonic`` has moved on by its length, however often the wait is
        interrupted. A batch the server fails on ``isolate_after`` times in a row is
        split to find the failing event; ``max_alone_in_a_row`` events failing alone in a
        row stop the round (the server fails on everything). ``clock`` stamps stuck
        events and their next tries (kept in the store across restarts).
        """
        if batch_size < 1 or pull_limit < 1:
            raise ValueError("batch_size and pull_limit must be at least 1")
        if isolate_after < 1 or max_alone_in_a_row < 1:
            raise ValueError("isolate_after and max_alone_in_a_row must be at least 1")
        self._store_factory = store_factory
        self._client_factory = client_factory
        self._on_result = on_result
        self._batch_size = batch_size
        self._pull_limit = pull_limit
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._interval = interval
        self._stuck_base_delay = stuck_base_delay
        self._stuck_max_delay = stuck_max_delay
        self._isolate_after = isolate_after
        self._max_alone_in_a_row = max_alone_in_a_row
        self._manual_gap = manual_gap
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep if sleep is not None else self._wait
        self._rng = rng if rng is not None else random.Random()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._round_lock = threading.Lock()  # rounds never overlap (thread vs run_once)
        self._status_lock = threading.Lock()
        self._manual_lock = threading.Lock()
        self._manual_wanted = False
        self._last_manual: float | None = None
        self._failures = 0
        self._push_failures = 0  # rounds in a row whose push the server failed on
        self._server_erred = False  # the last request got a 5xx answer
        self._thread: threading.Thread | None = None
        self._receipt_key = ReceiptKeyKeeper(monotonic)  # e-receipt links (receipt_link)
        self._customers = CustomersRefresher(monotonic)  # customers and their points
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

    def sync_now(self, manual: bool = False) -> None:
        """Ask for a round now: after a sale (``manual=False``) or a cashier's tap.

        While the worker waits between rounds it starts one at once. While it backs off
        after a failure (the server down, say) a sale's call starts nothing: the round
        comes when the backoff ends. A tap does start one, at most once per
        ``manual_gap`` seconds; taps in between count like a sale's call.
        """
        if manual:
            now = self._monotonic()
            with self._manual_lock:
                if self._last_manual is None or now - self._last_manual >= self._manual_gap:
                    self._last_manual = now
                    self._manual_wanted = True
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
        A page that arrives damaged (cut or corrupt on the way) is fetched again, up to
        :data:`DAMAGED_PAGE_RETRIES` times in a row, from the cursor of the last page
        stored; other errors are raised (the first start cannot go on without a catalog).
        """
        store = self._store_factory()
        try:
            with self._client_factory() as client, self._round_lock:
                counts = _Round()
                damaged = 0
                while True:
                    try:
                        self._pull_all(store, client, counts, progress)
                        break
                    except DamagedAnswer:
                        damaged += 1
                        if damaged > DAMAGED_PAGE_RETRIES or self._stopping.is_set():
                            raise
                        log.warning("sync: a catalog page arrived damaged; fetching it again")
                        self._wait(self._base_delay * damaged)
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
                    self._take_manual()  # this round answers any tap so far
                    try:
                        report = self._round(store, client)
                    except Exception as exc:  # a bug or a broken disk must not kill sync
                        log.exception("sync: round failed")
                        report = self._failed(store, f"Sync error: {exc}", online=None)
                    self._checkpoint(store)
                    if report.stopped or self._stopping.is_set():
                        break
                    if report.retry_in is None:
                        self._sleep(self._interval)  # any sync_now() ends this wait
                    else:
                        self._back_off(report.retry_in)
        finally:
            store.close()

    @staticmethod
    def _checkpoint(store: SyncStore) -> None:
        """Copy the WAL into the database between rounds, so that no cashier's commit has
        to (``pos_client.store.base.WAL_AUTOCHECKPOINT_PAGES``)."""
        try:
            store.checkpoint()
        except Exception:  # a busy or broken disk shows in the next round, not here
            log.exception("sync: WAL checkpoint failed")

    def _back_off(self, seconds: float) -> None:
        """Wait ``seconds`` after a failure; only a (rate-limited) tap or stop cuts it."""
        until = self._monotonic() + seconds
        while True:
            remaining = until - self._monotonic()
            if remaining <= 0:
                return
            self._wake.clear()
            # Checked after clear(): a stop or tap that raced with it is seen here.
            if self._stopping.is_set() or self._take_manual():
                return
            self._sleep(remaining)
            if self._stopping.is_set() or self._take_manual():
                return

    def _take_manual(self) -> bool:
        with self._manual_lock:
            wanted, self._manual_wanted = self._manual_wanted, False
            return wanted

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
                stuck=self._status.stuck,
                next_stuck_retry_at=self._status.next_stuck_retry_at,
            )
        self._notify(self.status())

    # -- one round ------------------------------------------------------------------

    def _round(self, store: SyncStore, client: SyncClient) -> SyncReport:
        """Push everything, pull everything, record and publish the outcome."""
        with self._round_lock:
            counts = _Round()
            try:
                self._push_all(store, client, counts)
                self._pull_all(store, client, counts, None)
            except Offline as exc:
                return self._failed(
                    store, exc.message, online=False, counts=counts, at_least=exc.retry_after
                )
            except _PushFailed as exc:
                return self._failed(store, exc.describe(), online=True, counts=counts)
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
            self._receipt_key(store, client)  # once, while the till holds no key
            self._customers(store, client)  # customers and balances (customers_client)
            self._failures = 0
            self._push_failures = 0
            store.record_sync_result(ok=True, error=None, at=self._clock())
            report = self._snapshot(store, online=True, counts=counts)
            self._publish(report)
            return report

    def _push_all(self, store: SyncStore, client: SyncClient, counts: _Round) -> None:
        self._retry_stuck(store, client, counts)
        while not self._stopping.is_set():
            # Held events stay pending, so ask for enough to fill a batch past them.
            events = store.pending_events(self._batch_size + len(counts.held))
            batch = self._sendable(events, counts)[: self._batch_size]
            if not batch:
                return
            self._push_isolating(store, client, batch[: fit_push_bytes(batch)], counts)

    def _retry_stuck(self, store: SyncStore, client: SyncClient, counts: _Round) -> None:
        """Try each stuck event whose time has come alone, oldest first."""
        now = self._clock()
        stuck = store.stuck_events()
        counts.stuck_total = len(stuck)
        for item in stuck:
            event = item.event
            if item.retry_at > now or _requires(event) & counts.blocked:
                counts.blocked |= _provides(event)
                continue
            try:
                self._push_chunk(store, client, [event], counts)
            except _PushFailed as failed:
                attempts = item.attempts + 1
                store.mark_stuck(
                    event.id, failed.failure, at=now, retry_at=now + self._stuck_wait(attempts)
                )
                counts.blocked |= _provides(event)
                log.warning("sync: event %s still stuck (%s)", event.id, failed.describe())
                continue
            counts.unstuck_now += 1
            counts.stuck_total -= 1
            log.info("sync: stuck event %s went through", event.id)

    def _sendable(self, events: Sequence[OutboxEvent], counts: _Round) -> list[OutboxEvent]:
        """``events`` minus those held behind a stuck event (noted as held, in order)."""
        sendable = []
        for event in events:
            if event.id in counts.held:
                continue
            if _requires(event) & counts.blocked:
                counts.held.add(event.id)
                counts.blocked |= _provides(event)
                continue
            sendable.append(event)
        return sendable

    def _push_isolating(
        self, store: SyncStore, client: SyncClient, batch: list[OutboxEvent], counts: _Round
    ) -> None:
        """Push ``batch``; if the server fails on it again, halve it down to the event."""
        chunks = [batch]
        while chunks:
            chunk = self._sendable(chunks.pop(0), counts)
            if not chunk:
                continue
            try:
                self._push_chunk(store, client, chunk, counts)
            except _PushFailed as failed:
                if not counts.isolating:
                    self._push_failures += 1
                    if self._push_failures < self._isolate_after:
                        raise  # maybe a passing fault: retry the same batch after backoff
                    counts.isolating = True
                if len(chunk) > 1:
                    half = len(chunk) // 2
                    chunks[:0] = [chunk[:half], chunk[half:]]
                    continue
                self._set_aside(store, chunk[0], failed, counts)
                counts.alone_in_a_row += 1
                if counts.alone_in_a_row >= self._max_alone_in_a_row:
                    # The server fails on everything: stop isolating, back off, and next
                    # time try a whole batch again before cutting it.
                    self._push_failures = 0
                    raise
            else:
                counts.alone_in_a_row = 0

    def _set_aside(
        self, store: SyncStore, event: OutboxEvent, failed: _PushFailed, counts: _Round
    ) -> None:
        now = self._clock()
        store.mark_stuck(event.id, failed.failure, at=now, retry_at=now + self._stuck_wait(1))
        counts.stuck_now += 1
        counts.stuck_total += 1
        counts.blocked |= _provides(event)
        log.warning("sync: event %s set aside as stuck (%s)", event.id, failed.describe())

    def _stuck_wait(self, attempts: int) -> timedelta:
        seconds = stuck_delay(attempts, base=self._stuck_base_delay, cap=self._stuck_max_delay)
        return timedelta(seconds=seconds)

    def _push_chunk(
        self, store: SyncStore, client: SyncClient, events: list[OutboxEvent], counts: _Round
    ) -> None:
        """One push request; the server failing on its events raises :class:`_PushFailed`."""
        waiting, stuck = store.pending_count(), counts.stuck_total
        try:
            response = self._request(partial(client.push, events, waiting=waiting, stuck=stuck))
        except (Offline, ServerRejected) as exc:
            failure = push_failure(exc)
            if failure is None:
                raise
            raise _PushFailed(failure) from exc
        sent = {event.id for event in events}
        results = [_kept_as_rejected(r) for r in response.results if r.id in sent]
        store.acknowledge(results)
        for result in results:
            if result.status.kept:
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
        counts: _Round,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        """Pull and store pages from the store's cursor until ``has_more`` is false.

        When the first page says more follow, the next pages are fetched and decoded by
        a :class:`_PageFetcher` while this thread stores the page before: a page's
        ``cursor`` names the next page, so fetching never waits for storing. Pages are
        stored here one by one, in order, each with its cursor, so the saved cursor never
        passes a row not stored; a fetch that fails (offline, a damaged page) is raised
        here after the pages before it are stored, and the next pull starts from the
        saved cursor.
        """

        cursor = store.pull_cursor()
        page = self._request(partial(client.pull, cursor, self._pull_limit))
        fetcher: _PageFetcher | None = None
        try:
            while True:
                if fetcher is None and page.has_more and page.cursor > cursor:
                    fetcher = _PageFetcher(
                        client,
                        self._request,
                        after=page.cursor,
                        limit=self._pull_limit,
                        depth=PREFETCH_PAGES,
                    )
                with collector_paused():
                    store.apply_pull_page(page)
                counts.pulled += page_size(page)
                if progress is not None:
                    progress(counts.pulled, counts.pulled + page.remaining)
                if not page.has_more:
                    return
                if page.cursor <= cursor or fetcher is None:
                    raise ServerRejected(
                        f"The server's change cursor did not move past {cursor}.",
                        status_code=200,
                        code="cursor_stalled",
                    )
                cursor = page.cursor
                page = fetcher.next()
        finally:
            if fetcher is not None:
                fetcher.close()

    def _request(self, call: Callable[[], _T]) -> _T:
        """``call()``, sent once more at once if the connection dropped after a 5xx.

        A server that fails on a request may close the connection after its answer;
        the next request on that kept-alive connection then fails as if offline.
        Pushes and pulls are safe to send again.
        """
        retried = False
        while True:
            try:
                answer = call()
            except Offline as exc:
                stale = exc.status_code is None and self._server_erred and not retried
                # A 500 from an unhandled error closes the connection; a 503 does not.
                status = exc.status_code
                self._server_erred = status is not None and status >= 500
                self._server_erred &= status not in UNAVAILABLE_STATUSES
                if stale:
                    log.info("sync: connection dropped after a server error; sending again")
                    retried = True
                    continue
                raise
            except SyncError:
                self._server_erred = False
                raise
            self._server_erred = False
            return answer

    def _failed(
        self,
        store: SyncStore,
        error: str,
        *,
        online: bool | None,
        counts: _Round | None = None,
        at_least: float | None = None,
    ) -> SyncReport:
        """Record a failed round and the wait before the next one.

        ``at_least`` is the server's ``Retry-After``: the wait is then that plus up to one
        base delay of jitter. The server gives each till of a crowd it sends away its own
        ``Retry-After`` (spread over the time it needs to serve them), so the till's own
        exponential backoff would only leave the server idle.
        """
        self._failures += 1
        if at_least is None:
            delay = self.next_delay()
        else:
            delay = min(at_least, self._max_delay) + self._rng.uniform(0, self._base_delay)
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
                stuck=previous.stuck,
                next_stuck_retry_at=previous.next_stuck_retry_at,
            )
        self._publish(report)
        return report

    def _stopped(self, store: SyncStore, reason: str, counts: _Round) -> SyncReport:
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
        counts: _Round | None = None,
        retry_in: float | None = None,
        stopped_reason: str | None = None,
    ) -> SyncReport:
        local = store.sync_status()
        counts = counts or _Round()
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
            stuck=local.stuck,
            stuck_now=counts.stuck_now,
            unstuck_now=counts.unstuck_now,
            next_stuck_retry_at=local.next_stuck_retry_at,
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
