"""Payment: cash keypad with quick amounts and change due; QRIS with its QR code,
countdown and live status; split tender (part QRIS, the rest cash); offline, the
store's static QRIS confirmed by the cashier.

The money keypad is composed in ``kv/payment.kv`` (the shared ``Keypad`` digits under a
display that groups thousands as they are typed, "50.000", and the quick-cash row:
exact money, then the next round notes).

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
from pos_client.ui.glue import countdown
from pos_client.ui.i18n import describe, language, tr
from pos_client.ui.screens.base import KasirScreen, load_kv
from pos_client.ui.widgets import qr_texture
from pos_client.ui.workers import run_in_worker
from shared.messages import render
from shared.money import format_rupiah

load_kv("payment")


def quick_amounts(due: int) -> list[int]:
    """Exact money (uang pas), then the next round amounts a customer is likely to hand
    over: the next Rp 10.000, Rp 50.000 and Rp 100.000 above what is due."""
    amounts = [due]
    if due <= 0:
        return amounts
    for step in (10_000, 50_000, 100_000):
        rounded = (due // step + 1) * step
        if rounded not in amounts:
            amounts.append(rounded)
    return amounts[:4]


def grouped(digits: str) -> str:
    """Typed digits with thousands separators the Indonesian way: ``50000`` → ``50.000``."""
    return f"{int(digits or 0):,}".replace(",", ".")


def said(code: str, **params: object) -> str:
    """A till sentence from the shared message tables, in the current language."""
    return render(code, params, language())


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
    cash_short = BooleanProperty(False)
    """True while the cash typed does not cover what is due (the change line turns red)."""
    qris_note = StringProperty("")
    qris_status = StringProperty("")
    qris_paid_text = StringProperty("")
    qris_available = BooleanProperty(False)
    qris_busy = BooleanProperty(False)
    keypad_text = StringProperty("0")
    static_available = BooleanProperty(False)
    """Offline and the store has a static QRIS: the 'QRIS statis' button is offered."""
    static_shown = BooleanProperty(False)
    """The store's static QR is on screen, waiting for the cashier to confirm."""
    static_button_text = StringProperty("")
    static_confirm_text = StringProperty("")

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
        self.static_shown = False
        self.ids.qr.texture = None
        self._recompute()
        self.update_qris_availability()

    def _recompute(self) -> None:
        flow = self.flow
        if flow is None:
            return
        self.remaining = flow.remaining
        self.tendered = int(self.ids.keypad.value or 0)
        self.keypad_text = grouped(self.ids.keypad.value)
        self.due_text = format_rupiah(self.remaining)
        self.tendered_text = format_rupiah(self.tendered)
        change = flow.change(self.tendered)
        self.change_text = (
            format_rupiah(change)
            if change >= 0
            else tr("cash_short", amount=format_rupiah(-change))
        )
        self.cash_short = change < 0
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
        """QRIS needs the network and a gateway; otherwise a plain sentence says so.

        Offline, a store with a static QRIS offers it instead (see :meth:`show_static_qris`).
        """
        online = self.app.online
        flow = self.flow
        self.static_button_text = said("qris_static_button")
        self.static_confirm_text = said("qris_static_confirm")
        self.static_available = flow is not None and flow.can_offer_static_qris(online=online)
        if online is False and flow is not None and flow.static_qris:
            self.qris_available, self.qris_note = False, said("qris_static_offline")
        elif self.till.qris is None:
            self.qris_available, self.qris_note = False, tr("qris_unavailable")
        elif online is False:
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
            self.tell(describe(exc), "error")
            return
        self._release(flow.cancel_qris())
        self._stop_qris()
        self.static_shown = False
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
            + tr("qris_waiting", time=countdown(flow.seconds_left()))
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
            self.toast(describe(exc), "error")  # a hiccup: keep polling until the QR expires

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
        if flow is not None and self.static_shown:
            flow.cancel_qris()
            self._static_off()
            self.qris_status = tr("qris_cancelled")
            self.update_qris_availability()
        elif flow is not None and (flow.shown is not None or self.qris_busy):
            self._ended(QrisOutcome.CANCELLED, release=flow.cancel_qris())

    # -- static QRIS (offline) -----------------------------------------------------------
    def show_static_qris(self) -> None:
        """Offline: show the store's static QR for the typed amount (a part) or all that
        is left, with the amount the customer must type into their bank app."""
        flow = self.flow
        self.update_qris_availability()
        if flow is None or not self.static_available:
            return
        shown = flow.show_static_qris(self.tendered, online=self.app.online)
        if shown is None:
            return
        self.ids.qr.texture = qr_texture(shown.payload)
        self.ids.keypad.value = ""
        self.static_shown = True
        self.static_available = False
        self.qris_status = (
            said("qris_static_amount", amount=shown.amount) + "\n" + said("qris_static_check")
        )

    def confirm_static_qris(self) -> None:
        """The cashier saw the customer's payment proof: record the static QRIS payment."""
        flow = self.flow
        if flow is None:
            return
        payment = flow.confirm_static_qris()
        if payment is None:
            return
        self._static_off()
        user = self.till.auth.current_user
        self.qris_status = said(
            "qris_static_paid", amount=payment.amount, cashier=user.full_name if user else "?"
        )
        self._recompute()
        self.update_qris_availability()
        if self.remaining == 0:
            self._finish(0)

    def _static_off(self) -> None:
        self.static_shown = False
        if "qr" in self.ids:
            self.ids.qr.texture = None

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
            self.tell(tr("paid_qris"), "ok")
            return
        self.cancel_qris()
        self.app.go("sale")
