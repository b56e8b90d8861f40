"""The sale screen: scan or search, the cart with quantities and discounts, totals, pay.

Scans arrive through :meth:`SaleScreen.on_scan` (the app routes USB wedge bursts and
camera codes here); they never land in the search field.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from kivy.clock import Clock, ClockEvent
from kivy.factory import Factory
from kivy.graphics.texture import Texture
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.popup import Popup

from pos_client.domain.cart import CartLine, Discount
from pos_client.domain.errors import ApprovalRequired, DomainError
from pos_client.ui.i18n import describe, tr
from pos_client.ui.screens.base import KasirScreen, load_kv
from shared.models import Role
from shared.money import format_rupiah, parse_rupiah

load_kv("sale")


class CartRow(BoxLayout):
    """One cart line: name, unit price, − qty +, discount, remove, line total."""

    name = StringProperty("")
    detail = StringProperty("")
    quantity = StringProperty("")
    total = StringProperty("")
    line_id = ObjectProperty(None)
    screen = ObjectProperty(None)


class ResultRow(BoxLayout):
    """A search result: tap to add to the cart."""

    name = StringProperty("")
    detail = StringProperty("")
    product_id = ObjectProperty(None)
    screen = ObjectProperty(None)


class SaleScreen(KasirScreen):
    """Ring up a sale."""

    subtotal_text = StringProperty("")
    discount_text = StringProperty("")
    tax_text = StringProperty("")
    total_text = StringProperty("")
    voucher_label = StringProperty("")
    voucher_text = StringProperty("")
    has_voucher = BooleanProperty(False)
    camera_on = BooleanProperty(False)
    cart_empty = BooleanProperty(True)

    def __init__(self, **kwargs: Any) -> None:
        """No pending search yet."""
        super().__init__(**kwargs)
        self._search_event: ClockEvent | None = None
        self._preview: Texture | None = None
        self._voucher_popup: Popup | None = None

    # -- showing the cart --------------------------------------------------------------
    def refresh(self) -> None:
        """Redraw cart rows and totals from the checkout service."""
        checkout = self.till.checkout
        box = self.ids.cart
        box.clear_widgets()
        lines = checkout.cart.lines
        totals = checkout.totals()
        for line, priced in zip(lines, totals.sale.lines, strict=True):
            box.add_widget(self._row(line, priced.total))
        self.cart_empty = not lines
        self.subtotal_text = format_rupiah(totals.subtotal)
        # The voucher has its own row; "Diskon" is line and manual order discounts.
        other_discounts = totals.discount_total - totals.voucher_discount
        self.discount_text = format_rupiah(-other_discounts if other_discounts else 0)
        code = checkout.voucher_code
        self.has_voucher = code is not None
        self.voucher_label = tr("voucher_row", code=code) if code else ""
        self.voucher_text = (
            format_rupiah(-totals.voucher_discount if totals.voucher_discount else 0)
            if code
            else ""
        )
        if totals.voucher_problem is not None:
            # Lines removed since: the voucher no longer applies; checkout would refuse.
            self.message = describe(totals.voucher_problem)
        self.tax_text = format_rupiah(totals.tax_total)
        self.total_text = format_rupiah(totals.total)

    def _row(self, line: CartLine, line_total: int) -> CartRow:
        detail = f"{format_rupiah(line.product.price)} / {line.product.unit}"
        if line.discount_amount:
            detail += f"   {tr('discount')} {format_rupiah(-line.discount_amount)}"
        return CartRow(
            name=line.product.name,
            detail=detail,
            quantity=str(line.quantity),
            total=format_rupiah(line_total),
            line_id=line.id,
            screen=self,
        )

    def rows(self) -> list[CartRow]:
        """The cart rows on screen, top to bottom (tests read them)."""
        return [w for w in reversed(self.ids.cart.children) if isinstance(w, CartRow)]

    # -- adding --------------------------------------------------------------------------
    def on_scan(self, code: str) -> bool:
        """A scanned code goes straight into the cart (or is the voucher being asked for)."""
        popup = self._voucher_popup
        if popup is not None:
            popup.ids.code.text = code
            self._apply_voucher(popup)
            return True
        self._do(lambda: self.till.checkout.scan(code), announce=True)
        return True

    def add_product(self, product_id: int) -> None:
        """A search result was tapped."""
        self._do(lambda: self.till.checkout.add_product(product_id), announce=True)
        self.ids.search.text = ""
        self.ids.results.clear_widgets()

    def search_changed(self, text: str) -> None:
        """Search as the cashier types (debounced)."""
        if self._search_event is not None:
            self._search_event.cancel()
        self._search_event = Clock.schedule_once(lambda _dt: self._search(text), 0.2)

    def _search(self, text: str) -> None:
        box = self.ids.results
        box.clear_widgets()
        if len(text.strip()) < 2:
            return
        products = self.till.catalog.search(text, limit=12)
        if not products:
            box.add_widget(Factory.KLabel(text=tr("nothing_found")))
        for product in products:
            box.add_widget(
                ResultRow(
                    name=product.name,
                    detail=f"{product.sku}   {format_rupiah(product.price)}",
                    product_id=product.id,
                    screen=self,
                )
            )

    def search_entered(self, text: str) -> None:
        """Enter in the search field: a typed SKU or barcode rings up, else the first hit."""
        text = text.strip()
        if not text:
            return
        try:
            line = self.till.checkout.scan(text)
        except DomainError:
            products = self.till.catalog.search(text, limit=1)
            if products:
                self.add_product(products[0].id)
            else:
                self.message = tr("nothing_found")
            return
        self.ids.search.text = ""
        self.ids.results.clear_widgets()
        self.app.toast(tr("added", name=line.product.name))
        self.refresh()

    # -- changing lines ------------------------------------------------------------------
    def step(self, line_id: UUID, delta: int) -> None:
        """− or + on a line (a line never goes below 1; use remove)."""
        line = self.till.checkout.cart.line(line_id)
        if line.quantity + delta < 1:
            return
        self._do(lambda: self.till.checkout.change_quantity(line_id, line.quantity + delta))

    def remove(self, line_id: UUID) -> None:
        """Take a line out."""
        self._do(lambda: self.till.checkout.remove_line(line_id))

    def _do(self, action: Any, *, announce: bool = False) -> None:
        try:
            result = action()
        except DomainError as exc:
            self.message = describe(exc)
            self.app.toast(describe(exc))
            return
        self.message = ""
        if announce and isinstance(result, CartLine):
            self.app.toast(tr("added", name=result.product.name))
        self.refresh()

    def open_discount(self, line_id: UUID) -> None:
        """Ask for a line discount (and a supervisor's PIN when it is large)."""
        popup = Factory.DiscountPopup(title=tr("line_discount"))
        approvers = [u for u in self.till.auth.users() if u.role.at_least(Role.SUPERVISOR)]
        popup.ids.approver.values = [u.full_name for u in approvers]

        def apply(*_: Any) -> None:
            rupiah = parse_rupiah(popup.ids.amount.text) or 0
            percent = parse_rupiah(popup.ids.percent.text) or 0
            discount: Discount | None = None
            if percent:
                discount = Discount.percent(min(percent, 100) * 100)
            elif rupiah:
                discount = Discount.rupiah(rupiah)
            chosen = [u for u in approvers if u.full_name == popup.ids.approver.text]
            try:
                self.till.checkout.set_line_discount(
                    line_id,
                    discount,
                    approver_id=chosen[0].id if chosen and popup.ids.pin.text else None,
                    approver_pin=popup.ids.pin.text or None,
                )
            except ApprovalRequired:
                popup.ids.message.text = tr("needs_approval")
                return
            except DomainError as exc:
                popup.ids.message.text = describe(exc)
                return
            popup.dismiss()
            self.refresh()

        popup.ids.apply.bind(on_release=apply)
        popup.open()

    # -- voucher -------------------------------------------------------------------------
    def open_voucher(self) -> None:
        """Ask for a voucher code; apply it, or take the one on the cart off."""
        if self._voucher_popup is not None:
            return
        popup: Popup = Factory.VoucherPopup(title=tr("voucher_title"))
        popup.ids.code.text = self.till.checkout.voucher_code or ""
        popup.ids.drop.disabled = self.till.checkout.voucher_code is None
        popup.ids.apply.bind(on_release=lambda *_: self._apply_voucher(popup))
        popup.ids.code.bind(on_text_validate=lambda *_: self._apply_voucher(popup))
        popup.ids.drop.bind(on_release=lambda *_: self._remove_voucher(popup))
        popup.bind(on_dismiss=lambda *_: setattr(self, "_voucher_popup", None))
        self._voucher_popup = popup
        popup.open()
        popup.ids.code.focus = True

    def voucher_popup(self) -> Popup | None:
        """The voucher popup while it is open (tests drive it)."""
        return self._voucher_popup

    def _apply_voucher(self, popup: Popup) -> None:
        code = popup.ids.code.text
        try:
            amount = self.till.checkout.apply_voucher(code)
        except DomainError as exc:
            popup.ids.message.text = describe(exc)
            return
        popup.dismiss()
        self.message = ""
        code = self.till.checkout.voucher_code
        self.app.toast(tr("voucher_applied", code=code, amount=format_rupiah(-amount)))
        self.refresh()

    def _remove_voucher(self, popup: Popup) -> None:
        code = self.till.checkout.voucher_code
        self.till.checkout.remove_voucher()
        popup.dismiss()
        self.message = ""
        if code:
            self.app.toast(tr("voucher_removed", code=code))
        self.refresh()

    # -- hold, resume, pay ---------------------------------------------------------------
    def hold(self) -> None:
        """Put the cart aside."""
        try:
            held = self.till.checkout.hold()
        except DomainError as exc:
            self.message = describe(exc)
            return
        self.app.toast(tr("held_saved", label=held.label))
        self.refresh()

    def resume(self) -> None:
        """Pick a held cart to bring back."""
        if not self.till.checkout.cart.is_empty:
            self.message = tr("finish_cart_first")
            return
        held = self.till.checkout.held()
        if not held:
            self.message = tr("held_none")
            return
        popup: Popup = Factory.HeldPopup(title=tr("resume"))
        for cart in held:
            button = Factory.KButton(text=f"{cart.label}  ·  {cart.created_at:%H:%M}")
            button.bind(on_release=lambda _b, cid=cart.id: self._resume(cid, popup))
            popup.ids.list.add_widget(button)
        popup.open()

    def _resume(self, cart_id: UUID, popup: Popup) -> None:
        popup.dismiss()
        self._do(lambda: self.till.checkout.resume(cart_id))

    def pay(self) -> None:
        """Go to payment with the cart as it is."""
        if self.till.checkout.cart.is_empty:
            self.message = tr("cart_empty")
            return
        self.app.go("payment")

    # -- camera --------------------------------------------------------------------------
    def show_preview(self, rgb: bytes, width: int, height: int) -> None:
        """Draw one preview frame from the camera worker (on the UI thread)."""
        if self._preview is None or self._preview.size != (width, height):
            self._preview = Texture.create(size=(width, height), colorfmt="rgb")
        self._preview.blit_buffer(rgb, colorfmt="rgb", bufferfmt="ubyte")
        self.ids.preview.texture = self._preview
        self.ids.preview.canvas.ask_update()
