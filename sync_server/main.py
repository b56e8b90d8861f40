"""The FastAPI application: wires settings, databases, middleware, errors and routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import text

from sync_server.catalog.price_history import install_price_history
from sync_server.core.config import Settings, get_settings
from sync_server.core.database import Database
from sync_server.core.errors import error_response, install_error_handlers
from sync_server.core.metrics import install_metrics
from sync_server.core.middleware import (
    BodySizeLimitMiddleware,
    CatchAllMiddleware,
    RequestIdFilter,
    RequestIdMiddleware,
)
from sync_server.payments.tripay import TripayClient

log = logging.getLogger("kasir.server")

DESCRIPTION = """
Kasir sync server: the catalog, the stock ledger, exactly-once ingest of sales from
offline tills, QRIS payments through Tripay and reports.

* **Managers** sign in with `POST /api/v1/auth/login` and send the token as
  `Authorization: Bearer <token>`.
* **Terminals** enroll once with a one-time code (`POST /api/v1/terminals/enroll`) and
  then send their device token and the header `X-Kasir-Protocol: 1` on every call.
* Every error answers `{"error": {"code", "message", "details"}}` with a fitting status.
"""


def configure_logging(level: str) -> None:
    """Structured-enough logs: time, level, request id, logger, message."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
    )
    root = logging.getLogger("kasir")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def create_app(
    settings: Settings | None = None, *, tripay_client: TripayClient | None = None
) -> FastAPI:
    """Build the app for ``settings`` (default: from the environment).

    The Tripay client is made here, once, from the settings unless one is given (tests
    pass one on a mock transport); routes get it injected (``payments.router.TripayDep``).
    """
    settings = settings or get_settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.run_migrations_on_start:
            from sync_server.migrate import upgrade

            upgrade(settings.effective_database_url)
        yield
        app.state.db.dispose()
        if app.state.reports_db is not app.state.db:
            app.state.reports_db.dispose()

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
    app.state.reports_db = (
        Database(settings.reports_database_url) if settings.reports_database_url else app.state.db
    )
    app.state.tripay_client = tripay_client or TripayClient.from_settings(settings)
    install_price_history()  # idempotent: price history follows every catalog write
    install_error_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(CatchAllMiddleware)  # inside the request id and the metrics
    app.add_middleware(RequestIdMiddleware)
    install_metrics(app)
    _include_routers(app)
    _document_errors(app)

    @app.get("/health", tags=["operations"], summary="The process is up")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready", tags=["operations"], summary="The database answers")
    def ready() -> object:
        try:
            with app.state.db.session() as session:
                session.execute(text("SELECT 1"))
        except Exception:
            log.exception("readiness check failed")
            return error_response(503, "not_ready", "The database does not answer.")
        return {"status": "ready"}

    return app


def _document_errors(app: FastAPI) -> None:
    from sync_server.auth.deps import check_protocol, get_terminal
    from sync_server.core.openapi import document_errors

    document_errors(app, protocol_checks=(check_protocol, get_terminal))


def _include_routers(app: FastAPI) -> None:
    from sync_server.auth.router import router as auth_router
    from sync_server.catalog.router import router as catalog_router
    from sync_server.flags.router import router as flags_router
    from sync_server.payments.router import router as payments_router
    from sync_server.reports.router import router as reports_router
    from sync_server.stock.router import router as stock_router
    from sync_server.stores.router import router as stores_router
    from sync_server.sync.router import router as sync_router
    from sync_server.web.router import install as install_web

    for router in (
        auth_router,
        catalog_router,
        flags_router,
        payments_router,
        reports_router,
        stock_router,
        stores_router,
        sync_router,
    ):
        app.include_router(router)
    install_web(app)
