"""Refunds (full or partial) and voids, each approved with a manager's PIN, and the
refund slip printed for each refund.

A refund needs a reason. Money goes back in cash from the drawer, or, for a sale paid
by QRIS, outside the till (a manual transfer to the customer), recorded as
``RefundMethod.EXTERNAL``: the drawer's expected cash counts cash refunds only. Refunds
recorded before ``external`` existed carry ``qris`` for the same thing and are shown
alike on the slip and in the sale's history.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from pos_client.config import ClientSettings
from pos_client.domain.errors import RefundError, ShiftError
from pos_client.domain.refunds import SoldLine, full_refund_quantities, plan_refund
from pos_client.services.auth import AuthService
from pos_client.services.clock import Clock, utc_now
from pos_client.store import LocalStore
from pos_client.store.refunds import RefundRecord
from shared.ids import new_id
from shared.models import PaymentMethod, RefundIn, RefundMethod, Role, SaleIn, VoidIn
from shared.money import format_rupiah
from shared.receipt_text import Line, ReceiptStore, sale_id_of_link, two_columns
from shared.timezones import format_local

REFUND_METHOD_LABELS = {
    RefundMethod.CASH.value: "Tunai dari laci",
    RefundMethod.EXTERNAL.value: "Di luar kasir (transfer)",
    # Refunds recorded before ``external`` existed: the same thing.
    RefundMethod.QRIS.value: "Di luar kasir (transfer)",
}
"""How the money went back, as printed on the slip (Indonesian, like receipts)."""
REFUND_SLIP_MARK = "*** RETUR / REFUND ***"


class RefundService:
    """Giving money back: every refund and void is an outbox event, approved by a manager."""

    def __init__(
        self,
        store: LocalStore,
        auth: AuthService,
        settings: ClientSettings | None = None,
        *,
        now: Clock = utc_now,
    ) -> None:
        """Refund sales in ``store``; ``auth`` checks the manager PINs."""
        self.store = store
        self.auth = auth
        self.settings = settings or ClientSettings()
        self.now = now

    def find_sale(self, receipt_number: str) -> SaleIn:
        """The sale printed with ``receipt_number`` (typed, or scanned from the receipt's
        QR: its e-receipt link names the sale, older receipts' QR holds the number)."""
        sale_id = sale_id_of_link(receipt_number) or self.store.sale_id_by_receipt(receipt_number)
        sale = self.store.sale(sale_id) if sale_id else None
        if sale is None:
            raise RefundError("sale_not_found", number=receipt_number.strip())
        return sale

    def refundable_lines(self, sale_id: UUID) -> list[SoldLine]:
        """The sale's lines with units already refunded."""
        return self.store.sold_lines(sale_id)

    def _shift_id(self) -> UUID | None:
        shift = self.store.open_shift_row()
        if shift is None and self.settings.require_open_shift:
            raise ShiftError("shift_required_to_refund")
        return shift.id if shift else None

    def refund(
        self,
        sale_id: UUID,
        quantities: Mapping[UUID, int] | None = None,
        *,
        manager_id: int,
        manager_pin: str,
        reason: str = "",
        method: RefundMethod = RefundMethod.CASH,
    ) -> RefundIn:
        """Refund ``quantities`` (sale line id → units; None = everything left).

        Amounts come from :func:`shared.pricing.refund_amount`; never more than sold across
        all refunds of the sale. The manager (or admin) approves with their PIN. A
        ``reason`` is required; ``method`` is ``CASH`` (from the drawer) or, only for a
        sale paid (partly) by QRIS, ``EXTERNAL`` = given back outside the till (``QRIS``,
        the old spelling of it, is recorded as ``EXTERNAL``).
        """
        cashier = self.auth.require_user()
        reason = reason.strip()
        if not reason:
            # Asked before the PIN, so an unfinished form never costs a PIN attempt.
            raise RefundError("refund_reason_required")
        approver = self.auth.authorize(manager_id, manager_pin, Role.MANAGER)
        status = self.store.sale_status(sale_id)
        if status is None:
            raise RefundError("sale_not_on_till")
        if status == "voided":
            raise RefundError("sale_voided")
        method = RefundMethod(method)
        if method in (RefundMethod.QRIS, RefundMethod.QRIS_STATIC):
            method = RefundMethod.EXTERNAL
        if method is not RefundMethod.CASH and not self.paid_by_qris(sale_id):
            raise RefundError("refund_outside_needs_qris")
        sold = self.store.sold_lines(sale_id)
        wanted = full_refund_quantities(sold) if quantities is None else quantities
        lines = plan_refund(sold, wanted)
        refund = RefundIn(
            id=new_id(),
            sale_id=sale_id,
            shift_id=self._shift_id(),
            cashier_id=cashier.id,
            approved_by=approver.id,
            reason=reason,
            created_at=self.now(),
            lines=lines,
            total=sum(line.amount for line in lines),
            method=method,
        )
        self.store.record_refund(refund)
        return refund

    def paid_by_qris(self, sale_id: UUID) -> bool:
        """True when a QRIS payment paid (part of) the sale: it may be refunded outside
        the till."""
        sale = self.store.sale(sale_id)
        return sale is not None and any(p.method is PaymentMethod.QRIS for p in sale.payments)

    def slip(self, refund_id: UUID) -> RefundSlip:
        """The slip of a recorded refund, ready to lay out with :func:`refund_slip_lines`."""
        record = self.store.refund_record(refund_id)
        if record is None:
            raise RefundError("refund_not_found")
        return refund_slip(self.store, record)

    def void(self, sale_id: UUID, *, manager_id: int, manager_pin: str, reason: str = "") -> VoidIn:
        """Cancel a whole sale (stock goes back); only if nothing of it was refunded."""
        cashier = self.auth.require_user()
        approver = self.auth.authorize(manager_id, manager_pin, Role.MANAGER)
        void = VoidIn(
            sale_id=sale_id,
            cashier_id=cashier.id,
            approved_by=approver.id,
            reason=reason,
            created_at=self.now(),
        )
        self.store.record_void(void, shift_id=self._shift_id())
        return void


@dataclass(frozen=True)
class RefundSlip:
    """Everything printed on a refund slip, in whole rupiah."""

    store: ReceiptStore
    receipt_number: str
    refund: RefundRecord
    cashier_name: str
    approver_name: str


def refund_slip(store: LocalStore, refund: RefundRecord) -> RefundSlip:
    """The slip of ``refund``: the store's header (last pull), the sale's number, names."""
    profile = store.store_profile()
    receipt_store = (
        ReceiptStore.from_store_out(profile) if profile is not None else ReceiptStore(name="Kasir")
    )
    sale = store.sale(refund.sale_id)
    cashier = store.user(refund.cashier_id)
    approver = store.user(refund.approved_by)
    return RefundSlip(
        store=receipt_store,
        receipt_number=sale.receipt_number if sale else str(refund.sale_id),
        refund=refund,
        cashier_name=cashier.full_name if cashier else str(refund.cashier_id),
        approver_name=approver.full_name if approver else str(refund.approved_by),
    )


def _center(text: str, width: int, *, bold: bool = False) -> list[Line]:
    return [
        Line(part.center(width).rstrip(), align="center", bold=bold)
        for part in textwrap.wrap(text, width)
    ]


def _pair(left: str, right: str, width: int, *, bold: bool = False) -> list[Line]:
    return [Line(text, bold=bold) for text in two_columns(left, right, width)]


def refund_slip_lines(slip: RefundSlip, *, width: int = 32) -> list[Line]:
    """The slip laid out like a receipt (same header, same columns) at ``width``."""
    refund = slip.refund
    rule = Line("-" * width)
    out = _center(slip.store.name, width, bold=True)
    out += _center(slip.store.address, width)
    out.append(Line("=" * width))
    out += _center(REFUND_SLIP_MARK, width, bold=True)
    out += _pair("Struk", slip.receipt_number, width)
    out += _pair("Tanggal", format_local(refund.created_at, slip.store.timezone), width)
    out += _pair("Kasir", slip.cashier_name, width)
    out += _pair("Disetujui", slip.approver_name, width)
    out.append(rule)
    for line in refund.lines:
        out += [Line(text) for text in textwrap.wrap(line.name, width) or [""]]
        out += _pair(f"  {line.quantity} x", format_rupiah(-line.amount), width)
    out.append(rule)
    out += _pair("TOTAL RETUR", format_rupiah(refund.total), width, bold=True)
    out += _pair("Dikembalikan", REFUND_METHOD_LABELS.get(refund.method, refund.method), width)
    out += [Line(text) for text in textwrap.wrap(f"Alasan: {refund.reason}", width)]
    out.append(rule)
    out += [Line("Tanda tangan pelanggan:"), Line(""), Line(""), Line("_" * min(width, 24))]
    return out


def render_refund_slip(slip: RefundSlip, *, width: int = 32) -> str:
    """The refund slip as plain text, ``width`` characters per line at most."""
    return "\n".join(line.text for line in refund_slip_lines(slip, width=width))
