"""The sale screen: scan, search or tap a tile; the cart with quantities and discounts,
totals, pay.

Scans arrive through :meth:`SaleScreen.on_scan` (the app routes USB wedge bursts and
camera codes here); they never land in the search field. A line's quantity is typed on
the numeric keypad (tap the number); goods without barcodes are on the product grid by
category, with this till's favourites; a whole-cart discount is typed on the keypad and
needs a supervisor's PIN above the threshold, like a line discount.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from kivy.clock import Clock, ClockEvent
from kivy.factory import Factory
from kivy.graphics.texture import Texture
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.popup import Popup

from pos_client.domain.cart import CartLine, Discount, DiscountKind
from pos_client.domain.errors import ApprovalRequired, DomainError
from pos_client.services.catalog import ProductHit
from pos_client.ui import grid, keypad  # noqa: F401  (ProductGrid, NumberPad in sale.kv)
from pos_client.ui.glue import held_label, shown_time, till_zone
from pos_client.ui.i18n import describe, language, tr
from pos_client.ui.screens.base import KasirScreen, load_kv
from pos_client.ui.workers import run_in_worker
from shared.messages import render
from shared.models import Role
from shared.models.customers import CustomerOut, local_phone
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
    """A search result (name, price, stock on hand, SKU, category): tap to add it."""

    name = StringProperty("")
    detail = StringProperty("")
    price = StringProperty("")
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
    order_discount_label = StringProperty("")
    camera_on = BooleanProperty(False)
    cart_empty = BooleanProperty(True)
    customer_label = StringProperty("")
    """"Pelanggan", or the name of the sale's customer."""

    def __init__(self, **kwargs: Any) -> None:
        """No pending search yet."""
        super().__init__(**kwargs)
        self._search_event: ClockEvent | None = None
        self._preview: Texture | None = None
        self._voucher_popup: Popup | None = None
        self._pad_popup: Popup | None = None
        self._discount_popup: Popup | None = None
        self._customer_popup: Popup | None = None

    def on_kv_post(self, base_widget: Any) -> None:
        """Grid taps add to the cart; pins are announced."""
        self.ids.grid.bind(on_pick=lambda _g, pid: self.add_from_grid(pid))
        self.ids.grid.bind(on_pinned=lambda _g, name, pinned: self._pinned(name, pinned))

    def on_pre_enter(self, *args: Any) -> None:
        """Refresh the cart, and the grid's tabs and tiles (a sync may have changed them)."""
        super().on_pre_enter(*args)
        product_grid = self.ids.grid
        product_grid.catalog = self.till.catalog
        product_grid.reload()

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
            self.tell(describe(totals.voucher_problem), "error")
        self.tax_text = format_rupiah(totals.tax_total)
        self.total_text = format_rupiah(totals.total)
        order = checkout.order_discount
        self.order_discount_label = (
            tr("order_discount_set", value=_discount_text(order))
            if order is not None
            else tr("order_discount_button")
        )
        view = self.till.customers.view()
        self.customer_label = (
            _said("ui_customer_set", name=_short(view.customer.name))
            if view is not None
            else _said("ui_customer_button")
        )

    def _row(self, line: CartLine, line_total: int) -> CartRow:
        price, unit = line.priced_per
        detail = f"{format_rupiah(price)} / {unit}"
        if line.discount_amount:
            detail += f"   {tr('discount')} {format_rupiah(-line.discount_amount)}"
        return CartRow(
            name=line.product.name,
            detail=detail,
            quantity=line.quantity_text,
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
        if self._pad_popup is not None:
            self._pad_popup.dismiss()  # the next item came: the quantity stays as it was
        self._do(lambda: self.till.checkout.scan(code), announce=True)
        return True

    def add_product(self, product_id: int) -> None:
        """A search result was tapped."""
        self._do(lambda: self.till.checkout.add_product(product_id), announce=True)
        self.ids.search.text = ""
        self.ids.results.clear_widgets()

    def add_from_grid(self, product_id: int) -> None:
        """A tile of the product grid was tapped: one more of it."""
        self._do(lambda: self.till.checkout.add_product(product_id), announce=True)

    def _pinned(self, name: str, pinned: bool) -> None:
        self.toast(tr("pinned" if pinned else "unpinned", name=name), "ok")

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
        hits = self.till.catalog.search_hits(text, limit=12)
        if not hits:
            box.add_widget(Factory.KLabel(text=tr("nothing_found")))
        for hit in hits:
            box.add_widget(
                ResultRow(
                    name=hit.product.name,
                    detail=_result_detail(hit),
                    price=format_rupiah(hit.product.price),
                    product_id=hit.product.id,
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
                self.tell(tr("nothing_found"), "error")
            return
        self.ids.search.text = ""
        self.ids.results.clear_widgets()
        self.toast(tr("added", name=line.product.name), "ok")
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
            self.tell(describe(exc), "error")
            self.toast(describe(exc), "error")
            return
        self.message = ""
        if announce and isinstance(result, CartLine):
            self.toast(tr("added", name=result.product.name), "ok")
        self.refresh()

    # -- the quantity keypad ------------------------------------------------------------
    def open_quantity(self, line_id: UUID) -> Popup:
        """Type a line's quantity on the keypad (the first digit replaces it); OK sets it."""
        line = self.till.checkout.cart.line(line_id)
        popup: Popup = Factory.QuantityPopup(title=tr("quantity_title", name=line.product.name))
        popup.ids.now.text = tr("quantity_now", n=line.quantity_text)
        pad = popup.ids.pad

        def done(_pad: Any, value: str) -> None:
            if not value:
                popup.dismiss()
                return
            try:
                changed = self.till.checkout.set_keyed_quantity(line_id, value)
            except DomainError as exc:
                popup.ids.message.text = describe(exc)
                return
            popup.dismiss()
            self.message = ""
            self.toast(tr("quantity_set", name=changed.product.name, n=changed.quantity_text), "ok")
            self.refresh()

        pad.bind(on_ok=done)
        popup.bind(on_dismiss=lambda *_: setattr(self, "_pad_popup", None))
        self._pad_popup = popup
        popup.open()
        return popup

    def keypad_popup(self) -> Popup | None:
        """The quantity keypad while it is open (tests drive it)."""
        return self._pad_popup

    def on_keys(self, text: str) -> None:
        """A keyboard while the quantity keypad is open: digits and Enter go to it."""
        if self._pad_popup is not None:
            self._pad_popup.ids.pad.type_keys(text)

    # -- the Manager area ------------------------------------------------------------------
    def open_manager(self) -> Popup | None:
        """Into the Manager area: a manager goes straight in; a cashier is asked for a
        manager's PIN (the cashier stays logged in). Returns the PIN popup, if any."""
        auth = self.till.auth
        manager_screen = self.app.screen("manager")
        if not auth.needs_manager_pin():
            manager_screen.visit(auth.open_manager_area())
            return None
        managers = [u for u in auth.users() if u.role.at_least(Role.MANAGER)]
        popup: Popup = Factory.ManagerPinPopup(title=tr("manager_pin_title"))
        ids = popup.ids
        ids.who.values = [u.full_name for u in managers]
        ids.who.text = managers[0].full_name if managers else ""

        def approve(*_: Any) -> None:
            chosen = next((u for u in managers if u.full_name == ids.who.text), None)
            try:
                manager = auth.open_manager_area(chosen.id if chosen else None, ids.pin.text)
            except DomainError as exc:
                ids.pin.text = ""
                ids.message.text = describe(exc)
                return
            popup.dismiss()
            manager_screen.visit(manager)

        ids.confirm.bind(on_release=approve)
        ids.pin.bind(on_text_validate=approve)
        popup.open()
        ids.pin.focus = True
        return popup

    # -- discounts -----------------------------------------------------------------------
    def open_discount(self, line_id: UUID) -> Popup:
        """Ask for a line discount (and a supervisor's PIN when it is large)."""
        checkout = self.till.checkout
        return self._ask_discount(
            tr("line_discount"),
            checkout.cart.line(line_id).discount,
            lambda discount, approver, pin: checkout.set_line_discount(
                line_id, discount, approver_id=approver, approver_pin=pin
            ),
        )

    def open_order_discount(self) -> Popup | None:
        """Ask for a whole-cart discount, rupiah or percent, same approval rule as a line."""
        checkout = self.till.checkout
        if checkout.cart.is_empty:
            self.message = tr("cart_empty")
            return None
        return self._ask_discount(
            tr("order_discount"),
            checkout.order_discount,
            lambda discount, approver, pin: checkout.set_order_discount(
                discount, approver_id=approver, approver_pin=pin
            ),
        )

    def discount_popup(self) -> Popup | None:
        """The discount popup while it is open (tests drive it)."""
        return self._discount_popup

    def _ask_discount(
        self,
        title: str,
        current: Discount | None,
        apply: Callable[[Discount | None, int | None, str | None], object],
    ) -> Popup:
        """The discount popup: Rp or % typed on the keypad (or a keyboard), then a
        supervisor and their PIN when the discount needs approval; OK with both fields
        empty takes the discount off."""
        popup: Popup = Factory.DiscountPopup(title=title)
        ids = popup.ids
        if current is not None and current.kind is DiscountKind.PERCENT:
            ids.percent.text = str(current.value // 100)
        elif current is not None:
            ids.amount.text = str(current.value)
        approvers = [u for u in self.till.auth.users() if u.role.at_least(Role.SUPERVISOR)]
        ids.approver.values = [u.full_name for u in approvers]
        pad = ids.pad
        fields = (ids.amount, ids.percent, ids.pin)

        def target(field: Any) -> None:
            popup.target = field
            pad.leading_zero = field is ids.pin
            pad.max_length = 8 if field is ids.pin else 9
            pad.value = "".join(c for c in field.text if c.isdigit())
            for each in fields:
                each.background_color = (1, 0.97, 0.8, 1) if each is field else (1, 1, 1, 1)

        def typed(_pad: Any, value: str) -> None:
            if popup.target is not None and popup.target.text != value:
                popup.target.text = value

        def follow(field: Any, text: str) -> None:
            if field is popup.target and text != pad.value:
                pad.value = "".join(c for c in text if c.isdigit())

        def choose(field: Any, focused: bool) -> None:
            if focused:
                target(field)

        for field in fields:
            field.bind(focus=choose, text=follow)
        pad.bind(value=typed)
        target(ids.percent if ids.percent.text else ids.amount)

        def submit(*_: Any) -> None:
            rupiah = parse_rupiah(ids.amount.text) or 0
            percent = parse_rupiah(ids.percent.text) or 0
            discount: Discount | None = None
            if percent:
                discount = Discount.percent(min(percent, 100) * 100)
            elif rupiah:
                discount = Discount.rupiah(rupiah)
            chosen = [u for u in approvers if u.full_name == ids.approver.text]
            try:
                apply(
                    discount,
                    chosen[0].id if chosen and ids.pin.text else None,
                    ids.pin.text or None,
                )
            except DomainError as exc:
                ids.message.text = describe(exc)
                if isinstance(exc, ApprovalRequired) or ids.pin.text:
                    ids.pin.text = ""  # a wrong PIN is typed again from the start
                    target(ids.pin)
                return
            popup.dismiss()
            self.message = ""
            self.refresh()

        pad.bind(on_ok=submit)
        popup.bind(on_dismiss=lambda *_: setattr(self, "_discount_popup", None))
        self._discount_popup = popup
        popup.open()
        return popup

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
        self.toast(tr("voucher_applied", code=code, amount=format_rupiah(-amount)), "ok")
        self.refresh()

    # -- the sale's customer and points ---------------------------------------------------
    def open_customer(self) -> Popup | None:
        """Find the customer by phone (or register them) and toggle redeeming points."""
        if self._customer_popup is not None:
            return None
        popup: Popup = Factory.CustomerPopup(title=_said("ui_customer_title"))
        ids = popup.ids
        ids.phone.hint_text = _said("ui_customer_phone_hint")
        ids.name.hint_text = _said("ui_customer_name_hint")
        ids.find.text = _said("ui_customer_find")
        ids.register.text = _said("ui_customer_register")
        ids.drop.text = _said("ui_customer_remove")
        ids.done.text = _said("ui_customer_done")
        ids.find.bind(on_release=lambda *_: self._find_customer(popup))
        ids.phone.bind(on_text_validate=lambda *_: self._find_customer(popup))
        ids.register.bind(on_release=lambda *_: self._register_customer(popup))
        ids.drop.bind(on_release=lambda *_: self._drop_customer(popup))
        ids.redeem.bind(on_release=lambda *_: self._toggle_points(popup))
        ids.done.bind(on_release=lambda *_: popup.dismiss())
        popup.bind(on_dismiss=lambda *_: self._customer_closed())
        self._customer_popup = popup
        self._show_customer(popup)
        popup.open()
        ids.phone.focus = True
        return popup

    def customer_popup(self) -> Popup | None:
        """The customer popup while it is open (tests drive it)."""
        return self._customer_popup

    def _customer_closed(self) -> None:
        self._customer_popup = None
        self.refresh()

    def _show_customer(self, popup: Popup) -> None:
        ids = popup.ids
        view = self.till.customers.view()
        ids.drop.disabled = view is None
        if view is None:
            ids.found.text = ""
            ids.redeem.text = _said("ui_customer_redeem_none")
            ids.redeem.state = "normal"
            ids.redeem.disabled = True
            return
        ids.phone.text = local_phone(view.customer.phone)
        ids.found.text = _said(
            "ui_customer_found",
            name=view.customer.name,
            phone=local_phone(view.customer.phone),
            points=view.available,
        )
        points = view.redeemed or view.max_redeem
        ids.redeem.disabled = points == 0
        ids.redeem.state = "down" if view.redeemed else "normal"
        ids.redeem.text = (
            _said("ui_customer_redeem", points=points, amount=points * view.loyalty.point_value)
            if points
            else _said("ui_customer_redeem_none")
        )

    def _find_customer(self, popup: Popup) -> None:
        customers = self.till.customers
        popup.ids.message.text = ""
        try:
            found = customers.find(popup.ids.phone.text)
        except DomainError as exc:
            popup.ids.message.text = describe(exc)
            return
        if found is not None:
            customers.attach(found)
            self._show_customer(popup)
            return
        token = self.till.store.device_token()
        phone = customers.phone(popup.ids.phone.text)
        not_found = _said("ui_customer_not_found")
        if not token:
            popup.ids.message.text = not_found
            return
        till = self.till

        def ask() -> CustomerOut | None:
            from pos_client.sync.client import SyncClient
            from pos_client.sync.customers_client import lookup_phone

            with SyncClient(till.http(), base_url=till.server_url(), token=token) as client:
                return lookup_phone(client, phone)

        message = popup.ids.message

        def answered(remote: CustomerOut | None) -> None:
            if self._customer_popup is not popup:
                return
            if remote is None:
                message.text = not_found
                return
            customers.attach(customers.customers.keep(remote))
            self._show_customer(popup)

        run_in_worker(
            ask,
            answered,
            lambda _exc: setattr(message, "text", not_found),
            name="kasir-customer",
        )

    def _register_customer(self, popup: Popup) -> None:
        customers = self.till.customers
        try:
            made = customers.register(popup.ids.phone.text, popup.ids.name.text)
        except DomainError as exc:
            popup.ids.message.text = describe(exc)
            return
        popup.ids.message.text = ""
        customers.attach(made)
        self._show_customer(popup)

    def _drop_customer(self, popup: Popup) -> None:
        self.till.customers.detach()
        popup.ids.phone.text = ""
        popup.ids.message.text = ""
        self._show_customer(popup)

    def _toggle_points(self, popup: Popup) -> None:
        customers = self.till.customers
        view = customers.view()
        try:
            if view is not None and view.redeemed:
                customers.redeem(0)
            else:
                after = customers.redeem_all()
                if after.redeemed:
                    self.toast(
                        _said("ui_customer_redeemed", points=after.redeemed, amount=after.discount),
                        "ok",
                    )
        except DomainError as exc:
            popup.ids.message.text = describe(exc)
        self._show_customer(popup)

    def _remove_voucher(self, popup: Popup) -> None:
        code = self.till.checkout.voucher_code
        self.till.checkout.remove_voucher()
        popup.dismiss()
        self.message = ""
        if code:
            self.toast(tr("voucher_removed", code=code), "ok")
        self.refresh()

    # -- hold, resume, pay ---------------------------------------------------------------
    def hold(self) -> None:
        """Put the cart aside."""
        try:
            count = len(self.till.checkout.cart.lines)
            held = self.till.checkout.hold(label=tr("held_items", n=count))
        except DomainError as exc:
            self.tell(describe(exc), "error")
            return
        self.toast(tr("held_saved", label=held_label(held.label)), "ok")
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
        zone = till_zone(self.till)
        for cart in held:
            when = shown_time(cart.created_at, zone, "day_time")
            button = Factory.KButton(text=f"{held_label(cart.label)}  ·  {when}")
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


def _discount_text(discount: Discount) -> str:
    if discount.kind is DiscountKind.PERCENT:
        whole, part = divmod(discount.value, 100)
        return f"{whole}%" if not part else f"{whole},{part:02d}%"
    return format_rupiah(discount.value)


def _result_detail(hit: ProductHit) -> str:
    """What a search result says under the name: stock on hand, SKU, category."""
    parts = [tr("on_hand", n=hit.on_hand, unit=hit.product.unit), hit.product.sku]
    if hit.category:
        parts.append(hit.category)
    return "   ·   ".join(parts)


def _said(code: str, **params: object) -> str:
    """A sentence of the shared message tables in the cashier's language."""
    return render(code, params, language())


def _short(name: str, most: int = 10) -> str:
    """A name cut to fit a button's second line: ``Ibu Sari…``."""
    return name if len(name) <= most else name[: most - 1].rstrip() + "…"
