"""Stock pages: on hand (paged by product id), a product's moves, goods received (with
the cost per unit) and stock takes; the product search behind their lines."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ValidationError

from shared.models import RowId
from sync_server.catalog import service as catalog_service
from sync_server.core.database import Database, DbDep
from sync_server.core.errors import AppError
from sync_server.purchasing import service as purchasing_service
from sync_server.stock import service as stock_service
from sync_server.stock.schemas import CountIn, CountLine, ReceiveIn, ReceiveLine
from sync_server.web import views
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

STOCK_PAGE = 2000
"""Rows of the stock page; the next page starts after the last product id shown."""


@router.get("/stock")
def stock(
    request: Request,
    ws: PageDep,
    db: DbDep,
    only: str | None = None,
    store_id: int | None = None,
    after: int | None = None,
) -> HTMLResponse:
    """On hand per product; negative and low stock flagged or filtered; paged by id."""
    sid = current_store_id(db, ws, store_id)
    chosen = only if only in ("negative", "low") else None
    start = after if after is not None and 0 <= after < 2**62 else None
    levels = (
        run(
            db,
            stock_service.store_levels,
            user=ws.user,
            store_id=sid,
            only=chosen,
            limit=STOCK_PAGE + 1,
            after=start,
        )
        if sid
        else []
    )
    more = len(levels) > STOCK_PAGE
    levels = levels[:STOCK_PAGE]
    return render(
        request,
        ws,
        "stock.html",
        levels=levels,
        only=chosen,
        store_id=sid,
        after=start,
        next_after=levels[-1].product_id if more else None,
    )


@router.get("/stock/lookup")
def lookup(ws: PageDep, db: DbDep, q: str = "", store_id: int | None = None) -> JSONResponse:
    """Products matching a name, SKU or barcode (the forms' search box shows the name)."""
    sid = current_store_id(db, ws, store_id)
    if sid is None or not q.strip():
        return JSONResponse([])
    found = purchasing_service.lookup_products(db, user=ws.user, store_id=sid, q=q)
    return JSONResponse(found)


@router.get("/stock/{product_id}/moves")
def stock_moves(
    request: Request, product_id: RowId, ws: PageDep, db: DbDep, store_id: int | None = None
) -> HTMLResponse:
    """One product's movement history, newest first."""
    sid = current_store_id(db, ws, store_id)
    product = run(db, catalog_service.get_product, product_id=product_id)
    moves = run(db, stock_service.store_moves, user=ws.user, store_id=sid, product_id=product_id)
    return render(
        request, ws, "stock_moves.html", product=product, moves=moves, tz=store_timezone(request)
    )


# --- lines typed on a form: a product (SKU, barcode or name), a quantity, maybe a cost --


@dataclass(frozen=True, slots=True)
class FormLine:
    """A form line resolved to a product."""

    product_id: int
    name: str
    quantity: int
    cost: int | None


def _whole(text: str) -> int | None:
    """A whole number as typed (thousands dots and ``Rp`` allowed); None if not one."""
    raw = text.strip().replace("Rp", "").replace(".", "").replace(" ", "")
    if raw.lstrip("-").isdigit() and len(raw) <= 15:
        return int(raw)
    return None


def parse_lines(
    db: Database,
    codes: list[str],
    quantities: list[str],
    costs: list[str] | None = None,
) -> tuple[list[FormLine], list[str]]:
    """Resolve a form's lines: each names a product by SKU, barcode or (one match of) its
    name; blank rows are skipped. Returns the lines and the sentences of what is wrong."""
    costs = costs or []
    rows = []
    errors: list[str] = []
    for n, (code, qty) in enumerate(zip(codes, quantities, strict=False), start=1):
        cost = costs[n - 1].strip() if n - 1 < len(costs) else ""
        if not code.strip() and not qty.strip() and not cost:
            continue
        if not code.strip():
            errors.append(f"Baris {n}: isi nama, SKU atau barcode produk.")
            continue
        value = _whole(qty)
        if value is None:
            errors.append(f"Baris {n}: jumlah {qty!r} bukan bilangan bulat.")
            continue
        unit_cost = _whole(cost) if cost else None
        if cost and unit_cost is None:
            errors.append(f"Baris {n}: harga beli {cost!r} bukan rupiah bulat.")
            continue
        rows.append((n, code.strip()[:200], value, unit_cost))
    if not rows and not errors:
        errors.append("Isi paling sedikit satu baris.")
    ids, _unknown = run(db, catalog_service.product_ids_by_code, codes=[r[1] for r in rows])
    names: dict[int, str] = {}
    lines = []
    for n, code, value, unit_cost in rows:
        pid = ids.get(code)
        if pid is None:
            page = run(db, catalog_service.list_products, q=code, limit=2)
            if page.total == 1:
                pid = page.items[0].id
                names[pid] = page.items[0].name
            elif page.total > 1:
                errors.append(
                    f"Baris {n}: {code!r} cocok dengan {page.total} produk; pilih dari daftar "
                    "atau tulis SKU-nya."
                )
                continue
            else:
                errors.append(f"Baris {n}: produk {code!r} tidak dikenal.")
                continue
        lines.append(
            FormLine(product_id=pid, name=names.get(pid, code), quantity=value, cost=unit_cost)
        )
    return lines, errors


def typed_rows(
    codes: list[str], quantities: list[str], costs: list[str]
) -> list[tuple[str, str, str]]:
    """A refused form's lines as typed (product, quantity, cost), to show them again."""
    return [
        (code, qty, costs[i] if i < len(costs) else "")
        for i, (code, qty) in enumerate(zip(codes, quantities, strict=False))
    ]


def _stock_form(
    request: Request,
    ws: WebSession,
    kind: str,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    extra.setdefault("rows", [("", "", "")] * 8)
    extra.setdefault("receipt_id", str(uuid.uuid4()))
    return render(request, ws, "stock_form.html", status_code=status_code, kind=kind, **extra)


@router.get("/stock/receive")
def receive_form(request: Request, ws: PageDep) -> HTMLResponse:
    """Goods received: a product (name, SKU or barcode), quantity and cost per line."""
    return _stock_form(request, ws, "receive")


@router.get("/stock/count")
def count_form(request: Request, ws: PageDep) -> HTMLResponse:
    """Stock take: a product (name, SKU or barcode) and the counted quantity per line."""
    return _stock_form(request, ws, "count")


def _stock_post(
    request: Request,
    ws: WebSession,
    db: Database,
    kind: str,
    form: StockLinesForm,
) -> Response:
    lines, errors = parse_lines(
        db, form.code, form.quantity, form.cost if kind == "receive" else None
    )
    if not errors:
        sid = current_store_id(db, ws, None)
        try:
            if kind == "receive":
                body = ReceiveIn(
                    store_id=sid,
                    lines=[
                        ReceiveLine(
                            product_id=ln.product_id, quantity=ln.quantity, unit_cost=ln.cost
                        )
                        for ln in lines
                    ],
                    note=form.note,
                    receipt_id=_receipt_id(form.receipt_id),
                )
                purchasing_service.receive_free(db, user=ws.user, body=body)
            else:
                count = CountIn(
                    store_id=sid,
                    lines=[
                        CountLine(product_id=ln.product_id, counted=ln.quantity) for ln in lines
                    ],
                    note=form.note,
                )
                stock_service.count_stock(db, user=ws.user, body=count)
        except (AppError, ValidationError) as exc:
            errors = views.error_messages(exc)
    if errors:
        return _stock_form(
            request,
            ws,
            kind,
            status_code=422,
            errors=errors,
            rows=typed_rows(form.code, form.quantity, form.cost),
            note=form.note,
            receipt_id=form.receipt_id,
        )
    done = "Barang masuk dicatat" if kind == "receive" else "Hasil hitung stok dicatat"
    return back("/web/stock", f"{done} ({len(lines)} baris).")


def _receipt_id(text: str) -> uuid.UUID:
    """The form's receipt id (a double submit is applied once); a fresh one if garbled."""
    try:
        return uuid.UUID(text)
    except ValueError:
        return uuid.uuid4()


class StockLinesForm(BaseModel):
    """The receive and count forms: product, quantity (and cost) per line, and a note."""

    code: list[str]
    quantity: list[str]
    cost: list[str] = []
    note: str = ""
    receipt_id: str = ""


@router.post("/stock/receive")
def receive(
    request: Request, ws: PostDep, db: DbDep, form: Annotated[StockLinesForm, Form()]
) -> Response:
    """Record a delivery (one ``receive`` move per line, the cost moves the average)."""
    return _stock_post(request, ws, db, "receive", form)


@router.post("/stock/count")
def count(
    request: Request, ws: PostDep, db: DbDep, form: Annotated[StockLinesForm, Form()]
) -> Response:
    """Record a stock take (on hand becomes what was counted)."""
    return _stock_post(request, ws, db, "count", form)
