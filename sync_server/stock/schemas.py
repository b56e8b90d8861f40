"""Stock wire schemas that only the server's manager API speaks (receive, adjust, count)."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from shared.models import RowId, Rupiah, StockMoveOut, WireModel


class ReceiveLine(WireModel):
    """Units of one product that arrived, and what one unit cost when known."""

    product_id: RowId
    quantity: int = Field(strict=True, gt=0, le=1_000_000)
    unit_cost: Rupiah | None = Field(
        default=None, description="Cost of one unit; moves the product's average cost."
    )


class ReceiveIn(WireModel):
    """Goods received into a store (a delivery)."""

    store_id: RowId | None = Field(default=None, description="Default: the manager's own store.")
    lines: list[ReceiveLine] = Field(min_length=1, max_length=1000)
    note: str = Field(default="", max_length=200)
    receipt_id: UUID | None = Field(
        default=None,
        description="Your id of this receipt: sent again, it is applied once "
        "(other content under the same id: 409).",
    )


class AdjustLine(WireModel):
    """A signed correction of one product's on hand (breakage, theft, found)."""

    product_id: int
    quantity: int = Field(strict=True, ge=-1_000_000, le=1_000_000)


class AdjustIn(WireModel):
    """Corrections with the reason a person gave for them."""

    store_id: int | None = None
    lines: list[AdjustLine] = Field(min_length=1, max_length=1000)
    reason: str = Field(min_length=1, max_length=200)


class CountLine(WireModel):
    """What was physically counted on the shelf for one product."""

    product_id: int
    counted: int = Field(strict=True, ge=0, le=100_000_000)


class CountIn(WireModel):
    """A stock take: on hand becomes what was counted."""

    store_id: int | None = None
    lines: list[CountLine] = Field(min_length=1, max_length=5000)
    note: str = Field(default="", max_length=200)


class StockLevelRow(WireModel):
    """On hand of one product in one store, flagged for the manager."""

    product_id: int
    store_id: int
    sku: str
    name: str
    on_hand: int
    low_stock_threshold: int
    negative: bool
    low: bool


class StockChangeOut(WireModel):
    """What a receive, adjust or count did: the moves written and the levels after."""

    moves: list[StockMoveOut]
    levels: list[StockLevelRow]
