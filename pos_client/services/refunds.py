"""Refunds (full or partial) and voids, each approved with a manager's PIN."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from pos_client.config import ClientSettings
from pos_client.domain.errors import RefundError, ShiftError
from pos_client.domain.refunds import SoldLine, full_refund_quantities, plan_refund
from pos_client.services.auth import AuthService
from pos_client.services.clock import Clock, utc_now
from pos_client.store import LocalStore
from shared.ids import new_id
from shared.models import PaymentMethod, RefundIn, Role, SaleIn, VoidIn


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
        """The sale printed with ``receipt_number`` (typed or scanned from its QR)."""
        sale_id = self.store.sale_id_by_receipt(receipt_number)
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
        method: PaymentMethod = PaymentMethod.CASH,
    ) -> RefundIn:
        """Refund ``quantities`` (sale line id → units; None = everything left).

        Amounts come from :func:`shared.pricing.refund_amount`; never more than sold across
        all refunds of the sale. The manager (or admin) approves with their PIN.
        """
        cashier = self.auth.require_user()
        approver = self.auth.authorize(manager_id, manager_pin, Role.MANAGER)
        status = self.store.sale_status(sale_id)
        if status is None:
            raise RefundError("sale_not_on_till")
        if status == "voided":
            raise RefundError("sale_voided")
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
