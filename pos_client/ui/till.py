"""The services the screens call, wired once for the UI thread (no Kivy here).

The UI thread owns one :class:`LocalStore`; every worker opens its own (SQLite
connections are never shared between threads), through :meth:`Till.open_store`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

import httpx
from argon2 import PasswordHasher

from pos_client.config import ClientSettings
from pos_client.services.clock import Clock, utc_now
from pos_client.services.qris import QrisCharge, QrisError, QrisGateway, QrisService, QrisStatus
from pos_client.services.tender import TenderFlow
from pos_client.services.wiring import TillServices
from pos_client.store import LocalStore
from pos_client.sync.client import SyncClient
from pos_client.sync.http import ServerClient
from pos_client.sync.payments_client import PaymentsClient
from pos_client.sync.receipt_link import send_receipt_email
from pos_client.sync.worker import SyncReport, SyncWorker
from pos_client.ui.prefs import UiPrefs, load_prefs, save_prefs
from shared.models import OrderItemIn


@dataclass
class Till(TillServices):
    """Everything a screen may call: services over the UI thread's store, and prefs."""

    prefs: UiPrefs
    qris: QrisGateway | None = None
    transport: httpx.BaseTransport | None = None

    @classmethod
    def open(
        cls,
        settings: ClientSettings,
        *,
        qris: QrisGateway | None = None,
        transport: httpx.BaseTransport | None = None,
        now: Clock = utc_now,
        hasher: PasswordHasher | None = None,
    ) -> Till:
        """Open (and migrate) the store in ``settings.data_dir`` and wire the services."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return cls.wire(
            LocalStore.open(settings),
            settings,
            now=now,
            hasher=hasher,
            prefs=load_prefs(settings.data_dir),
            qris=qris,
            transport=transport,
        )

    def tender(self) -> TenderFlow:
        """A payment of the cart as it is now, with this till's QRIS port."""
        return TenderFlow(self.checkout, self.qris, now=self.now)

    # -- threads and the network -------------------------------------------------------
    def open_store(self) -> LocalStore:
        """A new connection for a worker thread (call it in that thread)."""
        return LocalStore.open(self.settings)

    def http(self) -> httpx.Client:
        """An HTTP client for the server (the injected transport in tests)."""
        return httpx.Client(transport=self.transport, timeout=self.settings.http_timeout_seconds)

    def server_url(self) -> str:
        """The server this till talks to."""
        return self.settings.server_url

    def enrolled(self) -> bool:
        """True once the till has a device token."""
        return self.store.device_token() is not None

    def sync_worker(self, on_result: Callable[[SyncReport], None]) -> SyncWorker:
        """A sync worker whose store and client are made in its own thread."""
        settings = self.settings

        def client() -> SyncClient:
            store = LocalStore.open(settings)
            try:
                token = store.device_token() or ""
            finally:
                store.close()
            return SyncClient(self.http(), base_url=self.server_url(), token=token)

        return SyncWorker(
            self.open_store,
            client,
            on_result=on_result,
            batch_size=settings.push_batch_size,
            pull_limit=settings.pull_page_size,
            interval=settings.sync_interval_seconds,
        )

    def send_receipt_email(self, sale_id: UUID, to: str) -> None:
        """Have the server e-mail a sale's receipt (blocking: call from a worker; its own
        store connection, as the worker thread may not use the UI thread's)."""
        store = LocalStore.open(self.settings)
        try:
            token = store.device_token() or ""
        finally:
            store.close()
        client = ServerClient(self.http(), base_url=self.server_url(), token=token)
        send_receipt_email(client, sale_id, to)

    # -- preferences -------------------------------------------------------------------
    def save_prefs(self, prefs: UiPrefs) -> None:
        """Keep ``prefs`` for this device."""
        save_prefs(self.settings.data_dir, prefs)
        self.prefs = prefs

    def close(self) -> None:
        """Close the UI thread's store."""
        self.store.close()


class ServerQris:
    """QRIS through this till's server: the :class:`QrisGateway` the app uses.

    The :class:`QrisService` is built on first use and again whenever the device token
    changes (a re-enrolled till). Errors are codes: the screen renders them in the
    language the cashier chose, so a language change needs nothing here.
    """

    def __init__(
        self, settings: ClientSettings, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        """QRIS for the till configured by ``settings``."""
        self.settings = settings
        self.transport = transport
        self._token: str | None = None
        self._service: QrisService | None = None

    def _current(self) -> QrisService:
        store = LocalStore.open(self.settings)
        try:
            token = store.device_token()
            code = store.terminal_identity().terminal_code or ""
        finally:
            store.close()
        if not token:
            raise QrisError("qris_not_enrolled")
        if self._service is None or token != self._token:
            http = httpx.Client(
                transport=self.transport, timeout=self.settings.http_timeout_seconds
            )
            client = PaymentsClient(http, base_url=self.settings.server_url, token=token)
            self._service = QrisService(client, terminal_code=code)
            self._token = token
        return self._service

    def start(self, amount: int, items: Sequence[OrderItemIn] = ()) -> QrisCharge:
        """Create a QRIS payment on the server (blocking: call from a worker)."""
        return self._current().start(amount, items)

    def poll(self, order_id: str) -> QrisStatus:
        """The payment's status from the server."""
        return self._current().poll(order_id)

    def cancel(self, order_id: str) -> None:
        """Stop waiting for the payment (it expires on the server)."""
        self._current().cancel(order_id)
