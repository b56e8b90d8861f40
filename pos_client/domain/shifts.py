"""Shift reports: X (mid-shift, changes nothing) and Z (at close, with counted cash)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime
from typing import Literal
from uuid import UUID

from pos_client.domain.errors import ShiftError
from shared.models import PaymentMethod


@dataclass(frozen=True, slots=True)
class Denomination:
    """One kind of rupiah note or coin in the drawer (Rp 1.000 exists as both)."""

    value: int
    kind: Literal["note", "coin"]

    @property
    def key(self) -> str:
        """A stable name: ``note-100000``, ``coin-500``."""
        return f"{self.kind}-{self.value}"


DENOMINATIONS: tuple[Denomination, ...] = (
    *(Denomination(v, "note") for v in (100_000, 50_000, 20_000, 10_000, 5_000, 2_000, 1_000)),
    *(Denomination(v, "coin") for v in (1_000, 500, 200, 100)),
)
"""The notes and coins a cashier counts at close, largest first."""


def counted_from_denominations(counts: Mapping[Denomination, int]) -> int:
    """The cash counted: each denomination's value times how many were counted."""
    total = 0
    for denomination, count in counts.items():
        if count < 0:
            raise ShiftError("denomination_count_negative")
        total += denomination.value * count
    return total


@dataclass(frozen=True, slots=True)
class ShiftFigures:
    """The sums of one shift as the store reads them; money counts where it moved.

    ``sales_*`` are every sale rung up in the shift; ``voids_*`` the voids made in it (of
    any sale) and ``refunds_*`` the refunds made in it. ``payments_by_method`` is what the
    shift's sales took per method (cash net of change) minus what its voids gave back;
    ``refunds_by_method`` what its refunds gave back; ``cash_out`` is a positive amount.
    """

    opening_float: int = 0
    sales_count: int = 0
    sales_subtotal: int = 0
    discount_total: int = 0
    tax_total: int = 0
    sales_total: int = 0
    refunds_count: int = 0
    refunds_total: int = 0
    voids_count: int = 0
    voids_total: int = 0
    payments_by_method: dict[str, int] = field(default_factory=dict)
    refunds_by_method: dict[str, int] = field(default_factory=dict)
    cash_in: int = 0
    cash_out: int = 0


def expected_cash(figures: ShiftFigures) -> int:
    """Cash that should be in the drawer: float + cash sales − cash refunds + in − out."""
    cash = PaymentMethod.CASH.value
    return (
        figures.opening_float
        + figures.payments_by_method.get(cash, 0)
        - figures.refunds_by_method.get(cash, 0)
        + figures.cash_in
        - figures.cash_out
    )


@dataclass(frozen=True, slots=True)
class ShiftReport:
    """An X report (``kind="X"``) or a Z report (``kind="Z"``, with counted cash).
    ``variance`` is counted − expected (Z only)."""

    kind: str
    _: KW_ONLY
    shift_id: UUID
    user_id: int
    opened_at: datetime
    generated_at: datetime
    figures: ShiftFigures
    closed_at: datetime | None = None
    counted_cash: int | None = None

    def __post_init__(self) -> None:
        """Only the two kinds of report exist."""
        if self.kind not in ("X", "Z"):
            raise ValueError("a shift report is X or Z")

    @property
    def expected_cash(self) -> int:
        """Cash that should be in the drawer, from the figures (see :func:`expected_cash`)."""
        return expected_cash(self.figures)

    @property
    def variance(self) -> int | None:
        """Counted minus expected cash: negative means cash is missing."""
        if self.counted_cash is None:
            return None
        return self.counted_cash - self.expected_cash

    @property
    def net_sales(self) -> int:
        """ "Penjualan bersih": sales minus refunds minus voids, the one meaning the till
        and the back office share (the server's ``net_after_refunds``: its ``net`` already
        leaves voided sales out, then refunds come off)."""
        return self.figures.sales_total - self.figures.refunds_total - self.figures.voids_total

    @property
    def net_by_method(self) -> dict[str, int]:
        """Per payment method: taken by sales minus given back by refunds."""
        methods = set(self.figures.payments_by_method) | set(self.figures.refunds_by_method)
        return {
            m: self.figures.payments_by_method.get(m, 0) - self.figures.refunds_by_method.get(m, 0)
            for m in sorted(methods)
        }
