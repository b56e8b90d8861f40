"""The till's services over one store, wired the one way the UI (and its tests) wire them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self

from argon2 import PasswordHasher

from pos_client.config import ClientSettings
from pos_client.services.auth import AuthService
from pos_client.services.catalog import CatalogService
from pos_client.services.checkout import CheckoutService
from pos_client.services.clock import Clock, utc_now
from pos_client.services.customers import CustomersService
from pos_client.services.refunds import RefundService
from pos_client.services.shifts import ShiftService
from pos_client.store import LocalStore


@dataclass(kw_only=True)
class TillServices:
    """Every service a screen calls, over one :class:`LocalStore`, sharing one clock.

    A subclass adds what its till also holds (preferences, a sync worker...).
    """

    settings: ClientSettings
    store: LocalStore
    auth: AuthService
    catalog: CatalogService
    checkout: CheckoutService
    refunds: RefundService
    shifts: ShiftService
    now: Clock = field(default=utc_now)
    customers: CustomersService

    @classmethod
    def wire(
        cls,
        store: LocalStore,
        settings: ClientSettings,
        *,
        now: Clock = utc_now,
        hasher: PasswordHasher | None = None,
        **extra: Any,
    ) -> Self:
        """The services over ``store``; ``extra`` fills the subclass's own fields."""
        auth = AuthService(store, settings, now=now, hasher=hasher)
        catalog = CatalogService(store)
        checkout = CheckoutService(store, auth, settings, catalog=catalog, now=now)
        customers = CustomersService(store, checkout)
        checkout.sale_listeners.append(customers.note_sale)
        return cls(
            settings=settings,
            store=store,
            auth=auth,
            catalog=catalog,
            checkout=checkout,
            customers=customers,
            refunds=RefundService(store, auth, settings, now=now),
            shifts=ShiftService(store, auth, now=now),
            now=now,
            **extra,
        )
