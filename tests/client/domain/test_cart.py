"""The cart's money rules, discounts, approvals, vouchers and held-cart round trip."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pos_client.domain import (
    ApprovalRequired,
    Cart,
    CartError,
    Discount,
    Product,
    Voucher,
    VoucherError,
)
from shared.models import VoucherKind

NOW = datetime(2025, 6, 15, 3, 0, tzinfo=UTC)


def product(
    pid: int = 1, price: int = 10_000, *, rate: int = 1100, inclusive: bool = True
) -> Product:
    return Product(
        id=pid,
        sku=f"SKU{pid}",
        name=f"Barang {pid}",
        price=price,
        tax_rate_bp=rate,
        tax_inclusive=inclusive,
    )


products = st.builds(
    Product,
    id=st.integers(1, 10_000),
    sku=st.just("X"),
    name=st.just("Barang"),
    price=st.integers(0, 5_000_000),
    tax_rate_bp=st.sampled_from([0, 1100, 1200, 500, 10_000]),
    tax_inclusive=st.booleans(),
)
discounts = st.one_of(
    st.none(),
    st.builds(Discount.percent, st.integers(0, 10_000)),
    st.integers(0, 2_000_000).map(Discount.rupiah),
)


@st.composite
def carts(draw: st.DrawFn) -> Cart:
    cart = Cart(approval_threshold_bp=10_000)  # approvals are tested on their own
    for p in draw(st.lists(products, min_size=1, max_size=8, unique_by=lambda p: p.id)):
        line = cart.add(p, draw(st.integers(1, 50)))
        d = draw(discounts)
        if d is not None and d.amount_of(line.gross) <= line.gross:
            cart.set_line_discount(line.id, d)
    order = draw(discounts)
    if order is not None and order.amount_of(cart.lines_net) <= cart.lines_net:
        cart.set_order_discount(order)
    return cart


@settings(max_examples=300, deadline=None)
@given(carts())
def test_cart_totals_invariants(cart: Cart) -> None:
    totals = cart.totals()
    added_tax = sum(
        priced.tax
        for line, priced in zip(cart.lines, totals.sale.lines, strict=True)
        if not line.product.tax_inclusive
    )
    assert totals.total == totals.subtotal - totals.discount_total + added_tax
    assert totals.total >= 0
    assert totals.discount_total <= totals.subtotal
    assert totals.order_discount == sum(p.order_discount for p in totals.sale.lines)
    for line, priced in zip(cart.lines, totals.sale.lines, strict=True):
        assert priced.net >= 0 and priced.tax >= 0
        rate = line.product.tax_rate_bp
        if line.product.tax_inclusive:
            exact = Fraction(priced.net * rate, 10_000 + rate)
        else:
            exact = Fraction(priced.net * rate, 10_000)
        assert abs(priced.tax - exact) <= Fraction(1, 2)  # half up: within one rupiah


def test_known_sale_inclusive_and_exclusive() -> None:
    cart = Cart()
    cart.add(product(1, 3500), 2)  # 7000 incl. PPN 11%: tax = 7000*1100/11100 = 693.7 -> 694
    cart.add(product(2, 72_500, inclusive=False))  # + 7975 PPN
    totals = cart.totals()
    assert totals.subtotal == 79_500
    assert [p.tax for p in totals.sale.lines] == [694, 7975]
    assert totals.total == 79_500 + 7975


def test_second_scan_adds_to_line_and_quantity_rules() -> None:
    cart = Cart()
    first = cart.add(product(1))
    assert cart.add(product(1)) is first and first.quantity == 2
    with pytest.raises(CartError):
        cart.change_quantity(first.id, 0)
    with pytest.raises(CartError):
        cart.add(product(2), -1)
    cart.change_quantity(first.id, 5)
    assert cart.totals().subtotal == 50_000
    cart.remove(first.id)
    assert cart.is_empty
    with pytest.raises(CartError):
        cart.remove(first.id)


def test_inactive_product_is_refused() -> None:
    with pytest.raises(CartError, match="not for sale"):
        Cart().add(Product(id=9, sku="X", name="Lama", price=1, active=False))


def test_percent_line_discount_rounds_half_up() -> None:
    cart = Cart()
    line = cart.add(product(1, 1005, rate=0))
    cart.set_line_discount(line.id, Discount.percent(500))  # 50.25 -> 50
    assert line.discount_amount == 50
    cart.change_quantity(line.id, 2)  # 100.5 -> 101
    assert line.discount_amount == 101


def test_discounts_above_threshold_need_approval() -> None:
    cart = Cart(approval_threshold_bp=1000)
    line = cart.add(product(1, 10_000))
    cart.set_line_discount(line.id, Discount.rupiah(1000))  # exactly 10 %: allowed
    with pytest.raises(ApprovalRequired) as raised:
        cart.set_line_discount(line.id, Discount.rupiah(1001))
    assert raised.value.amount == 1001 and raised.value.base == 10_000
    assert line.discount == Discount.rupiah(1000)  # unchanged after refusal
    cart.set_line_discount(line.id, Discount(Discount.rupiah(5000).kind, 5000, approved_by=2))
    with pytest.raises(ApprovalRequired):
        cart.set_order_discount(Discount.percent(1500))
    cart.set_order_discount(Discount.percent(1000))
    assert cart.missing_approvals() == []


def test_quantity_change_that_pushes_discount_over_threshold_blocks_checkout() -> None:
    cart = Cart(approval_threshold_bp=1000)
    line = cart.add(product(1, 10_000), 10)
    cart.set_line_discount(line.id, Discount.rupiah(10_000))  # 10 % of 100.000
    cart.change_quantity(line.id, 5)  # now 20 % of 50.000
    with pytest.raises(ApprovalRequired):
        cart.validate(NOW)


def test_discount_bounds() -> None:
    cart = Cart(approval_threshold_bp=10_000)
    line = cart.add(product(1, 1000))
    with pytest.raises(CartError):
        cart.set_line_discount(line.id, Discount.rupiah(1001))
    with pytest.raises(CartError):
        Discount.percent(10_001)
    with pytest.raises(CartError):
        Discount.rupiah(-1)
    cart.set_line_discount(line.id, Discount.rupiah(800))
    with pytest.raises(CartError):
        cart.set_order_discount(Discount.rupiah(201))
    cart.set_order_discount(Discount.rupiah(200))
    assert cart.totals().total == 0


def voucher(**kw: object) -> Voucher:
    base: dict[str, object] = {"code": "V", "kind": VoucherKind.PERCENT, "value": 1000}
    base.update(kw)
    return Voucher(**base)  # type: ignore[arg-type]


def test_voucher_percent_fixed_and_rules() -> None:
    cart = Cart()
    cart.add(product(1, 30_000, rate=0))
    assert cart.apply_voucher(voucher(min_spend=20_000), NOW) == 3000
    assert cart.totals().total == 27_000
    assert cart.totals().order_discount == 3000
    cart.apply_voucher(voucher(kind=VoucherKind.FIXED, value=50_000), NOW)
    assert cart.totals().total == 0  # never below zero
    for bad, message in [
        (voucher(min_spend=30_001), "minimum spend"),
        (voucher(valid_from=datetime(2025, 7, 1, tzinfo=UTC)), "not valid yet"),
        (voucher(valid_until=datetime(2025, 6, 1, tzinfo=UTC)), "expired"),
        (voucher(active=False), "no longer active"),
        (voucher(usage_limit=3, used_count=3), "used up"),
    ]:
        with pytest.raises(VoucherError, match=message):
            _cart_with(30_000).apply_voucher(bad, NOW)


def _cart_with(price: int) -> Cart:
    cart = Cart()
    cart.add(product(1, price, rate=0))
    return cart


def test_voucher_below_min_spend_after_removal_blocks_checkout() -> None:
    cart = Cart()
    a = cart.add(product(1, 15_000, rate=0))
    cart.add(product(2, 10_000, rate=0))
    cart.apply_voucher(voucher(min_spend=20_000), NOW)
    cart.remove(a.id)
    assert cart.totals().voucher_discount == 0
    assert cart.totals().voucher_problem is not None
    with pytest.raises(VoucherError):
        cart.validate(NOW)


def test_voucher_window_checked_again_at_checkout() -> None:
    cart = _cart_with(30_000)
    cart.apply_voucher(voucher(valid_until=datetime(2025, 6, 15, 4, 0, tzinfo=UTC)), NOW)
    cart.validate(NOW)
    with pytest.raises(VoucherError, match="expired"):
        cart.validate(datetime(2025, 6, 15, 5, 0, tzinfo=UTC))


def test_held_cart_round_trip() -> None:
    cart = Cart(approval_threshold_bp=500)
    line = cart.add(product(1, 12_345, inclusive=False), 3)
    cart.set_line_discount(line.id, Discount(Discount.percent(2000).kind, 2000, approved_by=2))
    cart.add(product(2, 999))
    cart.set_order_discount(Discount.rupiah(100))
    cart.apply_voucher(voucher(valid_until=datetime(2026, 1, 1, tzinfo=UTC)), NOW)
    again = Cart.from_dict(cart.to_dict())
    assert again == cart
    assert again.totals() == cart.totals()
