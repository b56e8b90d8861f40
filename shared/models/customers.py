"""Customers and loyalty points as both sides speak them.

A customer is found by phone number, the Indonesian way: ``0812-3456-7890``,
``+62 812 3456 7890`` and ``6281234567890`` are one number, kept in one canonical form
(:func:`normalise_phone`: ``+62`` and the digits after the trunk ``0``). Points are a
ledger of signed moves on the server; a customer's balance is their sum.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, Field, model_validator

from shared.models.common import MAX_RUPIAH, Rupiah, SignedCount, WireModel

MAX_POINTS = 1_000_000_000
"""Most points one move (or a sale's redemption) may carry."""

_SEPARATORS = re.compile(r"[\s\-.()/]")
_NATIONAL = re.compile(r"[1-9][0-9]{7,11}")
_EMAIL = re.compile(
    r"[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def normalise_phone(text: str) -> str:
    """The canonical form of an Indonesian phone number: ``+62`` then 8 to 12 digits.

    Spaces, dashes, dots, slashes and brackets are ignored; the number must start with
    ``0``, ``62`` or ``+62``. Anything else raises ``ValueError``.
    """
    if not isinstance(text, str) or len(text) > 32:
        raise ValueError("phone number is too long")
    digits = _SEPARATORS.sub("", text.strip())
    for prefix in ("+62", "62", "0"):
        if digits.startswith(prefix):
            national = digits[len(prefix) :]
            break
    else:
        raise ValueError("phone number must start with 0, 62 or +62")
    if not _NATIONAL.fullmatch(national):
        raise ValueError("phone number must have 8 to 12 digits after 0 (e.g. 0812 3456 7890)")
    return f"+62{national}"


def local_phone(canonical: str) -> str:
    """How people write a canonical number: ``+6281234567890`` → ``081234567890``."""
    return "0" + canonical[3:] if canonical.startswith("+62") else canonical


def normalise_email(text: str | None) -> str | None:
    """An e-mail address trimmed and lower-cased, or None when blank; ``ValueError``
    when it is not an address."""
    if text is None:
        return None
    value = text.strip().lower()
    if not value:
        return None
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        raise ValueError("not an e-mail address")
    return value


def clean_name(text: str) -> str:
    """A person's name trimmed, 1 to 100 characters, no control characters."""
    value = " ".join(text.split())
    if not value or len(value) > 100 or _CONTROL.search(value):
        raise ValueError("a name is 1 to 100 printable characters")
    return value


Phone = Annotated[str, Field(max_length=32), AfterValidator(normalise_phone)]
"""A phone number as typed; validated and stored canonical (``+62…``)."""

Email = Annotated[str | None, Field(default=None, max_length=254), AfterValidator(normalise_email)]
"""An optional e-mail address (blank is none)."""

PersonName = Annotated[str, Field(max_length=200), AfterValidator(clean_name)]
"""A customer's name."""

Points = Annotated[int, Field(strict=True, ge=0, le=MAX_POINTS)]
"""A non-negative number of points."""

StepRupiah = Annotated[int, Field(strict=True, ge=1, le=MAX_RUPIAH)]
"""A positive amount of rupiah (a step of spending, the value of a point)."""

SignedPoints = Annotated[int, Field(strict=True, ge=-MAX_POINTS, le=MAX_POINTS)]
"""A signed number of points (one move of the ledger)."""


class PointsMoveKind(StrEnum):
    """Why points moved. A balance is the sum of all moves."""

    EARN = "earn"
    """Earned by a sale."""
    REDEEM = "redeem"
    """Spent as a discount on a sale (negative)."""
    REFUND = "refund"
    """Earned points taken back in proportion to what a refund gave back."""
    VOID = "void"
    """A voided sale: what it earned taken back, what it redeemed given back."""
    ADJUST = "adjust"
    """A manager's correction, with a reason."""


class LoyaltySettings(WireModel):
    """The chain's points rule: ``earn_points`` per ``earn_per_rupiah`` spent, and one
    point worth ``point_value`` rupiah when redeemed."""

    enabled: bool = False
    earn_points: Points = Field(default=1, description="Points earned per step of spending.")
    earn_per_rupiah: StepRupiah = Field(default=10_000, description="Rupiah of one step.")
    point_value: StepRupiah = Field(default=100, description="Discount of one point, rupiah.")

    def earned(self, total: int) -> int:
        """Points a sale of ``total`` rupiah earns (none while loyalty is off)."""
        if not self.enabled or total <= 0:
            return 0
        return min(MAX_POINTS, (total // self.earn_per_rupiah) * self.earn_points)


class CustomerIn(WireModel):
    """A customer created or edited in the back office or through the API."""

    name: PersonName
    phone: Phone
    email: Email = None


class CustomerOut(WireModel):
    """A customer with their points balance (the sum of their moves)."""

    id: UUID
    name: str
    phone: str
    email: str | None = None
    points: SignedCount = 0
    created_at: datetime


class CustomerChangesOut(WireModel):
    """A page of customers changed since a till's cursor, with the chain's rule."""

    cursor: int = Field(ge=0, description="Ask from here next time.")
    has_more: bool
    customers: list[CustomerOut]
    loyalty: LoyaltySettings


class SaleCustomerIn(WireModel):
    """The customer of a sale (``SaleIn.customer``), and the points it redeemed.

    ``id`` is the till's: a customer the till made (offline too) carries a new id with
    ``name``; the server attaches the sale to the customer of that id, else of that
    phone number, else creates one. ``points_discount`` is included in the sale's
    ``order_discount``; it should be ``points_redeemed`` × the point value.
    """

    id: UUID
    phone: Phone
    name: PersonName
    email: Email = None
    points_redeemed: Points = 0
    points_discount: Rupiah = 0

    @model_validator(mode="after")
    def _both_or_neither(self) -> SaleCustomerIn:
        if (self.points_redeemed == 0) != (self.points_discount == 0):
            raise ValueError("points_redeemed and points_discount go together")
        return self


class PointsMoveOut(WireModel):
    """One signed move of a customer's points."""

    id: int
    kind: PointsMoveKind
    points: SignedPoints
    amount: SignedCount = Field(description="Rupiah the move is based on (sale, refund).")
    sale_id: UUID | None = None
    receipt_number: str | None = None
    reason: str = ""
    created_at: datetime


class PointsAdjustIn(WireModel):
    """A manager's correction of a customer's points."""

    points: SignedPoints
    reason: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _not_zero(self) -> PointsAdjustIn:
        if self.points == 0:
            raise ValueError("an adjustment moves at least one point")
        if not self.reason.strip() or _CONTROL.search(self.reason):
            raise ValueError("give a reason in words")
        return self


__all__ = [
    "MAX_POINTS",
    "CustomerChangesOut",
    "CustomerIn",
    "CustomerOut",
    "Email",
    "LoyaltySettings",
    "PersonName",
    "Phone",
    "PointsAdjustIn",
    "PointsMoveKind",
    "PointsMoveOut",
    "SaleCustomerIn",
    "clean_name",
    "local_phone",
    "normalise_email",
    "normalise_phone",
]
