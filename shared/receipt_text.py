"""Receipt data and its plain-text layout at 32, 42 or 48 columns.

:class:`ReceiptData` is pure data the services build from a stored sale; the header
and footer come from the store's receipt template on the server (``StoreOut``).
:func:`receipt_lines` is the one layout, shared by the plain text and the ESC/POS
bytes, so what the screen previews is what the printer prints.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from shared.models import StoreOut
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
    if receipt.discount_total:
        out += _pairs("Total diskon", format_rupiah(-receipt.discount_total), width)
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
    if store.footer:
        out.append(rule)
        out += _centered(store.footer, width)
    if reprint:
        out += _centered(REPRINT_MARK, width, bold=True)
    return out


def render_receipt(receipt: ReceiptData, *, width: int = 32, reprint: bool = False) -> str:
    """The receipt as plain text, ``width`` (32, 42 or 48) characters per line at most.

    A reprint carries ``*** SALINAN STRUK ***`` above and below the sale.
    """
    return "\n".join(line.text for line in receipt_lines(receipt, width=width, reprint=reprint))
