"""Customer shapes only the server speaks: the manager's lists, history and reports.

The shapes tills share (a customer, a page of changes, the points rule, a sale's
customer block) are in :mod:`shared.models.customers`.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from shared.models.customers import CustomerOut, LoyaltySettings, PointsMoveOut

MAX_PAGE = 200
"""Most customers one page carries."""


class CustomerPage(BaseModel):
    """One page of customers, by name, and how many match in all."""

    items: list[CustomerOut]
    total: int
    limit: int
    offset: int


class CustomerSaleOut(BaseModel):
    """A sale made to a customer, with the points it earned and redeemed."""

    sale_id: uuid.UUID
    receipt_number: str | None
    store_id: int
    created_at: datetime
    business_date: date
    total: int
    refunded: int = Field(description="Rupiah given back by refunds of the sale.")
    voided: bool
    points_earned: int
    points_redeemed: int
    points_discount: int


class CustomerHistory(BaseModel):
    """A customer, their sales (newest first) and their points moves (newest first)."""

    customer: CustomerOut
    sales: list[CustomerSaleOut]
    moves: list[PointsMoveOut]
    spend: int = Field(description="Sales less refunds, voided sales left out.")
    visits: int


class TopCustomerRow(BaseModel):
    """A customer's spending over a period (sales less refunds, voids left out)."""

    customer_id: uuid.UUID
    name: str
    phone: str
    spend: int
    visits: int
    points_earned: int
    points_redeemed: int
    points: int = Field(description="Balance now.")


class LoyaltySettingsOut(LoyaltySettings):
    """The points rule with who changed it last."""

    updated_at: datetime | None = None
    updated_by: int | None = None


__all__ = [
    "MAX_PAGE",
    "CustomerHistory",
    "CustomerPage",
    "CustomerSaleOut",
    "LoyaltySettingsOut",
    "TopCustomerRow",
]
