"""The catalog pages: search, the product form, CSV import and export, barcode labels."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import File, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from shared.models import ProductIn, ProductOut, ProductPatch
from sync_server.catalog import csv_io
from sync_server.catalog import service as catalog_service
from sync_server.core.database import Database, DbDep
from sync_server.core.errors import AppError
from sync_server.reports.exports import file_response
from sync_server.web import forms, views
from sync_server.web.access import WebSession
from sync_server.web.deps import AdminPostDep, PageDep, back, page_router, render, run

router = page_router()


def _labels_pdf(products: Sequence[ProductOut], *, copies: int) -> tuple[bytes, list[str]]:
    """A PDF sheet of barcode labels, and the products left out for having no barcode."""
    # Loaded when labels are asked for: python-barcode brings PIL and numpy (0.15 s at
    # every server start otherwise).
    from sync_server.catalog.labels import LabelItem, label_sheets_pdf

    items: list[LabelItem] = []
    skipped: list[str] = []
    for product in products:
        try:
            items.append(LabelItem.from_product(product))
        except ValueError:
            skipped.append(product.sku)
    if not items:
        raise AppError("no_labels", code="no_labels", status_code=422)
    return label_sheets_pdf(items, copies=max(1, min(copies, 100))), skipped


@router.get("/products")
def products(
    request: Request,
    ws: PageDep,
    db: DbDep,
    q: str = "",
    show: str = "active",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    """Search the catalog by name, SKU prefix or barcode."""
    active = {"active": True, "inactive": False}.get(show)
    page = run(
        db, catalog_service.list_products, q=q or None, active=active, limit=50, offset=offset
    )
    return render(request, ws, "products.html", page=page, q=q, show=show, offset=offset)


def _product_page(
    request: Request,
    ws: WebSession,
    db: Database,
    *,
    product: dict[str, Any],
    product_id: int | None,
    status_code: int = 200,
    errors: list[str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        ws,
        "product_form.html",
        status_code=status_code,
        product=product,
        product_id=product_id,
        categories=run(db, catalog_service.list_categories),
        tax_rates=run(db, catalog_service.list_tax_rates),
        errors=errors or [],
    )


@router.get("/products/new")
def new_product(request: Request, ws: PageDep, db: DbDep) -> HTMLResponse:
    """An empty product form."""
    blank = {"sku": "", "name": "", "unit": "pcs", "price": "", "active": True}
    return _product_page(request, ws, db, product=blank, product_id=None)


async def _save_product(
    request: Request, ws: WebSession, db: Database, product_id: int | None
) -> Response:
    """Create (``product_id`` None) or update a product from the posted form."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        values = forms.product_form_values(form)
        if product_id is None:
            saved = await asyncio.to_thread(
                run, db, catalog_service.create_product, data=ProductIn(**values)
            )
        else:
            patch = ProductPatch(**values)
            saved = await asyncio.to_thread(
                run, db, catalog_service.update_product, product_id=product_id, patch=patch
            )
    except (AppError, ValidationError, ValueError) as exc:
        return _product_page(
            request,
            ws,
            db,
            product=form,
            product_id=product_id,
            status_code=422,
            errors=views.error_messages(exc),
        )
    done = "dibuat" if product_id is None else "disimpan"
    return back(f"/web/products/{saved.id}", f"Produk {saved.sku} {done}.")


@router.post("/products")
async def create_product(request: Request, ws: AdminPostDep, db: DbDep) -> Response:
    """Create a product from the form."""
    return await _save_product(request, ws, db, None)


@router.get("/products/import")
def import_form(request: Request, ws: PageDep) -> HTMLResponse:
    """Upload a product CSV."""
    return render(request, ws, "import.html", result=None)


@router.post("/products/import")
async def import_products(
    request: Request, ws: AdminPostDep, db: DbDep, file: Annotated[UploadFile, File()]
) -> HTMLResponse:
    """Upsert products from a CSV; each bad line is listed with its errors."""
    raw = await file.read()
    try:
        text = raw.decode("utf-8-sig")
        result = await asyncio.to_thread(
            run, db, csv_io.import_products_csv, text=text, language="id"
        )
    except UnicodeDecodeError:
        errors = ["Berkas bukan teks UTF-8. Simpan sebagai CSV UTF-8."]
    except AppError as exc:
        errors = views.error_messages(exc)
    else:
        return render(request, ws, "import.html", result=result)
    return render(request, ws, "import.html", status_code=422, result=None, errors=errors)


@router.get("/products/export.csv")
def export_products(ws: PageDep, db: DbDep) -> Response:
    """The whole catalog as CSV (the format the import reads)."""
    text = run(db, csv_io.export_products_csv)
    return Response(
        content=text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="produk.csv"'},
    )


@router.get("/products/export.xlsx")
def export_products_xlsx(ws: PageDep, db: DbDep) -> Response:
    """The whole catalog as an Excel file (Indonesian headers, prices as rupiah numbers)."""
    rows = views.catalog_rows(run(db, csv_io.export_products_csv))
    return file_response("xlsx", "produk", rows, views.CATALOG_COLUMNS, sheet="Produk")


@router.get("/products/labels.pdf")
def product_labels(
    ws: PageDep,
    db: DbDep,
    ids: Annotated[list[int], Query()],
    copies: Annotated[int, Query(ge=1, le=100)] = 1,
) -> Response:
    """An A4 PDF of barcode labels for the chosen products."""
    chosen = [run(db, catalog_service.get_product, product_id=pid) for pid in ids[:500]]
    pdf, _ = _labels_pdf(chosen, copies=copies)
    return Response(
        content=pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="label-barcode.pdf"'},
    )


@router.get("/products/{product_id}")
def edit_product_form(request: Request, product_id: int, ws: PageDep, db: DbDep) -> HTMLResponse:
    """The product form filled in."""
    product = run(db, catalog_service.get_product, product_id=product_id)
    return _product_page(request, ws, db, product=product.model_dump(), product_id=product_id)


@router.post("/products/{product_id}")
async def edit_product(request: Request, product_id: int, ws: AdminPostDep, db: DbDep) -> Response:
    """Save the product form (tills get the change on their next pull)."""
    return await _save_product(request, ws, db, product_id)


@router.post("/products/{product_id}/deactivate")
def deactivate_product(product_id: int, ws: AdminPostDep, db: DbDep) -> Response:
    """Take a product off sale (it stays for old sales)."""
    out = run(db, catalog_service.deactivate_product, product_id=product_id)
    return back("/web/products", f"Produk {out.sku} dinonaktifkan.")
