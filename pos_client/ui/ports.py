"""The seams the screens are written against, where the real service is not built yet.

:class:`QrisGateway` is what the payment screen needs from QRIS: start a payment, poll
it, cancel it. The till-side QRIS service (``pos_client/services/qris.py``, talking to
the server's ``/api/v1/payment/*`` routes) will implement it; until then the app runs
without QRIS (the button says so) and tests use :class:`FakeQrisGateway`.
Every method may block on the network: the UI calls them from worker threads only.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

QrisStatus = Literal["UNPAID", "PAID", "EXPIRED", "FAILED"]
"""Tripay's states as the server reports them (UNPAID until the customer pays)."""

FINAL_STATUSES: frozenset[str] = frozenset({"PAID", "EXPIRED", "FAILED"})


@dataclass(frozen=True, slots=True)
class QrisItem:
    """One sale line as Tripay lists it on the payment."""

    name: str
    price: int
    quantity: int


@dataclass(frozen=True, slots=True)
class QrisStarted:
    """A QRIS payment waiting for the customer: draw ``qr_string`` until ``expires_at``."""

    order_id: str
    qr_string: str
    expires_at: datetime
    reference: str | None = None


class QrisError(Exception):
    """QRIS could not start or answer; ``str()`` is a sentence for the cashier."""


class QrisGateway(Protocol):
    """What the payment screen asks of QRIS (blocking calls, run in a worker)."""

    def start(self, amount: int, items: Sequence[QrisItem]) -> QrisStarted:
        """Create a QRIS payment of ``amount`` rupiah; raises :class:`QrisError`."""
        ...

    def poll(self, order_id: str) -> QrisStatus:
        """The payment's status now; raises :class:`QrisError` when the server cannot say."""
        ...

    def cancel(self, order_id: str) -> None:
        """Give up on a payment the customer did not make (best effort)."""
        ...


class FakeQrisGateway:
    """An in-memory :class:`QrisGateway` for tests and the demo.

    The payment turns ``outcome`` after ``polls_until_final`` polls; ``fail_start``
    makes :meth:`start` refuse with that sentence.
    """

    def __init__(
        self,
        *,
        outcome: QrisStatus = "PAID",
        polls_until_final: int = 2,
        ttl_seconds: int = 300,
        fail_start: str | None = None,
    ) -> None:
        """Set how the fake payments end."""
        self.outcome: QrisStatus = outcome
        self.polls_until_final = polls_until_final
        self.ttl_seconds = ttl_seconds
        self.fail_start = fail_start
        self._lock = threading.Lock()
        self._polls: dict[str, int] = {}
        self.started: list[tuple[str, int]] = []
        self.cancelled: list[str] = []

    def start(self, amount: int, items: Sequence[QrisItem]) -> QrisStarted:
        """A new fake order with an EMVCo-looking payload."""
        if self.fail_start:
            raise QrisError(self.fail_start)
        with self._lock:
            order_id = f"FAKE-{len(self.started) + 1:04d}"
            self.started.append((order_id, amount))
            self._polls[order_id] = 0
        return QrisStarted(
            order_id=order_id,
            qr_string=f"00020101021226590016ID.CO.QRIS.WWW0215FAKE{order_id}5406{amount}6304ABCD",
            expires_at=datetime.now(UTC) + timedelta(seconds=self.ttl_seconds),
            reference=f"T{order_id}",
        )

    def poll(self, order_id: str) -> QrisStatus:
        """UNPAID for the first polls, then the outcome."""
        with self._lock:
            if order_id in self.cancelled:
                return "FAILED"
            if order_id not in self._polls:
                raise QrisError(f"No QRIS payment {order_id}.")
            self._polls[order_id] += 1
            return self.outcome if self._polls[order_id] >= self.polls_until_final else "UNPAID"

    def cancel(self, order_id: str) -> None:
        """Remember the cancellation."""
        with self._lock:
            self.cancelled.append(order_id)
