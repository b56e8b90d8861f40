"""Receipts of stored sales: the one place a sale becomes a printable receipt, and the
ways a customer takes it home (the e-receipt link, WhatsApp, e-mail).

The link is signed by the till with the receipt key it keeps
(:mod:`pos_client.sync.receipt_link`), so it is there offline too; a till with no key
yet makes receipts without a link. Sharing needs no server: WhatsApp is a ``wa.me``
link whose text is the receipt with its link (:func:`shared.receipt_text.share_text`),
e-mail a ``mailto:`` link with the same text, opened by the device's own apps.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote
from uuid import UUID

from pos_client.domain.errors import DomainError
from pos_client.store import LocalStore
from pos_client.store.customers import CustomersStore
from pos_client.sync.http import SyncError
from pos_client.sync.receipt_link import saved_receipt_key
from shared.models import SaleIn
from shared.receipt_text import (
    ReceiptCustomer,
    ReceiptData,
    ReceiptKeyOut,
    ReceiptLine,
    ReceiptPayment,
    ReceiptStore,
    receipt_link,
    share_text,
)

WHATSAPP_URL = "https://wa.me/"
COUNTRY_CODE = "62"
"""Indonesia: a number typed as ``0812…`` is sent as ``62812…``."""
_EMAIL = re.compile(r"[^@\s<>,;:\"]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


class ShareError(DomainError):
    """A WhatsApp number or e-mail address that cannot be used."""

    code = "share_contact_invalid"


def link_for_sale(store: LocalStore, sale_id: object) -> str:
    """The signed e-receipt link of ``sale_id``, or "" while the till holds no key."""
    key = saved_receipt_key(store)
    if key is None:
        return ""
    return receipt_link(key.base_url, key.terminal_id, str(sale_id), key.key_bytes())


def customer_for_sale(
    store: LocalStore, sale: SaleIn, *, just_made: bool = False
) -> ReceiptCustomer | None:
    """The sale's customer as printed, or None for a sale with no customer.

    The points the sale earns come from the chain's rule as the till last pulled it
    (none printed while loyalty is off: the till does not know). The balance after the
    sale is printed only on the receipt made ``just_made`` (at checkout) while the sale
    is still in the outbox: the pulled balance cannot include it yet, and this till's
    redemptions (this sale's too) are taken off it, so balance = what the customer may
    still redeem here + what the sale earns. A reprint, or a sale the server already
    took, prints no balance (later sales or the server's rule may have moved it).
    """
    block = sale.customer
    if block is None:
        return None
    customers = CustomersStore(store)
    loyalty = customers.loyalty()
    earned = loyalty.earned(sale.total) if loyalty.enabled else None
    balance = None
    if just_made and earned is not None and str(sale.id) in customers.sales_in_outbox():
        balance = customers.available(block.phone) + earned
    return ReceiptCustomer(
        name=block.name,
        points_redeemed=block.points_redeemed,
        points_discount=block.points_discount,
        points_earned=earned,
        points_balance=balance,
    )


def receipt_for_sale(store: LocalStore, sale: SaleIn, *, just_made: bool = False) -> ReceiptData:
    """The receipt of ``sale`` with the store's template (last pull), the cashier's name,
    its customer and points (:func:`customer_for_sale`; ``just_made``: the receipt shown
    at checkout) and its e-receipt link (when the till holds its key)."""
    profile = store.store_profile()
    receipt_store = (
        ReceiptStore.from_store_out(profile) if profile is not None else ReceiptStore(name="Kasir")
    )
    cashier = store.user(sale.cashier_id)
    return ReceiptData(
        store=receipt_store,
        receipt_number=sale.receipt_number,
        created_at=sale.created_at,
        cashier_name=cashier.full_name if cashier else str(sale.cashier_id),
        lines=tuple(
            ReceiptLine(
                name=line.name,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount=line.discount,
                total=line.total,
            )
            for line in sale.lines
        ),
        subtotal=sale.subtotal,
        discount_total=sale.discount_total,
        tax_total=sale.tax_total,
        tax_inclusive=all(line.tax_inclusive for line in sale.lines),
        total=sale.total,
        payments=tuple(
            ReceiptPayment(
                method=p.method.value,
                amount=p.amount,
                tendered=p.tendered,
                change=p.change,
                reference=p.reference or "",
            )
            for p in sale.payments
        ),
        link=link_for_sale(store, sale.id),
        customer=customer_for_sale(store, sale, just_made=just_made),
    )


def whatsapp_number(phone: str) -> str:
    """A phone number as ``wa.me`` wants it: digits with 62 first (``0812-3456-7890``,
    ``+62 812 3456 7890`` and ``812…`` all give ``6281234567890``); "" stays "".

    Raises :class:`ShareError` unless it has 8 to 15 digits once written that way.
    """
    typed = phone.strip()
    if not typed:
        return ""
    if re.fullmatch(r"\+?[0-9 ().-]+", typed) is None:
        raise ShareError("share_phone_invalid", phone=typed)
    digits = re.sub(r"\D", "", typed)
    if digits.startswith("0"):
        digits = COUNTRY_CODE + digits[1:]
    elif not digits.startswith(COUNTRY_CODE) and not typed.startswith("+"):
        digits = COUNTRY_CODE + digits
    if not 8 <= len(digits) <= 15:
        raise ShareError("share_phone_invalid", phone=typed)
    return digits


def whatsapp_link(receipt: ReceiptData, phone: str = "") -> str:
    """``https://wa.me/<62 number or nothing>?text=<the receipt and its link>``: opened,
    WhatsApp starts a message to that number (or lets the customer pick a chat)."""
    return f"{WHATSAPP_URL}{whatsapp_number(phone)}?text={quote(share_text(receipt), safe='')}"


def email_receipt(
    receipt: ReceiptData,
    address: str,
    *,
    sale_id: UUID,
    key: ReceiptKeyOut | None,
    send: Callable[[UUID, str], None],
) -> str | None:
    """E-mail the receipt to ``address``: through the server when it sends e-mail (the
    till's key says so) and an address was typed, answering None once it is sent;
    otherwise, or when the server cannot send it now (offline, its mail server down), the
    ``mailto:`` link for the device's mail app. ``send(sale_id, to)`` blocks: call this
    from a worker. A bad address raises :class:`ShareError` before anything is sent."""
    link = email_link(receipt, address)
    to = address.strip()
    if not to or key is None or not key.email:
        return link
    try:
        send(sale_id, to)
    except SyncError:
        return link
    return None


def email_link(receipt: ReceiptData, address: str = "") -> str:
    """A ``mailto:`` link with the receipt as the message (the device's mail app sends it).

    Raises :class:`ShareError` for an address that is not one.
    """
    to = address.strip()
    if to and _EMAIL.fullmatch(to) is None:
        raise ShareError("share_email_invalid", address=to)
    subject = f"Struk {receipt.receipt_number} · {receipt.store.name}"
    body = share_text(receipt)
    query = f"subject={quote(subject, safe='')}&body={quote(body, safe='')}"
    return f"mailto:{quote(to, safe='@')}?{query}"
