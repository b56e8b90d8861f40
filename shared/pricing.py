"""The one place money is computed: line totals, discounts, PPN and refunds.

Both the till (to ring up) and the server (to check what the till sent) call these
functions, so a sale's totals can only mean one thing. Every amount is an ``int``
of whole rupiah; percentages are basis points (1100 = 11.00 %). Rounding is half up,
done once per line by :func:`round_half_up`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shared.errors import CodedError

BP_DENOMINATOR = 10_000


class PricingError(CodedError, ValueError):
    """Inputs that cannot make a valid sale (a discount above the price, say)."""


def round_half_up(numerator: int, denominator: int) -> int:
    """Divide two integers and round half away from zero: the rounding rule of Kasir."""
    if denominator <= 0:
        raise PricingError("pricing_denominator")
    sign = -1 if numerator < 0 else 1
    quotient, remainder = divmod(abs(numerator), denominator)
    if remainder * 2 >= denominator:
        quotient += 1
    return sign * quotient


def percent_of(amount: int, basis_points: int) -> int:
    """``basis_points`` of ``amount`` in whole rupiah (half up)."""
    return round_half_up(amount * basis_points, BP_DENOMINATOR)


GRAMS_PER_KG = 1000


def weighed_price(price_per_kg: int, grams: int) -> int:
    """What ``grams`` of a product sold by the kilogram cost: half up, once, in rupiah."""
    if price_per_kg < 0 or grams < 0:
        raise PricingError("pricing_negative")
    return round_half_up(price_per_kg * grams, GRAMS_PER_KG)


def tax_in_net(net: int, rate_bp: int, *, inclusive: bool) -> int:
    """Tax on a net line amount: contained in it when inclusive, added on top when not."""
    if rate_bp == 0 or net == 0:
        return 0
    if inclusive:
        return round_half_up(net * rate_bp, BP_DENOMINATOR + rate_bp)
    return percent_of(net, rate_bp)


@dataclass(frozen=True, slots=True)
class LineInput:
    """What pricing needs to know about one cart line."""

    unit_price: int
    quantity: int
    discount: int = 0
    tax_rate_bp: int = 0
    tax_inclusive: bool = True


@dataclass(frozen=True, slots=True)
class LineTotals:
    """One priced line. ``total`` is what the customer pays for it (tax included)."""

    gross: int
    discount: int
    order_discount: int
    net: int
    tax: int
    total: int


@dataclass(frozen=True, slots=True)
class SaleTotals:
    """A priced sale. ``total = subtotal - discount_total + added tax``."""

    lines: tuple[LineTotals, ...]
    subtotal: int
    discount_total: int
    tax_total: int
    total: int


def allocate(amount: int, weights: Sequence[int]) -> list[int]:
    """Split ``amount`` across ``weights`` in proportion, summing exactly (largest remainder).

    Ties go to the earlier weight, so the split is deterministic on both sides.
    """
    total_weight = sum(weights)
    if amount == 0 or total_weight == 0:
        return [0] * len(weights)
    shares = [amount * w // total_weight for w in weights]
    left = amount - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % total_weight), i))
    for i in order[:left]:
        shares[i] += 1
    return shares


def price_sale(lines: Sequence[LineInput], order_discount: int = 0) -> SaleTotals:
    """Price a cart: line discounts, then the order discount spread over lines, then tax.

    Raises :class:`PricingError` when a discount exceeds what it discounts or an input
    is negative.
    """
    if order_discount < 0:
        raise PricingError("pricing_negative_order_discount")
    nets: list[int] = []
    for line in lines:
        if line.quantity <= 0:
            raise PricingError("pricing_quantity")
        if line.unit_price < 0 or line.discount < 0 or line.tax_rate_bp < 0:
            raise PricingError("pricing_negative")
        gross = line.unit_price * line.quantity
        if line.discount > gross:
            raise PricingError("pricing_line_discount")
        nets.append(gross - line.discount)
    if order_discount > sum(nets):
        raise PricingError("pricing_order_discount")
    shares = allocate(order_discount, nets)
    priced: list[LineTotals] = []
    for line, net_before, share in zip(lines, nets, shares, strict=True):
        net = net_before - share
        tax = tax_in_net(net, line.tax_rate_bp, inclusive=line.tax_inclusive)
        total = net if line.tax_inclusive else net + tax
        priced.append(
            LineTotals(
                gross=line.unit_price * line.quantity,
                discount=line.discount,
                order_discount=share,
                net=net,
                tax=tax,
                total=total,
            )
        )
    subtotal = sum(p.gross for p in priced)
    discount_total = sum(p.discount + p.order_discount for p in priced)
    return SaleTotals(
        lines=tuple(priced),
        subtotal=subtotal,
        discount_total=discount_total,
        tax_total=sum(p.tax for p in priced),
        total=sum(p.total for p in priced),
    )


def refund_amount(
    *, line_total: int, sold_quantity: int, refunded_before: int, quantity: int
) -> int:
    """Money back for ``quantity`` more units of a line, given earlier refunds of it.

    Computed cumulatively, so refunding every unit in any number of steps returns
    exactly ``line_total``, never a rupiah more.
    """
    if quantity <= 0:
        raise PricingError("pricing_refund_quantity")
    if refunded_before + quantity > sold_quantity:
        raise PricingError("pricing_refund_too_many")
    after = round_half_up(line_total * (refunded_before + quantity), sold_quantity)
    before = round_half_up(line_total * refunded_before, sold_quantity)
    return after - before
