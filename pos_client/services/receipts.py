"""Receipts of stored sales: the one place a sale becomes a printable receipt."""

from __future__ import annotations

from pos_client.store import LocalStore
from shared.models import SaleIn
from shared.receipt_text import ReceiptData, ReceiptLine, ReceiptPayment, ReceiptStore


def receipt_for_sale(store: LocalStore, sale: SaleIn) -> ReceiptData:
    """The receipt of ``sale`` with the store's template (last pull) and the cashier's name."""
    profile = store.store_profile()
    receipt_store = (
        ReceiptStore.from_store_out(profile) if profile is not None else ReceiptStore(name="Kasir")
    )
    cashier = store.user(sale.cashier_id)
    return ReceiptData(
        store=receipt_store,
        receipt_number=sale.receipt_number,
        created_at=sale.created_at,
        cashier_name=cashier.full_name if cashier else str(sale.cashier_id),
        lines=tuple(
            ReceiptLine(
                name=line.name,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount=line.discount,
                total=line.total,
            )
            for line in sale.lines
        ),
        subtotal=sale.subtotal,
        discount_total=sale.discount_total,
        tax_total=sale.tax_total,
        tax_inclusive=all(line.tax_inclusive for line in sale.lines),
        total=sale.total,
        payments=tuple(
            ReceiptPayment(
                method=p.method.value,
                amount=p.amount,
                tendered=p.tendered,
                change=p.change,
                reference=p.reference or "",
            )
            for p in sale.payments
        ),
    )
