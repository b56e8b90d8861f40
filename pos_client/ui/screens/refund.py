"""Refund and void: find a sale by receipt number (typed or scanned), pick units, manager PIN."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from kivy.properties import NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from pos_client.domain.errors import DomainError
from pos_client.domain.refunds import SoldLine
from pos_client.ui.i18n import describe, tr
from pos_client.ui.screens.base import KasirScreen, load_kv
from shared.models import Role, SaleIn
from shared.money import format_rupiah

load_kv("refund")


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

    def __init__(self, **kwargs: Any) -> None:
        """No sale found yet."""
        super().__init__(**kwargs)
        self.sale: SaleIn | None = None
        self._managers: list[tuple[int, str]] = []

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
            self.ids.lines.clear_widgets()
            self.sale_text = ""
            self.message = describe(exc)
            return
        self.sale = sale
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

    def _manager(self) -> tuple[int, str] | None:
        for manager in self._managers:
            if manager[1] == self.ids.manager.text:
                return manager
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
            self.message = tr("refund_nothing")
            return
        manager = self._manager()
        if manager is None:
            self.message = tr("choose_manager")
            return
        pin, self.ids.pin.text = self.ids.pin.text, ""
        try:
            refund = self.till.refunds.refund(
                self.sale.id, quantities, manager_id=manager[0], manager_pin=pin
            )
        except DomainError as exc:
            self.message = describe(exc)
            return
        self.message = tr("refund_done", amount=format_rupiah(refund.total))
        self._show_lines(self.till.refunds.refundable_lines(self.sale.id))
        self.app.sync_now()

    def void(self) -> None:
        """Cancel the whole sale with the manager's PIN."""
        if self.sale is None:
            self.message = tr("refund_hint")
            return
        manager = self._manager()
        if manager is None:
            self.message = tr("choose_manager")
            return
        pin, self.ids.pin.text = self.ids.pin.text, ""
        try:
            self.till.refunds.void(self.sale.id, manager_id=manager[0], manager_pin=pin)
        except DomainError as exc:
            self.message = describe(exc)
            return
        self.message = tr("void_done", number=self.sale.receipt_number)
        self._show_lines(self.till.refunds.refundable_lines(self.sale.id))
        self.app.sync_now()
