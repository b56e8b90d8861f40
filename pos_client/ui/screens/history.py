"""Sales history: today's or this shift's sales on this till, searched by receipt number,
amount or time; one opened shows its receipt, refunds and void, reprints it through the
printing worker, or starts a refund of it (no receipt number to type)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from pos_client.domain.errors import DomainError
from pos_client.printing.escpos import print_receipt
from pos_client.services.history import (
    HistoryEntry,
    HistoryService,
    SaleDetail,
    Scope,
    refunded_outside,
)
from pos_client.ui.glue import shown_time
from pos_client.ui.i18n import describe, tr
from pos_client.ui.screens.base import KasirScreen, load_kv
from shared.money import format_rupiah
from shared.receipt_text import payment_label, render_receipt

load_kv("history")


class HistoryRow(ButtonBehavior, BoxLayout):
    """One sale in the list: time, receipt number, total, and what happened to it."""

    sale_id = ObjectProperty(None)
    title = StringProperty("")
    amount = StringProperty("")
    detail = StringProperty("")
    selected = BooleanProperty(False)
    voided = BooleanProperty(False)


def _method_text(method: str) -> str:
    if refunded_outside(method):
        return tr("refund_method_outside")
    return tr("refund_method_cash")


class HistoryScreen(KasirScreen):
    """The till's recent sales, one of them open on the right (below, in portrait)."""

    scope = StringProperty("today")
    summary_text = StringProperty("")
    detail_text = StringProperty("")
    events_text = StringProperty("")
    has_sale = BooleanProperty(False)
    can_refund = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        """Nothing open yet."""
        super().__init__(**kwargs)
        self.entries: list[HistoryEntry] = []
        self.detail: SaleDetail | None = None
        self._service: HistoryService | None = None

    @property
    def history(self) -> HistoryService:
        """The history over the UI thread's store (made on first use)."""
        if self._service is None:
            self._service = HistoryService(self.till.store, now=self.till.now)
        return self._service

    # -- the list ------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the list and the open sale (a refund may have happened meanwhile)."""
        self.show_list()
        if self.detail is not None:
            self.open(self.detail.sale.id)

    def set_scope(self, scope: Scope) -> None:
        """Today's sales or this shift's."""
        self.scope = scope
        self.show_list()

    def search(self, text: str) -> None:
        """Filter as the cashier types."""
        self.show_list(text)

    def search_entered(self, text: str) -> None:
        """Enter in the search field: open the sale when exactly one matches."""
        self.show_list(text)
        if len(self.entries) == 1:
            self.open(self.entries[0].id)

    def show_list(self, query: str | None = None) -> None:
        """List the sales of the scope that ``query`` (default: the search field) finds."""
        query = self.ids.search.text if query is None else query
        scope: Scope = "shift" if self.scope == "shift" else "today"
        self.entries = self.history.sales(scope, query)
        box = self.ids.list
        box.clear_widgets()
        open_id = self.detail.sale.id if self.detail else None
        for entry in self.entries:
            box.add_widget(self._row(entry, selected=entry.id == open_id))
        if self.entries:
            total = sum(e.sale.total for e in self.entries if e.sale.status != "voided")
            self.summary_text = tr("history_count", n=len(self.entries), total=format_rupiah(total))
        elif query.strip():
            self.summary_text = tr("history_none_found", query=query.strip())
        elif scope == "shift" and self.till.store.open_shift_row() is None:
            self.summary_text = tr("history_no_shift")
        else:
            self.summary_text = tr("history_none")

    def _row(self, entry: HistoryEntry, *, selected: bool) -> HistoryRow:
        sale = entry.sale
        notes = [" + ".join(payment_label(m) for m in sale.methods)]
        if sale.status == "voided":
            notes.append(tr("history_voided"))
        elif sale.refunded:
            notes.append(tr("history_refunded", amount=format_rupiah(sale.refunded)))
        row = HistoryRow(
            sale_id=sale.id,
            title=f"{entry.local_time:%H:%M}   {sale.receipt_number}",  # already local
            amount=format_rupiah(sale.total),
            detail=" · ".join(n for n in notes if n),
            selected=selected,
            voided=sale.status == "voided",
        )
        row.bind(on_release=lambda tapped: self.open(tapped.sale_id))
        return row

    def rows(self) -> list[HistoryRow]:
        """The sales on screen, top to bottom."""
        return [w for w in reversed(self.ids.list.children) if isinstance(w, HistoryRow)]

    # -- one sale ------------------------------------------------------------------------
    def open(self, sale_id: UUID) -> None:
        """Show the sale's receipt, its refunds and void."""
        try:
            detail = self.history.detail(sale_id)
        except DomainError as exc:
            self.tell(describe(exc), "error")
            return
        self.detail = detail
        self.has_sale = True
        self.can_refund = detail.can_refund
        receipt = self.history.receipt(sale_id)
        self.detail_text = render_receipt(receipt, width=self.till.prefs.receipt_width)
        self.events_text = "\n".join(self._events(detail))
        for row in self.rows():
            row.selected = row.sale_id == sale_id

    def _events(self, detail: SaleDetail) -> list[str]:
        zone = self.history.zone()
        lines: list[str] = []
        for refund in detail.refunds:
            lines.append(
                tr(
                    "history_refund_line",
                    time=shown_time(refund.created_at, zone, "time"),
                    amount=format_rupiah(refund.total),
                    method=_method_text(refund.method),
                    approver=detail.names.get(refund.approved_by, ""),
                )
            )
            items = ", ".join(f"{line.quantity} × {line.name}" for line in refund.lines)
            lines.append(f"   {items}")
            lines.append("   " + tr("history_refund_reason", reason=refund.reason or "–"))
        if detail.void is not None:
            lines.append(
                tr(
                    "history_void_line",
                    time=shown_time(detail.void.created_at, zone, "time"),
                    approver=detail.names.get(detail.void.approved_by, ""),
                )
            )
            if detail.void.reason:
                lines.append("   " + tr("history_refund_reason", reason=detail.void.reason))
        return lines

    def reprint(self) -> None:
        """Reprint the open sale's receipt (marked as a copy) in the printing worker."""
        if self.detail is None:
            self.message = tr("history_pick")
            return
        receipt = self.history.receipt(self.detail.sale.id)
        width = self.till.prefs.receipt_width
        self.print_with(
            lambda printer: print_receipt(printer, receipt, width=width, reprint=True),
            lambda: tr("history_reprinted"),
            lambda reason: tr("print_failed", reason=reason),
        )

    def start_refund(self) -> None:
        """Open the refund screen on this sale; Back there returns here."""
        if self.detail is None:
            self.message = tr("history_pick")
            return
        self.app.go("refund")
        self.app.screen("refund").open_sale(self.detail.sale.receipt_number, back_to="history")
