"""The till's side of customers: look one up by phone, page through changed customers
and balances, and the sync worker's step that keeps the local cache.

``GET /api/v1/customers/changes?cursor=`` answers whole customers with their balance
(:class:`~shared.models.customers.CustomerChangesOut`) and the chain's points rule; the
till stores each page with its cursor in one transaction
(:meth:`~pos_client.store.customers.CustomersStore.apply_changes`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from pos_client.store import LocalStore
from pos_client.store.customers import CustomersStore
from pos_client.store.ports import SyncStore
from pos_client.sync.http import ServerClient, SyncError, parse
from shared.models.customers import CustomerChangesOut, CustomerIn, CustomerOut

log = logging.getLogger("kasir.sync")

CUSTOMERS_PATH = "/api/v1/customers"
CHANGES_PATH = "/api/v1/customers/changes"

RETRY_SECONDS = 300.0
"""After a refusal (an older server without the route) the worker asks again this much
later, not every round."""

MAX_PAGES = 50
"""Most pages one round stores (the rest come next round)."""


def fetch_changes(client: ServerClient, cursor: int, limit: int = 1000) -> CustomerChangesOut:
    """One page of customers changed since ``cursor`` (may raise SyncError)."""
    return parse(client.get(CHANGES_PATH, {"cursor": cursor, "limit": limit}), CustomerChangesOut)


def lookup_phone(client: ServerClient, phone: str) -> CustomerOut | None:
    """The server's customer of ``phone`` (any spelling), or None (may raise SyncError)."""
    page = client.get(CUSTOMERS_PATH, {"phone": phone}).json()
    items = page.get("items", []) if isinstance(page, dict) else []
    return CustomerOut.model_validate(items[0]) if items else None


def create_customer(client: ServerClient, body: CustomerIn) -> CustomerOut:
    """Create a customer on the server (409 when the number is someone's)."""
    return parse(client.post(CUSTOMERS_PATH, body.model_dump_json()), CustomerOut)


def refresh_customers(store: LocalStore, client: ServerClient, *, limit: int = 1000) -> int:
    """Bring the till's customers up to date; returns how many came.

    Redemptions of sales already acknowledged when the first page is asked for are
    included in the balances it brings, so they stop being counted here with it.
    """
    customers = CustomersStore(store)
    customers.count_outbox_redeems()
    settled = customers.redeem_sale_ids() - customers.sales_in_outbox()
    cursor = customers.cursor()
    came = 0
    for _ in range(MAX_PAGES):
        page = fetch_changes(client, cursor, limit)
        customers.apply_changes(page, settled=settled)
        settled = set()
        came += len(page.customers)
        if not page.has_more or page.cursor <= cursor:
            break
        cursor = page.cursor
    return came


class CustomersRefresher:
    """The sync worker's step after each successful round: refresh the customers cache.

    A failure is logged and never fails the round; after a refusal (not a network
    failure) it waits :data:`RETRY_SECONDS` before asking again.
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        """Time retries with ``monotonic``."""
        self._monotonic = monotonic
        self._retry_at: float | None = None

    def __call__(self, store: SyncStore, client: ServerClient) -> int | None:
        """How many customers came, or None when nothing was asked."""
        if not isinstance(store, LocalStore):  # a test's fake store: nothing to keep
            return None
        now = self._monotonic()
        if self._retry_at is not None and now < self._retry_at:
            return None
        try:
            came = refresh_customers(store, client)
        except SyncError as exc:
            log.warning("customers not refreshed: %s", exc)
            if getattr(exc, "status_code", None) is not None:
                self._retry_at = now + RETRY_SECONDS
            return None
        self._retry_at = None
        return came
