"""Server-only shapes of the auth API (the till-facing ones live in ``shared.models``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shared.models import Role, StoreOut, TerminalOut, WireModel


class UserPublic(WireModel):
    """A user as managers see them through the API: no hashes, only whether they are set."""

    id: int
    username: str
    full_name: str
    role: Role
    store_id: int | None = None
    active: bool = True
    has_password: bool = False
    has_pin: bool = False
    locked_until: datetime | None = Field(
        default=None, description="Password logins are refused until this moment."
    )
    change_no: int = 0
    created_at: datetime


class TerminalMeOut(WireModel):
    """What an enrolled till learns about itself: the terminal and the store it sells for."""

    terminal: TerminalOut
    store: StoreOut
