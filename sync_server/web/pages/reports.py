"""The dashboard and the report pages (each report is an entry of the reports registry)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from sync_server.core.database import ReportsDbDep
from sync_server.core.errors import NotFound
from sync_server.reports.registry import GRANULARITIES, report_by_slug
from sync_server.reports.schemas import Granularity
from sync_server.web import views
from sync_server.web.deps import (
    PageDep,
    PeriodDep,
    page_router,
    render_for_store,
    report_store_id,
)

router = page_router()


@router.get("/")
def dashboard(
    request: Request,
    ws: PageDep,
    db: ReportsDbDep,
    store_id: int | None = None,
    exclude_flagged: bool = False,
) -> HTMLResponse:
    """Today against yesterday, the last 7 days as a chart, and what needs attention."""
    sid = report_store_id(db, ws, store_id)
    return render_for_store(
        request,
        ws,
        db,
        "dashboard.html",
        store_id=sid,
        board=views.dashboard_view(db=db, store_id=sid, exclude_flagged=exclude_flagged),
    )


@router.get("/reports/{slug}")
def report(
    request: Request,
    slug: str,
    ws: PageDep,
    db: ReportsDbDep,
    period: PeriodDep,
    granularity: Granularity = "day",
    exclude_flagged: bool = False,
) -> HTMLResponse:
    """One report over a period, as a chart and a table, with its CSV and Excel downloads."""
    entry = report_by_slug(slug)
    if entry is None:
        raise NotFound("unknown_report", code="unknown_report")
    view = views.report_view(
        entry, db=db, period=period, granularity=granularity, exclude_flagged=exclude_flagged
    )
    return render_for_store(
        request,
        ws,
        db,
        "report.html",
        store_id=period.store_id,
        view=view,
        reports=views.REPORTS,
        presets=views.PRESETS,
        granularities=GRANULARITIES,
        granularity=granularity,
        preset=period.preset,
        start=period.start,
        end=period.end,
        csv_url=views.csv_url(view, period),
        xlsx_url=views.xlsx_url(view, period),
    )
