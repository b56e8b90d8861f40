"""What the e-receipt page shows: a sale as its customer reads it (server-only shapes).

The receipt itself is :class:`shared.receipt_text.ReceiptData`, the same data the till
prints; the page adds what happened to the sale afterwards (refunds, a void). The key's
wire shape, which the till parses too, is :class:`shared.receipt_text.ReceiptKeyOut`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from shared.receipt_text import ReceiptData


@dataclass(frozen=True)
class LinkRef:
    """A link whose signature verified: which terminal signed which sale."""

    terminal_id: int
    sale_id: UUID


class EReceiptState(StrEnum):
    """What a verified link finds: the sale, nothing yet, or a sale it may not show."""

    SHOWN = "shown"
    PENDING = "pending"
    """Signed by the terminal but not synced yet: "belum tersinkron"."""
    MISSING = "missing"
    """Another terminal's sale under this terminal's signature: answered like a bad link."""


@dataclass(frozen=True)
class RefundedLine:
    """One returned line of a refund."""

    name: str
    quantity: int
    amount: int


@dataclass(frozen=True)
class RefundShown:
    """A refund of the sale: when, how much, how it was paid back, what came back."""

    created_at: datetime
    total: int
    method: str
    lines: tuple[RefundedLine, ...] = ()


@dataclass(frozen=True)
class EReceipt:
    """A synced sale's digital receipt: the printed receipt plus refunds and a void."""

    receipt: ReceiptData
    refunds: tuple[RefundShown, ...] = ()
    voided: bool = False
    voided_at: datetime | None = None
    void_reason: str = ""


@dataclass(frozen=True)
class EReceiptAnswer:
    """The outcome of a verified link (``receipt`` only when ``state`` is ``shown``)."""

    state: EReceiptState
    receipt: EReceipt | None = field(default=None)
