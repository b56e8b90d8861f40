"""QRIS payments of a period and their status."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from sync_server.core.database import ReportsDbDep
from sync_server.reports import service as reports_service
from sync_server.reports.registry import QRIS_STATUS_LABELS
from sync_server.web import views
from sync_server.web.deps import PageDep, PeriodDep, page_router, render, store_timezone

router = page_router()


@router.get("/payments")
def payments(
    request: Request, ws: PageDep, db: ReportsDbDep, period: PeriodDep, status: str | None = None
) -> HTMLResponse:
    """QRIS orders of a period, newest first, with their status."""
    sid, first, last = period.store_id, period.start, period.end
    wanted = status if status in views.QRIS_STATUSES else None
    orders = reports_service.payments(db, store_id=sid, start=first, end=last, status=wanted)
    query = f"store_id={sid}&start={first}&end={last}" + (f"&status={wanted}" if wanted else "")
    # The page names the statuses in Indonesian; links and the JSON keep Tripay's codes.
    return render(
        request,
        ws,
        "payments.html",
        orders=orders,
        status=wanted,
        statuses=views.QRIS_STATUSES,
        status_labels=QRIS_STATUS_LABELS,
        presets=views.PRESETS,
        preset=period.preset,
        start=first,
        end=last,
        **views.download_urls("reports/payments", query),
        tz=store_timezone(request),
    )
