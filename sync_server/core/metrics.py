"""Prometheus metrics: request latency, sync ingest, terminal lag, payments.

Every metric of the server is declared here, once; the features import what they count.

Metrics are per process; run Prometheus against each replica (or set
``PROMETHEUS_MULTIPROC_DIR`` for uvicorn workers, which prometheus-client honours).
"""

from __future__ import annotations

import time

from fastapi import FastAPI, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prom_multiprocess
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_LATENCY = Histogram(
    "kasir_http_request_duration_seconds",
    "HTTP request latency by route and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
EVENTS_INGESTED = Counter(
    "kasir_sync_events_total", "Events received from tills by outcome.", ["type", "status"]
)
SYNC_LAG = Gauge(
    "kasir_sync_lag_seconds",
    "Age of the oldest event in the last push of each terminal (till clock to server).",
    ["terminal"],
)
EVENTS_WAITING = Gauge(
    "kasir_sync_events_waiting", "Events waiting on each till, as it last reported.", ["terminal"]
)
PAYMENTS = Counter("kasir_payments_total", "QRIS payment orders by new status.", ["status"])
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


def _route_of(app: ASGIApp, scope: Scope) -> str:
    router = getattr(app, "router", None)
    for route in getattr(router, "routes", []):
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return str(getattr(route, "path", "?"))
    return "unmatched"


class MetricsMiddleware:
    """Times every HTTP request by route template (not raw path, to keep labels few)."""

    def __init__(self, app: ASGIApp, root: FastAPI) -> None:
        self.app = app
        self.root = root

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

        try:
            await self.app(scope, receive, capture)
        finally:
            REQUEST_LATENCY.labels(
                scope.get("method", "?"), _route_of(self.root, scope), str(status)
            ).observe(time.perf_counter() - start)


def metrics_response() -> Response:
    """The exposition text of every metric (multiprocess-aware)."""
    import os

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        prom_multiprocess.MultiProcessCollector(registry)
        data = generate_latest(registry)
    else:
        data = generate_latest()
    return Response(data, media_type=CONTENT_TYPE_LATEST)


def install_metrics(app: FastAPI) -> None:
    """Add the latency middleware and the ``/metrics`` route."""
    app.add_middleware(MetricsMiddleware, root=app)

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics", include_in_schema=True)
    def metrics() -> Response:
        return metrics_response()
