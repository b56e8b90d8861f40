"""QRIS at the till: the one port (:class:`QrisGateway`) and the server's implementation.

A QRIS payment cannot complete offline (tripay.md): the payer's bank must reach the
QRIS switch and Tripay must confirm. So :class:`QrisService` only talks to the server
(through :class:`~pos_client.sync.payments_client.PaymentsClient`) and writes nothing
on the till: it starts a payment, polls it, and stops waiting for it. The payment of
the cart (QRIS parts, cash for the rest, finishing the sale) is
:class:`~pos_client.services.tender.TenderFlow`, written against :class:`QrisGateway`
(tests use a fake under ``tests/``). When the server is unreachable or Tripay fails, a
:class:`QrisError` carries a message code and its parameters (``error.text("id")`` for
the cashier, ``str(error)`` in English); the cart stays as it was and cash still works.

Every method may block on the network and none touches a local database, so a UI
worker thread may call them.
"""

from __future__ import annotations

import io
import itertools
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

import qrcode
from qrcode.constants import ERROR_CORRECT_M

from pos_client.domain.errors import DomainError
from pos_client.services.checkout import CheckoutService
from pos_client.services.clock import Clock, utc_now
from pos_client.sync.client import (
    AuthRevoked,
    Offline,
    ProtocolMismatch,
    ServerRejected,
    SyncError,
)
from pos_client.sync.payments_client import PaymentGatewayError, PaymentsClient
from shared.ids import new_id
from shared.messages import has_message
from shared.models import (
    CreatePaymentIn,
    CreateTransactionIn,
    OrderItemIn,
    PaymentOrderOut,
    QrisMethod,
)

Language = Literal["id", "en"]

QrisStatus = Literal["UNPAID", "PAID", "EXPIRED", "FAILED", "REFUND"]
"""Tripay's states as the server reports them (UNPAID until the customer pays)."""

FINAL_STATUSES: frozenset[str] = frozenset({"PAID", "EXPIRED", "FAILED", "REFUND"})
"""Statuses after which polling stops (the server's ``final``)."""

# Polling: 1 s, 2 s, 4 s, then every 5 s; each delay shortened by up to 20 % at random
# so tills that started together do not poll in step.
POLL_FIRST_DELAY = 1.0
POLL_MAX_DELAY = 5.0
POLL_JITTER = 0.2
EXPIRY_GRACE = timedelta(seconds=90)
"""How long past ``expires_at`` the till keeps polling: the server settles an order near
and after expiry by asking Tripay, so EXPIRED (or a last-second PAID) arrives."""

DEFAULT_EXPIRY_MINUTES = 15
_IN_PROGRESS_RETRIES = 3


# -- errors -----------------------------------------------------------------------------


class QrisError(DomainError):
    """QRIS could not do what was asked: a message code and its parameters.

    ``retryable`` says the same step may be tried again as it is; ``detail`` keeps the
    technical reason for logs. ``text(language)`` is the cashier's sentence.
    """

    code = "qris_error"

    def __init__(
        self,
        code: str | None = None,
        /,
        *,
        retryable: bool = False,
        detail: str | None = None,
        **params: Any,
    ) -> None:
        super().__init__(code, **params)
        self.retryable = retryable
        self.detail = detail


class QrisOffline(QrisError):
    """The server cannot be reached, so QRIS is refused; cash still works."""

    code = "qris_offline"


class QrisUnavailable(QrisError):
    """The server is up but Tripay failed or refused; nothing was recorded."""

    code = "qris_unavailable"


_TRIPAY_CODES = frozenset({"tripay_timeout", "tripay_rejected"})


def _coded(error: QrisError, code: str) -> QrisError:
    """``error`` with ``code`` as its stable code, its message kept (the server's code)."""
    error.code = code
    return error


def _rejected(exc: ServerRejected) -> QrisError:
    details = exc.details if isinstance(exc.details, dict) else {}
    if exc.code == "amount_out_of_range":
        return QrisError(
            "amount_out_of_range",
            detail=exc.message,
            minimum=details.get("minimum", 1000),
            maximum=details.get("maximum", 0),
        )
    if exc.code == "payment_in_progress":
        return QrisError("payment_in_progress", retryable=True, detail=exc.message)
    # The server's own code reads as its message when the tables have one.
    reason = exc.code if has_message(exc.code, "en") else exc.message
    refused = QrisError("qris_server_refused", detail=exc.message, reason=reason)
    return _coded(refused, exc.code)


def as_qris_error(exc: SyncError) -> QrisError:
    """The cashier's error for a failure of the payments client."""
    if isinstance(exc, Offline):
        return QrisOffline("qris_offline", retryable=True, detail=exc.message)
    if isinstance(exc, PaymentGatewayError):
        unavailable = QrisUnavailable(
            exc.code if exc.code in _TRIPAY_CODES else "qris_tripay_error",
            retryable=exc.retryable,
            detail=f"{exc.code}: {exc.message} (Tripay: {exc.tripay_message})",
        )
        return _coded(unavailable, exc.code)
    if isinstance(exc, AuthRevoked):
        return _coded(QrisError("qris_auth_revoked", detail=exc.message), "auth_revoked")
    if isinstance(exc, ProtocolMismatch):
        mismatch = QrisError("qris_protocol_mismatch", detail=exc.message)
        return _coded(mismatch, "protocol_mismatch")
    if isinstance(exc, ServerRejected):
        return _rejected(exc)
    return QrisError("qris_error", detail=exc.message)


# -- polling and drawing ----------------------------------------------------------------


def poll_delay(
    attempt: int,
    *,
    rng: Callable[[], float] = random.random,
    first: float = POLL_FIRST_DELAY,
    cap: float = POLL_MAX_DELAY,
    jitter: float = POLL_JITTER,
) -> float:
    """Seconds to wait before poll number ``attempt + 1``: 1, 2, 4, then 5 s, jittered.

    The delay doubles from ``first`` up to ``cap`` and is then shortened by up to
    ``jitter`` (a fraction) using ``rng()`` in [0, 1), so it never exceeds ``cap``.
    """
    base = min(cap, first * 2 ** min(attempt, 32))
    return base * (1.0 - jitter * rng())


def poll_delays(rng: Callable[[], float] = random.random) -> Iterator[float]:
    """The endless sequence of :func:`poll_delay` values, from the first poll on."""
    attempt = 0
    while True:
        yield poll_delay(attempt, rng=rng)
        attempt += 1


def qr_png(qr_string: str, *, box_size: int = 8, border: int = 4) -> bytes:
    """The QR code of ``qr_string`` as PNG bytes (black on white, medium error correction)."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=border)
    qr.add_data(qr_string)
    qr.make(fit=True)
    out = io.BytesIO()
    qr.make_image(fill_color="black", back_color="white").save(out, format="PNG")
    return out.getvalue()


# -- the service ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QrisCharge:
    """A QRIS payment waiting for the customer: show ``qr_string`` until ``expires_at``."""

    order_id: str
    amount: int
    qr_string: str
    qr_url: str | None
    reference: str | None
    expires_at: datetime


def cart_items(checkout: CheckoutService) -> list[OrderItemIn]:
    """The cart's lines as the payer sees them on the QRIS payment."""
    return [
        OrderItemIn(
            sku=line.product.sku[:64] or None,
            name=line.product.name[:200],
            price=line.product.price,
            quantity=line.quantity,
        )
        for line in checkout.cart.lines
    ]


class QrisGateway(Protocol):
    """The one QRIS port of the till: start a payment, poll it, stop waiting for it.

    Every call may block on the network: the UI calls them from worker threads only.
    Failures raise :class:`QrisError`.
    """

    def start(self, amount: int, items: Sequence[OrderItemIn] = ()) -> QrisCharge:
        """Create a QRIS payment of ``amount`` rupiah and get its QR."""
        ...

    def poll(self, order_id: str) -> QrisStatus:
        """The payment's status now."""
        ...

    def cancel(self, order_id: str) -> None:
        """Give up on a payment the customer did not make (best effort)."""
        ...


def order_id_for(terminal_code: str) -> str:
    """A new order id made on the till: the terminal code and a UUIDv7 (Tripay's merchant_ref)."""
    prefix = re.sub(r"[^A-Za-z0-9]", "", terminal_code)[:16] or "K"
    return f"{prefix}-{new_id().hex}"


class QrisService:
    """QRIS payments of one till through its server: start, poll, wait, cancel.

    ``sleep`` (default: a wait that :meth:`cancel` interrupts), ``rng`` (jitter),
    ``monotonic`` and ``now`` are injectable so tests run without real time.
    """

    def __init__(
        self,
        client: PaymentsClient,
        *,
        terminal_code: str,
        method: QrisMethod = "QRIS",
        expires_in_minutes: int = DEFAULT_EXPIRY_MINUTES,
        sleep: Callable[[float], None] | None = None,
        rng: Callable[[], float] = random.random,
        monotonic: Callable[[], float] = time.monotonic,
        now: Clock = utc_now,
    ) -> None:
        """QRIS over ``client`` for the till ``terminal_code``."""
        self.client = client
        self.terminal_code = terminal_code
        self.method: QrisMethod = method
        self.expires_in_minutes = expires_in_minutes
        self._sleep = sleep
        self._rng = rng
        self._monotonic = monotonic
        self._now = now
        self._lock = threading.Lock()
        self._orders: dict[str, PaymentOrderOut] = {}
        self._cancelled: dict[str, threading.Event] = {}

    # -- asking the server -------------------------------------------------------------
    def _remember(self, order: PaymentOrderOut) -> PaymentOrderOut:
        with self._lock:
            self._orders[order.order_id] = order
        return order

    def available(self) -> bool:
        """True when the server answers and Tripay offers an active QRIS channel now."""
        try:
            channels = self.client.channels()
        except SyncError:
            return False
        return any(c.code == self.method and c.active for c in channels)

    def start(self, amount: int, items: Sequence[OrderItemIn] = ()) -> QrisCharge:
        """Create an order for ``amount`` rupiah and get its QR from Tripay via the server.

        ``items`` are the cart lines shown to the payer (the server replaces them with
        one line when they do not add up to ``amount``, as in a split tender). Raises
        :class:`QrisError` (offline, Tripay down, amount out of range); the till's data
        is untouched either way.
        """
        if amount <= 0:
            raise QrisError("qris_amount_not_positive")
        order_id = order_id_for(self.terminal_code)
        try:
            self.client.create_transaction(
                CreateTransactionIn(order_id=order_id, amount=amount, items=list(items))
            )
            order = self._create_payment(order_id)
        except SyncError as exc:
            raise as_qris_error(exc) from exc
        if not order.qr_string:
            raise QrisUnavailable("qris_tripay_error", retryable=True, detail="no qr_string")
        self._remember(order)
        expires_at = order.expires_at or self._now() + timedelta(minutes=self.expires_in_minutes)
        return QrisCharge(
            order_id=order.order_id,
            amount=order.amount,
            qr_string=order.qr_string,
            qr_url=order.qr_url,
            reference=order.reference,
            expires_at=expires_at,
        )

    def _create_payment(self, order_id: str) -> PaymentOrderOut:
        """create-payment, retried while another call for the same order is making the QR."""
        request = CreatePaymentIn(
            order_id=order_id, method=self.method, expires_in_minutes=self.expires_in_minutes
        )
        for attempt in range(_IN_PROGRESS_RETRIES + 1):
            try:
                return self.client.create_payment(request)
            except ServerRejected as exc:
                if exc.code != "payment_in_progress" or attempt == _IN_PROGRESS_RETRIES:
                    raise
            self._pause(order_id, poll_delay(attempt, rng=self._rng))
        raise AssertionError("unreachable")  # pragma: no cover

    def status(self, order_id: str) -> PaymentOrderOut:
        """The order's status now (one poll); raises :class:`QrisError` when it cannot say."""
        try:
            order = self.client.status(order_id)
        except SyncError as exc:
            raise as_qris_error(exc) from exc
        return self._remember(order)

    # -- waiting -----------------------------------------------------------------------
    def _event(self, order_id: str) -> threading.Event:
        with self._lock:
            return self._cancelled.setdefault(order_id, threading.Event())

    def _pause(self, order_id: str, seconds: float) -> None:
        if self._sleep is not None:
            self._sleep(seconds)
        else:
            self._event(order_id).wait(seconds)

    def cancelled(self, order_id: str) -> bool:
        """True once :meth:`cancel` was called for ``order_id``."""
        return self._event(order_id).is_set()

    def _until_past_expiry(self, order_id: str) -> float:
        """Seconds from now until a little past the order's expiry (as last seen)."""
        known = self._orders.get(order_id)
        if known is not None and known.expires_at is not None:
            left = known.expires_at + EXPIRY_GRACE - self._now()
        else:
            left = timedelta(minutes=self.expires_in_minutes) + EXPIRY_GRACE
        return max(0.0, left.total_seconds())

    def wait(self, order_id: str, *, timeout: float | None = None) -> PaymentOrderOut:
        """Poll with backoff until the order is final, cancelled, or time is up.

        Returns the last order seen: ``final`` true for PAID, EXPIRED, FAILED (or
        REFUND); UNPAID when cancelled or timed out. The default ``timeout`` is until
        a little past the order's expiry. A poll that fails because the server is out
        of reach is retried on the same schedule (the customer may pay meanwhile); if
        no poll ever answered, the last such error is raised when time is up.
        """
        if timeout is None:
            timeout = self._until_past_expiry(order_id)
        deadline = self._monotonic() + timeout
        last: PaymentOrderOut | None = None
        error: QrisError | None = None
        for attempt in itertools.count():
            if self.cancelled(order_id):
                break
            try:
                last = self.status(order_id)
                error = None
            except QrisError as exc:
                if not exc.retryable:
                    raise
                error = exc
            if last is not None and last.final:
                return last
            delay = poll_delay(attempt, rng=self._rng)
            if self._monotonic() + delay > deadline:
                break
            self._pause(order_id, delay)
        if last is None:
            if error is not None:
                raise error
            last = self._orders.get(order_id) or self.status(order_id)
        return last

    def cancel(self, order_id: str) -> None:
        """Stop waiting for ``order_id`` here. Nothing is sent: the order expires on the server."""
        self._event(order_id).set()

    def poll(self, order_id: str) -> QrisStatus:
        """One poll: the order's status now (:class:`QrisGateway`)."""
        return self.status(order_id).status
