"""Outlet pages: the outlet picker, an outlet's own prices, a product's stock at every
outlet, and stock transfers between outlets."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError

from sync_server.catalog import service as catalog_service
from sync_server.core.config import SettingsDep
from sync_server.core.database import DbDep
from sync_server.core.errors import AppError
from sync_server.outlets import service as outlets_service
from sync_server.outlets.schemas import (
    OutletPriceIn,
    ReceivedLineIn,
    TransferIn,
    TransferLineIn,
    TransferReceiveIn,
    TransferStatus,
)
from sync_server.web import forms, views
from sync_server.web.access import WebSession, cookie_secure, safe_next
from sync_server.web.deps import (
    OUTLET_COOKIE,
    PageDep,
    PostDep,
    back,
    current_store_id,
    outlet_cookie,
    page_router,
    render,
    run,
    store_choices,
    store_timezone,
)

router = page_router()

STATUS_LABELS = {status.value: label for status, label in outlets_service.STATUS_LABELS.items()}
"""Each transfer status as the manager reads it."""


def _rupiah_typed(text: str) -> int | None:
    """``12.500``, ``Rp 12.500`` or ``12500`` typed on a form as rupiah; None when not."""
    digits = text.strip().removeprefix("Rp").strip().replace(".", "")
    return int(digits) if digits.isdigit() and len(digits) <= 13 else None


# ---------------------------------------------------------------- the picker and overview


@router.get("/outlets")
def outlets(
    request: Request,
    ws: PageDep,
    db: DbDep,
    store_id: int | None = None,
    product: str = "",
    product_id: int | None = None,
) -> HTMLResponse:
    """The outlet picked, the picker (several outlets only), what is in transit, and a
    product's stock at every outlet (``?product=`` finds it by name, SKU or barcode)."""
    sid = current_store_id(db, ws, store_id)
    stores = store_choices(db, ws)
    query = product.strip()[:100]
    matches = run(db, outlets_service.find_products, text=query) if query else []
    if product_id is None and len(matches) == 1:
        product_id = matches[0][0]
    across = (
        run(db, outlets_service.product_outlets, user=ws.user, product_id=product_id)
        if product_id is not None
        else None
    )
    moving = run(db, outlets_service.in_transit, user=ws.user, store_id=sid) if sid else []
    return render(
        request,
        ws,
        "outlets.html",
        stores=stores,
        store_id=sid,
        product=query,
        matches=matches,
        across=across,
        moving=moving,
    )


class PickForm(BaseModel):
    """The outlet picker: the outlet, and the page to go back to."""

    store_id: int = Field(ge=1, le=2**63 - 1)
    next: str = Field(default="/web/outlets", max_length=500)


@router.post("/outlets/pick")
def pick(
    ws: PostDep, db: DbDep, settings: SettingsDep, form: Annotated[PickForm, Form()]
) -> Response:
    """Remember the outlet in this session: every page shows it until another is picked."""
    if form.store_id not in {s.id for s in store_choices(db, ws)}:
        raise AppError("other_store", code="other_store", status_code=403)
    response = RedirectResponse(safe_next(form.next), status_code=303)
    response.set_cookie(
        OUTLET_COOKIE,
        outlet_cookie(settings, ws, form.store_id),
        httponly=True,
        samesite="lax",
        secure=cookie_secure(settings),
        path="/web",
    )
    return response


# ---------------------------------------------------------------- prices


@router.get("/outlets/prices")
def prices(request: Request, ws: PageDep, db: DbDep, store_id: int | None = None) -> HTMLResponse:
    """The outlet's own prices, and a form to set one."""
    return _prices_page(request, ws, db, store_id)


def _outlet_page(
    request: Request,
    ws: WebSession,
    db: DbDep,
    template: str,
    listing: Callable[..., Sequence[object]],
    store_id: int | None,
    status_code: int = 200,
    **extra: object,
) -> HTMLResponse:
    """A page of the chosen outlet's rows (what ``listing`` gives), with the outlet picker."""
    sid = current_store_id(db, ws, store_id)
    rows = run(db, listing, user=ws.user, store_id=sid) if sid else []
    return render(
        request,
        ws,
        template,
        status_code=status_code,
        stores=store_choices(db, ws),
        store_id=sid,
        rows=rows,
        tz=store_timezone(request),
        **extra,
    )


def _prices_page(
    request: Request,
    ws: WebSession,
    db: DbDep,
    store_id: int | None,
    status_code: int = 200,
    **extra: object,
) -> HTMLResponse:
    return _outlet_page(
        request,
        ws,
        db,
        "outlet_prices.html",
        outlets_service.list_outlet_prices,
        store_id,
        status_code,
        **extra,
    )


class PriceForm(BaseModel):
    """A product (SKU, barcode or name) and its price at the outlet."""

    store_id: int = Field(ge=1, le=2**63 - 1)
    code: str = Field(max_length=100)
    price: str = Field(max_length=30)


@router.post("/outlets/prices")
def set_price(
    request: Request, ws: PostDep, db: DbDep, form: Annotated[PriceForm, Form()]
) -> Response:
    """Set a product's price at the outlet (its tills: next pull)."""
    errors: list[str] = []
    price = _rupiah_typed(form.price)
    if price is None:
        errors.append(f"Harga {form.price!r} bukan jumlah rupiah.")
    ids, _ = run(db, catalog_service.product_ids_by_code, codes=[form.code])
    product_id = ids.get(form.code.strip())
    if product_id is None:
        found = run(db, outlets_service.find_products, text=form.code)
        if len(found) == 1:
            product_id = found[0][0]
        elif found:
            names = ", ".join(f"{sku} ({name})" for _, sku, name in found[:5])
            errors.append(f"{form.code!r} cocok dengan beberapa produk: {names}. Pakai SKU-nya.")
        else:
            errors.append(f"Produk {form.code!r} tidak dikenal.")
    if not errors and product_id is not None and price is not None:
        try:
            body = OutletPriceIn(product_id=product_id, price=price)
            done = outlets_service.set_outlet_price(
                db, user=ws.user, store_id=form.store_id, body=body
            )
        except (AppError, ValidationError) as exc:
            errors = views.error_messages(exc)
        else:
            message = f"Harga {done.name} di outlet ini: {views.rupiah(done.price)}."
            return back(f"/web/outlets/prices?store_id={form.store_id}", message)
    return _prices_page(
        request,
        ws,
        db,
        form.store_id,
        status_code=422,
        errors=errors,
        draft={"code": form.code, "price": form.price},
    )


class ClearForm(BaseModel):
    """Which outlet's price to clear."""

    store_id: int = Field(ge=1, le=2**63 - 1)


@router.post("/outlets/prices/{product_id}/clear")
def clear_price(
    product_id: int, ws: PostDep, db: DbDep, form: Annotated[ClearForm, Form()]
) -> Response:
    """Back to the chain price at the outlet."""
    done = outlets_service.clear_outlet_price(
        db, user=ws.user, store_id=form.store_id, product_id=product_id
    )
    message = f"{done.name} kembali ke harga pusat {views.rupiah(done.chain_price)}."
    return back(f"/web/outlets/prices?store_id={form.store_id}", message)


# ---------------------------------------------------------------- transfers


@router.get("/outlets/transfers")
def transfers(
    request: Request, ws: PageDep, db: DbDep, store_id: int | None = None
) -> HTMLResponse:
    """Transfers out of and into the outlet, and a form for a new one."""
    return _transfers_page(request, ws, db, store_id)


def _transfers_page(
    request: Request,
    ws: WebSession,
    db: DbDep,
    store_id: int | None,
    status_code: int = 200,
    **extra: object,
) -> HTMLResponse:
    all_stores = run(db, outlets_service.all_outlets)
    extra.setdefault("lines", [("", "")] * 4)
    return _outlet_page(
        request,
        ws,
        db,
        "transfers.html",
        outlets_service.list_transfers,
        store_id,
        status_code,
        all_stores=all_stores,
        codes={s.id: s.code for s in all_stores},
        labels=STATUS_LABELS,
        transfer_id=str(uuid.uuid4()),
        **extra,
    )


class TransferForm(BaseModel):
    """A new transfer typed on the page, under the id the form was made with."""

    id: uuid.UUID
    from_store_id: int = Field(ge=1, le=2**63 - 1)
    to_store_id: int = Field(ge=1, le=2**63 - 1)
    code: list[str] = Field(max_length=100)
    quantity: list[str] = Field(max_length=100)
    note: str = Field(default="", max_length=200)
    send: bool = False


@router.post("/outlets/transfers")
def create_transfer(
    request: Request, ws: PostDep, db: DbDep, form: Annotated[TransferForm, Form()]
) -> Response:
    """Make (and, when asked, send) a transfer; the same form sent twice makes one."""
    lines, errors = forms.parse_code_lines(form.code, form.quantity)
    ids, unknown = run(db, catalog_service.product_ids_by_code, codes=[line.code for line in lines])
    errors += [f"SKU/barcode {code} tidak dikenal." for code in unknown]
    if not errors:
        try:
            body = TransferIn(
                id=form.id,
                from_store_id=form.from_store_id,
                to_store_id=form.to_store_id,
                lines=[
                    TransferLineIn(product_id=ids[line.code], quantity=line.quantity)
                    for line in lines
                ],
                note=form.note,
                send=form.send,
            )
            made = outlets_service.create_transfer(db, user=ws.user, body=body)
        except (AppError, ValidationError) as exc:
            errors = views.error_messages(exc)
        else:
            return back(f"/web/outlets/transfers/{made.id}", "Transfer disimpan.")
    rows = list(zip(form.code, form.quantity, strict=False))
    return _transfers_page(
        request, ws, db, form.from_store_id, status_code=422, errors=errors, lines=rows
    )


@router.get("/outlets/transfers/{transfer_id}")
def transfer(request: Request, transfer_id: uuid.UUID, ws: PageDep, db: DbDep) -> HTMLResponse:
    """One transfer: its lines, where it is, and the steps left."""
    return _transfer_page(request, ws, db, transfer_id)


def _transfer_page(
    request: Request,
    ws: WebSession,
    db: DbDep,
    transfer_id: uuid.UUID,
    status_code: int = 200,
    **extra: object,
) -> HTMLResponse:
    found = run(db, outlets_service.get_transfer, user=ws.user, transfer_id=transfer_id)
    all_stores = run(db, outlets_service.all_outlets)
    mine = {s.id for s in store_choices(db, ws)}
    return render(
        request,
        ws,
        "transfer.html",
        status_code=status_code,
        t=found,
        names={s.id: f"{s.code} · {s.name}" for s in all_stores},
        labels=STATUS_LABELS,
        tz=store_timezone(request),
        may_send=found.from_store_id in mine and found.status == TransferStatus.DRAFT,
        may_cancel=found.from_store_id in mine
        and found.status in (TransferStatus.DRAFT, TransferStatus.SENT),
        may_receive=found.to_store_id in mine and found.status == TransferStatus.SENT,
        store_id=found.from_store_id if found.from_store_id in mine else found.to_store_id,
        **extra,
    )


@router.post("/outlets/transfers/{transfer_id}/send")
def send(transfer_id: uuid.UUID, ws: PostDep, db: DbDep) -> Response:
    """Goods leave the source outlet."""
    outlets_service.send_transfer(db, user=ws.user, transfer_id=transfer_id)
    return back(f"/web/outlets/transfers/{transfer_id}", "Transfer dikirim: stok asal berkurang.")


@router.post("/outlets/transfers/{transfer_id}/cancel")
def cancel(transfer_id: uuid.UUID, ws: PostDep, db: DbDep) -> Response:
    """Call the transfer off (a sent one gives the source its stock back)."""
    outlets_service.cancel_transfer(db, user=ws.user, transfer_id=transfer_id)
    return back(f"/web/outlets/transfers/{transfer_id}", "Transfer dibatalkan.")


class ReceiveForm(BaseModel):
    """What arrived per line, and the reason for what did not."""

    product_id: list[int] = Field(default_factory=list, max_length=500)
    received: list[str] = Field(default_factory=list, max_length=500)
    loss_reason: str = Field(default="", max_length=200)


@router.post("/outlets/transfers/{transfer_id}/receive")
def receive(
    request: Request,
    transfer_id: uuid.UUID,
    ws: PostDep,
    db: DbDep,
    form: Annotated[ReceiveForm, Form()],
) -> Response:
    """Goods arrived at the destination; a shortfall is recorded as a loss."""
    errors: list[str] = []
    lines: list[ReceivedLineIn] = []
    for pid, typed in zip(form.product_id, form.received, strict=False):
        text = typed.strip().replace(".", "")
        if not text.isdigit() or len(text) > 9:
            errors.append(f"Jumlah diterima {typed!r} bukan bilangan bulat ≥ 0.")
            continue
        try:
            lines.append(ReceivedLineIn(product_id=pid, received=int(text)))
        except ValidationError as exc:
            errors += views.error_messages(exc)
    if not errors:
        try:
            body = TransferReceiveIn(lines=lines, loss_reason=form.loss_reason)
            outlets_service.receive_transfer(db, user=ws.user, transfer_id=transfer_id, body=body)
        except (AppError, ValidationError) as exc:
            errors = views.error_messages(exc)
        else:
            return back(f"/web/outlets/transfers/{transfer_id}", "Barang transfer diterima.")
    return _transfer_page(request, ws, db, transfer_id, status_code=422, errors=errors)
