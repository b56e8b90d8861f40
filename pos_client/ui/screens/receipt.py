"""The receipt after a sale: shown on screen with its e-receipt QR code, printed in a
worker, shared by WhatsApp or e-mail; failures never block.

The QR code on screen is the sale's signed e-receipt link (the same as on the paper),
there once the till holds its receipt key (:mod:`pos_client.sync.receipt_link`).
"Bagikan WhatsApp" and "Kirim e-mail" make a ``wa.me`` or ``mailto:`` link
(:mod:`pos_client.services.receipts`) to the number or address typed (both optional)
and hand it to the device (:func:`open_link`), whose WhatsApp or mail app sends it.
"""

from __future__ import annotations

import threading
import webbrowser
from collections.abc import Callable
from uuid import UUID

from kivy.properties import BooleanProperty, StringProperty

from pos_client.domain.errors import DomainError
from pos_client.printing.escpos import print_receipt
from pos_client.services.receipts import (
    email_link,
    email_receipt,
    receipt_for_sale,
    whatsapp_link,
)
from pos_client.sync.receipt_link import saved_receipt_key
from pos_client.ui.i18n import describe, tr
from pos_client.ui.screens.base import KasirScreen, load_kv
from pos_client.ui.widgets import qr_texture
from pos_client.ui.workers import run_in_worker
from shared.models import SaleIn
from shared.money import format_rupiah
from shared.receipt_text import ReceiptData, render_receipt

load_kv("receipt")


def open_link(url: str) -> None:
    """Hand ``url`` to the device (WhatsApp, the mail app, a browser), off the UI thread."""
    threading.Thread(target=webbrowser.open, args=(url,), name="kasir-share", daemon=True).start()


class ReceiptScreen(KasirScreen):
    """The last sale's receipt, its change, its e-receipt QR, print/reprint, sharing and
    a new sale."""

    receipt_text = StringProperty("")
    change_text = StringProperty("")
    printed_once = BooleanProperty(False)
    ereceipt_link = StringProperty("")
    """The sale's e-receipt link ("" while the till holds no receipt key)."""
    share_link = StringProperty("")
    """The last WhatsApp or e-mail link handed to the device."""

    def __init__(self, **kwargs: object) -> None:
        """No receipt yet."""
        super().__init__(**kwargs)
        self.receipt: ReceiptData | None = None
        self.sale_id: UUID | None = None

    def show(self, sale: SaleIn, change: int) -> None:
        """Lay out ``sale``'s receipt at the configured width and print it once."""
        self.receipt = receipt_for_sale(self.till.store, sale, just_made=True)
        self.sale_id = sale.id
        self.receipt_text = render_receipt(self.receipt, width=self.till.prefs.receipt_width)
        self.change_text = tr("change_due", amount=format_rupiah(change))
        self.printed_once = False
        self.share_link = ""
        self.ereceipt_link = self.receipt.link
        self.ids.ereceipt_qr.texture = qr_texture(self.receipt.link) if self.receipt.link else None
        self.ids.share_phone.text = ""
        self.ids.share_email.text = ""
        if self.till.prefs.printer() is not None:
            self.print_receipt()

    def refresh(self) -> None:
        """Keep the message of the automatic print."""

    def print_receipt(self) -> None:
        """Send the receipt to the printer in a worker; the first print is the original."""
        receipt = self.receipt
        if receipt is None:
            return
        reprint = self.printed_once
        width = self.till.prefs.receipt_width

        def printed() -> str:
            self.printed_once = True
            return tr("printed")

        self.print_with(
            lambda printer: print_receipt(printer, receipt, width=width, reprint=reprint),
            printed,
            lambda reason: tr("print_failed", reason=reason),
        )

    def share_whatsapp(self) -> None:
        """Open WhatsApp with the receipt and its link, to the number typed (if any)."""
        receipt = self.receipt
        if receipt is not None:
            self._share(lambda: whatsapp_link(receipt, self.ids.share_phone.text))

    def share_email(self) -> None:
        """E-mail the receipt and its link to the address typed: by the server when it
        sends e-mail, else (or offline) through the device's mail app."""
        receipt, sale_id = self.receipt, self.sale_id
        if receipt is None or sale_id is None:
            return
        address = self.ids.share_email.text
        key = saved_receipt_key(self.till.store)
        send = self.till.send_receipt_email

        def done(link: str | None) -> None:
            if link is None:
                self.tell(tr("email_sent", address=address.strip()), "ok")
            else:
                self._share(lambda: link)

        def failed(exc: Exception) -> None:
            if isinstance(exc, DomainError):
                self.tell(describe(exc), "error")
            else:
                self._share(lambda: email_link(receipt, address))

        run_in_worker(
            lambda: email_receipt(receipt, address, sale_id=sale_id, key=key, send=send),
            done,
            failed,
            name="kasir-email",
        )

    def _share(self, make: Callable[[], str]) -> None:
        try:
            link = make()
        except DomainError as exc:
            self.tell(describe(exc), "error")
            return
        self.share_link = link
        open_link(link)
        self.tell(tr("share_opened"), "ok")

    def new_sale(self) -> None:
        """Back to an empty cart."""
        self.app.go("sale")
