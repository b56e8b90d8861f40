"""Primitives every wire schema shares: rupiah, ids, roles, the error shape."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

PROTOCOL_VERSION = 1
"""Version of the sync protocol this code speaks; sent as ``X-Kasir-Protocol``."""

PROTOCOL_HEADER = "X-Kasir-Protocol"

Rupiah = Annotated[int, Field(strict=True, ge=0, description="Whole rupiah, never a float.")]
"""A non-negative amount of money in whole rupiah."""

SignedRupiah = Annotated[int, Field(strict=True, description="Whole rupiah, may be negative.")]

Quantity = Annotated[int, Field(strict=True, gt=0, le=1_000_000)]
"""A count of units sold or refunded (always whole units)."""

BasisPoints = Annotated[int, Field(strict=True, ge=0, le=10_000)]
"""A percentage in hundredths of a percent: 1100 = 11.00 %."""


class WireModel(BaseModel):
    """Base for every wire schema: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=False, populate_by_name=True)


class Role(StrEnum):
    """Who a user is in the shop, from least to most powerful."""

    CASHIER = "cashier"
    SUPERVISOR = "supervisor"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """Position in the hierarchy; a higher rank may do all a lower one may."""
        return _ROLE_RANK[self]

    def at_least(self, other: Role) -> bool:
        """True when this role may do what ``other`` may."""
        return self.rank >= other.rank


_ROLE_RANK = {Role.CASHIER: 0, Role.SUPERVISOR: 1, Role.MANAGER: 2, Role.ADMIN: 3}


class ErrorBody(WireModel):
    """The inside of every error answer."""

    code: str = Field(description="Stable machine-readable code, e.g. `totals_mismatch`.")
    message: str = Field(description="A sentence a person can read.")
    details: Any = Field(default=None, description="Structured context (fields, lines, ids).")


class ErrorResponse(WireModel):
    """The one JSON shape of every API error: ``{"error": {"code", "message", "details"}}``."""

    error: ErrorBody


class Timestamped(WireModel):
    """Something that happened at a moment on the till (timezone-aware)."""

    created_at: datetime
