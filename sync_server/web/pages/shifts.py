"""Shift & kas: the tills' shifts with their drawer, one shift in full, and the daily
cash reconciliation of an outlet.

The expected cash on these pages is the server's own recomputation (the till's rule,
see :mod:`sync_server.sales.service`); what the till said at close is shown beside it
when they differ. Downloads are the shifts API's CSV and Excel files.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from sync_server.core.database import ReportsDbDep
from sync_server.core.errors import Invalid
from sync_server.reports.registry import payment_method_label
from sync_server.sales import service
from sync_server.web import views
from sync_server.web.deps import PageDep, page_router, render_for_store, report_store_id
from sync_server.web.forms import WebDate
from sync_server.web.pages.sales import clock, number, period, when

router = page_router()

PAGE_SIZE = 100

SHIFT_STATES = {"all": "Semua", "open": "Masih buka", "closed": "Sudah ditutup"}


@router.get("/shifts")
def shifts(
    request: Request,
    ws: PageDep,
    db: ReportsDbDep,
    store_id: str | None = None,
    start: WebDate = None,
    end: WebDate = None,
    terminal_id: str | None = None,
    state: str | None = None,
    offset: str | None = None,
) -> HTMLResponse:
    """Shifts opened in the period, newest first, with their drawer."""
    sid = report_store_id(db, ws, number(store_id))
    first, last = period(service.today_of(db, store_id=sid), start, end)
    chosen = state if state in SHIFT_STATES else "all"
    skip = number(offset, high=1_000_000) or 0
    page = service.list_shifts(
        db,
        store_id=sid,
        start=first,
        end=last,
        terminal_id=number(terminal_id),
        state=chosen,  # type: ignore[arg-type]
        limit=PAGE_SIZE,
        offset=skip,
    )
    form = {
        "store_id": sid,
        "start": first.isoformat(),
        "end": last.isoformat(),
        "terminal_id": number(terminal_id) or "",
        "state": chosen,
    }
    query = views.form_query(form)
    return render_for_store(
        request,
        ws,
        db,
        "shifts.html",
        store_id=sid,
        page=page,
        form=form,
        choices=service.choices(db, store_id=sid),
        states=SHIFT_STATES,
        when=when,
        clock=clock,
        next_url=f"/web/shifts?{query}&offset={skip + PAGE_SIZE}"
        if skip + PAGE_SIZE < page.total
        else None,
        prev_url=f"/web/shifts?{query}&offset={max(0, skip - PAGE_SIZE)}" if skip else None,
        **views.download_urls("shifts", query),
        cash_url=f"/web/cash?store_id={sid}",
    )


@router.get("/shifts/{shift_id}")
def shift(request: Request, shift_id: str, ws: PageDep, db: ReportsDbDep) -> HTMLResponse:
    """One shift: its drawer, cash moves and takings per method."""
    try:
        wanted = uuid.UUID(shift_id)
    except ValueError:
        raise Invalid("request_invalid") from None
    found = service.shift_detail(db, user=ws.user, shift_id=wanted)
    opened = found.opened_local.date()
    closed = found.closed_local.date() if found.closed_local else opened
    return render_for_store(
        request,
        ws,
        db,
        "shift_detail.html",
        store_id=found.store_id,
        shift=found,
        when=when,
        method_label=payment_method_label,
        sales_url="/web/sales?"
        + urlencode(
            {
                "store_id": found.store_id,
                "start": opened.isoformat(),
                "end": closed.isoformat(),
                "terminal_id": found.terminal_id,
            }
        ),
        cash_url=f"/web/cash?store_id={found.store_id}&day={opened.isoformat()}",
    )


@router.get("/cash")
def cash(
    request: Request,
    ws: PageDep,
    db: ReportsDbDep,
    store_id: str | None = None,
    day: WebDate = None,
) -> HTMLResponse:
    """The outlet's drawers of one day: every shift open at some moment of it."""
    sid = report_store_id(db, ws, number(store_id))
    today = service.today_of(db, store_id=sid)
    chosen = day or today
    recon = service.cash_reconciliation(db, store_id=sid, day=chosen)
    query = urlencode({"store_id": sid, "day": chosen.isoformat()})
    return render_for_store(
        request,
        ws,
        db,
        "cash_reconciliation.html",
        store_id=sid,
        recon=recon,
        day=chosen,
        today=today,
        when=when,
        clock=clock,
        prev_url=f"/web/cash?store_id={sid}&day={(chosen - timedelta(days=1)).isoformat()}",
        next_url=f"/web/cash?store_id={sid}&day={(chosen + timedelta(days=1)).isoformat()}"
        if chosen < today
        else None,
        shifts_url=f"/web/shifts?store_id={sid}&start={chosen}&end={chosen}",
        **views.download_urls("shifts/reconciliation", query),
    )
