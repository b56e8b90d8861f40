"""Transaksi: the list of a store's sales with its filters, and one sale in full.

The list pages by the sales service's cursor ("Muat lagi" follows it); its downloads
are the sales API's CSV and Excel files of the same filters (the session cookie works
there). Everything goes through :mod:`sync_server.sales.service`.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from shared.models import MAX_RUPIAH, PaymentMethod
from sync_server.core.database import ReportsDbDep
from sync_server.core.errors import Invalid
from sync_server.reports.registry import PAYMENT_METHOD_LABELS, payment_method_label
from sync_server.sales import service
from sync_server.sales.schemas import SaleDetail
from sync_server.web import views
from sync_server.web.deps import (
    PageDep,
    page_router,
    render_for_store,
    report_store_id,
    store_timezone,
)
from sync_server.web.forms import WebDate

router = page_router()

PAGE_SIZE = 50

SALE_STATUSES = {
    "all": "Semua",
    "voided": "Dibatalkan",
    "refunded": "Ada retur",
    "flagged": "Bertanda",
}
"""The status filter of the list, with the page's name for each."""

REFUND_METHOD_LABELS = {"cash": "Tunai dari laci", "external": "Di luar kasir", "qris": "QRIS"}


# ---------------------------------------------------------------- reading the filters


def number(value: str | None, *, high: int = MAX_RUPIAH) -> int | None:
    """A filter's whole number from 0 to ``high``, or None (a form sends "")."""
    text = (value or "").strip().replace(".", "")
    if not text.isdigit() or len(text) > 19:
        return None
    found = int(text)
    return found if found <= high else None


def period(today: date, start: date | None, end: date | None) -> tuple[date, date]:
    """The days asked for (default: the last 7 days up to today), earliest first."""
    last = end or today
    first = start or last - timedelta(days=6)
    return (first, last) if first <= last else (last, first)


def when(moment: datetime | None) -> str:
    """A moment already in the store's zone, as ``31/12/2024 21:05`` (or a dash)."""
    return moment.strftime("%d/%m/%Y %H:%M") if moment is not None else "—"


def clock(moment: datetime | None, on: date) -> str:
    """``21:05`` for a moment on the local day ``on``, else ``30/12/2024 21:05``."""
    if moment is None:
        return "—"
    return moment.strftime("%H:%M") if moment.date() == on else when(moment)


def methods_label(methods: list[str]) -> str:
    """``["cash", "qris"]`` → ``Tunai + QRIS``."""
    return " + ".join(payment_method_label(m) for m in methods) or "—"


def _receipt(value: str | None) -> str | None:
    text = (value or "").strip()[:40]
    ok = text and all(ch.isalnum() or ch in "._/-" for ch in text) and text[0].isalnum()
    return text if ok else None


# ---------------------------------------------------------------- pages


@router.get("/sales")
def sales(
    request: Request,
    ws: PageDep,
    db: ReportsDbDep,
    store_id: str | None = None,
    start: WebDate = None,
    end: WebDate = None,
    terminal_id: str | None = None,
    cashier_id: str | None = None,
    method: str | None = None,
    min_total: str | None = None,
    max_total: str | None = None,
    receipt: str | None = None,
    status: str | None = None,
    cursor: str | None = None,
) -> HTMLResponse:
    """The store's sales, newest first, 50 at a time, narrowed by the form's filters."""
    sid = report_store_id(db, ws, number(store_id))
    first, last = period(service.today_of(db, store_id=sid), start, end)
    chosen_method = method if method in set(PaymentMethod) else None
    chosen_status = status if status in SALE_STATUSES else "all"
    filters = service.SaleFilter(
        store_id=sid,
        start=first,
        end=last,
        terminal_id=number(terminal_id),
        cashier_id=number(cashier_id),
        method=chosen_method,
        min_total=number(min_total),
        max_total=number(max_total),
        receipt=_receipt(receipt),
        status=chosen_status,  # type: ignore[arg-type]
    )
    page = service.list_sales(db, filters=filters, cursor=(cursor or None), limit=PAGE_SIZE)
    form = {
        "store_id": sid,
        "start": first.isoformat(),
        "end": last.isoformat(),
        "terminal_id": filters.terminal_id or "",
        "cashier_id": filters.cashier_id or "",
        "method": chosen_method or "",
        "min_total": "" if filters.min_total is None else filters.min_total,
        "max_total": "" if filters.max_total is None else filters.max_total,
        "receipt": filters.receipt or "",
        "status": chosen_status,
    }
    query = views.form_query(form)
    return render_for_store(
        request,
        ws,
        db,
        "sales.html",
        store_id=sid,
        page=page,
        form=form,
        choices=service.choices(db, store_id=sid),
        methods=PAYMENT_METHOD_LABELS,
        statuses=SALE_STATUSES,
        when=when,
        methods_label=methods_label,
        first_url=f"/web/sales?{query}" if cursor else None,
        next_url=f"/web/sales?{query}&cursor={page.next_cursor}" if page.next_cursor else None,
        **views.download_urls("sales", query),
    )


def _flag_rows(request: Request, sale: SaleDetail) -> list[Any]:
    return views.flag_rows(
        sale.flags,
        terminals={sale.terminal_id: sale.terminal_code},
        timezone=store_timezone(request),
    )


@router.get("/sales/{sale_id}")
def sale(request: Request, sale_id: str, ws: PageDep, db: ReportsDbDep) -> HTMLResponse:
    """One sale: its lines, payments, refunds, void and flags."""
    try:
        wanted = uuid.UUID(sale_id)
    except ValueError:
        raise Invalid("request_invalid") from None
    found = service.sale_detail(db, user=ws.user, sale_id=wanted)
    return render_for_store(
        request,
        ws,
        db,
        "sale_detail.html",
        store_id=found.store_id,
        sale=found,
        flags=_flag_rows(request, found),
        when=when,
        method_label=payment_method_label,
        refund_methods=REFUND_METHOD_LABELS,
        day_link=urlencode(
            {
                "store_id": found.store_id,
                "start": found.business_date.isoformat(),
                "end": found.business_date.isoformat(),
                "terminal_id": found.terminal_id,
            }
        ),
    )
