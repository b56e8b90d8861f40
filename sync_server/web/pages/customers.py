"""Pelanggan: the chain's customers, each one's sales and points, the top customers of a
period, and the points rule (Poin pelanggan).

Customers belong to the chain; the sales and the top customers shown are the outlet's
(a manager's own; an admin picks one). Everything goes through the customers service;
downloads are the top-customers API's CSV and Excel files.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from shared.models.customers import (
    CustomerIn,
    LoyaltySettings,
    PointsAdjustIn,
    PointsMoveKind,
    local_phone,
)
from shared.timezones import store_zone
from sync_server.core.database import Database, DbDep
from sync_server.core.errors import AppError
from sync_server.customers import service
from sync_server.web import views
from sync_server.web.deps import (
    AdminPostDep,
    PageDep,
    PostDep,
    back,
    page_router,
    render,
    render_for_store,
    report_store_id,
    store_timezone,
)
from sync_server.web.forms import WebDate

router = page_router()

PAGE_SIZE = 50

MOVE_LABELS = {
    PointsMoveKind.EARN.value: "Didapat",
    PointsMoveKind.REDEEM.value: "Ditukar",
    PointsMoveKind.REFUND.value: "Retur",
    PointsMoveKind.VOID.value: "Pembatalan",
    PointsMoveKind.ADJUST.value: "Koreksi",
}
"""Why points moved, as the manager reads it."""

_FIELD_NAMES = {
    "name": "Nama",
    "phone": "Nomor HP",
    "email": "E-mail",
    "points": "Poin",
    "reason": "Alasan",
    "earn_points": "Poin didapat",
    "earn_per_rupiah": "Setiap belanja",
    "point_value": "Nilai 1 poin",
}


def _number(value: str | None, *, high: int = 10**12) -> int | None:
    text = (value or "").strip().replace(".", "").removeprefix("Rp").strip()
    if not text.isdigit() or len(text) > 13:
        return None
    found = int(text)
    return found if found <= high else None


def _signed(value: str | None) -> int | None:
    text = (value or "").strip().replace(".", "").replace(" ", "")
    negative = text.startswith("-")
    found = _number(text.lstrip("+-"), high=10**9)
    if found is None:
        return None
    return -found if negative else found


def _problems(exc: ValidationError) -> list[str]:
    """A form's refusal in Bahasa Indonesia, one line per field."""
    lines = []
    for err in exc.errors():
        field = str(err.get("loc", ("",))[-1]) if err.get("loc") else ""
        label = _FIELD_NAMES.get(field, "Isian")
        if field == "phone":
            lines.append(f"{label}: tulis 08…, 628… atau +628… (8–12 digit setelah 0).")
        elif field == "email":
            lines.append(f"{label}: alamat e-mail tidak sah.")
        elif field == "name":
            lines.append(f"{label}: 1 sampai 100 huruf.")
        elif field == "reason":
            lines.append(f"{label}: tulis alasannya.")
        elif field in ("points", "earn_points", "earn_per_rupiah", "point_value"):
            lines.append(f"{label}: isi bilangan bulat yang sah (bukan 0).")
        else:
            lines.append("Isian tidak sah: periksa kembali formulirnya.")
    return list(dict.fromkeys(lines))


def _typed_customer(name: str, phone: str, email: str) -> dict[str, str]:
    """The customer form as typed, cut to what the columns hold."""
    return {"name": name[:200], "phone": phone[:32], "email": email[:254]}


def _customer_in(form: dict[str, str]) -> CustomerIn:
    return CustomerIn(name=form["name"], phone=form["phone"], email=form["email"] or None)


def _refusal(exc: ValidationError | AppError) -> tuple[int, list[str]]:
    """A refused customer form: its status code and the sentences it shows."""
    if isinstance(exc, ValidationError):
        return 422, _problems(exc)
    return exc.status_code, [views.error_text(exc)]


def _period(tz: str, start: date | None, end: date | None) -> tuple[date, date]:
    from datetime import datetime

    today = datetime.now(store_zone(tz)).date()
    last = end or today
    first = start or last - timedelta(days=29)
    return (first, last) if first <= last else (last, first)


def _customers_page(
    request: Request,
    ws: Any,
    db: Database,
    *,
    q: str = "",
    offset: int = 0,
    store_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
    errors: list[str] | None = None,
) -> HTMLResponse:
    sid = report_store_id(db, ws, store_id)
    tz = store_timezone(request)
    query = q.strip()[:100]
    page = service.list_customers(db, q=query, limit=PAGE_SIZE, offset=offset)
    first, last = _period(tz, start, end)
    top = service.top_customers(
        db, user=ws.user, store_id=sid, day_from=first, day_to=last, limit=10
    )
    period_query = urlencode(
        {"store_id": sid, "day_from": first.isoformat(), "day_to": last.isoformat()}
    )
    here = "/web/customers?" + urlencode({k: v for k, v in {"q": query}.items() if v})
    return render_for_store(
        request,
        ws,
        db,
        "customers.html",
        store_id=sid,
        status_code=status_code,
        page=page,
        q=query,
        top=top,
        start=first.isoformat(),
        end=last.isoformat(),
        period_label=f"{first:%d/%m/%Y} – {last:%d/%m/%Y}",
        download=f"/api/v1/customers/top?{period_query}&limit=200",
        local_phone=local_phone,
        form=form or {"name": "", "phone": "", "email": ""},
        errors=errors or [],
        tz=tz,
        next_url=f"{here}&offset={offset + PAGE_SIZE}" if offset + PAGE_SIZE < page.total else None,
        prev_url=f"{here}&offset={max(0, offset - PAGE_SIZE)}" if offset else None,
    )


@router.get("/customers")
def customers(
    request: Request,
    ws: PageDep,
    db: DbDep,
    q: str = "",
    offset: str | None = None,
    store_id: str | None = None,
    start: WebDate = None,
    end: WebDate = None,
) -> HTMLResponse:
    """Customers by name (search by name, phone digits or e-mail), the top customers of
    the period, and a form to add one."""
    return _customers_page(
        request,
        ws,
        db,
        q=q,
        offset=_number(offset, high=1_000_000) or 0,
        store_id=_number(store_id),
        start=start,
        end=end,
    )


@router.post("/customers")
def add_customer(
    request: Request,
    ws: PostDep,
    db: DbDep,
    name: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
) -> Response:
    """Add a customer; a refusal shows the form again with what was typed."""
    form = _typed_customer(name, phone, email)
    try:
        made = service.create_customer(db, body=_customer_in(form), store_id=ws.user.store_id)
    except (ValidationError, AppError) as exc:
        code, errors = _refusal(exc)
        return _customers_page(request, ws, db, status_code=code, form=form, errors=errors)
    return back(f"/web/customers/{made.id}", f"Pelanggan {made.name} ditambahkan.")


def _customer_page(
    request: Request,
    ws: Any,
    db: Database,
    customer_id: uuid.UUID,
    *,
    store_id: int | None = None,
    status_code: int = 200,
    errors: list[str] | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    sid = report_store_id(db, ws, store_id)
    history = service.customer_history(db, user=ws.user, customer_id=customer_id, store_id=sid)
    customer = history.customer
    return render_for_store(
        request,
        ws,
        db,
        "customer.html",
        store_id=sid,
        status_code=status_code,
        history=history,
        customer=customer,
        phone=local_phone(customer.phone),
        form=form
        or {
            "name": customer.name,
            "phone": local_phone(customer.phone),
            "email": customer.email or "",
        },
        move_labels=MOVE_LABELS,
        errors=errors or [],
        tz=store_timezone(request),
    )


@router.get("/customers/{customer_id}")
def customer(
    request: Request,
    customer_id: uuid.UUID,
    ws: PageDep,
    db: DbDep,
    store_id: str | None = None,
) -> HTMLResponse:
    """One customer: balance, details, sales in the outlet and every points move."""
    return _customer_page(request, ws, db, customer_id, store_id=_number(store_id))


@router.post("/customers/{customer_id}")
def edit_customer(
    request: Request,
    customer_id: uuid.UUID,
    ws: PostDep,
    db: DbDep,
    name: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
) -> Response:
    """Change a customer's name, phone number or e-mail."""
    form = _typed_customer(name, phone, email)
    try:
        service.update_customer(db, customer_id=customer_id, body=_customer_in(form))
    except (ValidationError, AppError) as exc:
        code, errors = _refusal(exc)
        return _customer_page(
            request, ws, db, customer_id, status_code=code, form=form, errors=errors
        )
    return back(f"/web/customers/{customer_id}", "Data pelanggan disimpan.")


@router.post("/customers/{customer_id}/points")
def adjust_points(
    request: Request,
    customer_id: uuid.UUID,
    ws: PostDep,
    db: DbDep,
    points: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Correct a customer's points with a reason (kept as a ``Koreksi`` move)."""
    amount = _signed(points)
    try:
        body = PointsAdjustIn(points=amount if amount is not None else 0, reason=reason[:200])
        service.adjust_points(db, user=ws.user, customer_id=customer_id, body=body)
    except ValidationError as exc:
        return _customer_page(request, ws, db, customer_id, status_code=422, errors=_problems(exc))
    return back(f"/web/customers/{customer_id}", f"Poin dikoreksi {body.points:+d}.")


@router.get("/loyalty")
def loyalty(request: Request, ws: PageDep, db: DbDep) -> HTMLResponse:
    """The points rule: on or off, what a rupiah earns, what a point is worth."""
    return render(
        request,
        ws,
        "loyalty_settings.html",
        settings=service.get_loyalty(db),
        tz=store_timezone(request),
    )


@router.post("/loyalty")
def set_loyalty(
    request: Request,
    ws: AdminPostDep,
    db: DbDep,
    enabled: Annotated[str, Form()] = "",
    earn_points: Annotated[str, Form()] = "",
    earn_per_rupiah: Annotated[str, Form()] = "",
    point_value: Annotated[str, Form()] = "",
) -> Response:
    """Set the rule; it applies to sales the tills push from now on."""
    try:
        body = LoyaltySettings(
            enabled=enabled == "on",
            earn_points=_number(earn_points, high=10**9) or 0,
            earn_per_rupiah=_number(earn_per_rupiah) or 0,
            point_value=_number(point_value) or 0,
        )
    except ValidationError as exc:
        current = service.get_loyalty(db)
        return render(
            request,
            ws,
            "loyalty_settings.html",
            status_code=422,
            settings=current,
            errors=_problems(exc),
            tz=store_timezone(request),
        )
    service.set_loyalty(db, user=ws.user, body=body)
    return back("/web/loyalty", "Aturan poin disimpan.")
