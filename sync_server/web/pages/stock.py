"""Stock pages: on hand, a product's moves, goods received and stock takes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ValidationError

from sync_server.catalog import service as catalog_service
from sync_server.core.database import Database, DbDep
from sync_server.core.errors import AppError
from sync_server.stock import service as stock_service
from sync_server.stock.schemas import CountIn, ReceiveIn
from sync_server.web import forms, views
from sync_server.web.access import WebSession
from sync_server.web.deps import (
    PageDep,
    PostDep,
    back,
    current_store_id,
    page_router,
    render,
    run,
    store_timezone,
)

router = page_router()


@router.get("/stock")
def stock(
    request: Request,
    ws: PageDep,
    db: DbDep,
    only: str | None = None,
    store_id: int | None = None,
) -> HTMLResponse:
    """On hand per product; negative and low stock flagged or filtered."""
    sid = current_store_id(db, ws, store_id)
    chosen = only if only in ("negative", "low") else None
    levels = (
        run(db, stock_service.store_levels, user=ws.user, store_id=sid, only=chosen, limit=2000)
        if sid
        else []
    )
    return render(request, ws, "stock.html", levels=levels, only=chosen, store_id=sid)


@router.get("/stock/{product_id}/moves")
def stock_moves(
    request: Request, product_id: int, ws: PageDep, db: DbDep, store_id: int | None = None
) -> HTMLResponse:
    """One product's movement history, newest first."""
    sid = current_store_id(db, ws, store_id)
    product = run(db, catalog_service.get_product, product_id=product_id)
    moves = run(db, stock_service.store_moves, user=ws.user, store_id=sid, product_id=product_id)
    return render(
        request, ws, "stock_moves.html", product=product, moves=moves, tz=store_timezone(request)
    )


def _stock_form(
    request: Request,
    ws: WebSession,
    kind: str,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    extra.setdefault("rows", [("", "")] * 8)
    return render(request, ws, "stock_form.html", status_code=status_code, kind=kind, **extra)


@router.get("/stock/receive")
def receive_form(request: Request, ws: PageDep) -> HTMLResponse:
    """Goods received: SKU or barcode and quantity per line."""
    return _stock_form(request, ws, "receive")


@router.get("/stock/count")
def count_form(request: Request, ws: PageDep) -> HTMLResponse:
    """Stock take: SKU or barcode and the counted quantity per line."""
    return _stock_form(request, ws, "count")


def _stock_post(
    request: Request,
    ws: WebSession,
    db: Database,
    kind: str,
    codes: list[str],
    quantities: list[str],
    note: str,
) -> Response:
    lines, errors = forms.parse_code_lines(codes, quantities)
    ids, unknown = run(db, catalog_service.product_ids_by_code, codes=[line.code for line in lines])
    errors += [f"SKU/barcode {code} tidak dikenal." for code in unknown]
    if not errors:
        sid = current_store_id(db, ws, None)
        try:
            body = forms.stock_request(kind, store_id=sid, lines=lines, product_ids=ids, note=note)
            if kind == "receive":
                assert isinstance(body, ReceiveIn)
                stock_service.receive_stock(db, user=ws.user, body=body)
            else:
                assert isinstance(body, CountIn)
                stock_service.count_stock(db, user=ws.user, body=body)
        except (AppError, ValidationError) as exc:
            errors = views.error_messages(exc)
    if errors:
        rows = list(zip(codes, quantities, strict=False))
        return _stock_form(request, ws, kind, status_code=422, errors=errors, rows=rows, note=note)
    done = "Barang masuk dicatat" if kind == "receive" else "Hasil hitung stok dicatat"
    return back("/web/stock", f"{done} ({len(lines)} baris).")


class StockLinesForm(BaseModel):
    """The receive and count forms: one code and quantity per line, and a note."""

    code: list[str]
    quantity: list[str]
    note: str = ""


@router.post("/stock/receive")
def receive(
    request: Request, ws: PostDep, db: DbDep, form: Annotated[StockLinesForm, Form()]
) -> Response:
    """Record a delivery (one ``receive`` move per line)."""
    return _stock_post(request, ws, db, "receive", form.code, form.quantity, form.note)


@router.post("/stock/count")
def count(
    request: Request, ws: PostDep, db: DbDep, form: Annotated[StockLinesForm, Form()]
) -> Response:
    """Record a stock take (on hand becomes what was counted)."""
    return _stock_post(request, ws, db, "count", form.code, form.quantity, form.note)
