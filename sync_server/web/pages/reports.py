"""The dashboard and the report pages (each report is an entry of the reports registry)."""

from __future__ import annotations

from datetime import date

from fastapi import Request
from fastapi.responses import HTMLResponse

from sync_server.core.database import ReportsDbDep
from sync_server.core.errors import NotFound
from sync_server.reports import service as reports_service
from sync_server.reports.registry import GRANULARITIES, report_by_slug
from sync_server.reports.schemas import Granularity
from sync_server.web import views
from sync_server.web.deps import PageDep, page_router, render, report_store_id, store_choices

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
    return render(
        request,
        ws,
        "dashboard.html",
        board=views.dashboard_view(db=db, store_id=sid, exclude_flagged=exclude_flagged),
        stores=store_choices(db, ws),
        store_id=sid,
    )


@router.get("/reports/{slug}")
def report(
    request: Request,
    slug: str,
    ws: PageDep,
    db: ReportsDbDep,
    store_id: int | None = None,
    preset: str | None = None,
    start: date | None = None,
    end: date | None = None,
    granularity: Granularity = "day",
    exclude_flagged: bool = False,
) -> HTMLResponse:
    """One report over a period, as a chart and a table, with its CSV download."""
    sid = report_store_id(db, ws, store_id)
    today = reports_service.store_today(db, store_id=sid)
    first, last, chosen = views.report_period(today, preset=preset, start=start, end=end)
    entry = report_by_slug(slug)
    if entry is None:
        raise NotFound("Laporan tidak dikenal.", code="unknown_report")
    view = views.report_view(
        entry,
        db=db,
        store_id=sid,
        start=first,
        end=last,
        granularity=granularity,
        exclude_flagged=exclude_flagged,
    )
    return render(
        request,
        ws,
        "report.html",
        view=view,
        reports=views.REPORTS,
        presets=views.PRESETS,
        granularities=GRANULARITIES,
        granularity=granularity,
        preset=chosen,
        start=first,
        end=last,
        csv_url=views.csv_url(view, store_id=sid, start=first, end=last),
        stores=store_choices(db, ws),
        store_id=sid,
    )
