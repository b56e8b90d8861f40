"""The tills of a store: sync health, enrollment codes, revoking, rejected events."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from shared.models import EnrollmentCodeRequest
from sync_server.auth import service as auth_service
from sync_server.core.database import Database, DbDep
from sync_server.core.errors import AppError
from sync_server.reports import service as reports_service
from sync_server.reports.registry import EVENT_TYPE_LABELS
from sync_server.web import views
from sync_server.web.access import WebSession
from sync_server.web.deps import (
    PageDep,
    PostDep,
    back,
    page_router,
    render_for_store,
    report_store_id,
    store_timezone,
)

router = page_router()


def _terminals_page(
    request: Request,
    ws: WebSession,
    db: Database,
    store_id: int | None,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    sid = report_store_id(db, ws, store_id)
    return render_for_store(
        request,
        ws,
        db,
        "terminals.html",
        store_id=sid,
        status_code=status_code,
        terminals=reports_service.terminal_health(db, store_id=sid),
        rejected=reports_service.rejected_events(db, store_id=sid),
        event_labels=EVENT_TYPE_LABELS,
        rejection_text=views.rejection_text,
        tz=store_timezone(request),
        **extra,
    )


@router.get("/terminals")
def terminals(
    request: Request, ws: PageDep, db: DbDep, store_id: int | None = None
) -> HTMLResponse:
    """Tills of the store, their sync health and their rejected events."""
    return _terminals_page(request, ws, db, store_id)


@router.post("/terminals/enroll")
def enroll_terminal(
    request: Request,
    ws: PostDep,
    db: DbDep,
    terminal_code: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    store_id: Annotated[int | None, Form()] = None,
) -> HTMLResponse:
    """Make a one-time enrollment code and show it once."""
    sid = report_store_id(db, ws, store_id)
    try:
        code = auth_service.create_enrollment_code(
            db=db,
            request=EnrollmentCodeRequest(
                store_id=sid, terminal_code=terminal_code.strip().upper(), name=name.strip()
            ),
            actor=ws.user,
        )
    except (AppError, ValidationError) as exc:
        return _terminals_page(
            request, ws, db, sid, status_code=422, errors=views.error_messages(exc)
        )
    return _terminals_page(request, ws, db, sid, enrollment=code)


@router.post("/terminals/{terminal_id}/revoke")
def revoke_terminal(terminal_id: int, ws: PostDep, db: DbDep) -> Response:
    """Stop a till's device token at once."""
    out = auth_service.revoke_terminal(db=db, terminal_id=terminal_id, actor=ws.user)
    return back(f"/web/terminals?store_id={out.store_id}", f"Akses terminal {out.code} dicabut.")


@router.post("/terminals/rejected/{event_id}/resolve")
def resolve_rejected(
    event_id: uuid.UUID,
    ws: PostDep,
    db: DbDep,
    note: Annotated[str, Form()] = "",
) -> Response:
    """Mark a rejected event as dealt with, with what was done about it."""
    reports_service.resolve_rejected(
        db, user=ws.user, event_id=event_id, note=note.strip() or "ditandai selesai"
    )
    return back("/web/terminals", "Transaksi yang ditolak ditandai selesai.")
