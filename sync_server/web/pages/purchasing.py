"""Purchasing pages: purchase orders (and receiving them), suppliers, stock requests and
the low-stock suggestions, under ``/web/purchasing``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ValidationError

from shared.models import RowId
from sync_server.core.database import Database, DbDep
from sync_server.core.errors import AppError, NotFound
from sync_server.purchasing import service
from sync_server.purchasing.schemas import (
    PO_STATUS_LABELS,
    REQUEST_STATUS_LABELS,
    OrderLineIn,
    OrderReceiptIn,
    PurchaseOrderIn,
    ReceiptLineIn,
    RequestLineIn,
    StockRequestIn,
    SupplierIn,
    ToOrderIn,
)
from sync_server.web import views
from sync_server.web.access import WebSession
from sync_server.web.deps import (
    PageDep,
    PostDep,
    back,
    current_store_id,
    page_router,
    render,
    render_for_store,
    store_timezone,
)
from sync_server.web.pages.stock import parse_lines, typed_rows

router = page_router()

BLANK_LINES = 8


def _tz(request: Request) -> str:
    return store_timezone(request)


def _form_id(text: str) -> int:
    """A row id typed or posted; 0 (which no row has) when it is not one."""
    text = text.strip()
    return int(text) if text.isdigit() and 0 < len(text) <= 18 else 0


def _supplier_id(text: str) -> int:
    """The supplier chosen on a form, or a 404 page naming what was sent."""
    found = _form_id(text)
    if not found:
        raise NotFound("supplier_not_found", code="supplier_not_found", supplier_id=text[:20])
    return found


# --- purchase orders ---------------------------------------------------------------------


@router.get("/purchasing")
def orders(
    request: Request,
    ws: PageDep,
    db: DbDep,
    status: str | None = None,
    store_id: int | None = None,
) -> HTMLResponse:
    """The store's purchase orders (by status), and what low stock suggests ordering."""
    sid = current_store_id(db, ws, store_id)
    chosen = status if status in PO_STATUS_LABELS else None
    found = service.list_orders(db, user=ws.user, store_id=sid, status=chosen) if sid else []
    suggestions = service.suggestions(db, user=ws.user, store_id=sid) if sid else []
    return render_for_store(
        request,
        ws,
        db,
        "purchase_orders.html",
        store_id=sid,
        orders=found,
        status=chosen,
        statuses=PO_STATUS_LABELS,
        suggestions=suggestions,
        suppliers=service.list_suppliers(db, active_only=True),
        tz=_tz(request),
    )


def _order_form(
    request: Request, ws: WebSession, db: Database, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    extra.setdefault("rows", [("", "", "")] * BLANK_LINES)
    return render(
        request,
        ws,
        "purchase_order_form.html",
        status_code=status_code,
        suppliers=service.list_suppliers(db, active_only=True),
        **extra,
    )


@router.get("/purchasing/orders/new")
def new_order(request: Request, ws: PageDep, db: DbDep) -> HTMLResponse:
    """A new draft order: a supplier and lines of product, quantity and cost."""
    return _order_form(request, ws, db)


class OrderForm(BaseModel):
    """The new-order form."""

    supplier_id: str = ""
    code: list[str] = []
    quantity: list[str] = []
    cost: list[str] = []
    note: str = ""


@router.post("/purchasing/orders/new")
def create_order(
    request: Request, ws: PostDep, db: DbDep, form: Annotated[OrderForm, Form()]
) -> Response:
    """Save the draft, then show it."""
    lines, errors = parse_lines(db, form.code, form.quantity, form.cost)
    missing_cost = [ln.name for ln in lines if ln.cost is None]
    if missing_cost:
        errors.append("Isi harga beli per satuan untuk: " + ", ".join(missing_cost) + ".")
    order = None
    if not errors:
        try:
            body = PurchaseOrderIn(
                store_id=current_store_id(db, ws, None),
                supplier_id=_supplier_id(form.supplier_id),
                lines=[
                    OrderLineIn(
                        product_id=ln.product_id, quantity=ln.quantity, unit_cost=ln.cost or 0
                    )
                    for ln in lines
                ],
                note=form.note,
            )
            order = service.create_order(db, user=ws.user, body=body)
        except (AppError, ValidationError) as exc:
            errors = views.error_messages(exc)
    if errors or order is None:
        return _order_form(
            request,
            ws,
            db,
            status_code=422,
            errors=errors,
            rows=typed_rows(form.code, form.quantity, form.cost),
            note=form.note,
            supplier_id=form.supplier_id,
        )
    return back(f"/web/purchasing/orders/{order.id}", "Draf pesanan pembelian dibuat.")


@router.get("/purchasing/orders/{order_id}")
def order(request: Request, order_id: RowId, ws: PageDep, db: DbDep) -> HTMLResponse:
    """One order: its lines, what arrived, its steps and (sent or partly received) the
    receiving form."""
    return _order_page(request, ws, db, order_id)


def _order_page(
    request: Request,
    ws: WebSession,
    db: Database,
    order_id: RowId,
    status_code: int = 200,
    errors: list[str] | None = None,
) -> HTMLResponse:
    found = service.get_order(db, user=ws.user, order_id=_form_id(str(order_id)))
    return render(
        request,
        ws,
        "purchase_order.html",
        status_code=status_code,
        errors=errors or [],
        order=found,
        receipt_id=str(uuid.uuid4()),
        tz=_tz(request),
    )


@router.post("/purchasing/orders/{order_id}/send")
def send_order(order_id: RowId, ws: PostDep, db: DbDep) -> Response:
    """``draft → sent``."""
    service.send_order(db, user=ws.user, order_id=order_id)
    return back(f"/web/purchasing/orders/{order_id}", "Pesanan dikirim ke pemasok.")


@router.post("/purchasing/orders/{order_id}/cancel")
def cancel_order(order_id: RowId, ws: PostDep, db: DbDep) -> Response:
    """``draft|sent → cancelled``."""
    service.cancel_order(db, user=ws.user, order_id=order_id)
    return back(f"/web/purchasing/orders/{order_id}", "Pesanan dibatalkan.")


class ReceiveForm(BaseModel):
    """The receiving form of an order: per order line, what arrived and its cost."""

    receipt_id: str = ""
    product_id: list[str] = []
    quantity: list[str] = []
    cost: list[str] = []
    note: str = ""


@router.post("/purchasing/orders/{order_id}/receive")
def receive_order(
    request: Request,
    order_id: RowId,
    ws: PostDep,
    db: DbDep,
    form: Annotated[ReceiveForm, Form()],
) -> Response:
    """Receive goods against the order (the same form sent twice is applied once)."""
    errors: list[str] = []
    lines = []
    for n, (pid, qty) in enumerate(zip(form.product_id, form.quantity, strict=False), start=1):
        qty = qty.strip().replace(".", "")
        cost = (form.cost[n - 1] if n - 1 < len(form.cost) else "").strip().replace(".", "")
        if not qty or qty == "0":
            continue
        if not qty.isdigit() or not pid.isdigit() or (cost and not cost.isdigit()):
            errors.append(f"Baris {n}: jumlah dan harga beli harus bilangan bulat.")
            continue
        lines.append((int(pid), int(qty), int(cost) if cost else None))
    if not lines and not errors:
        errors.append("Isi jumlah yang datang paling sedikit satu baris.")
    if not errors:
        try:
            body = OrderReceiptIn(
                receipt_id=uuid.UUID(form.receipt_id) if form.receipt_id else uuid.uuid4(),
                lines=[ReceiptLineIn(product_id=p, quantity=q, unit_cost=c) for p, q, c in lines],
                note=form.note,
            )
            done = service.receive_order(db, user=ws.user, order_id=order_id, body=body)
        except (AppError, ValidationError, ValueError) as exc:
            errors = views.error_messages(exc)
    if errors:
        return _order_page(request, ws, db, order_id, status_code=422, errors=errors)
    word = "sudah dicatat sebelumnya" if done.duplicate else "dicatat"
    return back(f"/web/purchasing/orders/{order_id}", f"Barang datang {word}.")


class SuggestionForm(BaseModel):
    """Turn the low-stock suggestions into a draft order from one supplier."""

    supplier_id: str = ""


@router.post("/purchasing/suggestions/to-po")
def suggestions_to_order(
    ws: PostDep, db: DbDep, form: Annotated[SuggestionForm, Form()]
) -> Response:
    """A draft order of what low stock suggests."""
    body = ToOrderIn(
        supplier_id=_supplier_id(form.supplier_id), store_id=current_store_id(db, ws, None)
    )
    made = service.suggestions_to_order(db, user=ws.user, body=body)
    return back(f"/web/purchasing/orders/{made.id}", "Draf pesanan dari saran stok rendah dibuat.")


# --- suppliers -------------------------------------------------------------------------


@router.get("/purchasing/suppliers")
def suppliers(request: Request, ws: PageDep, db: DbDep) -> HTMLResponse:
    """Every supplier."""
    return render(
        request, ws, "suppliers.html", suppliers=service.list_suppliers(db), tz=_tz(request)
    )


class SupplierForm(BaseModel):
    """The supplier form."""

    name: str = ""
    phone: str = ""
    address: str = ""
    note: str = ""
    active: str = ""


def _supplier_form(
    request: Request,
    ws: WebSession,
    supplier_id: int | None,
    values: dict[str, Any],
    status_code: int = 200,
    errors: list[str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        ws,
        "supplier_form.html",
        status_code=status_code,
        supplier_id=supplier_id,
        supplier=values,
        errors=errors or [],
    )


@router.get("/purchasing/suppliers/new")
def new_supplier(request: Request, ws: PageDep) -> HTMLResponse:
    """An empty supplier form."""
    return _supplier_form(request, ws, None, {"active": True})


@router.get("/purchasing/suppliers/{supplier_id}")
def edit_supplier(request: Request, supplier_id: RowId, ws: PageDep, db: DbDep) -> HTMLResponse:
    """A supplier's form."""
    found = service.get_supplier(db, supplier_id=supplier_id)
    return _supplier_form(request, ws, supplier_id, found.model_dump())


def _save_supplier(
    request: Request, ws: WebSession, db: Database, supplier_id: int | None, form: SupplierForm
) -> Response:
    values = form.model_dump() | {"active": form.active in ("on", "1", "true")}
    try:
        body = SupplierIn(**values)
        if supplier_id is None:
            service.create_supplier(db, body=body)
        else:
            service.update_supplier(db, supplier_id=supplier_id, body=body)
    except (AppError, ValidationError) as exc:
        return _supplier_form(
            request, ws, supplier_id, values, status_code=422, errors=views.error_messages(exc)
        )
    return back("/web/purchasing/suppliers", f"Pemasok {body.name} disimpan.")


@router.post("/purchasing/suppliers/new")
def create_supplier(
    request: Request, ws: PostDep, db: DbDep, form: Annotated[SupplierForm, Form()]
) -> Response:
    """Add a supplier."""
    return _save_supplier(request, ws, db, None, form)


@router.post("/purchasing/suppliers/{supplier_id}")
def update_supplier(
    request: Request,
    supplier_id: RowId,
    ws: PostDep,
    db: DbDep,
    form: Annotated[SupplierForm, Form()],
) -> Response:
    """Change a supplier."""
    return _save_supplier(request, ws, db, supplier_id, form)


# --- stock requests --------------------------------------------------------------------


@router.get("/purchasing/requests")
def requests(request: Request, ws: PageDep, db: DbDep, store_id: int | None = None) -> HTMLResponse:
    """The store's stock requests, their decisions, and a form for a new one."""
    return _requests_page(request, ws, db, store_id)


def _requests_page(
    request: Request,
    ws: WebSession,
    db: Database,
    store_id: int | None,
    status_code: int = 200,
    errors: list[str] | None = None,
    rows: list[tuple[str, str, str]] | None = None,
    note: str = "",
) -> HTMLResponse:
    sid = current_store_id(db, ws, store_id)
    found = service.list_requests(db, user=ws.user, store_id=sid) if sid else []
    return render_for_store(
        request,
        ws,
        db,
        "stock_requests.html",
        status_code=status_code,
        errors=errors or [],
        store_id=sid,
        requests=found,
        statuses=REQUEST_STATUS_LABELS,
        suppliers=service.list_suppliers(db, active_only=True),
        rows=rows or [("", "", "")] * 5,
        note=note,
        tz=_tz(request),
    )


class RequestForm(BaseModel):
    """The new-request form."""

    code: list[str] = []
    quantity: list[str] = []
    note: str = ""


@router.post("/purchasing/requests/new")
def create_request(
    request: Request, ws: PostDep, db: DbDep, form: Annotated[RequestForm, Form()]
) -> Response:
    """Ask for stock."""
    lines, errors = parse_lines(db, form.code, form.quantity)
    if not errors:
        try:
            body = StockRequestIn(
                store_id=current_store_id(db, ws, None),
                lines=[
                    RequestLineIn(product_id=ln.product_id, quantity=ln.quantity) for ln in lines
                ],
                note=form.note,
            )
            service.create_request(db, user=ws.user, body=body)
        except (AppError, ValidationError) as exc:
            errors = views.error_messages(exc)
    if errors:
        rows = typed_rows(form.code, form.quantity, [])
        return _requests_page(
            request, ws, db, None, status_code=422, errors=errors, rows=rows, note=form.note
        )
    return back("/web/purchasing/requests", "Permintaan stok diajukan.")


@router.post("/purchasing/requests/{request_id}/approve")
def approve_request(request_id: RowId, ws: PostDep, db: DbDep) -> Response:
    """``requested → approved``."""
    service.approve_request(db, user=ws.user, request_id=request_id)
    return back("/web/purchasing/requests", f"Permintaan #{request_id} disetujui.")


@router.post("/purchasing/requests/{request_id}/reject")
def reject_request(request_id: RowId, ws: PostDep, db: DbDep) -> Response:
    """``requested → rejected``."""
    service.reject_request(db, user=ws.user, request_id=request_id)
    return back("/web/purchasing/requests", f"Permintaan #{request_id} ditolak.")


@router.post("/purchasing/requests/{request_id}/to-po")
def request_to_order(
    request_id: RowId, ws: PostDep, db: DbDep, form: Annotated[SuggestionForm, Form()]
) -> Response:
    """An approved request becomes a draft order (one click)."""
    body = ToOrderIn(supplier_id=_supplier_id(form.supplier_id))
    made = service.request_to_order(db, user=ws.user, request_id=request_id, body=body)
    return back(f"/web/purchasing/orders/{made.id}", f"Draf pesanan dari permintaan #{request_id}.")
