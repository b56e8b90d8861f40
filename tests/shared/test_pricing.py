"""The money rules both sides share: half-up rounding, allocation, tax, refunds."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.pricing import (
    LineInput,
    PricingError,
    allocate,
    percent_of,
    price_sale,
    refund_amount,
    round_half_up,
    tax_in_net,
)


def test_round_half_up_examples() -> None:
    assert round_half_up(5, 2) == 3
    assert round_half_up(7, 2) == 4
    assert round_half_up(4, 3) == 1
    assert round_half_up(-5, 2) == -3
    assert percent_of(12345, 1100) == 1358  # 1357.95 rounds up


def test_ppn_inclusive_and_exclusive() -> None:
    assert tax_in_net(11100, 1100, inclusive=True) == 1100
    assert tax_in_net(10000, 1100, inclusive=False) == 1100
    totals = price_sale([LineInput(10000, 1, tax_rate_bp=1100, tax_inclusive=False)])
    assert (totals.subtotal, totals.tax_total, totals.total) == (10000, 1100, 11100)


def test_discount_above_price_is_refused() -> None:
    with pytest.raises(PricingError):
        price_sale([LineInput(1000, 1, discount=1001)])
    with pytest.raises(PricingError):
        price_sale([LineInput(1000, 1)], order_discount=1001)


lines_st = st.lists(
    st.builds(
        LineInput,
        unit_price=st.integers(0, 5_000_000),
        quantity=st.integers(1, 50),
        discount=st.just(0),
        tax_rate_bp=st.sampled_from([0, 1100, 1200, 500]),
        tax_inclusive=st.booleans(),
    ),
    min_size=1,
    max_size=8,
)


@given(lines=lines_st, disc_ratio=st.fractions(0, 1))
def test_sale_invariants(lines: list[LineInput], disc_ratio: Fraction) -> None:
    gross = sum(li.unit_price * li.quantity for li in lines)
    order_discount = int(gross * disc_ratio)
    totals = price_sale(lines, order_discount)
    added_tax = sum(
        lt.tax for lt, li in zip(totals.lines, lines, strict=True) if not li.tax_inclusive
    )
    assert totals.total == totals.subtotal - totals.discount_total + added_tax
    assert totals.total >= 0
    assert totals.discount_total == order_discount
    for lt, li in zip(totals.lines, lines, strict=True):
        exact = (
            Fraction(lt.net * li.tax_rate_bp, 10000 + li.tax_rate_bp)
            if li.tax_inclusive
            else Fraction(lt.net * li.tax_rate_bp, 10000)
        )
        assert abs(lt.tax - exact) <= Fraction(1, 2)


@given(
    amount=st.integers(0, 10**9), weights=st.lists(st.integers(0, 10**7), min_size=1, max_size=20)
)
def test_allocate_sums_exactly(amount: int, weights: list[int]) -> None:
    shares = allocate(amount, weights)
    if sum(weights) == 0:
        assert shares == [0] * len(weights)
    else:
        assert sum(shares) == amount
        assert all(s >= 0 for s in shares)


@given(
    line_total=st.integers(0, 10**8),
    sold=st.integers(1, 30),
    steps=st.lists(st.integers(1, 5), min_size=1, max_size=10),
)
def test_refunds_never_exceed_the_line(line_total: int, sold: int, steps: list[int]) -> None:
    refunded = 0
    paid_back = 0
    for q in steps:
        if refunded + q > sold:
            with pytest.raises(PricingError):
                refund_amount(
                    line_total=line_total, sold_quantity=sold, refunded_before=refunded, quantity=q
                )
            break
        paid_back += refund_amount(
            line_total=line_total, sold_quantity=sold, refunded_before=refunded, quantity=q
        )
        refunded += q
    assert paid_back <= line_total
    if refunded == sold:
        assert paid_back == line_total
