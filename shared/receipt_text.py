"""Receipt data and its plain-text layout at 32, 42 or 48 columns.

:class:`ReceiptData` is pure data the services build from a stored sale; the header
and footer come from the store's receipt template on the server (``StoreOut``).
:func:`receipt_lines` is the one layout, shared by the plain text and the ESC/POS
bytes, so what the screen previews is what the printer prints.

**The customer.** A sale with a customer (``SaleIn.customer``) carries a
:class:`ReceiptCustomer`: "Pelanggan: <name>" is printed under the cashier, the points
redeemed as a discount line of their own ("Tukar poin (N)", taken out of "Total
diskon"), and under the payments the points the sale earns and the balance after it,
each only when the till knows it.

**E-receipt links.** A receipt may carry ``link``, the address of its digital copy on
the server: ``<public base URL>/r/<terminal id>/<sale id>/<signature>``, where the
signature is :func:`receipt_signature`: ``base64url(HMAC-SHA256(key, "ereceipt:v1:" +
sale id))`` cut to 22 characters (132 bits). The key is the terminal's own receipt key,
which the server derives from its secret and the terminal id and hands to the till once
(``GET /api/v1/sync/receipt-key``, :class:`ReceiptKeyOut`), so a till prints a link that
verifies while it is offline and before the sale has synced, and the server checks it
with no table. The link is printed under the totals (cut at the width, never wrapped at
a space) and its QR code is the one on the printed receipt; :func:`share_text` is what
the till sends by WhatsApp or e-mail: the receipt at 32 columns and the link whole.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.models import StoreOut
from shared.models.common import RowId
from shared.money import format_rupiah
from shared.timezones import DEFAULT_TIMEZONE, format_local

ReceiptWidth = Literal[32, 42, 48]
"""Characters per line: 32 for 58 mm paper, 42 or 48 for 80 mm paper."""

WIDTHS: tuple[int, ...] = (32, 42, 48)

REPRINT_MARK = "*** SALINAN STRUK ***"

PAYMENT_LABELS = {"cash": "Tunai", "qris": "QRIS", "qris_static": "QRIS statis"}
"""How each payment method is printed and shown in Bahasa Indonesia (never its code)."""


def payment_label(method: str) -> str:
    """The printed name of a payment method code: ``qris_static`` is "QRIS statis"."""
    return PAYMENT_LABELS.get(method.lower(), method.replace("_", " ").capitalize())


TEMPLATE_FIELDS: dict[str, str] = {
    "name": "name",
    "address": "address",
    "npwp": "npwp",
    "phone": "phone",
    "receipt_header": "header",
    "receipt_footer": "footer",
    "logo_text": "logo_text",
}
"""The store's receipt template: each field as the server names it (``StoreOut``, the
back office's form), in form order, and the :class:`ReceiptStore` field it fills."""


@dataclass(frozen=True)
class ReceiptStore:
    """The store's part of a receipt: who sold, and the template's header and footer."""

    name: str
    address: str = ""
    npwp: str = ""
    phone: str = ""
    header: str = ""
    footer: str = ""
    logo_text: str = ""
    timezone: str = DEFAULT_TIMEZONE

    @classmethod
    def from_template(
        cls, fields: Mapping[str, object], *, timezone: str = DEFAULT_TIMEZONE
    ) -> ReceiptStore:
        """The store's part from its receipt template, its fields named as the server
        names them (:data:`TEMPLATE_FIELDS`); a missing field is empty."""
        values = {ours: str(fields.get(theirs, "")) for theirs, ours in TEMPLATE_FIELDS.items()}
        return cls(timezone=timezone, **values)

    @classmethod
    def from_store_out(cls, store: StoreOut) -> ReceiptStore:
        """Take the receipt template fields from the store as pulled from the server."""
        template = {key: getattr(store, key) for key in TEMPLATE_FIELDS}
        return cls.from_template(template, timezone=store.timezone)


@dataclass(frozen=True)
class ReceiptLine:
    """One line of the sale as printed: ``quantity × unit_price − discount = total``."""

    name: str
    quantity: int
    unit_price: int
    discount: int = 0
    total: int = 0


@dataclass(frozen=True)
class ReceiptPayment:
    """One tender: what it covered, cash handed over, change given, and the QRIS
    payment's reference (printed under it so a customer's dispute can be traced)."""

    method: str
    amount: int
    tendered: int | None = None
    change: int = 0
    reference: str = ""


@dataclass(frozen=True)
class ReceiptCustomer:
    """The sale's customer as printed, and their points (``SaleIn.customer``).

    ``points_discount`` is part of the sale's ``discount_total``: the receipt prints it
    on a line of its own ("Tukar poin (N)") and the rest as "Total diskon".
    """

    name: str
    points_redeemed: int = 0
    points_discount: int = 0
    points_earned: int | None = None
    """Points the sale earns by the chain's rule as the till last pulled it; None when the
    till does not know (loyalty off, or never pulled): then nothing is printed."""
    points_balance: int | None = None
    """The customer's balance after the sale as the till reckons it; None when not known
    (a reprint, or a sale the server already counted): then nothing is printed."""


def format_points(points: int) -> str:
    """Points as printed: ``1.250`` (Indonesian thousands separator)."""
    return f"{points:,}".replace(",", ".")


@dataclass(frozen=True)
class ReceiptData:
    """Everything printed on a receipt, in whole rupiah."""

    store: ReceiptStore
    receipt_number: str
    created_at: datetime
    cashier_name: str
    lines: tuple[ReceiptLine, ...]
    subtotal: int
    discount_total: int
    tax_total: int
    tax_inclusive: bool
    total: int
    payments: tuple[ReceiptPayment, ...]
    tax_label: str = "PPN"
    link: str = ""
    """The signed address of the sale's digital receipt (:func:`receipt_link`); "" when
    the till holds no receipt key yet: then no link and no e-receipt QR is printed."""
    customer: ReceiptCustomer | None = None
    """Who the sale is for and their points; None for a sale with no customer."""


@dataclass(frozen=True)
class Line:
    """One printed line and how it is styled on an ESC/POS printer.

    ``text`` is already laid out to the width (padded when centered); a ``big`` line
    is printed double width and height, so it holds half as many characters.
    """

    text: str
    align: Literal["left", "center"] = "left"
    bold: bool = False
    big: bool = False


def _check_width(width: int) -> None:
    if width not in WIDTHS:
        raise ValueError(f"receipt width must be one of {WIDTHS}, not {width}")


def _wrap(text: str, width: int) -> list[str]:
    out: list[str] = []
    for paragraph in text.splitlines() or [""]:
        out.extend(textwrap.wrap(paragraph, width) or [""])
    return out


def _centered(text: str, width: int, *, bold: bool = False, big: bool = False) -> list[Line]:
    room = width // 2 if big else width
    return [
        Line(part.center(width).rstrip(), align="center", bold=bold, big=big)
        for part in _wrap(text, room)
        if part
    ]


def two_columns(left: str, right: str, width: int) -> list[str]:
    """``left`` and ``right`` on one line of ``width``, wrapping ``left`` when they do not fit."""
    if len(left) + 1 + len(right) <= width:
        return [left + " " * (width - len(left) - len(right)) + right]
    wrapped = _wrap(left, width)
    last = wrapped[-1]
    if len(last) + 1 + len(right) <= width:
        return [*wrapped[:-1], last + " " * (width - len(last) - len(right)) + right]
    return [*wrapped, *(part.rjust(width) for part in textwrap.wrap(right, width))]


def _pairs(left: str, right: str, width: int, *, bold: bool = False) -> list[Line]:
    return [Line(text, bold=bold) for text in two_columns(left, right, width)]


def receipt_lines(receipt: ReceiptData, *, width: int, reprint: bool = False) -> list[Line]:
    """Lay the receipt out as styled lines, none longer than ``width`` characters."""
    _check_width(width)
    store = receipt.store
    rule = Line("-" * width)
    out: list[Line] = []
    if store.logo_text:
        out += _centered(store.logo_text, width, bold=True, big=True)
    out += _centered(store.name, width, bold=True, big=not store.logo_text)
    out += _centered(store.address, width)
    if store.phone:
        out += _centered(f"Telp. {store.phone}", width)
    if store.npwp:
        out += _centered(f"NPWP {store.npwp}", width)
    out += _centered(store.header, width)
    out.append(Line("=" * width))
    if reprint:
        out += _centered(REPRINT_MARK, width, bold=True)
    out += _pairs("No.", receipt.receipt_number, width)
    out += _pairs("Tanggal", format_local(receipt.created_at, store.timezone), width)
    out += _pairs("Kasir", receipt.cashier_name, width)
    customer = receipt.customer
    if customer is not None:
        out += [Line(text) for text in _wrap(f"Pelanggan: {customer.name}", width)]
    out.append(rule)
    for item in receipt.lines:
        out += [Line(text) for text in _wrap(item.name, width)]
        qty = f"  {item.quantity} x {format_rupiah(item.unit_price)}"
        gross = item.quantity * item.unit_price
        out += _pairs(qty, format_rupiah(gross), width)
        if item.discount:
            out += _pairs("  Diskon", format_rupiah(-item.discount), width)
            out += _pairs("  Jumlah", format_rupiah(item.total), width)
    out.append(rule)
    out += _pairs("Subtotal", format_rupiah(receipt.subtotal), width)
    points_discount = customer.points_discount if customer is not None else 0
    other_discounts = receipt.discount_total - points_discount
    if other_discounts:
        out += _pairs("Total diskon", format_rupiah(-other_discounts), width)
    if customer is not None and points_discount:
        label = f"Tukar poin ({format_points(customer.points_redeemed)})"
        out += _pairs(label, format_rupiah(-points_discount), width)
    if receipt.tax_total or not receipt.tax_inclusive:
        label = f"{receipt.tax_label} (termasuk)" if receipt.tax_inclusive else receipt.tax_label
        out += _pairs(label, format_rupiah(receipt.tax_total), width)
    out += _pairs("TOTAL", format_rupiah(receipt.total), width, bold=True)
    out.append(rule)
    for payment in receipt.payments:
        label = payment_label(payment.method)
        shown = payment.tendered if payment.tendered is not None else payment.amount
        out += _pairs(label, format_rupiah(shown), width)
        if payment.reference:
            out += _pairs("  Ref.", payment.reference, width)
        if payment.change:
            out += _pairs("Kembali", format_rupiah(payment.change), width)
    if customer is not None and (
        customer.points_earned is not None or customer.points_balance is not None
    ):
        out.append(rule)
        if customer.points_earned is not None:
            out += _pairs("Poin didapat", f"+{format_points(customer.points_earned)}", width)
        if customer.points_balance is not None:
            out += _pairs("Saldo poin", format_points(customer.points_balance), width)
    if store.footer:
        out.append(rule)
        out += _centered(store.footer, width)
    if receipt.link:
        out.append(rule)
        out += _centered(LINK_LABEL, width)
        out += [Line(receipt.link[i : i + width]) for i in range(0, len(receipt.link), width)]
    if reprint:
        out += _centered(REPRINT_MARK, width, bold=True)
    return out


def render_receipt(receipt: ReceiptData, *, width: int = 32, reprint: bool = False) -> str:
    """The receipt as plain text, ``width`` (32, 42 or 48) characters per line at most.

    A reprint carries ``*** SALINAN STRUK ***`` above and below the sale.
    """
    return "\n".join(line.text for line in receipt_lines(receipt, width=width, reprint=reprint))


# ---------------------------------------------------------------- e-receipt links

LINK_LABEL = "Struk digital:"
"""The line printed above the e-receipt link (and before it in a shared text)."""
LINK_PATH = "/r"
"""Where the server serves e-receipts: ``/r/<terminal id>/<sale id>/<signature>``."""
SIGNATURE_CHARS = 22
"""Characters of base64url kept from the HMAC: 132 bits, short enough for a small QR."""


class ReceiptKeyOut(BaseModel):
    """The terminal's receipt key and the server's public address for links (wire shape
    of ``GET /api/v1/sync/receipt-key``)."""

    model_config = ConfigDict(extra="forbid")

    terminal_id: RowId
    key: str = Field(min_length=43, max_length=44, description="base64url of 32 bytes")
    base_url: str = Field(min_length=1, max_length=200)
    email: bool = Field(
        default=False,
        description="The server sends e-receipts by e-mail (`POST /api/v1/sync/receipt-email`).",
    )

    def key_bytes(self) -> bytes:
        """The key itself (32 bytes)."""
        return base64.urlsafe_b64decode(self.key + "=" * (-len(self.key) % 4))


class ReceiptEmailIn(BaseModel):
    """``POST /api/v1/sync/receipt-email``: e-mail this till's sale's receipt to ``to``."""

    model_config = ConfigDict(extra="forbid")

    sale_id: UUID
    to: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def receipt_signature(key: bytes, sale_id: UUID | str) -> str:
    """The link's signature of ``sale_id`` under a terminal's receipt ``key``."""
    message = f"ereceipt:v1:{str(sale_id).lower()}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:SIGNATURE_CHARS]


def receipt_link(base_url: str, terminal_id: int, sale_id: UUID | str, key: bytes) -> str:
    """The signed address of a sale's digital receipt."""
    sale = str(sale_id).lower()
    signature = receipt_signature(key, sale)
    return f"{base_url.rstrip('/')}{LINK_PATH}/{terminal_id}/{sale}/{signature}"


def sale_id_of_link(text: str) -> UUID | None:
    """The sale id in an e-receipt link (a scanned receipt QR), or None for anything else
    (a receipt number, say). The signature is not checked: that is the server's job."""
    parts = text.strip().split("/")
    if len(parts) < 4 or f"/{parts[-4]}" != LINK_PATH or not parts[-3].isdigit():
        return None
    try:
        sale_id = UUID(parts[-2])
    except ValueError:
        return None
    return sale_id if str(sale_id) == parts[-2] else None


def share_text(receipt: ReceiptData) -> str:
    """The receipt as a message (WhatsApp, e-mail): 32 columns, then the link unbroken."""
    text = render_receipt(replace(receipt, link=""), width=32)
    if receipt.link:
        text += f"\n\n{LINK_LABEL}\n{receipt.link}"
    return text
