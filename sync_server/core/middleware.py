"""ASGI middleware: request ids in logs and responses, a hard cap on body size, the
admission gates of pushes and of pulls (503 ``overloaded`` rather than a queue past the
till's timeout), and the 500 answer for what nothing else handled."""

from __future__ import annotations

import contextvars
import json
import logging
import math
import time
import uuid
from collections import deque
from collections.abc import Iterable

import anyio
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync_server.core.errors import internal_error_response, overloaded_response
from sync_server.core.metrics import OVERLOADED, SYNC_GATE

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class RequestIdMiddleware:
    """Give each request an id (or keep the caller's ``X-Request-ID``) and echo it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")[:64]
        rid = incoming or uuid.uuid4().hex
        token = request_id_var.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


class BodyTooLarge(Exception):
    """Raised inside receive() when the body passes the limit."""


def _too_large_body(limit: int) -> bytes:
    return json.dumps(
        {
            "error": {
                "code": "payload_too_large",
                "message": f"The request body is larger than {limit} bytes.",
                "details": {"limit_bytes": limit},
            }
        }
    ).encode()


class BodySizeLimitMiddleware:
    """Refuse bodies over ``max_bytes`` with 413, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _reject(self, send: Send) -> None:
        body = _too_large_body(self.max_bytes)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._reject(send)
            return
        seen = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # Frameworks may catch the error while parsing and answer 400 themselves;
            # whatever they answer, a body over the limit is a 413.
            nonlocal started
            if exceeded:
                if not started:
                    started = True
                    await self._reject(send)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except BodyTooLarge:
            if not started:
                await self._reject(send)


class CatchAllMiddleware:
    """Answer any exception nothing else handled with a 500 in the one error shape.

    An ``Exception`` handler on the app would answer too, but Starlette re-raises after
    it, and the server then closes the keep-alive connection; here the exception ends
    with the answer, so the connection serves the next request. Only when the answer
    had already started is the exception left to the server (nothing else is possible).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            response = internal_error_response(scope["method"], scope["path"], exc)
            await response(scope, receive, send)


PUSH_ROUTES: frozenset[tuple[str, str]] = frozenset({("POST", "/api/v1/sync/push")})
"""The pushes' gate: sales coming in, which must never wait behind downloads."""

PULL_ROUTES: frozenset[tuple[str, str]] = frozenset({("GET", "/api/v1/sync/pull")})
"""The pulls' gate, smaller and with its own queue: fifty new tills downloading the
catalog at once fill only its places, never the pushes'."""

GATED_ROUTES: frozenset[tuple[str, str]] = PUSH_ROUTES | PULL_ROUTES
"""What goes through an admission gate: the tills' sync traffic, whose storms (every
till of a chain back online at once) would otherwise fill the database pool and the
thread pool. Reports, the back office, logins, payments and health never do."""


class AdmissionGate:
    """At most ``limit`` requests inside at once, at most ``queue`` waiting for a place.

    One per worker process, used from its event loop only (no lock needed). A place is
    handed straight from the request that leaves to the oldest waiter, so waiters are
    served in order and a newcomer never overtakes them.
    """

    def __init__(self, *, limit: int, queue: int) -> None:
        if limit < 1 or queue < 0:
            raise ValueError("the gate needs limit >= 1 and queue >= 0")
        self.limit = limit
        self.queue = queue
        self.active = 0
        self._waiters: deque[anyio.Event] = deque()

    @property
    def waiting(self) -> int:
        """Requests waiting for a place right now."""
        return len(self._waiters)

    def try_enter(self) -> bool:
        """Take a place if one is free and nobody waits for it."""
        if self.active < self.limit and not self._waiters:
            self.active += 1
            return True
        return False

    async def enter(self, timeout: float) -> bool:
        """Take a place, waiting at most ``timeout`` seconds; False when the queue is
        full (at once) or the wait ran out. True obliges the caller to :meth:`leave`."""
        if self.try_enter():
            return True
        if len(self._waiters) >= self.queue:
            return False
        ticket = anyio.Event()
        self._waiters.append(ticket)
        try:
            with anyio.move_on_after(timeout):
                await ticket.wait()
        except BaseException:  # cancelled (the caller went away): give the place back
            if ticket.is_set():
                self.leave()
            else:
                self._waiters.remove(ticket)
            raise
        if ticket.is_set():  # leave() handed us its place
            return True
        self._waiters.remove(ticket)
        return False

    def leave(self) -> None:
        """Give the place back: to the oldest waiter, or free."""
        if self._waiters:
            self._waiters.popleft().set()  # the place passes on; ``active`` stays
        else:
            self.active -= 1


class AdmissionMiddleware:
    """Serve at most ``limit`` of ``routes`` at once per worker process, let
    at most ``queue`` more wait, each at most ``wait_seconds``; answer the rest 503
    ``overloaded`` with ``Retry-After`` at once, before anything is read or written.

    A till's push that would otherwise queue past its own HTTP timeout (and be sent
    again, doubling the load) hears quickly to come back later; nothing was done, so
    sending it again is safe. Requests outside the gate never wait for it, and because
    the gate is smaller than the thread pool they always find a thread. The app has
    two: :data:`PUSH_ROUTES` and :data:`PULL_ROUTES`, each with its own places and
    queue, so pulls never take a push's place.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        queue: int,
        wait_seconds: float,
        routes: Iterable[tuple[str, str]] = GATED_ROUTES,
    ) -> None:
        self.app = app
        self.gate = AdmissionGate(limit=limit, queue=queue)
        self.wait_seconds = wait_seconds
        self.routes = frozenset(routes)
        self.retry_slots = RetrySlots(limit=limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) not in self.routes:
            await self.app(scope, receive, send)
            return
        if not self.gate.try_enter():
            if self.gate.waiting >= self.gate.queue:
                await self._refuse(scope, receive, send, "queue_full")
                return
            waiting = SYNC_GATE.labels("waiting")
            waiting.inc()
            try:
                admitted = await self.gate.enter(self.wait_seconds)
            finally:
                waiting.dec()
            if not admitted:
                await self._refuse(scope, receive, send, "wait_timeout")
                return
        active = SYNC_GATE.labels("active")
        active.inc()
        started = time.monotonic()
        try:
            await self.app(scope, receive, send)
        finally:
            active.dec()
            self.gate.leave()
            self.retry_slots.served(time.monotonic() - started)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, reason: str) -> None:
        OVERLOADED.labels(scope["path"], reason).inc()
        backlog = self.gate.active + self.gate.waiting
        response = overloaded_response(self.retry_slots.book(backlog, time.monotonic()))
        await response(scope, receive, send)


class RetrySlots:
    """The ``Retry-After`` of each refused request: a place of its own in a virtual queue
    behind what the gate already holds, so a crowd sent away at once comes back spread
    over the time the server needs to serve it, not all together after a fixed wait
    (which leaves the server idle, then floods it again).

    ``served`` keeps a moving average of how long a request holds a place; a refusal at
    ``now`` with ``backlog`` requests inside the gate gets the first free slot after the
    backlog drains (``backlog`` x average / ``limit`` from now) and after every slot
    already given out; each slot is average / ``limit`` long. Whole seconds, at least 1,
    at most :data:`MAX_RETRY_AFTER` (the till adds its own jitter on top).
    """

    def __init__(self, *, limit: int, initial_service: float = 0.05) -> None:
        self.limit = limit
        self.service = initial_service
        self._next_free = 0.0

    def served(self, seconds: float) -> None:
        """A request held its place ``seconds``: fold it into the average."""
        self.service += 0.1 * (max(0.0, seconds) - self.service)

    def book(self, backlog: int, now: float) -> int:
        """The whole seconds a request refused ``now`` should wait before it comes back."""
        slot = self.service / self.limit
        drained = now + backlog * slot
        self._next_free = max(self._next_free, drained) + slot
        return max(1, min(MAX_RETRY_AFTER, math.ceil(self._next_free - now)))


MAX_RETRY_AFTER = 60
"""The longest ``Retry-After`` the gate asks for, however long its virtual queue."""


def accepts_gzip(accept_encoding: str | None) -> bool:
    """True when an ``Accept-Encoding`` value lets the answer be gzip (RFC 9110 12.5.3).

    ``gzip`` (or ``x-gzip``) with a non-zero q-value, or ``*`` when gzip is not named.
    """
    if not accept_encoding:
        return False
    named: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        named[coding.strip().lower()] = quality
    for coding in ("gzip", "x-gzip"):
        if coding in named:
            return named[coding] > 0
    return named.get("*", 0.0) > 0


class GzipWhenAsked:
    """Starlette's gzip for answers of at least ``minimum_size`` bytes, but only when the
    request's ``Accept-Encoding`` really allows gzip (q-values honoured, which Starlette's
    substring test does not), and never for ``skip_paths`` (pull pages compress
    themselves). An answer that already carries ``Content-Encoding`` is left alone."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        minimum_size: int = 1024,
        compresslevel: int = 5,
        skip_paths: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=compresslevel)
        self.skip_paths = frozenset(skip_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.skip_paths:
            await self.app(scope, receive, send)
            return
        accept = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == b"accept-encoding"), None
        )
        if accepts_gzip(accept):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
