"""Perlu perhatian: what tills claimed that the server could not verify, and resolving it.

The list of a store's flags (a manager's own store; an admin picks one), narrowed by
kind, till, cashier, days and status, each in plain Indonesian with a form to resolve
it with a note. Everything goes through the flags service.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response

from sync_server.core.database import Database, DbDep
from sync_server.flags import service as flags_service
from sync_server.flags.models import FlagKind
from sync_server.flags.schemas import FlagQuery
from sync_server.web import views
from sync_server.web.access import WebSession, safe_next
from sync_server.web.deps import (
    PageDep,
    PostDep,
    back,
    page_router,
    render_for_store,
    report_store_id,
    store_timezone,
)
from sync_server.web.forms import WebDate

router = page_router()

PAGE_SIZE = 50


def _int(value: str | None) -> int | None:
    """A filter's number, or None when empty or not a number (a form sends "")."""
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def _flags_page(
    request: Request,
    ws: WebSession,
    db: Database,
    *,
    store_id: int | None,
    query: dict[str, str | None],
    day_from: date | None = None,
    day_to: date | None = None,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    sid = report_store_id(db, ws, store_id)
    kind = query.get("kind") if query.get("kind") in set(FlagKind) else None
    status = query.get("status") if query.get("status") in views.FLAG_STATUSES else "open"
    terminal_id, cashier_id = _int(query.get("terminal_id")), _int(query.get("cashier_id"))
    offset = _int(query.get("offset")) or 0
    found = flags_service.list_flags(
        db,
        user=ws.user,
        query=FlagQuery(
            store_id=sid,
            kind=FlagKind(kind) if kind else None,
            terminal_id=terminal_id,
            cashier_id=cashier_id,
            day_from=day_from,
            day_to=day_to,
            resolved=None if status == "all" else status == "resolved",
            limit=PAGE_SIZE,
            offset=min(offset, 1_000_000),
        ),
    )
    choices = flags_service.flag_choices(db, user=ws.user, store_id=sid)
    filters = {
        "store_id": sid,
        "kind": kind or "",
        "terminal_id": terminal_id or "",
        "cashier_id": cashier_id or "",
        "day_from": day_from or "",
        "day_to": day_to or "",
        "status": status,
    }
    here = "/web/flags?" + views.form_query(filters)
    return render_for_store(
        request,
        ws,
        db,
        "flags.html",
        store_id=sid,
        status_code=status_code,
        rows=views.flag_rows(
            found.items, terminals=choices.terminals, timezone=store_timezone(request)
        ),
        page=found,
        choices=choices,
        kinds=views.FLAG_KIND_LABELS,
        statuses=views.FLAG_STATUSES,
        filters=filters,
        here=here,
        status_links={
            key: "/web/flags?"
            + urlencode({**{k: v for k, v in filters.items() if v != ""}, "status": key})
            for key in views.FLAG_STATUSES
        },
        next_url=f"{here}&offset={offset + PAGE_SIZE}"
        if offset + PAGE_SIZE < found.total
        else None,
        prev_url=f"{here}&offset={max(0, offset - PAGE_SIZE)}" if offset else None,
        tz=store_timezone(request),
        **extra,
    )


@router.get("/flags")
def flags(
    request: Request,
    ws: PageDep,
    db: DbDep,
    store_id: str | None = None,
    kind: str | None = None,
    terminal_id: str | None = None,
    cashier_id: str | None = None,
    day_from: WebDate = None,
    day_to: WebDate = None,
    status: str | None = None,
    offset: str | None = None,
) -> HTMLResponse:
    """The store's flags, open ones first by default, newest first."""
    return _flags_page(
        request,
        ws,
        db,
        store_id=_int(store_id),
        query={
            "kind": kind,
            "terminal_id": terminal_id,
            "cashier_id": cashier_id,
            "status": status,
            "offset": offset,
        },
        day_from=day_from,
        day_to=day_to,
    )


@router.post("/flags/{flag_id}/resolve")
def resolve_flag(
    request: Request,
    flag_id: int,
    ws: PostDep,
    db: DbDep,
    note: Annotated[str, Form()] = "",
    store_id: Annotated[str, Form()] = "",
    back_to: Annotated[str, Form()] = "",
) -> Response:
    """Resolve a flag: who (the signed-in manager), when (now) and why (the note)."""
    target = safe_next(back_to)
    if not target.startswith("/web/flags"):
        target = "/web/flags"
    note = note.strip()
    if not note:
        return _flags_page(
            request,
            ws,
            db,
            store_id=_int(store_id),
            query={},
            status_code=422,
            errors=[f"Tanda #{flag_id}: tulis catatan mengapa tanda ini dianggap selesai."],
        )
    flags_service.resolve_flag(db, user=ws.user, flag_id=flag_id, note=note[:500])
    return back(target, f"Tanda #{flag_id} diselesaikan.")
