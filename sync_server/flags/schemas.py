"""Flags on the wire (server-only shapes: the manager's API and pages)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from sync_server.flags.models import FlagKind


class FlagOut(BaseModel):
    """A flag as a manager sees it."""

    id: int
    store_id: int
    terminal_id: int
    kind: str
    event_id: uuid.UUID
    sale_id: uuid.UUID | None
    cashier_id: int | None
    business_date: date
    details: dict[str, Any]
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: int | None
    resolution: str | None
    terminal_code: str | None = None
    cashier_name: str | None = None
    receipt_number: str | None = Field(default=None, description="The flagged sale's receipt.")
    resolved_by_name: str | None = None
    line_names: dict[str, str] = Field(
        default_factory=dict, description="Product name of each flagged sale line, by line id."
    )


MAX_PAGE = 200
"""Most flags one page carries."""


class FlagQuery(BaseModel):
    """Which flags to list: the filters (each optional) and the page."""

    store_id: int | None = None
    kind: FlagKind | None = None
    terminal_id: int | None = None
    cashier_id: int | None = None
    day_from: date | None = None
    day_to: date | None = None
    resolved: bool | None = None
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)
    offset: int = Field(default=0, ge=0, le=1_000_000)


class FlagPage(BaseModel):
    """One page of flags, newest first, and how many match in all."""

    items: list[FlagOut]
    total: int
    limit: int
    offset: int


class FlagChoices(BaseModel):
    """What a store's flags can be narrowed by: the tills and cashiers they name."""

    terminals: dict[int, str]
    """Terminal id → code."""
    cashiers: dict[int, str]
    """User id → full name."""


class ResolveFlagIn(BaseModel):
    """Why a manager considers the flag dealt with."""

    note: str = Field(min_length=1, max_length=500)
