"""Flags on the wire (server-only shapes: the manager's API and pages)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field


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


class FlagPage(BaseModel):
    """One page of flags, newest first, and how many match in all."""

    items: list[FlagOut]
    total: int
    limit: int
    offset: int


class ResolveFlagIn(BaseModel):
    """Why a manager considers the flag dealt with."""

    note: str = Field(min_length=1, max_length=500)
