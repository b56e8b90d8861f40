"""Refund and void: find a sale by receipt number (typed or scanned) or open it from the
sales history, pick units, give a reason, choose how the money goes back (a QRIS sale may
be refunded outside the till), manager PIN; the refund slip prints in a worker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from pos_client.domain.errors import DomainError
from pos_client.domain.refunds import SoldLine
from pos_client.printing.escpos import print_lines
from pos_client.services.refunds import refund_slip_lines
from pos_client.ui.i18n import describe, tr
from pos_client.ui.screens.base import KasirScreen, load_kv
from shared.models import PaymentMethod, RefundIn, RefundMethod, Role, SaleIn
from shared.money import format_rupiah

T = TypeVar("T")

load_kv("refund")

REASON_KEYS = ("reason_damaged", "reason_wrong_item", "reason_changed_mind", "reason_expired")
"""The quick reasons, as i18n keys; the reason stored is the sentence the cashier saw."""


class RefundRow(BoxLayout):
    """A sold line: how many were sold, how many can come back, − n +."""

    name = StringProperty("")
    detail = StringProperty("")
    quantity = NumericProperty(0)
    limit = NumericProperty(0)
    line_id = ObjectProperty(None)


class RefundScreen(KasirScreen):
    """Give money back for a sale."""

    sale_text = StringProperty("")
    qris_sale = BooleanProperty(False)
    """The sale was paid (partly) by QRIS: the money may go back outside the till."""
    outside = BooleanProperty(False)
    """The cashier chose to give a QRIS sale's money back outside the till."""
    back_to = StringProperty("sale")

    def __init__(self, **kwargs: Any) -> None:
        """No sale found yet."""
        super().__init__(**kwargs)
        self.sale: SaleIn | None = None
        self.last_refund: RefundIn | None = None
        self._managers: list[tuple[int, str]] = []

    def open_sale(self, receipt_number: str, *, back_to: str = "sale") -> None:
        """Start a refund of a sale picked elsewhere (the history): no typing needed."""
        self.back_to = back_to
        self.ids.number.text = receipt_number
        self.find(receipt_number)

    def go_back(self) -> None:
        """Back where the cashier came from (the sale screen or the history)."""
        target, self.back_to = self.back_to, "sale"
        self.app.go(target)

    def refresh(self) -> None:
        """List the managers who may approve."""
        self._managers = [
            (u.id, u.full_name) for u in self.till.auth.users() if u.role.at_least(Role.MANAGER)
        ]
        self.ids.manager.values = [name for _, name in self._managers]
        if self.ids.manager.text not in self.ids.manager.values:
            self.ids.manager.text = tr("choose_manager")
        if self.sale is None:
            self.message = tr("refund_hint")

    def on_kv_post(self, base_widget: Any) -> None:
        """A manager picked from the list hands the keys to the PIN field (one tap fewer)."""
        super().on_kv_post(base_widget)
        self.ids.manager._dropdown.bind(on_select=self.manager_chosen)

    def manager_chosen(self, *_: Any) -> None:
        """A manager was picked: the PIN field takes the keys next."""
        self.ids.pin.focus = True

    def reason_buttons(self) -> list[Any]:
        """The quick-reason toggles, in order."""
        return [self.ids[key] for key in REASON_KEYS]

    def reason(self) -> str:
        """The quick reason chosen and the typed note, joined (empty when neither)."""
        chosen = [tr(key) for key in REASON_KEYS if self.ids[key].chosen]
        typed = self.ids.reason_text.text.strip()
        return " — ".join([*chosen, typed] if typed else chosen)

    def _clear_reason(self) -> None:
        for button in self.reason_buttons():
            button.chosen = False
        self.ids.reason_text.text = ""
        self.outside = False

    def method(self) -> RefundMethod:
        """Cash from the drawer, or (a QRIS sale only) outside the till: ``external``."""
        if self.qris_sale and self.outside:
            return RefundMethod.EXTERNAL
        return RefundMethod.CASH

    def on_scan(self, code: str) -> bool:
        """A scanned receipt QR (or barcode) is a receipt number."""
        self.ids.number.text = code
        self.find(code)
        return True

    def find(self, number: str) -> None:
        """Look the sale up and list what can still be refunded."""
        try:
            sale = self.till.refunds.find_sale(number)
        except DomainError as exc:
            self.sale = None
            self.qris_sale = False
            self.ids.lines.clear_widgets()
            self.sale_text = ""
            self.tell(describe(exc), "error")
            return
        self.sale = sale
        self.qris_sale = any(p.method is PaymentMethod.QRIS for p in sale.payments)
        self._clear_reason()
        self.message = ""
        self.sale_text = f"{sale.receipt_number}   {format_rupiah(sale.total)}"
        self._show_lines(self.till.refunds.refundable_lines(sale.id))

    def _show_lines(self, lines: list[SoldLine]) -> None:
        box = self.ids.lines
        box.clear_widgets()
        for line in lines:
            box.add_widget(
                RefundRow(
                    name=line.name,
                    detail=tr("sold_refundable", sold=line.quantity, left=line.refundable),
                    quantity=0,
                    limit=line.refundable,
                    line_id=line.id,
                )
            )

    def rows(self) -> list[RefundRow]:
        """The sold lines on screen, top to bottom."""
        return [w for w in reversed(self.ids.lines.children) if isinstance(w, RefundRow)]

    def _approved(self, act: Callable[[int, str], T]) -> T | None:
        """``act(manager id, PIN)`` with the chosen manager and the PIN typed (the field is
        emptied); None, after telling the cashier why, when no manager is chosen or the
        till says no."""
        chosen = [mid for mid, name in self._managers if name == self.ids.manager.text]
        if not chosen:
            self.tell(tr("choose_manager"), "error")
            return None
        pin, self.ids.pin.text = self.ids.pin.text, ""
        try:
            return act(chosen[0], pin)
        except DomainError as exc:
            self.tell(describe(exc), "error")
            return None

    def refund(self) -> None:
        """Refund the chosen units with the manager's PIN."""
        if self.sale is None:
            self.message = tr("refund_hint")
            return
        quantities: dict[UUID, int] = {
            row.line_id: int(row.quantity) for row in self.rows() if row.quantity > 0
        }
        if not quantities:
            self.tell(tr("refund_nothing"), "error")
            return
        sale_id = self.sale.id
        refund = self._approved(
            lambda manager_id, pin: self.till.refunds.refund(
                sale_id,
                quantities,
                manager_id=manager_id,
                manager_pin=pin,
                reason=self.reason(),
                method=self.method(),
            )
        )
        if refund is None:
            return
        self.last_refund = refund
        done = "refund_done" if refund.method is RefundMethod.CASH else "refund_done_outside"
        self.tell(tr(done, amount=format_rupiah(refund.total)), "ok")
        self._clear_reason()
        self._show_lines(self.till.refunds.refundable_lines(self.sale.id))
        self.app.sync_now()
        if self.till.prefs.printer() is not None:
            self.print_slip()

    def print_slip(self) -> None:
        """Print the last refund's slip in a worker; a failure never undoes the refund."""
        transport = self.till.prefs.printer()
        if self.last_refund is None or transport is None:
            return
        lines = refund_slip_lines(
            self.till.refunds.slip(self.last_refund.id), width=self.till.prefs.receipt_width
        )
        number = self.sale.receipt_number if self.sale else None
        done_text = self.message
        self.print_in_worker(
            lambda: print_lines(transport, lines, qr_text=number),
            lambda: f"{done_text} {tr('slip_printed')}",
            lambda reason: f"{done_text} {tr('slip_failed', reason=reason)}",
        )

    def void(self) -> None:
        """Cancel the whole sale with the manager's PIN."""
        if self.sale is None:
            self.message = tr("refund_hint")
            return
        sale_id = self.sale.id
        voided = self._approved(
            lambda manager_id, pin: self.till.refunds.void(
                sale_id, manager_id=manager_id, manager_pin=pin, reason=self.reason()
            )
        )
        if voided is None:
            return
        self.tell(tr("void_done", number=self.sale.receipt_number), "ok")
        self._show_lines(self.till.refunds.refundable_lines(self.sale.id))
        self.app.sync_now()
