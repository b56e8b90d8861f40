"""The store's receipt template: edit it and preview it on a sample sale."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from pydantic import BaseModel, ValidationError

from shared.receipt_text import (
    ReceiptData,
    ReceiptLine,
    ReceiptPayment,
    ReceiptStore,
    render_receipt,
)
from sync_server.core.database import DbDep
from sync_server.core.errors import AppError
from sync_server.stores import service as stores_service
from sync_server.web import forms, views
from sync_server.web.deps import (
    PageDep,
    PostDep,
    back,
    current_store_id,
    page_router,
    render,
    store_timezone,
)

router = page_router()


SAMPLE_LINES = (
    ReceiptLine("Indomie Goreng 85g", 3, 3_500, 0, 10_500),
    ReceiptLine("Teh Botol Sosro 450ml", 2, 5_000, 1_000, 9_000),
    ReceiptLine("Beras Pandan Wangi 5kg", 1, 78_000, 0, 78_000),
)


def _preview(fields: Mapping[str, str], width: int, timezone: str) -> str:
    """The receipt template applied to a sample sale, as the till would print it."""
    store = ReceiptStore.from_template(fields, timezone=timezone)
    total = sum(line.total for line in SAMPLE_LINES)
    data = ReceiptData(
        store=replace(store, name=store.name or "Nama toko"),
        receipt_number="T01-20250101-000042",
        created_at=datetime(2025, 1, 1, 3, 15, tzinfo=UTC),
        cashier_name="Siti Rahmawati",
        lines=SAMPLE_LINES,
        subtotal=total + 1_000,
        discount_total=1_000,
        tax_total=total * 11 // 111,
        tax_inclusive=True,
        total=total,
        payments=(ReceiptPayment("cash", total, tendered=100_000, change=100_000 - total),),
    )
    return render_receipt(data, width=width if width in (32, 42, 48) else 32)


@router.get("/receipt")
def receipt_form(
    request: Request, ws: PageDep, db: DbDep, store_id: int | None = None, width: int = 32
) -> HTMLResponse:
    """The store's receipt template with a preview on a sample sale."""
    sid = current_store_id(db, ws, store_id)
    if sid is None:
        raise AppError("no_store_yet", code="store_required", status_code=404)
    store = stores_service.get_store(db, store_id=sid, user=ws.user)
    fields = forms.receipt_fields(store)
    return render(
        request,
        ws,
        "receipt.html",
        fields=fields,
        store_id=sid,
        width=width,
        preview=_preview(fields, width, store.timezone),
    )


class ReceiptForm(BaseModel):
    """The receipt template form (the editor posts it to save and to preview)."""

    name: str = ""
    address: str = ""
    npwp: str = ""
    phone: str = ""
    receipt_header: str = ""
    receipt_footer: str = ""
    logo_text: str = ""
    store_id: int | None = None
    width: int = 32

    def fields(self) -> dict[str, str]:
        """The template's text fields by name."""
        return self.model_dump(exclude={"store_id", "width"})


@router.post("/receipt")
def save_receipt(
    request: Request, ws: PostDep, db: DbDep, form: Annotated[ReceiptForm, Form()]
) -> Response:
    """Save the template; the store's tills print it after their next pull."""
    sid = current_store_id(db, ws, form.store_id)
    fields, width = form.fields(), form.width
    try:
        patch = forms.store_patch(fields)
        if sid is None:
            raise AppError("no_store_yet", code="store_required")
        stores_service.update_store(db, store_id=sid, patch=patch, user=ws.user)
    except (AppError, ValidationError) as exc:
        return render(
            request,
            ws,
            "receipt.html",
            status_code=422,
            fields=fields,
            store_id=sid,
            width=width,
            preview=_preview(fields, width, store_timezone(request)),
            errors=views.error_messages(exc),
        )
    return back(f"/web/receipt?width={width}", "Template struk disimpan.")


@router.post("/receipt/preview")
def receipt_preview(
    request: Request, ws: PostDep, form: Annotated[ReceiptForm, Form()]
) -> PlainTextResponse:
    """The receipt as plain text for the live preview (nothing is saved)."""
    return PlainTextResponse(_preview(form.fields(), form.width, store_timezone(request)))
