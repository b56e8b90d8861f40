"""One payment of the cart: cash, QRIS, or part QRIS and the rest cash (no Kivy here).

:class:`TenderFlow` is the state machine the payment screen shows. It knows what is
left to pay, which QRIS payments are PAID, and the QR the customer is looking at now,
and it finishes the sale through :meth:`CheckoutService.checkout` in one local
transaction. Nothing is written on the till before that: a QRIS payment that expires,
fails or is cancelled leaves the cart as it was, and cash still works.

Threads: :meth:`TenderFlow.start_qris`, :meth:`TenderFlow.check_qris` and
:meth:`TenderFlow.release` may block on the network (a UI calls them from a worker);
they change the flow's state only under its lock and only at the end, so a
cancellation pressed meanwhile wins. :meth:`TenderFlow.pay` writes the sale and
belongs on the thread that owns the checkout's store.

Offline, dynamic QRIS cannot work (tripay.md). When the store has a static QRIS (its
printed QR sticker's payload, set by a manager in the back office and pulled to the
till), an offline till may show it with the amount instead: the customer pays it from
their bank app, the cashier confirms after seeing the payment proof, and the payment is
recorded as ``qris_static`` (no Tripay order backs it; the server flags every one for
the manager to reconcile with the bank statement). Online, the dynamic QR stays the
only QRIS offered.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from enum import StrEnum

from pos_client.domain.errors import PaymentError
from pos_client.domain.tender import CashTender, QrisPayment, Tender
from pos_client.services.checkout import CheckoutResult, CheckoutService
from pos_client.services.clock import Clock, utc_now
from pos_client.services.qris import (
    FINAL_STATUSES,
    QrisCharge,
    QrisError,
    QrisGateway,
    QrisStatus,
    cart_items,
)
from shared.models import PaymentMethod


class QrisStep(StrEnum):
    """Where the QRIS part of the payment is."""

    IDLE = "idle"
    """No QR on screen: cash may be taken, or a QR started."""
    STARTING = "starting"
    """The server is making the QR."""
    WAITING = "waiting"
    """The QR is on screen; polls tell when the customer paid."""
    STATIC = "static"
    """Offline: the store's static QR is on screen; the cashier confirms the payment
    after seeing the customer's proof (nothing polls)."""


class QrisOutcome(StrEnum):
    """How a QR on screen ended."""

    PAID = "paid"
    EXPIRED = "expired"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class QrisShown:
    """The QR the customer is looking at: the charge and the part of the sale it pays."""

    charge: QrisCharge
    amount: int


@dataclass(frozen=True, slots=True)
class StaticQrisShown:
    """The store's static QR on screen and the amount the customer must type in."""

    payload: str
    amount: int


class TenderFlow:
    """Take the money for the checkout's cart: QRIS parts first, cash for the rest.

    Made for one payment (the cart's total when made); ``qris`` is the till's QRIS port,
    or None when this till has none.
    """

    def __init__(
        self,
        checkout: CheckoutService,
        qris: QrisGateway | None = None,
        *,
        now: Clock = utc_now,
        static_qris: str | None = None,
    ) -> None:
        """A payment of ``checkout``'s cart as it is now.

        ``static_qris`` is the store's static QRIS payload; None reads it from the store
        profile pulled to the till ("" there means the store has none).
        """
        self.checkout = checkout
        self.qris = qris
        if static_qris is None:
            profile = checkout.store.store_profile()
            static_qris = profile.static_qris if profile is not None else ""
        self.static_qris: str = static_qris.strip()
        self.static_shown: StaticQrisShown | None = None
        self._now = now
        self._lock = threading.Lock()
        self.total: int = checkout.totals().total
        self.paid: list[QrisPayment] = []
        self.step = QrisStep.IDLE
        self.shown: QrisShown | None = None
        self.result: CheckoutResult | None = None
        self._attempt = 0  # which QR start is current: a cancel or a new start moves it on

    # -- what the screen shows ---------------------------------------------------------
    @property
    def qris_paid(self) -> int:
        """Rupiah already paid by QRIS."""
        return sum(p.amount for p in self.paid)

    @property
    def remaining(self) -> int:
        """Rupiah still to pay (in cash, or by another QR)."""
        return self.total - self.qris_paid

    def change(self, tendered: int) -> int:
        """Change for ``tendered`` cash against what remains; negative when cash is short."""
        return tendered - self.remaining

    def can_leave(self) -> bool:
        """False once QRIS took money: the sale must be finished, not abandoned."""
        return not self.paid

    def qris_amount(self, typed: int = 0) -> int:
        """What a new QR asks for: ``typed`` when it is a part of what remains, else all."""
        return typed if 0 < typed < self.remaining else self.remaining

    def can_start_qris(self) -> bool:
        """True when a QR may be started now (a port, nothing pending, money left)."""
        return (
            self.qris is not None
            and self.result is None
            and self.step is QrisStep.IDLE
            and self.remaining > 0
        )

    def seconds_left(self) -> int:
        """Whole seconds until the QR on screen expires (0 when there is none)."""
        shown = self.shown
        if shown is None:
            return 0
        return max(0, int((shown.charge.expires_at - self._now()).total_seconds()))

    def can_offer_static_qris(self, *, online: bool | None) -> bool:
        """True when the store's static QR may be shown now: the till is offline
        (``online is False``; dynamic QRIS is the default online), the store has one,
        nothing else is pending and money is left to pay."""
        return (
            online is False
            and bool(self.static_qris)
            and self.result is None
            and self.step is QrisStep.IDLE
            and self.remaining > 0
        )

    # -- QRIS --------------------------------------------------------------------------
    def start_qris(self, typed: int = 0) -> QrisShown | None:
        """Ask the server for a QR for ``typed`` rupiah (a part) or all that remains.

        Blocks on the network. None when no QR may start now (see
        :meth:`can_start_qris`) or the payment was cancelled while the QR was made (it
        is then released). Raises :class:`QrisError` when the server or Tripay refuses;
        the flow is then as before.
        """
        with self._lock:
            if not self.can_start_qris():
                return None
            self.step = QrisStep.STARTING
            self._attempt += 1
            attempt = self._attempt
            amount = self.qris_amount(typed)
        assert self.qris is not None  # can_start_qris checked it
        try:
            charge = self.qris.start(amount, cart_items(self.checkout))
        except BaseException:
            with self._lock:
                if attempt == self._attempt and self.step is QrisStep.STARTING:
                    self.step = QrisStep.IDLE
            raise
        with self._lock:
            if attempt != self._attempt or self.step is not QrisStep.STARTING:
                cancelled = True  # cancelled meanwhile
            else:
                cancelled = False
                self.step = QrisStep.WAITING
                self.shown = QrisShown(charge=charge, amount=amount)
        if cancelled:
            self.release(charge.order_id)
            return None
        return self.shown

    def check_qris(self) -> QrisOutcome | None:
        """Poll the QR on screen once (blocks on the network) and apply the answer.

        PAID adds the QRIS payment (see :attr:`paid`); EXPIRED, FAILED or REFUND drop
        the QR. None while the customer has not paid, or when there is no QR (or it
        changed while the poll was under way). A failed poll raises :class:`QrisError`
        and changes nothing: the caller may poll again.
        """
        shown = self.shown
        if shown is None or self.qris is None:
            return None
        status = self.qris.poll(shown.charge.order_id)
        return self.on_status(shown.charge.order_id, status)

    def on_status(self, order_id: str, status: QrisStatus) -> QrisOutcome | None:
        """Apply the status ``order_id`` was seen in (a poll's answer)."""
        with self._lock:
            shown = self.shown
            if shown is None or shown.charge.order_id != order_id:
                return None  # stale: cancelled or replaced meanwhile
            if status not in FINAL_STATUSES:
                return None
            self.shown, self.step = None, QrisStep.IDLE
            if status == "PAID":
                charge = shown.charge
                self.paid.append(
                    QrisPayment(
                        amount=shown.amount, reference=charge.reference, order_id=charge.order_id
                    )
                )
                return QrisOutcome.PAID
            return QrisOutcome.EXPIRED if status == "EXPIRED" else QrisOutcome.FAILED

    def expire_if_due(self) -> str | None:
        """Drop the QR on screen once it expired here; its order id (to release) or None."""
        if self.shown is None or self.seconds_left() > 0:
            return None
        return self.cancel_qris()

    def cancel_qris(self) -> str | None:
        """Stop waiting for the QR on screen (or being made); its order id, to release.

        A QR still being made is released by :meth:`start_qris` when it arrives. The
        static QR (which has no order) is simply taken off the screen.
        """
        with self._lock:
            shown = self.shown
            self.shown, self.static_shown, self.step = None, None, QrisStep.IDLE
            self._attempt += 1
        return shown.charge.order_id if shown is not None else None

    # -- static QRIS (offline) -----------------------------------------------------------
    def show_static_qris(self, typed: int = 0, *, online: bool | None) -> StaticQrisShown | None:
        """Show the store's static QR for ``typed`` rupiah (a part) or all that remains.

        None when it may not be offered now (see :meth:`can_offer_static_qris`). Nothing
        is paid until the cashier calls :meth:`confirm_static_qris`.
        """
        with self._lock:
            if not self.can_offer_static_qris(online=online):
                return None
            self.static_shown = StaticQrisShown(
                payload=self.static_qris, amount=self.qris_amount(typed)
            )
            self.step = QrisStep.STATIC
            return self.static_shown

    def confirm_static_qris(self) -> QrisPayment | None:
        """The cashier saw the customer's payment proof: the static QR's amount is paid.

        Recorded as a ``qris_static`` payment of the sale (the sale names the cashier
        who confirmed it); None when no static QR is on screen.
        """
        with self._lock:
            shown = self.static_shown
            if shown is None or self.step is not QrisStep.STATIC or self.result is not None:
                return None
            payment = QrisPayment(amount=shown.amount, method=PaymentMethod.QRIS_STATIC)
            self.paid.append(payment)
            self.static_shown, self.step = None, QrisStep.IDLE
            return payment

    def release(self, order_id: str | None) -> None:
        """Tell the QRIS port the till no longer waits for ``order_id`` (best effort)."""
        if order_id is None or self.qris is None:
            return
        with contextlib.suppress(QrisError):  # the order simply expires on the server
            self.qris.cancel(order_id)

    # -- finishing ---------------------------------------------------------------------
    def tenders(self, cash: int) -> list[Tender]:
        """The tenders that would pay the sale: every PAID QRIS, and ``cash`` if any is due."""
        tenders: list[Tender] = [*self.paid]
        if self.remaining > 0:
            tenders.append(CashTender(cash))
        return tenders

    def pay(self, cash: int = 0) -> CheckoutResult:
        """Finish the sale: the QRIS payments, and ``cash`` tendered for what remains.

        One local transaction through :meth:`CheckoutService.checkout`. Raises the
        checkout's errors (say, cash short) with nothing written: the QRIS payments stay
        good for another try. A QR still on screen is dropped (call :meth:`release` with
        the id :meth:`cancel_qris` gives). A flow pays one sale only.
        """
        if self.result is not None:
            if self.paid:
                raise QrisError("qris_already_used")
            raise PaymentError("sale_already_paid")
        result = self.checkout.checkout(self.tenders(cash))
        self.result = result
        return result
