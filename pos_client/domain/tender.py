"""Paying for a sale: cash (tendered, change due) and split tender with QRIS.

QRIS needs the network and the server; :class:`QrisPayment` is the seam the QRIS issue
fills: a QRIS payment the server reported PAID, with its Tripay reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pos_client.domain.errors import PaymentError
from shared.ids import new_id
from shared.models import PaymentIn, PaymentMethod


@dataclass(frozen=True, slots=True)
class CashTender:
    """Cash the customer handed over."""

    tendered: int


@dataclass(frozen=True, slots=True)
class QrisPayment:
    """A QRIS payment already confirmed PAID by the server (filled by the QRIS flow)."""

    amount: int
    reference: str | None = None
    order_id: str | None = None
    method: PaymentMethod = PaymentMethod.QRIS
    """``QRIS_STATIC`` for the store's static QR confirmed by the cashier while offline."""


Tender = CashTender | QrisPayment


def change_due(total: int, tendered: int) -> int:
    """Change for a cash-only sale; :class:`PaymentError` when the cash is short."""
    if tendered < total:
        raise PaymentError("cash_short", amount=total - tendered)
    return tendered - total


def settle(total: int, tenders: Sequence[Tender]) -> list[PaymentIn]:
    """The payments of a sale of ``total``: QRIS parts first, cash covers the rest.

    All cash tenders become one cash payment whose ``amount`` is what cash covers,
    with ``tendered`` and ``change``. Raises :class:`PaymentError` when the tenders do not
    pay exactly ``total`` (QRIS above the total, cash short, cash given when none is due).
    """
    if total < 0:
        raise PaymentError("negative_total")
    payments: list[PaymentIn] = []
    qris_total = 0
    cash_tendered = 0
    cash_given = False
    for tender in tenders:
        if isinstance(tender, QrisPayment):
            if tender.amount <= 0:
                raise PaymentError("qris_payment_not_positive")
            qris_total += tender.amount
            payments.append(
                PaymentIn(
                    id=new_id(),
                    method=tender.method,
                    amount=tender.amount,
                    reference=tender.reference,
                    order_id=tender.order_id,
                )
            )
        else:
            if tender.tendered < 0:
                raise PaymentError("cash_negative")
            cash_tendered += tender.tendered
            cash_given = True
    if qris_total > total:
        raise PaymentError("qris_over_total")
    cash_due = total - qris_total
    if cash_due > 0 or (total == 0 and not payments):
        if not cash_given and cash_due > 0:
            raise PaymentError("still_to_pay", amount=cash_due)
        change = change_due(cash_due, cash_tendered)
        payments.append(
            PaymentIn(
                id=new_id(),
                method=PaymentMethod.CASH,
                amount=cash_due,
                tendered=cash_tendered,
                change=change,
            )
        )
    elif cash_tendered > 0:
        raise PaymentError("no_cash_due")
    return payments
