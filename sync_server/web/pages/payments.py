"""QRIS payments of a period and their status."""

from __future__ import annotations

from datetime import date

from fastapi import Request
from fastapi.responses import HTMLResponse

from sync_server.core.database import ReportsDbDep
from sync_server.reports import service as reports_service
from sync_server.web import views
from sync_server.web.deps import PageDep, page_router, render, report_store_id, store_timezone

router = page_router()


@router.get("/payments")
def payments(
    request: Request,
    ws: PageDep,
    db: ReportsDbDep,
    status: str | None = None,
    store_id: int | None = None,
    preset: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> HTMLResponse:
    """QRIS orders of a period, newest first, with their status."""
    sid = report_store_id(db, ws, store_id)
    today = reports_service.store_today(db, store_id=sid)
    first, last, chosen = views.report_period(today, preset=preset, start=start, end=end)
    wanted = status if status in views.QRIS_STATUSES else None
    orders = reports_service.payments(db, store_id=sid, start=first, end=last, status=wanted)
    query = f"store_id={sid}&start={first}&end={last}" + (f"&status={wanted}" if wanted else "")
    return render(
        request,
        ws,
        "payments.html",
        orders=orders,
        status=wanted,
        statuses=views.QRIS_STATUSES,
        presets=views.PRESETS,
        preset=chosen,
        start=first,
        end=last,
        csv_url=f"/api/v1/reports/payments?format=csv&{query}",
        tz=store_timezone(request),
    )
