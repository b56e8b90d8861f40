"""The till's e-receipt key: fetched once from the server and kept in the local store.

Every printed receipt carries a link to its digital copy on the server,
``<base URL>/r/<terminal id>/<sale id>/<signature>``, signed by the till itself with
its own receipt key (:func:`shared.receipt_text.receipt_link`), so a receipt printed
offline carries a link that works as soon as the sale has synced (and says "belum
tersinkron" before). The key and the server's public base URL come from
``GET /api/v1/sync/receipt-key`` (:class:`~shared.receipt_text.ReceiptKeyOut`); the
sync worker asks for them after a successful round while the till holds none for its
current terminal id (:class:`ReceiptKeyKeeper`), and the till keeps them in its
``sync_state`` table. A till without a key yet prints no link and no e-receipt QR,
never a wrong one; a till enrolled again as another terminal fetches its new key.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from uuid import UUID

from pydantic import ValidationError

from pos_client.store import LocalStore
from pos_client.store.ports import SyncStore
from pos_client.sync.http import ServerClient, SyncError, parse
from shared.receipt_text import ReceiptEmailIn, ReceiptKeyOut

log = logging.getLogger("kasir.sync")

RECEIPT_KEY_PATH = "/api/v1/sync/receipt-key"
STATE_KEY = "receipt_key"
"""The ``sync_state`` row holding the key (its JSON)."""
RETRY_SECONDS = 300.0
"""After a failed fetch (an older server without the route, a refusal) the worker asks
again this much later, not every round."""
REFRESH_SECONDS = 6 * 3600.0
"""A kept key is fetched again this often (and once after each start), so a server that
gains or loses its e-mail settings is followed; the key itself does not change."""
RECEIPT_EMAIL_PATH = "/api/v1/sync/receipt-email"


def fetch_receipt_key(client: ServerClient) -> ReceiptKeyOut:
    """The calling till's receipt key and the base URL of links (may raise SyncError)."""
    return parse(client.get(RECEIPT_KEY_PATH), ReceiptKeyOut)


def send_receipt_email(client: ServerClient, sale_id: UUID, to: str) -> None:
    """Have the server e-mail the receipt of ``sale_id`` to ``to`` (may raise SyncError:
    offline, no e-mail on the server, its mail server down)."""
    body = ReceiptEmailIn(sale_id=sale_id, to=to).model_dump_json()
    client.post(RECEIPT_EMAIL_PATH, body)


def saved_receipt_key(store: LocalStore) -> ReceiptKeyOut | None:
    """The key kept for this till's current terminal id, or None (none yet, or the till
    was enrolled again as another terminal since)."""
    raw = store._state(STATE_KEY)
    if not raw:
        return None
    try:
        key = ReceiptKeyOut.model_validate_json(raw)
    except ValidationError:
        return None
    if key.terminal_id != store.terminal_identity().terminal_id:
        return None
    return key


def save_receipt_key(store: LocalStore, key: ReceiptKeyOut) -> None:
    """Keep ``key`` (one write transaction)."""
    with store._write():
        store._set_state(STATE_KEY, key.model_dump_json())


class ReceiptKeyKeeper:
    """The sync worker's step: fetch and keep the key while the till has none.

    Called after each successful round with the worker's own store and client. It
    costs nothing once the key is kept; a failed fetch is logged and tried again after
    :data:`RETRY_SECONDS`, and never fails the round.
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        """Time retries with ``monotonic``."""
        self._monotonic = monotonic
        self._retry_at: float | None = None
        self._fetched_at: float | None = None

    def __call__(self, store: SyncStore, client: ServerClient) -> ReceiptKeyOut | None:
        """The kept key, fetching it first when needed; None when there is none yet."""
        if not isinstance(store, LocalStore):  # a test's fake store: nothing to keep
            return None
        kept = saved_receipt_key(store)
        now = self._monotonic()
        fresh = self._fetched_at is not None and now - self._fetched_at < REFRESH_SECONDS
        if kept is not None and fresh:
            return kept
        if self._retry_at is not None and now < self._retry_at:
            return kept
        try:
            key = fetch_receipt_key(client)
        except SyncError as exc:
            log.warning("no e-receipt key from the server: %s", exc)
            self._retry_at = now + RETRY_SECONDS
            return kept
        if key.terminal_id != store.terminal_identity().terminal_id:
            log.warning("the server's e-receipt key is for terminal %s", key.terminal_id)
            self._retry_at = now + RETRY_SECONDS
            return kept
        if key != kept:
            save_receipt_key(store, key)
        self._retry_at = None
        self._fetched_at = now
        return key
