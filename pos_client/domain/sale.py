"""A finished cart turned into a sale: everything but the receipt number.

The receipt number's sequence is allocated by the store in the same transaction that
writes the sale, so :class:`SaleDraft` becomes a :class:`shared.models.SaleIn` there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from pos_client.domain.cart import Cart, CartTotals
from shared.models import PaymentIn, SaleIn, SaleLineIn
from shared.models.customers import SaleCustomerIn


@dataclass(frozen=True, slots=True)
class SaleDraft:
    """A priced, paid sale waiting for its receipt number."""

    id: UUID
    cashier_id: int
    shift_id: UUID | None
    created_at: datetime
    lines: tuple[SaleLineIn, ...]
    line_order_discounts: tuple[int, ...]
    order_discount: int
    voucher_code: str | None
    subtotal: int
    discount_total: int
    tax_total: int
    total: int
    payments: tuple[PaymentIn, ...]
    catalog_cursor: int | None = None
    """The till's pull cursor when the sale was made: which prices it had (the server
    checks line prices against the catalog as of this change number)."""
    customer: SaleCustomerIn | None = None
    """Who the sale is for, and the points it redeemed (part of ``order_discount``)."""

    def to_wire(self, receipt_number: str) -> SaleIn:
        """The sale as the outbox carries it (and the server checks it)."""
        return SaleIn.of(
            self,
            receipt_number=receipt_number,
            lines=list(self.lines),
            payments=list(self.payments),
        )


def build_sale_draft(
    cart: Cart,
    totals: CartTotals,
    payments: Sequence[PaymentIn],
    *,
    cashier_id: int,
    shift_id: UUID | None,
    created_at: datetime,
    catalog_cursor: int | None = None,
) -> SaleDraft:
    """Freeze ``cart`` priced as ``totals`` and paid by ``payments`` into a draft sale.

    The sale takes the cart's id, so one cart can only ever become one sale.
    """
    lines = tuple(
        SaleLineIn(
            id=line.id,
            product_id=line.product.id,
            sku=line.product.sku,
            name=line.product.name,
            quantity=line.quantity,
            unit_price=line.product.price,
            discount=priced.discount,
            tax_rate_bp=line.product.tax_rate_bp,
            tax_inclusive=line.product.tax_inclusive,
            tax=priced.tax,
            total=priced.total,
            measure=line.measure.to_wire() if line.measure else None,
        )
        for line, priced in zip(cart.lines, totals.sale.lines, strict=True)
    )
    return SaleDraft(
        id=cart.id,
        cashier_id=cashier_id,
        shift_id=shift_id,
        created_at=created_at,
        lines=lines,
        line_order_discounts=tuple(p.order_discount for p in totals.sale.lines),
        order_discount=totals.order_discount,
        voucher_code=cart.voucher.code if cart.voucher else None,
        subtotal=totals.subtotal,
        discount_total=totals.discount_total,
        tax_total=totals.tax_total,
        total=totals.total,
        payments=tuple(payments),
        catalog_cursor=catalog_cursor,
        customer=(
            cart.customer.to_wire(totals.points_redeemed, totals.points_discount)
            if cart.customer
            else None
        ),
    )
