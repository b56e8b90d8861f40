"""The receipt after a sale: shown on screen, printed in a worker; failures never block."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from pos_client.printing.escpos import print_receipt
from pos_client.services.receipts import receipt_for_sale
from pos_client.ui.i18n import tr
from pos_client.ui.screens.base import KasirScreen, load_kv
from shared.models import SaleIn
from shared.money import format_rupiah
from shared.receipt_text import ReceiptData, render_receipt

load_kv("receipt")


class ReceiptScreen(KasirScreen):
    """The last sale's receipt, its change, print/reprint and a new sale."""

    receipt_text = StringProperty("")
    change_text = StringProperty("")
    printed_once = BooleanProperty(False)

    def __init__(self, **kwargs: object) -> None:
        """No receipt yet."""
        super().__init__(**kwargs)
        self.receipt: ReceiptData | None = None

    def show(self, sale: SaleIn, change: int) -> None:
        """Lay out ``sale``'s receipt at the configured width and print it once."""
        self.receipt = receipt_for_sale(self.till.store, sale)
        self.receipt_text = render_receipt(self.receipt, width=self.till.prefs.receipt_width)
        self.change_text = tr("change_due", amount=format_rupiah(change))
        self.printed_once = False
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

    def new_sale(self) -> None:
        """Back to an empty cart."""
        self.app.go("sale")
