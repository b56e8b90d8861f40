"""The sales and shifts API under ``/api/v1/sales`` and ``/api/v1/shifts`` (thin:
authorise, call the service).

Managers read their own store, admins any store (``store_id``); cashiers and terminals
get 403. Every route reads the reports database. Lists answer JSON, or a download with
``?format=csv`` (the fields' names as headers) or ``?format=xlsx`` (Excel, Indonesian
headings). Periods are the store's local days, both ends included; the default is the
7 days up to today.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from shared.models import MAX_RUPIAH, PaymentMethod, RowId
from sync_server.auth.deps import ManagerDep
from sync_server.core.database import ReportsDbDep
from sync_server.core.errors import documented_errors
from sync_server.reports import service as reports_service
from sync_server.sales import service
from sync_server.sales.schemas import (
    MAX_SALES_PAGE,
    MAX_SHIFTS_PAGE,
    CashReconciliation,
    SaleDetail,
    SalePage,
    SaleStatus,
    ShiftDetail,
    ShiftPage,
    ShiftState,
)

router = APIRouter(prefix="/api/v1")

_errors = documented_errors(
    {
        403: "Cashiers, terminals, and managers of another store.",
        404: "No such sale or shift in a store you may see.",
        422: "A filter out of range, a period that ends before it starts, a bad cursor.",
    }
)

DownloadFormat = Literal["json", "csv", "xlsx"]
FormatQuery = Annotated[
    DownloadFormat,
    Query(alias="format", description="`csv` or `xlsx` downloads the list as a file."),
]
StoreQuery = Annotated[RowId | None, Query(description="Admins: the store. Default: your own.")]
StartQuery = Annotated[date | None, Query(description="First local day (default: 6 days ago).")]
EndQuery = Annotated[date | None, Query(description="Last local day, included (default: today).")]
MoneyQuery = Annotated[int | None, Query(ge=0, le=MAX_RUPIAH)]
RECEIPT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"


def _period(db: Any, store: int, start: date | None, end: date | None) -> tuple[date, date]:
    end = end or service.today_of(db, store_id=store)
    return start or end - timedelta(days=6), end


@router.get(
    "/sales",
    response_model=SalePage,
    tags=["sales"],
    summary="List sales",
    responses=_errors(403, 422),
)
def list_sales(
    user: ManagerDep,
    db: ReportsDbDep,
    store_id: StoreQuery = None,
    start: StartQuery = None,
    end: EndQuery = None,
    terminal_id: Annotated[RowId | None, Query()] = None,
    cashier_id: Annotated[RowId | None, Query()] = None,
    method: Annotated[
        PaymentMethod | None, Query(description="Sales with a tender of this method.")
    ] = None,
    min_total: MoneyQuery = None,
    max_total: MoneyQuery = None,
    receipt: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=40,
            pattern=RECEIPT_PATTERN,
            description="The receipt number, or how it begins.",
        ),
    ] = None,
    status: SaleStatus = "all",
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the previous page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_SALES_PAGE)] = 50,
    fmt: FormatQuery = "json",
) -> Any:
    """The store's sales, newest first, a page at a time (a download holds them all)."""
    store = reports_service.report_store(db, user=user, store_id=store_id)
    first, last = _period(db, store, start, end)
    filters = service.SaleFilter(
        store_id=store,
        start=first,
        end=last,
        terminal_id=terminal_id,
        cashier_id=cashier_id,
        method=method.value if method is not None else None,
        min_total=min_total,
        max_total=max_total,
        receipt=receipt,
        status=status,
    )
    if fmt != "json":
        rows = service.all_sales(db, filters=filters)
        name = f"transaksi-{first}-{last}"
        return service.download(db, fmt, what="sales", name=name, rows=rows, store_id=store)
    return service.list_sales(db, filters=filters, cursor=cursor, limit=limit)


@router.get(
    "/sales/{sale_id}",
    response_model=SaleDetail,
    tags=["sales"],
    summary="One sale with its lines, payments, refunds, void and flags",
    responses=_errors(403, 404),
)
def sale_detail(sale_id: uuid.UUID, user: ManagerDep, db: ReportsDbDep) -> SaleDetail:
    """404 for a sale of a store you may not see (nothing about it is revealed)."""
    return service.sale_detail(db, user=user, sale_id=sale_id)


@router.get(
    "/shifts",
    response_model=ShiftPage,
    tags=["shifts"],
    summary="List shifts with their drawer",
    responses=_errors(403, 422),
)
def list_shifts(
    user: ManagerDep,
    db: ReportsDbDep,
    store_id: StoreQuery = None,
    start: StartQuery = None,
    end: EndQuery = None,
    terminal_id: Annotated[RowId | None, Query()] = None,
    state: ShiftState = "all",
    limit: Annotated[int, Query(ge=1, le=MAX_SHIFTS_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    fmt: FormatQuery = "json",
) -> Any:
    """Shifts opened in the period, newest first: float, cash taken and given back,
    cash in and out, the expected cash the server recomputes and what the till said,
    counted cash and the difference."""
    store = reports_service.report_store(db, user=user, store_id=store_id)
    first, last = _period(db, store, start, end)
    page = service.list_shifts(
        db,
        store_id=store,
        start=first,
        end=last,
        terminal_id=terminal_id,
        state=state,
        limit=MAX_SHIFTS_PAGE if fmt != "json" else limit,
        offset=0 if fmt != "json" else offset,
    )
    if fmt != "json":
        name = f"shift-{first}-{last}"
        return service.download(db, fmt, what="shifts", name=name, rows=page.items, store_id=store)
    return page


@router.get(
    "/shifts/reconciliation",
    response_model=CashReconciliation,
    tags=["shifts"],
    summary="Daily cash reconciliation of an outlet",
    responses=_errors(403, 422),
)
def reconciliation(
    user: ManagerDep,
    db: ReportsDbDep,
    store_id: StoreQuery = None,
    day: Annotated[date | None, Query(description="The local day (default: today).")] = None,
    fmt: FormatQuery = "json",
) -> Any:
    """Every shift open at some moment of the day, by till, with the outlet's totals;
    shifts still open are listed as such."""
    store = reports_service.report_store(db, user=user, store_id=store_id)
    day = day or service.today_of(db, store_id=store)
    result = service.cash_reconciliation(db, store_id=store, day=day)
    if fmt != "json":
        return service.download(
            db, fmt, what="shifts", name=f"kas-{day}", rows=result.shifts, store_id=store
        )
    return result


@router.get(
    "/shifts/{shift_id}",
    response_model=ShiftDetail,
    tags=["shifts"],
    summary="One shift with its cash moves",
    responses=_errors(403, 404),
)
def shift_detail(shift_id: uuid.UUID, user: ManagerDep, db: ReportsDbDep) -> ShiftDetail:
    """404 for a shift of a store you may not see."""
    return service.shift_detail(db, user=user, shift_id=shift_id)
