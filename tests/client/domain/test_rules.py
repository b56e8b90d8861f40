"""Tender, receipt numbers, refund plans and shift arithmetic (pure domain)."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_client.domain import (
    CashTender,
    PaymentError,
    QrisPayment,
    RefundError,
    ShiftFigures,
    SoldLine,
    expected_cash,
    format_receipt_number,
    parse_receipt_number,
    plan_refund,
    settle,
)
from pos_client.domain.refunds import full_refund_quantities
from shared.models import PaymentMethod


def test_cash_change_due() -> None:
    [cash] = settle(43_500, [CashTender(50_000)])
    assert (cash.method, cash.amount, cash.tendered, cash.change) == (
        PaymentMethod.CASH,
        43_500,
        50_000,
        6500,
    )
    with pytest.raises(PaymentError, match="more is needed"):
        settle(43_500, [CashTender(40_000)])


def test_split_tender_qris_and_cash() -> None:
    qris, cash = settle(100_000, [QrisPayment(60_000, reference="T123"), CashTender(50_000)])
    assert qris.method is PaymentMethod.QRIS and qris.amount == 60_000 and qris.reference == "T123"
    assert cash.amount == 40_000 and cash.change == 10_000
    assert sum(p.amount for p in (qris, cash)) == 100_000


def test_tender_refusals() -> None:
    with pytest.raises(PaymentError):
        settle(10_000, [QrisPayment(12_000)])
    with pytest.raises(PaymentError, match="No cash is due"):
        settle(10_000, [QrisPayment(10_000), CashTender(5000)])
    with pytest.raises(PaymentError, match="still to be paid"):
        settle(10_000, [QrisPayment(4000)])
    assert [p.amount for p in settle(10_000, [QrisPayment(10_000)])] == [10_000]
    [zero] = settle(0, [])
    assert zero.amount == 0 and zero.method is PaymentMethod.CASH


def test_receipt_number_format_and_parse() -> None:
    number = format_receipt_number("T01", date(2025, 6, 15), 7)
    assert number == "T01-20250615-0007"
    assert parse_receipt_number(number) == ("T01", date(2025, 6, 15), 7)
    assert format_receipt_number("T01", date(2025, 6, 15), 12_345) == "T01-20250615-12345"
    with pytest.raises(ValueError):
        parse_receipt_number("nonsense")


@given(
    total=st.integers(0, 10_000_000),
    quantity=st.integers(1, 30),
    steps=st.lists(st.integers(1, 5), min_size=1, max_size=30),
)
def test_partial_refunds_never_exceed_line_total(
    total: int, quantity: int, steps: list[int]
) -> None:
    line = SoldLine(id=uuid4(), quantity=quantity, total=total)
    refunded, paid = 0, 0
    for step in steps:
        step = min(step, quantity - refunded)
        if step == 0:
            break
        [planned] = plan_refund([line], {line.id: step})
        paid += planned.amount
        refunded += step
        line = SoldLine(id=line.id, quantity=quantity, total=total, refunded=refunded)
    assert paid <= total
    if refunded == quantity:
        assert paid == total
        with pytest.raises(RefundError):
            plan_refund([line], {line.id: 1})


def test_refund_plan_refusals() -> None:
    line = SoldLine(id=uuid4(), quantity=2, total=7000, refunded=1, name="Indomie")
    with pytest.raises(RefundError, match="Only 1 of Indomie"):
        plan_refund([line], {line.id: 2})
    with pytest.raises(RefundError):
        plan_refund([line], {uuid4(): 1})
    with pytest.raises(RefundError):
        plan_refund([line], {line.id: 0})
    assert full_refund_quantities([line]) == {line.id: 1}
    with pytest.raises(RefundError, match="Nothing"):
        plan_refund([line], {})


def test_expected_cash() -> None:
    figures = ShiftFigures(
        opening_float=200_000,
        payments_by_method={"cash": 150_000, "qris": 90_000},
        refunds_by_method={"cash": 20_000, "qris": 5000},
        cash_in=50_000,
        cash_out=30_000,
    )
    assert expected_cash(figures) == 200_000 + 150_000 - 20_000 + 50_000 - 30_000
