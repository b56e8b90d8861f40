"""HTTP routes of e-receipts (thin: parse, authorise, call the service).

* ``GET /api/v1/sync/receipt-key``: the calling till's receipt key and the public base
  URL of links (a terminal route under ``/api/v1/sync/``, so a shop's gateway sends it
  to the servers the tills talk to).
* ``GET /r/{terminal}/{sale}/{signature}``: the public page a printed receipt's QR code
  opens, with no login. A bad link is a bare 404 page that says nothing about why; a
  good link to a sale not synced yet says "Struk belum tersinkron"; a synced sale shows
  its receipt. The address is a capability, so the page is never indexed or cached by
  shared caches and sends no referrer.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from shared.money import format_rupiah
from shared.receipt_text import LINK_PATH, ReceiptEmailIn, ReceiptKeyOut, payment_label
from shared.timezones import format_local
from sync_server.auth.deps import TerminalDep
from sync_server.core.config import SettingsDep
from sync_server.core.database import DbDep
from sync_server.core.errors import documented_errors
from sync_server.receipts import service
from sync_server.receipts.schemas import EReceiptState

TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates"
templates = Jinja2Templates(directory=TEMPLATES)
templates.env.filters["rupiah"] = lambda amount: format_rupiah(int(amount or 0))
templates.env.filters["payment"] = payment_label

router = APIRouter(tags=["receipts"])

_errors = documented_errors(
    {
        403: "A user's token, not a terminal's.",
        404: "`ereceipt_not_found`: a sale of another till.",
        422: "Not an e-mail address, or not a sale id.",
        409: "`email_not_configured`: no `KASIR_SMTP_HOST` (use the device's mail app).",
        503: "`email_unavailable`: the mail server failed; nothing was sent.",
    }
)

PAGE_HEADERS = {
    "Cache-Control": "private, no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
}


@router.get(
    "/api/v1/sync/receipt-key",
    summary="This till's e-receipt key and the public address of links",
    responses=_errors(403),
)
def receipt_key(terminal: TerminalDep, settings: SettingsDep) -> ReceiptKeyOut:
    """The key the till signs its receipts' links with (the same on every call)."""
    return service.receipt_key_out(
        secret_key=settings.secret_key,
        terminal_id=terminal.id,
        base_url=settings.public_base_url,
        email=bool(settings.smtp_host),
    )


@router.post(
    "/api/v1/sync/receipt-email",
    status_code=202,
    summary="E-mail a sale's receipt and its link to the customer",
    responses=_errors(403, 404, 409, 422, 503),
)
def receipt_email(
    body: ReceiptEmailIn, terminal: TerminalDep, settings: SettingsDep, db: DbDep
) -> dict[str, bool]:
    """The receipt as printed (once the sale has synced) and its signed link, sent
    through ``KASIR_SMTP_*``; 409 ``email_not_configured`` without them (the till then
    opens its device's mail app), 503 ``email_unavailable`` when the mail server fails,
    404 for another till's sale."""
    service.send_receipt_email(
        db,
        mail=service.MailSettings(
            host=settings.smtp_host,
            port=settings.smtp_port,
            starttls=settings.smtp_starttls,
            user=settings.smtp_user,
            password=settings.smtp_password,
            sender=settings.smtp_from,
            timeout=settings.smtp_timeout_seconds,
        ),
        secret_key=settings.secret_key,
        base_url=settings.public_base_url,
        terminal_id=terminal.id,
        sale_id=body.sale_id,
        to=body.to,
    )
    return {"sent": True}


@router.get(LINK_PATH + "/{terminal}/{sale}/{signature}", include_in_schema=False)
def ereceipt_page(
    request: Request,
    terminal: str,
    sale: str,
    signature: str,
    db: DbDep,
    settings: SettingsDep,
) -> HTMLResponse:
    """A sale's digital receipt for its customer (no login)."""
    ref = service.verify_link(
        secret_key=settings.secret_key, terminal=terminal, sale=sale, signature=signature
    )
    answer = service.find_ereceipt(db, ref=ref) if ref is not None else None
    if answer is None or answer.state is EReceiptState.MISSING:
        return _page(request, "missing", 404)
    if answer.state is EReceiptState.PENDING:
        return _page(request, "pending", 200)
    assert answer.receipt is not None
    zone = answer.receipt.receipt.store.timezone
    return _page(
        request,
        "shown",
        200,
        ereceipt=answer.receipt,
        when=lambda moment: format_local(moment, zone),
    )


def _page(request: Request, state: str, status_code: int, **context: object) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "ereceipt.html",
        {"state": state, **context},
        status_code=status_code,
        headers=PAGE_HEADERS,
    )
