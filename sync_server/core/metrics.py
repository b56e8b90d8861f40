"""Prometheus metrics: requests, sync ingest, terminals, payments, flags, the database pool.

Every metric of the server is declared here, once; the features import what they count.

Several worker processes (``kasir-server serve --workers N``) share one set of figures
through prometheus-client's multiprocess mode: ``kasir-server serve`` points
``PROMETHEUS_MULTIPROC_DIR`` at a directory it empties before the workers start (see
:mod:`sync_server.core.serving`), each worker writes its samples there, and ``/metrics``
sums them whichever worker answers. Gauges say how to combine the workers
(``multiprocess_mode``); without the variable every figure is per process.

Labels are bounded: routes by template (``scope["route"]``, never the raw path), HTTP
methods from a fixed list, terminals by the code of an enrolled terminal.
"""

from __future__ import annotations

import hmac
import os
import time
from typing import Any, Generic, TypeVar

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prom_multiprocess
from sqlalchemy import Engine, event
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync_server.core.errors import Unauthorized

T = TypeVar("T")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUEST_LATENCY = Histogram(
    "kasir_http_request_duration_seconds",
    "HTTP request latency by method, route template and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REQUESTS_IN_PROGRESS = Gauge(
    "kasir_http_requests_in_progress",
    "HTTP requests being served right now (all workers).",
    ["method"],
    multiprocess_mode="livesum",
)
EVENTS_INGESTED = Counter(
    "kasir_sync_events_total", "Events received from tills by outcome.", ["type", "status"]
)
PUSH_BATCH_SIZE = Histogram(
    "kasir_sync_push_batch_size",
    "Events per push (batch) received from tills.",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
)
SYNC_LAG = Gauge(
    "kasir_sync_lag_seconds",
    "Age of the oldest event in the last push of each terminal (till clock to server).",
    ["terminal"],
    multiprocess_mode="mostrecent",
)
EVENTS_WAITING = Gauge(
    "kasir_sync_events_waiting",
    "Events waiting on each till, as it last reported.",
    ["terminal"],
    multiprocess_mode="mostrecent",
)
LAST_PUSH = Gauge(
    "kasir_sync_last_push_timestamp_seconds",
    "Unix time of each terminal's last push this server took (pair with the lag and "
    "waiting gauges: an old value means the figure is stale, not current).",
    ["terminal"],
    multiprocess_mode="max",
)
FLAGS = Counter(
    "kasir_sync_flags_total",
    "Claims applied but flagged for the manager (price, tax, voucher, QRIS, shift, clock), "
    "by kind; counted after the push committed.",
    ["kind"],
)
PAYMENTS = Counter(
    "kasir_payments_total",
    "QRIS payment orders by new status: created, then PAID, EXPIRED, FAILED, REFUND.",
    ["status"],
)
CALLBACK_FAILURES = Counter(
    "kasir_tripay_callback_failures_total",
    "Tripay callbacks refused (forged, mismatched, unknown, ...), by reason.",
    ["reason"],
)
CALLBACKS = Counter(
    "kasir_tripay_callbacks_total",
    "Tripay callbacks received, by outcome (processed, duplicate, rejected).",
    ["outcome"],
)
PAYMENT_STATUSES = ("created", "PAID", "EXPIRED", "FAILED", "REFUND")
for _status in PAYMENT_STATUSES:  # every series exists from the start, at 0
    PAYMENTS.labels(status=_status)
DB_POOL_IN_USE = Gauge(
    "kasir_db_pool_connections_in_use",
    "Database connections checked out of the SQLAlchemy pool (all workers), by database.",
    ["database"],
    multiprocess_mode="livesum",
)
OVERLOADED = Counter(
    "kasir_overloaded_total",
    "Pushes and pulls answered 503 `overloaded` by the admission gate, by route and why: "
    "`queue_full` (answered at once) or `wait_timeout` (waited its longest).",
    ["route", "reason"],
)
SYNC_GATE = Gauge(
    "kasir_sync_gate_requests",
    "Pushes and pulls inside the admission gate (all workers): `active` (being served) "
    "or `waiting` (queued for a place).",
    ["state"],
    multiprocess_mode="livesum",
)

UNMATCHED_ROUTE = "unmatched"
"""The route label of a request no route took (404s, answers before routing)."""

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(scope: Scope) -> str:
    """The request's method, or ``other`` (a client may send any token as a method)."""
    method = str(scope.get("method", ""))
    return method if method in _METHODS else "other"


def route_label(scope: Scope) -> str:
    """The template of the route that served the request (``/api/v1/users/{user_id}``),
    read after the request ran; ``unmatched`` when none did.

    ``scope["route"]`` is the route object; under nested ``include_router`` calls its
    ``path`` lacks the outer prefixes (``/users/{user_id}``), so FastAPI's record of the
    route it chose, with every prefix, is read first.
    """
    chosen = scope.get("fastapi", {}).get("effective_route_context")
    path = getattr(chosen, "path_format", None)
    if not path:
        route = scope.get("route")
        path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(path) if path else UNMATCHED_ROUTE


class ObservedRequests(Generic[T]):
    """ASGI middleware that watches every HTTP request: :meth:`started` before the app runs
    (what it returns is handed on), :meth:`answered` once it has, with the status it
    answered (500 when it failed before answering) and how many seconds it took."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def started(self, scope: Scope) -> T:
        """Called as a request comes in; the result is passed to :meth:`answered`."""
        raise NotImplementedError

    def answered(self, scope: Scope, started: T, *, status: int, seconds: float) -> None:
        """Called once the app is done with the request, whether it answered or raised."""
        raise NotImplementedError

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        state = self.started(scope)
        try:
            await self.app(scope, receive, capture)
        finally:
            self.answered(scope, state, status=status, seconds=time.perf_counter() - start)


class MetricsMiddleware(ObservedRequests[str]):
    """Times every HTTP request by route template and counts those in progress."""

    def started(self, scope: Scope) -> str:
        """Count the request in progress; its method label."""
        method = method_label(scope)
        REQUESTS_IN_PROGRESS.labels(method).inc()
        return method

    def answered(self, scope: Scope, started: str, *, status: int, seconds: float) -> None:
        """No longer in progress; its latency by method, route and status."""
        REQUESTS_IN_PROGRESS.labels(started).dec()
        REQUEST_LATENCY.labels(started, route_label(scope), str(status)).observe(seconds)


def watch_pool(engine: Engine, database: str) -> None:
    """Keep ``kasir_db_pool_connections_in_use{database}`` in step with ``engine``'s pool."""
    gauge = DB_POOL_IN_USE.labels(database)

    def checked_out(*_: Any) -> None:
        gauge.inc()

    def checked_in(*_: Any) -> None:
        gauge.dec()

    event.listen(engine, "checkout", checked_out)
    event.listen(engine, "checkin", checked_in)


def metrics_text() -> bytes:
    """The exposition text of every metric, summed over the workers in multiprocess mode."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        prom_multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest()


def _check_token(request: Request, token: str | None) -> None:
    if not token:
        return
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        raise Unauthorized("metrics_token_required", code="metrics_token_required")


def install_metrics(app: FastAPI, *, token: str | None = None) -> None:
    """Add the metrics middleware and ``/metrics`` (behind ``token`` when one is set)."""
    app.add_middleware(MetricsMiddleware)

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics (Bearer KASIR_METRICS_TOKEN when set)",
    )
    def metrics(request: Request) -> Response:
        _check_token(request, token)
        return Response(metrics_text(), media_type=CONTENT_TYPE_LATEST)


def mark_process_dead(pid: int) -> None:
    """Drop the live gauges of worker ``pid`` (it exited); no-op outside multiprocess mode."""
    if os.environ.get(MULTIPROC_ENV):
        prom_multiprocess.mark_process_dead(pid)
