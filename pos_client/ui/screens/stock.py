"""Stock lookup: on hand per product, including this till's moves not yet synced."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from pos_client.domain.errors import DomainError
from pos_client.ui.i18n import describe, tr
from pos_client.ui.screens.base import KasirScreen, load_kv
from shared.money import format_rupiah


class StockRow(BoxLayout):
    """A product and its stock on hand (red when negative)."""

    name = StringProperty("")
    level = StringProperty("")
    negative = BooleanProperty(False)


load_kv("stock")


class StockScreen(KasirScreen):
    """Type a name or scan a product to see how many are on hand."""

    def refresh(self) -> None:
        """Prompt for a search."""
        self.message = tr("stock_hint")

    def on_scan(self, code: str) -> bool:
        """Show the scanned product."""
        try:
            product = self.till.catalog.find(code)
        except DomainError as exc:
            self.tell(describe(exc), "error")
            return True
        self._show([product.id])
        return True

    def lookup(self, text: str) -> None:
        """Search by name or SKU."""
        if len(text.strip()) < 2:
            return
        products = self.till.catalog.search(text, limit=30)
        self._show([p.id for p in products])

    def _show(self, product_ids: list[int]) -> None:
        box = self.ids.results
        box.clear_widgets()
        self.message = "" if product_ids else tr("nothing_found")
        for product_id in product_ids:
            product = self.till.catalog.product(product_id)
            on_hand = self.till.catalog.stock_on_hand(product_id)
            box.add_widget(
                StockRow(
                    name=f"{product.name}  ·  {product.sku}  ·  {format_rupiah(product.price)}",
                    level=tr("on_hand", n=on_hand, unit=product.unit),
                    negative=on_hand < 0,
                )
            )
