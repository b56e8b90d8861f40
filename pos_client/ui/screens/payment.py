"""Payment: cash keypad with quick amounts and change due; QRIS with its QR code,
countdown and live status; split tender (part QRIS, the rest cash).

The payment itself is :class:`~pos_client.services.tender.TenderFlow`; this screen
shows it and calls it. Its network calls (start, poll, release) run in workers; the
countdown and the polls are Clock ticks.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock, ClockEvent
from kivy.factory import Factory
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from pos_client.domain.errors import DomainError
from pos_client.domain.tender import QrisPayment
from pos_client.services.tender import QrisOutcome, QrisShown, TenderFlow
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


_OUTCOME_KEYS = {
    QrisOutcome.EXPIRED: "qris_expired",
    QrisOutcome.FAILED: "qris_failed",
    QrisOutcome.CANCELLED: "qris_cancelled",
}


class PaymentScreen(KasirScreen):
    """Take the money for the cart: shows a :class:`TenderFlow` and calls it."""

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
        """No payment yet."""
        super().__init__(**kwargs)
        self.flow: TenderFlow | None = None
        self._tick_event: ClockEvent | None = None
        self._poll_event: ClockEvent | None = None
        self._polling = False
        self.poll_seconds = 2.0

    @property
    def qris_payments(self) -> list[QrisPayment]:
        """The QRIS payments already PAID for this sale."""
        return self.flow.paid if self.flow is not None else []

    def refresh(self) -> None:
        """A fresh payment for the cart's total."""
        if self.flow is not None:
            self._release(self.flow.cancel_qris())
        self._stop_qris()
        self.flow = self.till.tender()
        self.total = self.flow.total
        self.ids.keypad.value = ""
        self.qris_status = ""
        self.ids.qr.texture = None
        self._recompute()
        self.update_qris_availability()

    def _recompute(self) -> None:
        flow = self.flow
        if flow is None:
            return
        self.remaining = flow.remaining
        self.tendered = int(self.ids.keypad.value or 0)
        self.due_text = format_rupiah(self.remaining)
        self.tendered_text = format_rupiah(self.tendered)
        change = flow.change(self.tendered)
        self.change_text = (
            format_rupiah(change)
            if change >= 0
            else tr("cash_short", amount=format_rupiah(-change))
        )
        self.qris_paid_text = (
            f"{tr('paid_qris')}: {format_rupiah(flow.qris_paid)}" if flow.paid else ""
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

    # -- finishing -----------------------------------------------------------------------
    def pay_cash(self) -> None:
        """Finish the sale with the cash received (plus any QRIS already paid)."""
        self._finish(self.tendered)

    def _finish(self, cash: int) -> None:
        flow = self.flow
        if flow is None:
            return
        try:
            result = flow.pay(cash)
        except DomainError as exc:
            self.message = describe(exc)
            return
        self._release(flow.cancel_qris())
        self._stop_qris()
        self.app.sale_done(result)

    # -- QRIS ----------------------------------------------------------------------------
    def start_qris(self) -> None:
        """Show a QR for the typed amount (part payment) or for everything that is left."""
        flow = self.flow
        self.update_qris_availability()
        if flow is None or not self.qris_available or not flow.can_start_qris():
            return
        typed = self.tendered
        self.qris_busy = True
        self.qris_status = tr("qris_starting")

        def started(shown: QrisShown | None) -> None:
            if shown is None or flow is not self.flow:
                return  # cancelled meanwhile (the flow released the QR)
            self.ids.qr.texture = qr_texture(shown.charge.qr_string)
            self.ids.keypad.value = ""
            self._tick(0)
            self._tick_event = Clock.schedule_interval(self._tick, 1.0)
            self._poll_event = Clock.schedule_interval(self._poll, self.poll_seconds)

        def failed(exc: Exception) -> None:
            if flow is not self.flow:
                return
            self.qris_busy = False
            self.qris_status = tr("qris_error", reason=describe(exc))

        run_in_worker(lambda: flow.start_qris(typed), started, failed, name="kasir-qris")

    def _tick(self, _dt: float) -> None:
        flow = self.flow
        if flow is None or flow.shown is None:
            return
        expired = flow.expire_if_due()
        if expired is not None:
            self._ended(QrisOutcome.EXPIRED, release=expired)
            return
        self.qris_status = (
            tr("qris_amount", amount=format_rupiah(flow.shown.amount))
            + "\n"
            + tr("qris_waiting", seconds=flow.seconds_left())
        )

    def _poll(self, _dt: float) -> None:
        flow = self.flow
        if flow is None or flow.shown is None or self._polling:
            return
        shown = flow.shown
        self._polling = True

        def answer(outcome: QrisOutcome | None) -> None:
            self._polling = False
            if outcome is None or flow is not self.flow:
                return
            if outcome is QrisOutcome.PAID:
                self._paid(shown.amount)
            else:
                self._ended(outcome)

        def failed(exc: Exception) -> None:
            self._polling = False
            self.app.toast(describe(exc))  # a hiccup: keep polling until the QR expires

        run_in_worker(flow.check_qris, answer, failed, name="kasir-qris")

    def _paid(self, amount: int) -> None:
        self._stop_qris()
        self.qris_status = tr("qris_paid", amount=format_rupiah(amount))
        self._recompute()
        if self.remaining == 0:
            self._finish(0)

    def _ended(self, outcome: QrisOutcome, *, release: str | None = None) -> None:
        self._stop_qris()
        self.qris_status = tr(_OUTCOME_KEYS[outcome])
        self._release(release)

    def _release(self, order_id: str | None) -> None:
        flow = self.flow
        if order_id is not None and flow is not None:
            run_in_worker(lambda: flow.release(order_id), name="kasir-qris")

    def cancel_qris(self) -> None:
        """The customer will not pay by QRIS after all."""
        flow = self.flow
        if flow is not None and (flow.shown is not None or self.qris_busy):
            self._ended(QrisOutcome.CANCELLED, release=flow.cancel_qris())

    def _stop_qris(self) -> None:
        for event in (self._tick_event, self._poll_event):
            if event is not None:
                event.cancel()
        self._tick_event = self._poll_event = None
        self.qris_busy = False
        if "qr" in self.ids:
            self.ids.qr.texture = None

    def back(self) -> None:
        """Back to the cart (a QR on screen is cancelled; QRIS already paid is kept out)."""
        if self.flow is not None and not self.flow.can_leave():
            self.message = tr("paid_qris")
            return
        self.cancel_qris()
        self.app.go("sale")
