"""Payment: cash keypad with quick amounts and change due; QRIS with its QR code,
countdown and live status; split tender (part QRIS, the rest cash).

QRIS calls (start, poll, cancel) run in workers; the countdown is a Clock tick.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kivy.clock import Clock, ClockEvent
from kivy.factory import Factory
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from pos_client.domain.errors import DomainError
from pos_client.domain.tender import CashTender, QrisPayment, Tender
from pos_client.services.qris import FINAL_STATUSES, QrisCharge, QrisError, cart_items
from pos_client.ui.i18n import describe, tr
from pos_client.ui.screens.base import KasirScreen, load_kv
from pos_client.ui.widgets import qr_texture
from pos_client.ui.workers import run_in_worker
from shared.money import format_rupiah

load_kv("payment")


def quick_amounts(due: int) -> list[int]:
    """Exact money, then the next round notes a customer is likely to hand over."""
    amounts = [due]
    for step in (5_000, 10_000, 20_000, 50_000, 100_000):
        rounded = -(-due // step) * step
        if rounded > due and rounded not in amounts:
            amounts.append(rounded)
    return amounts[:4]


class PaymentScreen(KasirScreen):
    """Take the money for the cart."""

    total = NumericProperty(0)
    remaining = NumericProperty(0)
    tendered = NumericProperty(0)
    due_text = StringProperty("")
    tendered_text = StringProperty("")
    change_text = StringProperty("")
    qris_note = StringProperty("")
    qris_status = StringProperty("")
    qris_paid_text = StringProperty("")
    qris_available = BooleanProperty(False)
    qris_busy = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        """No QRIS in progress."""
        super().__init__(**kwargs)
        self.qris_payments: list[QrisPayment] = []
        self._qris: QrisCharge | None = None
        self._qris_amount = 0
        self._tick_event: ClockEvent | None = None
        self._poll_event: ClockEvent | None = None
        self.poll_seconds = 2.0

    def refresh(self) -> None:
        """A fresh payment for the cart's total."""
        self._stop_qris()
        self.qris_payments = []
        self.total = self.till.checkout.totals().total
        self.ids.keypad.value = ""
        self.qris_status = ""
        self.ids.qr.texture = None
        self._recompute()
        self.update_qris_availability()

    def _recompute(self) -> None:
        paid = sum(p.amount for p in self.qris_payments)
        self.remaining = self.total - paid
        self.tendered = int(self.ids.keypad.value or 0)
        self.due_text = format_rupiah(self.remaining)
        self.tendered_text = format_rupiah(self.tendered)
        change = self.tendered - self.remaining
        self.change_text = (
            format_rupiah(change)
            if change >= 0
            else tr("cash_short", amount=format_rupiah(-change))
        )
        self.qris_paid_text = (
            f"{tr('paid_qris')}: {format_rupiah(paid)}" if self.qris_payments else ""
        )
        box = self.ids.quick
        box.clear_widgets()
        for amount in quick_amounts(self.remaining):
            label = tr("exact") if amount == self.remaining else format_rupiah(amount)
            button = Factory.KQuiet(text=label)
            button.bind(on_release=lambda _b, a=amount: self.set_tendered(a))
            box.add_widget(button)

    def quick_buttons(self) -> list[Any]:
        """The quick-amount buttons, exact money first."""
        return list(reversed(self.ids.quick.children))

    def on_keypad(self, _value: str) -> None:
        """The keypad changed the cash received."""
        self._recompute()

    def set_tendered(self, amount: int) -> None:
        """A quick-amount button."""
        self.ids.keypad.value = str(amount)

    def update_qris_availability(self) -> None:
        """QRIS needs the network and a gateway; otherwise a plain sentence says so."""
        if self.till.qris is None:
            self.qris_available, self.qris_note = False, tr("qris_unavailable")
        elif self.app.online is False:
            self.qris_available, self.qris_note = False, tr("qris_offline")
        else:
            self.qris_available, self.qris_note = True, ""

    # -- cash ----------------------------------------------------------------------------
    def pay_cash(self) -> None:
        """Finish the sale with the cash received (plus any QRIS already paid)."""
        tenders: list[Tender] = [*self.qris_payments]
        if self.remaining > 0:
            tenders.append(CashTender(self.tendered))
        self._finish(tenders)

    def _finish(self, tenders: list[Tender]) -> None:
        try:
            result = self.till.checkout.checkout(tenders)
        except DomainError as exc:
            self.message = describe(exc)
            return
        self._stop_qris()
        self.app.sale_done(result)

    # -- QRIS ----------------------------------------------------------------------------
    def start_qris(self) -> None:
        """Show a QR for the typed amount (part payment) or for everything that is left."""
        gateway = self.till.qris
        self.update_qris_availability()
        if gateway is None or not self.qris_available or self.qris_busy or self.remaining <= 0:
            return
        typed = self.tendered
        amount = typed if 0 < typed < self.remaining else self.remaining
        items = cart_items(self.till.checkout)
        self.qris_busy = True
        self.qris_status = tr("qris_starting")
        self._qris_amount = amount

        def started(payment: QrisCharge) -> None:
            self._qris = payment
            self.ids.qr.texture = qr_texture(payment.qr_string)
            self.ids.keypad.value = ""
            self._tick(0)
            self._tick_event = Clock.schedule_interval(self._tick, 1.0)
            self._poll_event = Clock.schedule_interval(self._poll, self.poll_seconds)

        def failed(exc: Exception) -> None:
            self.qris_busy = False
            reason = describe(exc) if isinstance(exc, QrisError) else tr("qris_failed")
            self.qris_status = tr("qris_error", reason=reason)

        run_in_worker(lambda: gateway.start(amount, items), started, failed, name="kasir-qris")

    def _seconds_left(self) -> int:
        if self._qris is None:
            return 0
        expires: datetime = self._qris.expires_at
        return max(0, int((expires - self.till.now()).total_seconds()))

    def _tick(self, _dt: float) -> None:
        left = self._seconds_left()
        if self._qris is None:
            return
        if left <= 0:
            self._give_up("qris_expired")
            return
        self.qris_status = (
            tr("qris_amount", amount=format_rupiah(self._qris_amount))
            + "\n"
            + tr("qris_waiting", seconds=left)
        )

    def _poll(self, _dt: float) -> None:
        payment, gateway = self._qris, self.till.qris
        if payment is None or gateway is None:
            return

        def answer(status: str) -> None:
            if self._qris is None or self._qris.order_id != payment.order_id:
                return  # cancelled meanwhile
            if status == "PAID":
                self._paid(payment)
            elif status in FINAL_STATUSES:
                key = "qris_expired" if status == "EXPIRED" else "qris_failed"
                self._give_up(key, cancel=False)

        def failed(exc: Exception) -> None:
            self.app.toast(describe(exc))  # a hiccup: keep polling until the QR expires

        run_in_worker(lambda: gateway.poll(payment.order_id), answer, failed, name="kasir-qris")

    def _paid(self, payment: QrisCharge) -> None:
        self._stop_qris()
        self.qris_payments.append(
            QrisPayment(
                amount=self._qris_amount, reference=payment.reference, order_id=payment.order_id
            )
        )
        self.qris_status = tr("qris_paid", amount=format_rupiah(self._qris_amount))
        self._recompute()
        if self.remaining == 0:
            self._finish([*self.qris_payments])

    def _give_up(self, key: str, *, cancel: bool = True) -> None:
        payment, gateway = self._qris, self.till.qris
        self._stop_qris()
        self.qris_status = tr(key)
        if cancel and payment is not None and gateway is not None:
            run_in_worker(lambda: gateway.cancel(payment.order_id), name="kasir-qris")

    def cancel_qris(self) -> None:
        """The customer will not pay by QRIS after all."""
        if self._qris is not None:
            self._give_up("qris_cancelled")

    def _stop_qris(self) -> None:
        for event in (self._tick_event, self._poll_event):
            if event is not None:
                event.cancel()
        self._tick_event = self._poll_event = None
        self._qris = None
        self.qris_busy = False
        if "qr" in self.ids:
            self.ids.qr.texture = None

    def back(self) -> None:
        """Back to the cart (a QR on screen is cancelled; QRIS already paid is kept out)."""
        if self.qris_payments:
            self.message = tr("paid_qris")
            return
        self.cancel_qris()
        self.app.go("sale")
