"""The cart a cashier rings up: lines, line and order discounts, a voucher, and totals.

Totals always come from :func:`shared.pricing.price_sale`, so the server (which prices the
same lines with the same function) reaches the same rupiah. Discounts above the till's
approval threshold raise :class:`ApprovalRequired` until a supervisor approves them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pos_client.domain.catalog import Product, Voucher
from pos_client.domain.customers import CartCustomer, PointsRedemption, redeemable
from pos_client.domain.errors import ApprovalRequired, CartError, VoucherError
from pos_client.domain.measured import Measure, format_keyed_kg
from pos_client.domain.vouchers import check_voucher, voucher_amount
from shared.ids import new_id
from shared.models import VoucherKind
from shared.pricing import BP_DENOMINATOR, LineInput, SaleTotals, percent_of, price_sale

MAX_QUANTITY = 1_000_000


class DiscountKind(StrEnum):
    """A discount given in rupiah, or as a percentage (basis points) of what it discounts."""

    RUPIAH = "rupiah"
    PERCENT = "percent"


@dataclass(frozen=True, slots=True)
class Discount:
    """A discount the cashier typed; ``approved_by`` is the supervisor who allowed it."""

    kind: DiscountKind
    value: int
    approved_by: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, int) or self.value < 0:
            raise CartError("discount_not_whole")
        if self.kind is DiscountKind.PERCENT and self.value > BP_DENOMINATOR:
            raise CartError("discount_over_100")

    @classmethod
    def rupiah(cls, amount: int) -> Discount:
        """``amount`` rupiah off."""
        return cls(DiscountKind.RUPIAH, amount)

    @classmethod
    def percent(cls, basis_points: int) -> Discount:
        """``basis_points`` off (1000 = 10 %), rounded half up by :func:`percent_of`."""
        return cls(DiscountKind.PERCENT, basis_points)

    def amount_of(self, base: int) -> int:
        """The rupiah this discount takes off ``base``."""
        if self.kind is DiscountKind.PERCENT:
            return percent_of(base, self.value)
        return self.value

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (for held carts)."""
        return {"kind": self.kind.value, "value": self.value, "approved_by": self.approved_by}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Discount:
        """Rebuild from :meth:`to_dict`."""
        return cls(DiscountKind(data["kind"]), int(data["value"]), data.get("approved_by"))


def needs_approval(amount: int, base: int, threshold_bp: int) -> bool:
    """True when ``amount`` off ``base`` is more than ``threshold_bp`` of it."""
    return amount * BP_DENOMINATOR > base * threshold_bp


@dataclass(slots=True)
class CartLine:
    """One product in the cart; its id becomes the sale line's id.

    A line rung up from an in-store label carries its ``measure``; its ``product`` then
    has the label's price (and, for a weight, the weight in its name).
    """

    id: UUID
    product: Product
    quantity: int
    discount: Discount | None = None
    measure: Measure | None = None

    @property
    def quantity_text(self) -> str:
        """The quantity as the cashier reads it: ``0,75 kg`` for a weighed line, else ``3``."""
        grams = self.measure.grams if self.measure is not None else None
        return format_keyed_kg(grams) if grams is not None else str(self.quantity)

    @property
    def priced_per(self) -> tuple[int, str]:
        """The price the line is read at and its unit: per kg for a weighed line (its
        catalog price), else the line's unit price per the product's unit."""
        if self.measure is not None and self.measure.grams is not None:
            return self.measure.base_price, "kg"
        return self.product.price, self.product.unit

    @property
    def gross(self) -> int:
        """Unit price times quantity, before any discount."""
        return self.product.price * self.quantity

    @property
    def discount_amount(self) -> int:
        """The line discount in rupiah."""
        return self.discount.amount_of(self.gross) if self.discount else 0

    @property
    def net(self) -> int:
        """The line after its own discount (before the order discount)."""
        return self.gross - self.discount_amount

    def pricing_input(self) -> LineInput:
        """The line as :func:`shared.pricing.price_sale` takes it."""
        return LineInput(
            unit_price=self.product.price,
            quantity=self.quantity,
            discount=self.discount_amount,
            tax_rate_bp=self.product.tax_rate_bp,
            tax_inclusive=self.product.tax_inclusive,
        )


@dataclass(frozen=True, slots=True)
class CartTotals:
    """A priced cart. ``sale`` holds per-line figures in the cart's line order."""

    sale: SaleTotals
    manual_order_discount: int
    voucher_discount: int
    voucher_problem: VoucherError | None = None
    points_redeemed: int = 0
    """Customer points this sale takes (see :mod:`pos_client.domain.customers`)."""
    points_discount: int = 0
    """Their rupiah value, part of :attr:`order_discount`."""

    @property
    def order_discount(self) -> int:
        """The order-level discount sent with the sale (manual, voucher and points)."""
        return self.manual_order_discount + self.voucher_discount + self.points_discount

    @property
    def subtotal(self) -> int:
        """Sum of unit price times quantity."""
        return self.sale.subtotal

    @property
    def discount_total(self) -> int:
        """All discounts: lines, order and voucher."""
        return self.sale.discount_total

    @property
    def tax_total(self) -> int:
        """PPN on the sale (contained or added)."""
        return self.sale.tax_total

    @property
    def total(self) -> int:
        """What the customer pays."""
        return self.sale.total


@dataclass(slots=True)
class Cart:
    """A sale being rung up. Mutating methods raise :class:`CartError` and change nothing."""

    approval_threshold_bp: int = 1000
    id: UUID = field(default_factory=new_id)
    lines: list[CartLine] = field(default_factory=list)
    order_discount: Discount | None = None
    voucher: Voucher | None = None
    customer: CartCustomer | None = None
    redemption: PointsRedemption | None = None

    # -- lines ---------------------------------------------------------------------------
    @property
    def is_empty(self) -> bool:
        """True when nothing is rung up."""
        return not self.lines

    def line(self, line_id: UUID) -> CartLine:
        """The line with ``line_id``, or :class:`CartError`."""
        for line in self.lines:
            if line.id == line_id:
                return line
        raise CartError("line_gone")

    def add(
        self, product: Product, quantity: int = 1, *, measure: Measure | None = None
    ) -> CartLine:
        """Ring up ``quantity`` of ``product``; a second scan adds to an undiscounted line.

        A label-priced item (``measure``) always gets its own line, and nothing is added
        to one: each label has its own weight or price.
        """
        if not product.active:
            raise CartError("product_not_for_sale", name=product.name)
        _check_quantity(quantity)
        for line in self.lines if measure is None else ():
            if line.product.id == product.id and line.discount is None and line.measure is None:
                _check_quantity(line.quantity + quantity)
                line.quantity += quantity
                return line
        line = CartLine(id=new_id(), product=product, quantity=quantity, measure=measure)
        self.lines.append(line)
        return line

    def change_quantity(self, line_id: UUID, quantity: int) -> CartLine:
        """Set a line's quantity (use :meth:`remove` to take it out)."""
        _check_quantity(quantity)
        line = self.line(line_id)
        discount = line.discount
        if (
            discount is not None
            and discount.kind is DiscountKind.RUPIAH
            and discount.value > line.product.price * quantity
        ):
            raise CartError("line_discount_over_quantity_price")
        line.quantity = quantity
        return line

    def weigh(self, line_id: UUID, priced: Product, measure: Measure) -> CartLine:
        """Make a line a keyed weight (``priced`` by ``measured.keyed_weight``): quantity 1
        at the weight's price, carrying its ``measure`` like a scale label."""
        line = self.line(line_id)
        discount = line.discount
        if (
            discount is not None
            and discount.kind is DiscountKind.RUPIAH
            and discount.value > priced.price
        ):
            raise CartError("line_discount_over_quantity_price")
        line.product, line.quantity, line.measure = priced, 1, measure
        return line

    def remove(self, line_id: UUID) -> None:
        """Take a line out of the cart."""
        self.lines.remove(self.line(line_id))

    # -- discounts -----------------------------------------------------------------------
    def set_line_discount(self, line_id: UUID, discount: Discount | None) -> CartLine:
        """Discount one line (None clears it).

        Raises :class:`ApprovalRequired` when the discount is above the threshold and
        ``discount.approved_by`` is not set.
        """
        line = self.line(line_id)
        if discount is not None:
            amount = discount.amount_of(line.gross)
            if amount > line.gross:
                raise CartError("line_discount_over_price")
            self._require_approval(
                discount, amount, line.gross, "approval_required_line", product=line.product.name
            )
        line.discount = discount
        return line

    def set_order_discount(self, discount: Discount | None) -> None:
        """Discount the whole order, after line discounts (None clears it)."""
        if discount is not None:
            base = self.lines_net
            amount = discount.amount_of(base)
            if amount > base:
                raise CartError("order_discount_over_sale")
            self._require_approval(discount, amount, base, "approval_required_order")
        self.order_discount = discount

    def _require_approval(
        self, discount: Discount, amount: int, base: int, message_code: str, **params: Any
    ) -> None:
        if discount.approved_by is None and needs_approval(
            amount, base, self.approval_threshold_bp
        ):
            raise ApprovalRequired(
                message_code,
                amount=amount,
                base=base,
                threshold_bp=self.approval_threshold_bp,
                **params,
            )

    def missing_approvals(self) -> list[ApprovalRequired]:
        """Discounts that grew above the threshold (say, after a quantity change) unapproved."""
        found: list[ApprovalRequired] = []
        for line in self.lines:
            if line.discount is not None:
                try:
                    self._require_approval(
                        line.discount, line.discount_amount, line.gross, line.product.name
                    )
                except ApprovalRequired as exc:
                    found.append(exc)
        if self.order_discount is not None:
            base = self.lines_net
            try:
                self._require_approval(
                    self.order_discount,
                    min(base, self.order_discount.amount_of(base)),
                    base,
                    "the order discount",
                )
            except ApprovalRequired as exc:
                found.append(exc)
        return found

    # -- vouchers ------------------------------------------------------------------------
    def apply_voucher(self, voucher: Voucher, now: datetime) -> int:
        """Use ``voucher`` on this sale; returns the rupiah it takes off now.

        Raises :class:`VoucherError` when it is inactive, outside its window, used up, or the
        sale is below its minimum spend.
        """
        spend = self._voucher_base()
        check_voucher(voucher, spend=spend, now=now)
        self.voucher = voucher
        return voucher_amount(voucher, spend)

    def remove_voucher(self) -> None:
        """Take the voucher off."""
        self.voucher = None

    # -- customer and points ---------------------------------------------------------------
    def set_customer(self, customer: CartCustomer | None) -> None:
        """The sale is for ``customer`` (None: nobody); another customer drops the points."""
        if customer is None or self.customer is None or customer.phone != self.customer.phone:
            self.redemption = None
        self.customer = customer

    def redeem_points(self, points: int, point_value: int) -> None:
        """Take ``points`` of the customer's points off the sale (0: none)."""
        if self.customer is None:
            raise CartError("customer_required")
        if isinstance(points, bool) or not isinstance(points, int) or points < 0:
            raise CartError("discount_not_whole")
        self.redemption = PointsRedemption(points, point_value) if points else None

    def points_base(self) -> int:
        """What points may still take off: the sale after every other discount."""
        totals = self.totals()
        return self.lines_net - totals.manual_order_discount - totals.voucher_discount

    def validate(self, now: datetime) -> None:
        """Everything checkout needs: lines, approvals and a voucher still valid at ``now``."""
        if self.is_empty:
            raise CartError("cart_empty")
        missing = self.missing_approvals()
        if missing:
            raise missing[0]
        if self.voucher is not None:
            check_voucher(self.voucher, spend=self._voucher_base(), now=now)

    # -- totals --------------------------------------------------------------------------
    @property
    def lines_net(self) -> int:
        """The sale after line discounts, before the order discount."""
        return sum(line.net for line in self.lines)

    def _manual_order_discount(self) -> int:
        base = self.lines_net
        if self.order_discount is None:
            return 0
        # Lines removed after the discount was set can shrink the base below it.
        return min(base, self.order_discount.amount_of(base))

    def _voucher_base(self) -> int:
        return self.lines_net - self._manual_order_discount()

    def totals(self) -> CartTotals:
        """Price the cart with :func:`shared.pricing.price_sale` (the one money rule)."""
        manual = self._manual_order_discount()
        voucher_off = 0
        problem: VoucherError | None = None
        if self.voucher is not None:
            spend = self.lines_net - manual
            if spend < self.voucher.min_spend:
                problem = VoucherError(
                    "voucher_min_spend", code=self.voucher.code, amount=self.voucher.min_spend
                )
            else:
                voucher_off = voucher_amount(self.voucher, spend)
        points = 0
        if self.redemption is not None and self.customer is not None:
            base = self.lines_net - manual - voucher_off
            points = redeemable(self.redemption.points, self.redemption.point_value, base)
        points_off = points * self.redemption.point_value if self.redemption else 0
        sale = price_sale(
            [line.pricing_input() for line in self.lines], manual + voucher_off + points_off
        )
        return CartTotals(
            sale=sale,
            manual_order_discount=manual,
            voucher_discount=voucher_off,
            voucher_problem=problem,
            points_redeemed=points,
            points_discount=points_off,
        )

    # -- held carts ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, so a cart can be held and resumed (even after a restart)."""
        return {
            "id": str(self.id),
            "approval_threshold_bp": self.approval_threshold_bp,
            "lines": [
                {
                    "id": str(line.id),
                    "product": _product_to_dict(line.product),
                    "quantity": line.quantity,
                    "discount": line.discount.to_dict() if line.discount else None,
                    "measure": line.measure.to_dict() if line.measure else None,
                }
                for line in self.lines
            ],
            "order_discount": self.order_discount.to_dict() if self.order_discount else None,
            "voucher": _voucher_to_dict(self.voucher) if self.voucher else None,
            "customer": self.customer.to_dict() if self.customer else None,
            "redemption": self.redemption.to_dict() if self.redemption else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Cart:
        """Rebuild a cart from :meth:`to_dict`."""
        return cls(
            approval_threshold_bp=int(data["approval_threshold_bp"]),
            id=UUID(data["id"]),
            lines=[
                CartLine(
                    id=UUID(item["id"]),
                    product=Product(**item["product"]),
                    quantity=int(item["quantity"]),
                    discount=Discount.from_dict(item["discount"]) if item["discount"] else None,
                    # Carts held before labels were read have no "measure".
                    measure=Measure.from_dict(item["measure"]) if item.get("measure") else None,
                )
                for item in data["lines"]
            ],
            order_discount=(
                Discount.from_dict(data["order_discount"]) if data["order_discount"] else None
            ),
            voucher=_voucher_from_dict(data["voucher"]) if data["voucher"] else None,
            # Carts held before customers were kept have neither.
            customer=CartCustomer.from_dict(data["customer"]) if data.get("customer") else None,
            redemption=(
                PointsRedemption.from_dict(data["redemption"]) if data.get("redemption") else None
            ),
        )


def _check_quantity(quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise CartError("quantity_not_whole")
    if not 0 < quantity <= MAX_QUANTITY:
        raise CartError("quantity_out_of_range", low=1, high=MAX_QUANTITY)


def _product_to_dict(product: Product) -> dict[str, Any]:
    return {
        "id": product.id,
        "sku": product.sku,
        "name": product.name,
        "price": product.price,
        "barcode": product.barcode,
        "unit": product.unit,
        "category_id": product.category_id,
        "tax_rate_bp": product.tax_rate_bp,
        "tax_inclusive": product.tax_inclusive,
        "active": product.active,
    }


def _voucher_to_dict(voucher: Voucher) -> dict[str, Any]:
    return {
        "code": voucher.code,
        "kind": voucher.kind.value,
        "value": voucher.value,
        "valid_from": voucher.valid_from.isoformat() if voucher.valid_from else None,
        "valid_until": voucher.valid_until.isoformat() if voucher.valid_until else None,
        "min_spend": voucher.min_spend,
        "usage_limit": voucher.usage_limit,
        "used_count": voucher.used_count,
        "active": voucher.active,
    }


def _voucher_from_dict(data: dict[str, Any]) -> Voucher:
    return replace(
        Voucher(code=data["code"], kind=VoucherKind(data["kind"]), value=int(data["value"])),
        valid_from=datetime.fromisoformat(data["valid_from"]) if data["valid_from"] else None,
        valid_until=datetime.fromisoformat(data["valid_until"]) if data["valid_until"] else None,
        min_spend=int(data["min_spend"]),
        usage_limit=data["usage_limit"],
        used_count=int(data["used_count"]),
        active=bool(data["active"]),
    )
