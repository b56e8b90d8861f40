"""Customers at the till: find one by phone number, register one (offline too), attach
them to the sale and redeem their points.

The till redeems only what it has pulled: the customer's balance as last pulled from
the server less what this till redeemed since (:meth:`CustomersService.available`).
The sale carries the customer and the points (``SaleIn.customer``); the server books
the moves, and flags an overdraw (two tills offline spending the same points) instead
of refusing the sale.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from pos_client.domain.customers import CartCustomer, redeemable
from pos_client.domain.errors import CartError, DomainError
from pos_client.services.checkout import CheckoutService
from pos_client.store import LocalStore
from pos_client.store.customers import CustomersStore, CustomerTaken, LocalCustomer
from pos_client.sync.http import SyncError
from shared.ids import new_id
from shared.models import SaleIn
from shared.models.customers import (
    CustomerOut,
    LoyaltySettings,
    clean_name,
    normalise_email,
    normalise_phone,
)

log = logging.getLogger("kasir.customers")

Lookup = Callable[[str], CustomerOut | None]
"""Asks the server for the customer of a phone number (may raise SyncError)."""


class CustomerError(DomainError):
    """A customer could not be found, made or used as asked."""

    message_code = "customer_required"


@dataclass(frozen=True, slots=True)
class CustomerView:
    """What the payment screen shows of the sale's customer."""

    customer: LocalCustomer
    available: int
    """Points they may redeem on this till now."""
    redeemed: int
    """Points this sale takes."""
    discount: int
    """Their rupiah value."""
    max_redeem: int
    """Most points this sale could take."""
    loyalty: LoyaltySettings


class CustomersService:
    """The sale's customer and points, over the local store (and the server when online)."""

    def __init__(
        self, store: LocalStore, checkout: CheckoutService, *, lookup: Lookup | None = None
    ) -> None:
        """Work on ``store`` for ``checkout``'s cart; ``lookup`` asks the server."""
        self.store = store
        self.customers = CustomersStore(store)
        self.checkout = checkout
        self.lookup = lookup

    # -- finding and registering -----------------------------------------------------------
    @staticmethod
    def phone(text: str) -> str:
        """The canonical form of a typed phone number, or :class:`CustomerError`."""
        try:
            return normalise_phone(text)
        except ValueError:
            raise CustomerError("customer_phone_invalid", phone=text.strip()[:20]) from None

    def find(self, text: str) -> LocalCustomer | None:
        """The customer of a typed phone number: from the till's cache, else (online)
        from the server, kept here; None when nobody has it."""
        phone = self.phone(text)
        found = self.customers.by_phone(phone)
        if found is not None or self.lookup is None:
            return found
        try:
            remote = self.lookup(phone)
        except SyncError as exc:  # offline: what the till has is all there is
            log.info("customer lookup not answered: %s", exc)
            return None
        return None if remote is None else self.customers.keep(remote)

    def register(self, phone_text: str, name: str, email: str | None = None) -> LocalCustomer:
        """A new customer made here (works offline); sent with their first sale."""
        phone = self.phone(phone_text)
        try:
            clean = clean_name(name)
        except ValueError:
            raise CustomerError("customer_name_required") from None
        try:
            mail = normalise_email(email)
        except ValueError:
            raise CustomerError("customer_email_invalid", email=(email or "")[:40]) from None
        try:
            return self.customers.add_local(new_id(), phone, clean, mail)
        except CustomerTaken:
            raise CustomerError("customer_phone_taken", phone=phone) from None

    # -- the sale's customer -------------------------------------------------------------
    def attach(self, customer: LocalCustomer) -> CustomerView:
        """The sale is for ``customer`` (points redeemed for someone else are dropped)."""
        self.checkout.cart.set_customer(
            CartCustomer(
                id=customer.id, phone=customer.phone, name=customer.name, email=customer.email
            )
        )
        view = self.view()
        assert view is not None
        return view

    def detach(self) -> None:
        """The sale is for nobody in particular."""
        self.checkout.cart.set_customer(None)

    def available(self, phone: str) -> int:
        """Points the customer of ``phone`` may redeem on this till now."""
        return self.customers.available(phone)

    def view(self) -> CustomerView | None:
        """The sale's customer with their points, or None."""
        cart = self.checkout.cart
        if cart.customer is None:
            return None
        local = self.customers.by_phone(cart.customer.phone) or LocalCustomer(
            id=cart.customer.id,
            phone=cart.customer.phone,
            name=cart.customer.name,
            email=cart.customer.email,
            points=0,
            synced=False,
        )
        loyalty = self.customers.loyalty()
        available = self.available(local.phone)
        totals = cart.totals()
        max_redeem = (
            redeemable(available, loyalty.point_value, cart.points_base()) if loyalty.enabled else 0
        )
        return CustomerView(
            customer=local,
            available=available,
            redeemed=totals.points_redeemed,
            discount=totals.points_discount,
            max_redeem=max_redeem,
            loyalty=loyalty,
        )

    def redeem(self, points: int) -> CustomerView:
        """Take ``points`` off the sale (0: none): at most what the customer may redeem
        here and what the sale's rest covers."""
        view = self.view()
        if view is None:
            raise CartError("customer_required")
        if points and not view.loyalty.enabled:
            raise CustomerError("points_disabled")
        if points > view.available:
            raise CustomerError("points_over_balance", available=view.available)
        if points > view.max_redeem:
            raise CustomerError("points_over_total")
        self.checkout.cart.redeem_points(points, view.loyalty.point_value)
        after = self.view()
        assert after is not None
        return after

    def redeem_all(self) -> CustomerView:
        """Redeem as many points as this sale can take (the toggle on the screen)."""
        view = self.view()
        if view is None:
            raise CartError("customer_required")
        return self.redeem(view.max_redeem if view.loyalty.enabled else 0)

    # -- after the sale ------------------------------------------------------------------
    def note_sale(self, sale: SaleIn) -> None:
        """Count a written sale's redemption here (a checkout listener)."""
        block = sale.customer
        if block is not None and block.points_redeemed:
            self.customers.note_redeem(sale.id, block.phone, block.points_redeemed, sale.created_at)

    def customer(self, customer_id: UUID) -> LocalCustomer | None:
        """A customer the till knows, by id."""
        return self.customers.get(customer_id)
