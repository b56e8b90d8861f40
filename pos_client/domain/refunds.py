"""How much money goes back when units of a sale are returned.

Amounts come from :func:`shared.pricing.refund_amount`, computed cumulatively per line, so
refunding every unit in any number of steps returns exactly what the line cost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from pos_client.domain.errors import RefundError
from shared.ids import new_id
from shared.models import RefundLineIn
from shared.pricing import PricingError, refund_amount


@dataclass(frozen=True, slots=True)
class SoldLine:
    """A line of an earlier sale and how many of its units were refunded already."""

    id: UUID
    quantity: int
    total: int
    refunded: int = 0
    name: str = ""

    @property
    def refundable(self) -> int:
        """Units that can still come back."""
        return self.quantity - self.refunded


def plan_refund(sold: Sequence[SoldLine], quantities: Mapping[UUID, int]) -> list[RefundLineIn]:
    """Refund lines for ``quantities`` (sale line id → units), never more than was sold.

    Raises :class:`RefundError` for an unknown line, a non-positive quantity, more units
    than are left to refund, or nothing to refund at all.
    """
    by_id = {line.id: line for line in sold}
    planned: list[RefundLineIn] = []
    for line_id, quantity in quantities.items():
        line = by_id.get(line_id)
        if line is None:
            raise RefundError("refund_line_not_in_sale")
        if quantity <= 0:
            raise RefundError("refund_quantity_below_one")
        if quantity > line.refundable:
            if line.name:
                raise RefundError("refund_only_left", left=line.refundable, name=line.name)
            raise RefundError("refund_only_left_line", left=line.refundable)
        try:
            amount = refund_amount(
                line_total=line.total,
                sold_quantity=line.quantity,
                refunded_before=line.refunded,
                quantity=quantity,
            )
        except PricingError as exc:
            raise RefundError(exc.message_code, **exc.params) from exc
        planned.append(
            RefundLineIn(id=new_id(), sale_line_id=line.id, quantity=quantity, amount=amount)
        )
    if not planned:
        raise RefundError("refund_nothing_left")
    return planned


def full_refund_quantities(sold: Sequence[SoldLine]) -> dict[UUID, int]:
    """Every unit not yet refunded, line by line."""
    return {line.id: line.refundable for line in sold if line.refundable > 0}
