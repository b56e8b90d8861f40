"""The FastAPI application: wires settings, databases, middleware, errors and routers."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import Depends, FastAPI

from sync_server.catalog.price_history import install_price_history
from sync_server.core.config import Settings, get_settings
from sync_server.core.database import Database, schema_revision
from sync_server.core.errors import AppError, error_response, install_error_handlers
from sync_server.core.logs import AccessLogMiddleware, configure_logging
from sync_server.core.metrics import FLAGS, install_metrics, mark_process_dead, watch_pool
from sync_server.core.middleware import (
    PULL_ROUTES,
    PUSH_ROUTES,
    AdmissionMiddleware,
    BodySizeLimitMiddleware,
    CatchAllMiddleware,
    GzipWhenAsked,
    RequestIdMiddleware,
)
from sync_server.flags.models import FlagKind
from sync_server.migrate import migration_heads
from sync_server.payments.tripay import TripayClient

log = logging.getLogger("kasir.server")

SPARE_THREADS = 20
"""Threads of the shared pool kept free of pushes and pulls (their gates admit at most
``sync_max_concurrent`` + ``sync_max_concurrent_pulls``), for reports, pages, logins and
payments."""

DESCRIPTION = """
Kasir sync server: the catalog, the stock ledger, exactly-once ingest of sales from
offline tills, QRIS payments through Tripay and reports.

* **Managers** sign in with `POST /api/v1/auth/login` and send the token as
  `Authorization: Bearer <token>`.
* **Terminals** enroll once with a one-time code (`POST /api/v1/terminals/enroll`) and
  then send their device token and the header `X-Kasir-Protocol: 1` on every call.
* Every error answers `{"error": {"code", "message", "details"}}` with a fitting status.
"""


def create_app(
    settings: Settings | None = None, *, tripay_client: TripayClient | None = None
) -> FastAPI:
    """Build the app for ``settings`` (default: from the environment).

    The Tripay client is made here, once, from the settings unless one is given (tests
    pass one on a mock transport); routes get it injected (``payments.router.TripayDep``).
    """
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.effective_log_format)
    if not settings.qris_enabled:
        log.warning(
            "QRIS is disabled: no Tripay keys are set (KASIR_TRIPAY_API_KEY, "
            "KASIR_TRIPAY_PRIVATE_KEY); payment routes answer 503 qris_disabled, tills take cash"
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.run_migrations_on_start:
            from sync_server.migrate import upgrade_if_behind

            upgrade_if_behind(settings.effective_database_url)
        # Pushes and pulls hold at most their gates' places in threads; the rest of the
        # shared thread pool is always there for reports, pages and logins.
        threads = anyio.to_thread.current_default_thread_limiter()
        gated = (
            settings.effective_sync_max_concurrent + settings.effective_sync_max_concurrent_pulls
        )
        threads.total_tokens = max(threads.total_tokens, gated + SPARE_THREADS)
        yield
        app.state.db.dispose()
        if app.state.reports_db is not app.state.db:
            app.state.reports_db.dispose()
        mark_process_dead(os.getpid())  # this worker's live gauges stop counting

    app = FastAPI(
        title="Kasir sync server",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    if settings.environment != "test" and settings.effective_database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    app.state.db = Database(
        settings.effective_database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    # Reports and the back office read through a small pool of their own (on the
    # replica when there is one), so a storm of pushes holding the main pool's
    # connections never makes a manager's page wait.
    reports_url = settings.reports_database_url or settings.effective_database_url
    in_memory = reports_url.startswith("sqlite") and (
        reports_url.rstrip("/") == "sqlite:" or ":memory:" in reports_url
    )
    # An in-memory SQLite database exists once per engine: reports then read the main one.
    app.state.reports_db = (
        app.state.db
        if in_memory
        else Database(
            reports_url,
            pool_size=settings.reports_db_pool_size,
            max_overflow=settings.reports_db_pool_size,
            read_only=True,
        )
    )
    watch_pool(app.state.db.engine, "main")
    for kind in FlagKind:  # every kind's series exists from the start, at 0
        FLAGS.labels(kind=kind.value)
    if app.state.reports_db is not app.state.db:
        watch_pool(app.state.reports_db.engine, "reports")
    app.state.tripay_client = tripay_client or TripayClient.from_settings(settings)
    install_price_history()  # idempotent: price history follows every catalog write
    install_error_handlers(app)
    # Two gates: pulls (a new till's download, 40 pages of 5,000 rows) have fewer places
    # and a queue of their own, so tills downloading never take the places pushes need.
    gates = (
        (PUSH_ROUTES, settings.effective_sync_max_concurrent, settings.effective_sync_max_waiting),
        (
            PULL_ROUTES,
            settings.effective_sync_max_concurrent_pulls,
            settings.effective_sync_max_waiting_pulls,
        ),
    )
    for routes, limit, queue in gates:
        app.add_middleware(
            AdmissionMiddleware,
            limit=limit,
            queue=queue,
            wait_seconds=settings.sync_max_wait_seconds,
            routes=routes,
        )
    # Reports, lists and pages go gzip to browsers and tills that ask; a pull page is
    # compressed by its route already (it carries Content-Encoding and is left alone).
    app.add_middleware(GzipWhenAsked, skip_paths=["/api/v1/sync/pull"])
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(CatchAllMiddleware)  # inside the access log, request id and metrics
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(RequestIdMiddleware)
    install_metrics(app, token=settings.metrics_token)
    _include_routers(app, qris_enabled=settings.qris_enabled)
    _document_errors(app)

    @app.get("/health", tags=["operations"], summary="The process is up")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    heads = migration_heads()
    limiter: list[anyio.CapacityLimiter] = []

    @app.get(
        "/ready",
        tags=["operations"],
        summary="The database answers and its schema is the newest",
    )
    async def ready() -> object:
        # Its own threads and its own connection: requests that fill the thread pool or
        # the connection pool (a burst of slow or failing calls) never queue the probe.
        if not limiter:
            limiter.append(anyio.CapacityLimiter(2))
        try:
            stamped = await anyio.to_thread.run_sync(
                schema_revision, settings.effective_database_url, limiter=limiter[0]
            )
        except Exception:
            log.exception("readiness check failed")
            return error_response(503, "not_ready", "The database does not answer.")
        if stamped != heads:
            return error_response(
                503,
                "not_ready",
                "The database schema is not the newest; run kasir-server migrate.",
                {"database": sorted(stamped), "code": sorted(heads)},
            )
        return {"status": "ready"}

    return app


async def _qris_disabled() -> None:
    raise AppError("qris_disabled", code="qris_disabled", status_code=503)


def _document_errors(app: FastAPI) -> None:
    from sync_server.auth.deps import check_protocol, get_terminal
    from sync_server.core.openapi import document_errors

    document_errors(app, protocol_checks=(check_protocol, get_terminal))


def _include_routers(app: FastAPI, *, qris_enabled: bool) -> None:
    from sync_server.auth.deps import terminal_rechecked_in_transaction
    from sync_server.auth.router import router as auth_router
    from sync_server.catalog.router import router as catalog_router
    from sync_server.customers.router import router as customers_router
    from sync_server.flags.router import router as flags_router
    from sync_server.outlets.router import router as outlets_router
    from sync_server.payments.router import router as payments_router
    from sync_server.purchasing.router import router as purchasing_router
    from sync_server.receipts.router import router as receipts_router
    from sync_server.reports.router import router as reports_router
    from sync_server.sales.router import router as sales_router
    from sync_server.stock.router import router as stock_router
    from sync_server.stores.router import router as stores_router
    from sync_server.sync.router import push
    from sync_server.sync.router import router as sync_router
    from sync_server.web.router import install as install_web

    # The push reads its terminal again in its own transaction (sync.ingest.context):
    # a till already authenticated by this process is taken from memory.
    terminal_rechecked_in_transaction(push)

    for router in (
        auth_router,
        catalog_router,
        customers_router,
        flags_router,
        outlets_router,
        purchasing_router,
        receipts_router,
        reports_router,
        sales_router,
        stock_router,
        stores_router,
        sync_router,
    ):
        app.include_router(router)
    # A shop without Tripay keys sells cash only: every payment route says so (503).
    app.include_router(
        payments_router, dependencies=[] if qris_enabled else [Depends(_qris_disabled)]
    )
    install_web(app)
