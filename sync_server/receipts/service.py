"""E-receipts: each terminal's receipt key, verifying a link, and reading the sale it names.

**The key needs no table.** A terminal's receipt key is
``HMAC-SHA256(KASIR_SECRET_KEY, "kasir-ereceipt-key:v1:<terminal id>")``: the server
derives it whenever it needs it and hands it to the till on request
(``GET /api/v1/sync/receipt-key``), with the public base URL for links
(``KASIR_PUBLIC_BASE_URL``). The till keeps it and signs each sale's link itself, so a
link printed offline verifies at once and says "belum tersinkron" until the sale syncs.
Changing the server secret invalidates every printed link (and every session); a till
fetches its new key at its next sync round. Revoking a terminal does not revoke the links
of its sales (they are the customers').

**A link** is ``/r/<terminal id>/<sale id>/<signature>``
(:func:`shared.receipt_text.receipt_link`). :func:`verify_link` checks its shape and the
signature with no database read, so a bad or guessed link costs one HMAC and answers 404
like any unknown address; a good one costs reads by primary key or by the indexed
``sale_id`` of the sale's lines, payments and refunds. A sale of another terminal under
this terminal's signature is answered 404 too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, replace
from email.message import EmailMessage
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.models import MAX_BIGINT
from shared.receipt_text import (
    LINK_LABEL,
    SIGNATURE_CHARS,
    ReceiptData,
    ReceiptKeyOut,
    ReceiptLine,
    ReceiptPayment,
    ReceiptStore,
    receipt_link,
    receipt_signature,
    share_text,
)
from sync_server.auth.models import User
from sync_server.core.database import Database, unit_of_work
from sync_server.core.errors import Conflict, NotFound, Unavailable
from sync_server.core.models import Store
from sync_server.receipts.schemas import (
    EReceipt,
    EReceiptAnswer,
    EReceiptState,
    LinkRef,
    RefundedLine,
    RefundShown,
)
from sync_server.stores.service import store_out
from sync_server.sync.models import Refund, RefundLine, Sale, SaleLine, SalePayment

KEY_CONTEXT = "kasir-ereceipt-key:v1:"
PENDING_TEXT = "Struk belanja Anda. Tautan ini bisa dibuka begitu penjualan tersinkron."
_TERMINAL = re.compile(r"[1-9][0-9]{0,18}")
_SALE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_SIGNATURE = re.compile(rf"[A-Za-z0-9_-]{{{SIGNATURE_CHARS}}}")


def terminal_receipt_key(secret_key: str, terminal_id: int) -> bytes:
    """The receipt key of terminal ``terminal_id`` (32 bytes), derived from the secret."""
    message = f"{KEY_CONTEXT}{terminal_id}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).digest()


def receipt_key_out(
    *, secret_key: str, terminal_id: int, base_url: str, email: bool = False
) -> ReceiptKeyOut:
    """What a till gets: its key (base64url), where links point, and whether the server
    sends receipts by e-mail."""
    key = base64.urlsafe_b64encode(terminal_receipt_key(secret_key, terminal_id)).decode()
    return ReceiptKeyOut(
        terminal_id=terminal_id, key=key, base_url=base_url.rstrip("/"), email=email
    )


def verify_link(*, secret_key: str, terminal: str, sale: str, signature: str) -> LinkRef | None:
    """The terminal and sale a link names when its signature is right, else None.

    Only the canonical forms pass (a decimal terminal id, a lower-case hyphenated UUID,
    22 base64url characters), so one sale has exactly one link per terminal.
    """
    if not (
        _TERMINAL.fullmatch(terminal) and _SALE.fullmatch(sale) and _SIGNATURE.fullmatch(signature)
    ):
        return None
    terminal_id = int(terminal)
    if terminal_id > MAX_BIGINT:
        return None
    expected = receipt_signature(terminal_receipt_key(secret_key, terminal_id), sale)
    if not hmac.compare_digest(expected, signature):
        return None
    return LinkRef(terminal_id=terminal_id, sale_id=UUID(sale))


@unit_of_work
def find_ereceipt(session: Session, *, ref: LinkRef) -> EReceiptAnswer:
    """The sale a verified link names, as its customer reads it."""
    sale = session.get(Sale, ref.sale_id)
    if sale is None:
        return EReceiptAnswer(EReceiptState.PENDING)
    if sale.terminal_id != ref.terminal_id:
        return EReceiptAnswer(EReceiptState.MISSING)
    store = session.get(Store, sale.store_id)
    receipt_store = (
        ReceiptStore.from_store_out(store_out(store))
        if store is not None
        else ReceiptStore(name="Kasir")
    )
    cashier = session.get(User, sale.cashier_id)
    lines = session.scalars(
        select(SaleLine).where(SaleLine.sale_id == sale.id).order_by(SaleLine.id)
    ).all()
    payments = session.scalars(
        select(SalePayment).where(SalePayment.sale_id == sale.id).order_by(SalePayment.id)
    ).all()
    receipt = ReceiptData(
        store=receipt_store,
        receipt_number=sale.receipt_number,
        created_at=sale.created_at,
        cashier_name=cashier.full_name if cashier is not None else "",
        lines=tuple(
            ReceiptLine(
                name=line.name or line.sku,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount=line.discount,
                total=line.total,
            )
            for line in lines
        ),
        subtotal=sale.subtotal,
        discount_total=sale.discount_total,
        tax_total=sale.tax_total,
        tax_inclusive=all(line.tax_inclusive for line in lines),
        total=sale.total,
        payments=tuple(
            ReceiptPayment(
                method=p.method,
                amount=p.amount,
                tendered=p.tendered,
                change=p.change,
                reference=p.reference or "",
            )
            for p in payments
        ),
    )
    return EReceiptAnswer(
        EReceiptState.SHOWN,
        EReceipt(
            receipt=receipt,
            refunds=_refunds(session, sale.id, {line.id: line.name for line in lines}),
            voided=sale.voided,
            voided_at=sale.voided_at,
            void_reason=sale.void_reason or "",
        ),
    )


def _refunds(session: Session, sale_id: UUID, names: dict[UUID, str]) -> tuple[RefundShown, ...]:
    refunds = session.scalars(
        select(Refund).where(Refund.sale_id == sale_id).order_by(Refund.created_at, Refund.id)
    ).all()
    if not refunds:
        return ()
    rows = session.scalars(
        select(RefundLine)
        .where(RefundLine.refund_id.in_([r.id for r in refunds]))
        .order_by(RefundLine.id)
    ).all()
    by_refund: dict[UUID, list[RefundedLine]] = {}
    for row in rows:
        by_refund.setdefault(row.refund_id, []).append(
            RefundedLine(names.get(row.sale_line_id, ""), row.quantity, row.amount)
        )
    return tuple(
        RefundShown(r.created_at, r.total, r.method, tuple(by_refund.get(r.id, ())))
        for r in refunds
    )


# -- e-mail ---------------------------------------------------------------------------


class EmailNotConfigured(Conflict):
    """The server has no SMTP settings (a setting, not a failure: 409): the till opens its
    device's mail app instead."""

    code = "email_not_configured"


class EmailUnavailable(Unavailable):
    """The mail server refused or could not be reached; nothing was sent."""

    code = "email_unavailable"


@dataclass(frozen=True)
class MailSettings:
    """Where e-receipts are sent from (``KASIR_SMTP_*``); ``host`` empty: not configured."""

    host: str
    port: int
    starttls: bool
    user: str
    password: str
    sender: str
    timeout: float


def email_text(*, link: str, answer: EReceiptAnswer | None) -> str:
    """The message: the receipt as the till prints it (32 columns) when the sale has
    synced, then its link; before that, the link and a word that it will work soon."""
    if answer is not None and answer.receipt is not None:
        receipt = replace(answer.receipt.receipt, link=link)
        return share_text(receipt)
    return f"{PENDING_TEXT}\n\n{LINK_LABEL}\n{link}"


def send_receipt_email(
    db: Database,
    *,
    mail: MailSettings,
    secret_key: str,
    base_url: str,
    terminal_id: int,
    sale_id: UUID,
    to: str,
    send: Callable[[MailSettings, EmailMessage], None] | None = None,
) -> None:
    """E-mail the customer the receipt of ``sale_id`` with its link, signed for the
    calling till (a sale of another till is sent as a link that says nothing)."""
    if not mail.host:
        raise EmailNotConfigured("email_not_configured")
    key = terminal_receipt_key(secret_key, terminal_id)
    link = receipt_link(base_url, terminal_id, sale_id, key)
    answer = find_ereceipt(db, ref=LinkRef(terminal_id=terminal_id, sale_id=sale_id))
    if answer.state is EReceiptState.MISSING:
        raise NotFound("ereceipt_not_found", code="ereceipt_not_found")
    message = EmailMessage()
    message["From"] = mail.sender
    message["To"] = to
    number = answer.receipt.receipt.receipt_number if answer.receipt is not None else ""
    message["Subject"] = f"Struk belanja {number}".strip()
    message.set_content(email_text(link=link, answer=answer))
    (send or smtp_send)(mail, message)


def smtp_send(mail: MailSettings, message: EmailMessage) -> None:
    """Hand ``message`` to the SMTP server (STARTTLS and login when configured)."""
    try:
        with smtplib.SMTP(mail.host, mail.port, timeout=mail.timeout) as smtp:
            if mail.starttls:
                smtp.starttls()
            if mail.user:
                smtp.login(mail.user, mail.password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise EmailUnavailable("email_unavailable", reason=type(exc).__name__) from exc
