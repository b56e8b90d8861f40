"""In-memory stand-ins for the till's store and the sync server, for sync tests.

``FakeSyncStore`` implements :class:`pos_client.store.ports.SyncStore` faithfully
(pending oldest first, rejected kept but never pending, cursor saved with its page).
``FakeServer`` is an ``httpx.MockTransport`` handler that speaks sync protocol v1
with exactly-once apply by event id, so tests can drop connections at will.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

import httpx

from pos_client.services.qris import QrisCharge, QrisError, QrisGateway, QrisStatus
from pos_client.store.ports import (
    LocalSyncStatus,
    PushFailure,
    RejectedLocal,
    StuckLocal,
    SyncStore,
)
from pos_client.sync.client import SyncClient
from shared.ids import new_id
from shared.models import (
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    EventResult,
    EventStatus,
    OrderItemIn,
    OutboxEvent,
    ProductOut,
    PullResponse,
    PushRequest,
    PushResponse,
)

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
TOKEN = "device-token-1"
BASE_URL = "http://kasir.test"


def make_event(n: int = 0, type_: str = "sale") -> OutboxEvent:
    """A small outbox event with a fresh time-ordered id."""
    return OutboxEvent(
        id=new_id(),
        type=type_,
        created_at=T0 + timedelta(seconds=n),
        payload={"n": n},
    )


@dataclass
class _Row:
    event: OutboxEvent
    rejected: bool = False
    code: str | None = None
    reason: str | None = None
    stuck: StuckLocal | None = None


class FakeSyncStore:
    """A thread-safe in-memory :class:`SyncStore`."""

    def __init__(self, token: str | None = TOKEN) -> None:
        self._lock = threading.RLock()
        self._outbox: dict[UUID, _Row] = {}  # insertion order = oldest first
        self.catalog: dict[str, dict[int, Any]] = {}
        self.cursor = 0
        self.cursors_saved: list[int] = []
        self.last_success_at: datetime | None = None
        self.last_error: str | None = None
        self.results_recorded: list[tuple[bool, str | None]] = []
        self.token = token
        self.closed = 0
        self.opened_in: list[str] = []
        self.fail_apply_at_cursor: int | None = None
        self.checkpoints = 0

    def checkpoint(self) -> None:
        """Counted: the worker copies the WAL between rounds."""
        with self._lock:
            self.checkpoints += 1

    # -- helpers for tests ----------------------------------------------------------

    def add(self, *events: OutboxEvent) -> None:
        """Put events in the outbox as a checkout would."""
        with self._lock:
            for event in events:
                self._outbox[event.id] = _Row(event)

    def factory(self) -> FakeSyncStore:
        """A store factory that notes which thread opened it."""
        self.opened_in.append(threading.current_thread().name)
        return self

    @property
    def outbox_ids(self) -> list[UUID]:
        with self._lock:
            return list(self._outbox)

    # -- SyncStore ------------------------------------------------------------------

    def pending_events(self, limit: int) -> list[OutboxEvent]:
        with self._lock:
            pending = [row.event for row in self._queued()]
            return pending[:limit]

    def pending_count(self) -> int:
        with self._lock:
            return len(self._queued())

    def _queued(self) -> list[_Row]:
        return [row for row in self._outbox.values() if not row.rejected and row.stuck is None]

    def acknowledge(self, results: Sequence[EventResult]) -> None:
        with self._lock:
            for result in results:
                row = self._outbox.get(result.id)
                if row is None:
                    continue
                if result.status in (EventStatus.APPLIED, EventStatus.DUPLICATE):
                    del self._outbox[result.id]
                else:
                    row.rejected = True
                    row.code = result.code
                    row.reason = result.reason
                    row.stuck = None

    def mark_stuck(
        self, event_id: UUID, failure: PushFailure, *, at: datetime, retry_at: datetime
    ) -> None:
        with self._lock:
            row = self._outbox.get(event_id)
            if row is None or row.rejected:
                raise LookupError(f"no pending event {event_id}")  # as LocalStore says
            before = row.stuck
            row.stuck = StuckLocal(
                event=row.event,
                failure=failure,
                attempts=(before.attempts if before else 0) + 1,
                stuck_since=before.stuck_since if before else at,
                retry_at=retry_at,
            )

    def stuck_events(self, due_by: datetime | None = None) -> list[StuckLocal]:
        with self._lock:
            return [
                row.stuck
                for row in self._outbox.values()
                if row.stuck is not None and (due_by is None or row.stuck.retry_at <= due_by)
            ]

    def rejected_events(self) -> list[RejectedLocal]:
        with self._lock:
            return [
                RejectedLocal(
                    id=row.event.id,
                    type=row.event.type,
                    created_at=row.event.created_at,
                    code=row.code,
                    reason=row.reason,
                    payload=row.event.payload,
                )
                for row in self._outbox.values()
                if row.rejected
            ]

    def retry_rejected(self, event_id: UUID) -> None:
        with self._lock:
            row = self._outbox.get(event_id)
            if row is None or not row.rejected:
                raise LookupError(f"no rejected event {event_id}")  # as LocalStore says
            row.rejected, row.code, row.reason = False, None, None

    def pull_cursor(self) -> int:
        with self._lock:
            return self.cursor

    def apply_pull_page(self, page: PullResponse) -> None:
        with self._lock:
            if self.fail_apply_at_cursor is not None and page.cursor >= self.fail_apply_at_cursor:
                raise OSError("disk full")  # nothing of the page is kept, like a rollback
            for kind in ("categories", "tax_rates", "products", "vouchers", "users", "stores"):
                table = self.catalog.setdefault(kind, {})
                for row in getattr(page, kind):
                    table[row.id] = row
            stock = self.catalog.setdefault("stock", {})
            for level in page.stock:
                stock[level.product_id] = level
            self.cursor = page.cursor
            self.cursors_saved.append(page.cursor)

    def record_sync_result(self, *, ok: bool, error: str | None, at: datetime) -> None:
        with self._lock:
            self.results_recorded.append((ok, error))
            if ok:
                self.last_success_at = at
                self.last_error = None
            else:
                self.last_error = error

    def sync_status(self) -> LocalSyncStatus:
        with self._lock:
            rejected = sum(1 for row in self._outbox.values() if row.rejected)
            stuck = self.stuck_events()
            return LocalSyncStatus(
                pending=len(self._outbox) - rejected - len(stuck),
                rejected=rejected,
                last_success_at=self.last_success_at,
                last_error=self.last_error,
                cursor=self.cursor,
                stuck=len(stuck),
                next_stuck_retry_at=min((s.retry_at for s in stuck), default=None),
            )

    def device_token(self) -> str | None:
        return self.token

    def close(self) -> None:
        with self._lock:
            self.closed += 1


if TYPE_CHECKING:
    _conforms: SyncStore = FakeSyncStore()  # mypy checks the fake against the port


def _error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(
        status, json={"error": {"code": code, "message": message, "details": None}}
    )


def product(pid: int, change_no: int, price: int = 3500) -> ProductOut:
    """A catalog product as the server sends it."""
    return ProductOut(
        id=pid,
        sku=f"SKU-{pid}",
        name=f"Produk {pid}",
        price=price,
        change_no=change_no,
    )


@dataclass
class FakeServer:
    """A sync server in memory: exactly-once apply by id, paged pull, scripted failures.

    ``failures`` is a queue of what the next requests do instead of answering:
    ``"connect"`` (ConnectError), ``"timeout"``, ``"503"``, ``"drop_after_commit"``
    (apply the push, then lose the answer with ReadError), ``"426"``, ``"401"``,
    ``"cut"`` (a 200 whose JSON body stops halfway, as a dropped link leaves it),
    ``"overloaded"`` (503 with ``Retry-After: 7``).
    """

    token: str = TOKEN
    applied: dict[UUID, OutboxEvent] = field(default_factory=dict)
    apply_count: dict[UUID, int] = field(default_factory=dict)
    reject_types: set[str] = field(default_factory=set)
    changes: list[ProductOut] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    push_sizes: list[int] = field(default_factory=list)
    pull_cursors: list[int] = field(default_factory=list)

    def add_products(self, count: int) -> None:
        """Add ``count`` products, each with the next change number."""
        start = len(self.changes)
        for i in range(start, start + count):
            self.changes.append(product(i + 1, i + 1))

    def transport(self) -> httpx.MockTransport:
        """A transport that routes requests to this fake."""
        return httpx.MockTransport(self.handle)

    def client(self) -> SyncClient:
        """A :class:`SyncClient` wired to this fake."""
        return SyncClient(httpx.Client(transport=self.transport()), base_url=BASE_URL, token=TOKEN)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        failure = self.failures.pop(0) if self.failures else None
        if failure == "connect":
            raise httpx.ConnectError("connection refused", request=request)
        if failure == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if failure == "503":
            return _error(503, "unavailable", "Server is restarting")
        if failure == "overloaded":
            answer = _error(503, "overloaded", "Server busy")
            answer.headers["Retry-After"] = "7"
            return answer
        if failure == "cut":
            return httpx.Response(200, content=b'{"cursor": 1, "has_more": tr')
        if failure == "426" or request.headers.get(PROTOCOL_HEADER) != str(PROTOCOL_VERSION):
            return _error(426, "upgrade_required", "Server speaks protocol 2. Update Kasir.")
        if failure == "401" or request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(401, "unauthorized", "Device token revoked")
        if request.url.path == "/api/v1/sync/push":
            response = self._push(PushRequest.model_validate_json(request.content))
            if failure == "drop_after_commit":
                raise httpx.ReadError("connection reset by peer", request=request)
            return response
        if request.url.path == "/api/v1/sync/pull":
            return self._pull(int(request.url.params["cursor"]), int(request.url.params["limit"]))
        return _error(404, "not_found", "no such route")

    def _push(self, body: PushRequest) -> httpx.Response:
        self.push_sizes.append(len(body.events))
        results = []
        for event in body.events:
            if event.type in self.reject_types:
                results.append(
                    EventResult(
                        id=event.id,
                        status=EventStatus.REJECTED,
                        code="unknown_type",
                        reason=f"unknown event type {event.type}",
                    )
                )
            elif event.id in self.applied:
                results.append(EventResult(id=event.id, status=EventStatus.DUPLICATE))
            else:
                self.applied[event.id] = event
                self.apply_count[event.id] = self.apply_count.get(event.id, 0) + 1
                results.append(EventResult(id=event.id, status=EventStatus.APPLIED))
        answer = PushResponse(results=results, server_time=T0)
        return httpx.Response(200, content=answer.model_dump_json().encode())

    def _pull(self, cursor: int, limit: int) -> httpx.Response:
        self.pull_cursors.append(cursor)
        newer = [p for p in self.changes if p.change_no > cursor]
        page = newer[:limit]
        rest = len(newer) - len(page)
        answer = PullResponse(
            cursor=page[-1].change_no if page else cursor,
            has_more=rest > 0,
            remaining=rest,
            products=page,
        )
        return httpx.Response(200, content=answer.model_dump_json().encode())


def json_of(request: httpx.Request) -> Any:
    """The JSON body of a recorded request."""
    return json.loads(request.content)


class FakeQrisGateway:
    """An in-memory :class:`pos_client.services.qris.QrisGateway` for tests.

    The payment turns ``outcome`` after ``polls_until_final`` polls; ``fail_start``
    makes :meth:`start` refuse with that message code.
    """

    def __init__(
        self,
        *,
        outcome: QrisStatus = "PAID",
        polls_until_final: int = 2,
        ttl_seconds: int = 300,
        fail_start: str | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_start: Callable[[], None] | None = None,
    ) -> None:
        """Set how the fake payments end; ``on_start`` runs inside :meth:`start`."""
        self.outcome: QrisStatus = outcome
        self.polls_until_final = polls_until_final
        self.ttl_seconds = ttl_seconds
        self.fail_start = fail_start
        self.now = now
        self.on_start = on_start
        self._lock = threading.Lock()
        self._polls: dict[str, int] = {}
        self.started: list[tuple[str, int]] = []
        self.cancelled: list[str] = []

    def start(self, amount: int, items: Sequence[OrderItemIn] = ()) -> QrisCharge:
        """A new fake order with an EMVCo-looking payload."""
        if self.on_start is not None:
            self.on_start()
        if self.fail_start:
            raise QrisError(self.fail_start)
        with self._lock:
            order_id = f"FAKE-{len(self.started) + 1:04d}"
            self.started.append((order_id, amount))
            self._polls[order_id] = 0
        return QrisCharge(
            order_id=order_id,
            amount=amount,
            qr_string=f"00020101021226590016ID.CO.QRIS.WWW0215FAKE{order_id}5406{amount}6304ABCD",
            qr_url=None,
            reference=f"T{order_id}",
            expires_at=self.now() + timedelta(seconds=self.ttl_seconds),
        )

    def poll(self, order_id: str) -> QrisStatus:
        """UNPAID for the first polls, then the outcome."""
        with self._lock:
            if order_id in self.cancelled:
                return "FAILED"
            if order_id not in self._polls:
                raise QrisError("qris_unknown_order", order_id=order_id)
            self._polls[order_id] += 1
            return self.outcome if self._polls[order_id] >= self.polls_until_final else "UNPAID"

    def cancel(self, order_id: str) -> None:
        """Remember the cancellation."""
        with self._lock:
            self.cancelled.append(order_id)


if TYPE_CHECKING:
    _qris_conforms: QrisGateway = FakeQrisGateway()
