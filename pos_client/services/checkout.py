"""The cart's life at the till: ring up, discount, voucher, hold/resume, and pay."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

from pos_client.config import ClientSettings
from pos_client.domain.cart import Cart, CartLine, CartTotals, Discount
from pos_client.domain.errors import CartError, ShiftError, VoucherError
from pos_client.domain.measured import (
    THOUSANDTHS,
    keyed_weight,
    parse_keyed_quantity,
    sold_by_weight,
)
from pos_client.domain.sale import build_sale_draft
from pos_client.domain.tender import CashTender, Tender, settle
from pos_client.services.auth import AuthService
from pos_client.services.catalog import CatalogService
from pos_client.services.clock import Clock, utc_now
from pos_client.store import HeldCart, LocalStore
from shared.barcodes import MeasureKind
from shared.models import PaymentMethod, Role, SaleIn
from shared.timezones import store_zone

log = logging.getLogger("kasir.checkout")


@dataclass(frozen=True, slots=True)
class CheckoutResult:
    """A finished sale and the change to hand back."""

    sale: SaleIn
    change: int


class CheckoutService:
    """One cart at a time, from the first scan to the receipt number.

    Every method either does what it says or raises a :class:`DomainError` (a sentence
    for the cashier) and changes nothing.
    """

    def __init__(
        self,
        store: LocalStore,
        auth: AuthService,
        settings: ClientSettings | None = None,
        *,
        catalog: CatalogService | None = None,
        now: Clock = utc_now,
    ) -> None:
        """Sell from ``store`` as ``auth``'s current user; ``now`` stamps sales."""
        self.store = store
        self.auth = auth
        self.settings = settings or ClientSettings()
        self.catalog = catalog or CatalogService(store)
        self.now = now
        self.cart = self._new_cart()
        self.sale_listeners: list[Callable[[SaleIn], None]] = []
        """Called with each sale once it is written (the customers' points, say); a
        listener that fails is logged, never undoes the sale."""

    def _new_cart(self) -> Cart:
        return Cart(approval_threshold_bp=self.settings.discount_approval_bp)

    def new_cart(self) -> Cart:
        """Drop the current cart and start an empty one."""
        self.cart = self._new_cart()
        return self.cart

    # -- ringing up ----------------------------------------------------------------------
    def scan(self, code: str, quantity: int = 1) -> CartLine:
        """Add what a scanner (or keyboard) sent: a barcode, else a SKU.

        An in-store label (embedded price or weight) rings up on a line of its own at the
        label's price (see :meth:`CatalogService.scan`).
        """
        item = self.catalog.scan(code)
        return self.cart.add(item.product, quantity, measure=item.measure)

    def add_product(self, product_id: int, quantity: int = 1) -> CartLine:
        """Add a product picked from search results."""
        return self.cart.add(self.catalog.product(product_id), quantity)

    def change_quantity(self, line_id: UUID, quantity: int) -> CartLine:
        """Set a line's quantity."""
        return self.cart.change_quantity(line_id, quantity)

    def set_keyed_quantity(self, line_id: UUID, text: str) -> CartLine:
        """Set a line's quantity from what the keypad shows (``"3"``, ``"0,75"``).

        Goods sold by the kilogram take decimals: the line becomes that weight, priced and
        named like a scale label (``Beras Curah 0,75 kg``). A whole number on a line that
        is not yet weighed stays a plain quantity. Anything else refuses a fraction with
        ``quantity_not_whole_unit``.
        """
        line = self.cart.line(line_id)
        amount = parse_keyed_quantity(text)
        product = self.catalog.product(line.product.id)
        weighed = line.measure is None or line.measure.kind is MeasureKind.WEIGHT
        if sold_by_weight(product) and weighed:
            if amount % THOUSANDTHS == 0 and line.measure is None:
                return self.cart.change_quantity(line_id, amount // THOUSANDTHS)
            priced, measure = keyed_weight(product, amount)
            return self.cart.weigh(line_id, priced, measure)
        if amount % THOUSANDTHS:
            raise CartError("quantity_not_whole_unit", name=product.name, unit=product.unit)
        return self.cart.change_quantity(line_id, amount // THOUSANDTHS)

    def remove_line(self, line_id: UUID) -> None:
        """Take a line out of the cart."""
        self.cart.remove(line_id)

    def totals(self) -> CartTotals:
        """The cart priced now (for the screen)."""
        return self.cart.totals()

    # -- discounts and vouchers ----------------------------------------------------------
    def _approved(
        self, discount: Discount | None, approver_id: int | None, approver_pin: str | None
    ) -> Discount | None:
        if discount is None or approver_id is None:
            return discount
        approver = self.auth.authorize(approver_id, approver_pin or "", Role.SUPERVISOR)
        return replace(discount, approved_by=approver.id)

    def set_line_discount(
        self,
        line_id: UUID,
        discount: Discount | None,
        *,
        approver_id: int | None = None,
        approver_pin: str | None = None,
    ) -> CartLine:
        """Discount a line. Above the threshold :class:`ApprovalRequired` is raised unless a
        supervisor (or higher) approves with ``approver_id`` and ``approver_pin``."""
        return self.cart.set_line_discount(
            line_id, self._approved(discount, approver_id, approver_pin)
        )

    def set_order_discount(
        self,
        discount: Discount | None,
        *,
        approver_id: int | None = None,
        approver_pin: str | None = None,
    ) -> None:
        """Discount the whole order (same approval rule as line discounts)."""
        self.cart.set_order_discount(self._approved(discount, approver_id, approver_pin))

    @property
    def order_discount(self) -> Discount | None:
        """The whole-cart discount the cashier set (not the voucher), if any."""
        return self.cart.order_discount

    def apply_voucher(self, code: str) -> int:
        """Apply a voucher by its code (any case); returns the rupiah it takes off now.

        Checked against the vouchers pulled from the server: an unknown, inactive,
        expired, used-up or below-minimum-spend voucher raises :class:`VoucherError`
        and the cart keeps the voucher it had (if any).
        """
        code = code.strip().upper()
        if not code:
            raise VoucherError("voucher_code_missing")
        if self.cart.is_empty:
            raise CartError("cart_empty")
        voucher = self.store.voucher(code)
        if voucher is None:
            raise VoucherError("voucher_unknown", code=code)
        return self.cart.apply_voucher(voucher, self.now())

    def remove_voucher(self) -> None:
        """Take the voucher off the cart."""
        self.cart.remove_voucher()

    @property
    def voucher_code(self) -> str | None:
        """The code of the voucher on the cart, if any."""
        return self.cart.voucher.code if self.cart.voucher else None

    # -- paying --------------------------------------------------------------------------
    def checkout_cash(self, tendered: int) -> CheckoutResult:
        """Pay the whole cart in cash."""
        return self.checkout([CashTender(tendered)])

    def checkout(self, tenders: Sequence[Tender]) -> CheckoutResult:
        """Pay with ``tenders`` (cash and/or confirmed QRIS) and write the sale.

        The sale, its lines, payments, stock moves, receipt number and outbox row are one
        transaction. On success a new empty cart starts.
        """
        cashier = self.auth.require_user()
        shift = self.store.open_shift_row()
        if shift is None and self.settings.require_open_shift:
            raise ShiftError("shift_required_to_sell")
        now = self.now()
        self.cart.validate(now)
        totals = self.cart.totals()
        if totals.voucher_problem:
            raise totals.voucher_problem
        payments = settle(totals.total, tenders)
        draft = build_sale_draft(
            self.cart,
            totals,
            payments,
            cashier_id=cashier.id,
            shift_id=shift.id if shift else None,
            created_at=now,
            catalog_cursor=self.store.pull_cursor() or None,
        )
        sale = self.store.record_sale(
            draft, terminal_code=self.terminal_code(), day=self.business_day()
        )
        self.cart = self._new_cart()
        for listener in self.sale_listeners:
            try:
                listener(sale)
            except Exception:  # the sale is written: a listener never undoes it
                log.exception("a sale listener failed for sale %s", sale.id)
        change = sum(p.change for p in sale.payments if p.method is PaymentMethod.CASH)
        return CheckoutResult(sale=sale, change=change)

    def terminal_code(self) -> str:
        """This till's code: from enrollment, else from the settings."""
        return self.store.terminal_identity().terminal_code or self.settings.terminal_code

    def business_day(self) -> date:
        """Today in the store's timezone (the day in the receipt number)."""
        profile = self.store.store_profile()
        zone = profile.timezone if profile else self.settings.store_timezone
        return self.now().astimezone(store_zone(zone)).date()

    # -- holding carts -------------------------------------------------------------------
    def hold(self, label: str = "") -> HeldCart:
        """Put the cart aside (kept across restarts) and start an empty one."""
        if self.cart.is_empty:
            raise CartError("nothing_to_hold")
        cashier = self.auth.require_user()
        held = HeldCart(
            id=self.cart.id,
            label=label or f"{len(self.cart.lines)} barang",
            cashier_id=cashier.id,
            created_at=self.now(),
            payload=self.cart.to_dict(),
        )
        self.store.hold_cart(
            held.id,
            label=held.label,
            cashier_id=held.cashier_id,
            created_at=held.created_at,
            payload=held.payload,
        )
        self.cart = self._new_cart()
        return held

    def held(self) -> list[HeldCart]:
        """Carts put aside, oldest first."""
        return self.store.held_carts()

    def resume(self, cart_id: UUID) -> Cart:
        """Bring a held cart back (the current cart must be empty)."""
        if not self.cart.is_empty:
            raise CartError("cart_not_empty")
        payload = self.store.take_held_cart(cart_id)
        if payload is None:
            raise CartError("held_cart_gone")
        self.cart = Cart.from_dict(payload)
        return self.cart
