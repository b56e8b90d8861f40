"""The headless reports API under ``/api/v1/reports`` (thin: authorise, call the service).

Managers read their own store, admins any store (``store_id``). Every report reads the
reports database (the replica when ``REPORTS_DATABASE_URL`` is set) and answers JSON,
a CSV download with ``?format=csv`` (stable machine headers: the rows' field names) or
an Excel file with ``?format=xlsx`` (Indonesian headers, rupiah as numbers, dates
dd/mm/yyyy; see :mod:`sync_server.reports.exports`). Periods are the store's local days,
both ends included; the default is the 30 days up to today.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from shared.models import Count, RowId, WireModel
from sync_server.auth.deps import ManagerDep
from sync_server.core.database import DbDep, ReportsDbDep
from sync_server.reports import service
from sync_server.reports.csv_export import csv_fields
from sync_server.reports.exports import XLSX_MEDIA_TYPE, file_response
from sync_server.reports.registry import (
    DAY_COLUMNS,
    PAYMENT_ORDER_COLUMNS,
    PERIOD_REPORTS,
    REJECTED_EVENT_COLUMNS,
    STOCK_LEVEL_COLUMNS,
    TERMINAL_HEALTH_COLUMNS,
    Column,
    Report,
)
from sync_server.reports.schemas import (
    Dashboard,
    DayFigures,
    Granularity,
    PaymentOrderRow,
    RejectedEventRow,
    StockFilter,
    StockLevelRow,
    TerminalHealthRow,
)

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

ReportFormat = Literal["json", "csv", "xlsx"]
FormatQuery = Annotated[
    ReportFormat,
    Query(
        alias="format",
        description="`csv` downloads the report as CSV (machine headers), `xlsx` as Excel "
        "(Indonesian headers, rupiah and dates as typed cells).",
    ),
]
StoreQuery = Annotated[RowId | None, Query(description="Admins: the store. Default: your own.")]
StartQuery = Annotated[date | None, Query(description="First local day (default: 29 days ago).")]
EndQuery = Annotated[date | None, Query(description="Last local day, included (default: today).")]

CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/csv": {"example": "label,sales_count,net\r\n2025-03-01,412,18250000\r\n"},
            XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        }
    },
    403: {"description": "Cashiers, terminals, and managers of another store."},
}


@dataclass(frozen=True)
class Download:
    """How a list answer downloads: its Excel columns and sheet, its CSV header."""

    columns: Sequence[Column]
    sheet: str
    csv_columns: Sequence[str]
    timezone: str | None = None


def _answer(
    fmt: ReportFormat,
    name: str,
    result: BaseModel | Sequence[Any],
    rows: Sequence[Any],
    download: Download,
) -> Any:
    """JSON (the result), or the rows as a CSV or Excel download."""
    if fmt == "json":
        return result
    return file_response(
        fmt,
        name,
        rows,
        download.columns,
        sheet=download.sheet,
        csv_columns=download.csv_columns,
        timezone=download.timezone,
    )


@dataclass(frozen=True)
class Period:
    """The store a report is for and its first and last local day (both included)."""

    store: int
    first: date
    last: date


def _period(
    user: ManagerDep,
    db: ReportsDbDep,
    store_id: StoreQuery = None,
    start: StartQuery = None,
    end: EndQuery = None,
) -> Period:
    """The caller's store (or the one an admin names) and the period; 30 days by default."""
    store = service.report_store(db, user=user, store_id=store_id)
    end = end or service.store_today(db, store_id=store)
    return Period(store, start or end - timedelta(days=29), end)


PeriodDep = Annotated[Period, Depends(_period)]


def _no_options() -> dict[str, Any]:
    return {}


ExcludeFlaggedQuery = Annotated[
    bool,
    Query(description="Leave out sales with an open flag (see `/api/v1/flags`)."),
]


def _sales_options(
    granularity: Granularity = "day", exclude_flagged: ExcludeFlaggedQuery = False
) -> dict[str, Any]:
    return {"granularity": granularity, "exclude_flagged": exclude_flagged}


def _top_products_options(
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    order_by: Literal["revenue", "quantity"] = "revenue",
) -> dict[str, Any]:
    return {"limit": limit, "order_by": order_by}


def _granularity_options(granularity: Granularity = "day") -> dict[str, Any]:
    return {"granularity": granularity}


_OPTIONS: dict[str, Callable[..., dict[str, Any]]] = {
    "sales": _sales_options,
    "top-products": _top_products_options,
}
"""Query parameters a period report takes beyond store and period (default: none, or
``granularity`` alone for a report grouped by period)."""


def _add_period_route(report: Report) -> None:
    """One GET route per registry entry: JSON by default, CSV with ``?format=csv``, Excel
    with ``?format=xlsx``."""
    options = _OPTIONS.get(report.path) or (
        _granularity_options if report.by_granularity else _no_options
    )

    def answer(
        period: PeriodDep,
        db: ReportsDbDep,
        fmt: FormatQuery = "json",
        # A default, not an annotation: the annotations are strings and ``options``
        # is local to this function.
        opts: dict[str, Any] = Depends(options),
    ) -> Any:
        result = report.run(db, store_id=period.store, start=period.first, end=period.last, **opts)
        name = report.csv_name(
            start=period.first, end=period.last, granularity=opts.get("granularity")
        )
        download = Download(report.columns, report.title, report.csv_columns())
        return _answer(fmt, name, result, list(report.rows(result)), download)

    answer.__name__ = report.path.replace("-", "_")
    router.add_api_route(
        f"/{report.path}",
        answer,
        methods=["GET"],
        response_model=report.answer,
        responses=CSV_RESPONSE,
        summary=report.summary,
        description=report.description,
    )


for _report in PERIOD_REPORTS:
    _add_period_route(_report)


@router.get(
    "/stock", response_model=list[StockLevelRow], responses=CSV_RESPONSE, summary="Stock on hand"
)
def stock(
    user: ManagerDep,
    db: ReportsDbDep,
    store_id: StoreQuery = None,
    only: Annotated[StockFilter | None, Query(description="negative or low")] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
    offset: Annotated[Count, Query()] = 0,
    fmt: FormatQuery = "json",
) -> Any:
    """On hand per product; `only=negative` or `only=low` (at or below its threshold)."""
    store = service.report_store(db, user=user, store_id=store_id)
    rows = service.stock_on_hand(db, store_id=store, only=only, limit=limit, offset=offset)
    download = Download(STOCK_LEVEL_COLUMNS, "Stok", csv_fields(StockLevelRow))
    return _answer(fmt, f"stock-{only or 'all'}", rows, rows, download)


@router.get(
    "/terminal-health",
    response_model=list[TerminalHealthRow],
    responses=CSV_RESPONSE,
    summary="Terminal sync health",
)
def terminal_health(
    user: ManagerDep, db: ReportsDbDep, store_id: StoreQuery = None, fmt: FormatQuery = "json"
) -> Any:
    """Last seen, events waiting as last reported, and unresolved rejected events."""
    store = service.report_store(db, user=user, store_id=store_id)
    rows = service.terminal_health(db, store_id=store)
    download = Download(
        TERMINAL_HEALTH_COLUMNS,
        "Kesehatan terminal",
        csv_fields(TerminalHealthRow),
        service.store_timezone(db, store_id=store),
    )
    return _answer(fmt, "terminal-health", rows, rows, download)


@router.get(
    "/rejected-events",
    response_model=list[RejectedEventRow],
    responses=CSV_RESPONSE,
    summary="Events the server refused",
)
def rejected_events(
    user: ManagerDep,
    db: ReportsDbDep,
    store_id: StoreQuery = None,
    unresolved_only: bool = True,
    fmt: FormatQuery = "json",
) -> Any:
    """Refused events with their reasons, newest first."""
    store = service.report_store(db, user=user, store_id=store_id)
    rows = service.rejected_events(db, store_id=store, unresolved_only=unresolved_only)
    download = Download(
        REJECTED_EVENT_COLUMNS,
        "Transaksi ditolak",
        csv_fields(RejectedEventRow),
        service.store_timezone(db, store_id=store),
    )
    return _answer(fmt, "rejected-events", rows, rows, download)


class ResolveIn(WireModel):
    """How the manager dealt with a rejected event."""

    note: str = Field(min_length=1, max_length=200, examples=["Re-entered by hand"])


@router.post(
    "/rejected-events/{event_id}/resolve",
    response_model=RejectedEventRow,
    summary="Mark a rejected event as dealt with",
    responses={403: {"description": "Cashiers, terminals, and managers of another store."}},
)
def resolve(event_id: uuid.UUID, body: ResolveIn, user: ManagerDep, db: DbDep) -> Any:
    """Writes to the main database (never the replica)."""
    return service.resolve_rejected(db, user=user, event_id=event_id, note=body.note)


@router.get(
    "/payments",
    response_model=list[PaymentOrderRow],
    responses=CSV_RESPONSE,
    summary="QRIS payments with their status",
)
def payments(
    period: PeriodDep,
    db: ReportsDbDep,
    status: Annotated[
        Literal["UNPAID", "PAID", "EXPIRED", "FAILED", "REFUND"] | None, Query()
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    fmt: FormatQuery = "json",
) -> Any:
    """QRIS orders created in the period, newest first, optionally of one status."""
    store, first, last = period.store, period.first, period.last
    rows = service.payments(db, store_id=store, start=first, end=last, status=status, limit=limit)
    download = Download(
        PAYMENT_ORDER_COLUMNS,
        "Pembayaran QRIS",
        csv_fields(PaymentOrderRow),
        service.store_timezone(db, store_id=store),
    )
    return _answer(fmt, f"payments-{first}-{last}", rows, rows, download)


@router.get(
    "/dashboard", response_model=Dashboard, responses=CSV_RESPONSE, summary="Today at a glance"
)
def dashboard(
    user: ManagerDep,
    db: ReportsDbDep,
    store_id: StoreQuery = None,
    today: Annotated[date | None, Query(description="Default: the store's today.")] = None,
    exclude_flagged: ExcludeFlaggedQuery = False,
    fmt: FormatQuery = "json",
) -> Any:
    """Today against yesterday, the last 7 days and the alerts (CSV: the 7 days)."""
    store = service.report_store(db, user=user, store_id=store_id)
    result = service.dashboard(db, store_id=store, today=today, exclude_flagged=exclude_flagged)
    download = Download(DAY_COLUMNS, "7 hari terakhir", csv_fields(DayFigures))
    return _answer(fmt, f"dashboard-{result.today}", result, result.last_7_days, download)
