"""A sale's customer and the points it redeems, as the cart carries them (pure).

Points are redeemed as a rupiah discount on the order, after the cashier's discount and
the voucher: ``points × point value``, never more points than the rest of the sale
covers (a sale left with less than one point's value takes fewer points). The server
books the moves; the till only claims what it redeemed (``SaleIn.customer``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from shared.models.customers import SaleCustomerIn


@dataclass(frozen=True, slots=True)
class CartCustomer:
    """Who the sale is for: their id (the server's, or this till's for one made here),
    canonical phone number and name."""

    id: UUID
    phone: str
    name: str
    email: str | None = None

    def to_wire(self, points_redeemed: int = 0, points_discount: int = 0) -> SaleCustomerIn:
        """The sale's ``customer`` block."""
        return SaleCustomerIn(
            id=self.id,
            phone=self.phone,
            name=self.name,
            email=self.email,
            points_redeemed=points_redeemed,
            points_discount=points_discount,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (held carts)."""
        return {"id": str(self.id), "phone": self.phone, "name": self.name, "email": self.email}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CartCustomer:
        """Rebuild from :meth:`to_dict`."""
        return cls(
            id=UUID(data["id"]), phone=data["phone"], name=data["name"], email=data.get("email")
        )


@dataclass(frozen=True, slots=True)
class PointsRedemption:
    """Points the customer wants off this sale, each worth ``point_value`` rupiah."""

    points: int
    point_value: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (held carts)."""
        return {"points": self.points, "point_value": self.point_value}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PointsRedemption:
        """Rebuild from :meth:`to_dict`."""
        return cls(points=int(data["points"]), point_value=int(data["point_value"]))


def redeemable(points: int, point_value: int, base: int) -> int:
    """How many of ``points`` a sale of ``base`` rupiah (after other discounts) takes:
    never more than whole points of its value."""
    if points <= 0 or point_value <= 0 or base <= 0:
        return 0
    return min(points, base // point_value)
