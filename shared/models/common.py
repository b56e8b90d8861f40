"""Primitives every wire schema shares: rupiah, ids, roles, the error shape."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field

PROTOCOL_VERSION = 1
"""Version of the sync protocol this code speaks; sent as ``X-Kasir-Protocol``."""

PROTOCOL_HEADER = "X-Kasir-Protocol"

MAX_RUPIAH = 10**12
"""Largest amount of money (whole rupiah, one trillion) any wire field may carry.

Far above any real sale, shift or order, far below what a BIGINT column holds, so sums
of many amounts stay exact. The one place this bound is set; every money field uses it.
"""

MAX_BIGINT = 2**63 - 1
"""Largest value of a signed 64-bit column: server row ids, change numbers, cursors."""

MAX_INT = 2**31 - 1
"""Largest value of a signed 32-bit (INT) column: counts, quantities, thresholds."""

Rupiah = Annotated[
    int,
    Field(
        strict=True,
        ge=0,
        le=MAX_RUPIAH,
        description=f"Whole rupiah, never a float; at most MAX_RUPIAH = {MAX_RUPIAH}.",
    ),
]
"""A non-negative amount of money in whole rupiah, at most :data:`MAX_RUPIAH`."""

SignedRupiah = Annotated[
    int,
    Field(
        strict=True,
        ge=-MAX_RUPIAH,
        le=MAX_RUPIAH,
        description=f"Whole rupiah, may be negative; at most MAX_RUPIAH = {MAX_RUPIAH} either way.",
    ),
]
"""An amount of money that may be negative, within :data:`MAX_RUPIAH` either way."""

Quantity = Annotated[int, Field(strict=True, gt=0, le=1_000_000)]
"""A count of units sold or refunded (always whole units)."""

BasisPoints = Annotated[int, Field(strict=True, ge=0, le=10_000)]
"""A percentage in hundredths of a percent: 1100 = 11.00 %."""

RowId = Annotated[int, Field(ge=1, le=MAX_BIGINT, description="A server row id (BIGINT).")]
"""The id of a server row (user, product, store, terminal, ...)."""

ChangeNumber = Annotated[
    int, Field(ge=0, le=MAX_BIGINT, description="A server change number (BIGINT).")
]
"""A change number or pull cursor: 0 means "nothing yet"."""

Count = Annotated[int, Field(ge=0, le=MAX_INT)]
"""A non-negative count that fits an INT column."""

SignedCount = Annotated[int, Field(ge=-MAX_BIGINT, le=MAX_BIGINT)]
"""A signed whole number of units that fits a BIGINT column (stock on hand, moves)."""


class WireModel(BaseModel):
    """Base for every wire schema: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=False, populate_by_name=True)

    @classmethod
    def of(cls, source: object, /, **given: Any) -> Self:
        """This schema filled from ``source``: each field from the attribute of its name.

        ``given`` values take the place of (or stand for missing) attributes; the result
        is validated like any call of the constructor.
        """
        taken = {name: getattr(source, name) for name in cls.model_fields if name not in given}
        return cls(**taken, **given)


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
