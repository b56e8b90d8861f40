"""Users, terminals and enrollment on the wire."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shared.models.common import ChangeNumber, Count, Role, RowId, WireModel


class UserOut(WireModel):
    """A user as the till sees it after pull: the PIN hash lets it check PINs offline."""

    id: RowId
    username: str
    full_name: str
    role: Role
    store_id: RowId | None = None
    pin_hash: str | None = Field(default=None, description="argon2id hash of the PIN.")
    active: bool = True
    change_no: ChangeNumber = 0


class UserCreate(WireModel):
    """A user a manager or admin creates."""

    username: str = Field(min_length=2, max_length=64, pattern=r"^[a-zA-Z0-9_.-]+$")
    full_name: str = Field(min_length=1, max_length=100)
    role: Role
    store_id: RowId | None = None
    password: str | None = Field(default=None, min_length=8, max_length=128)
    pin: str | None = Field(default=None, pattern=r"^[0-9]{4,8}$")


class UserPatch(WireModel):
    """A partial edit of a user."""

    full_name: str | None = Field(default=None, min_length=1, max_length=100)
    role: Role | None = None
    password: str | None = Field(default=None, min_length=8, max_length=128)
    pin: str | None = Field(default=None, pattern=r"^[0-9]{4,8}$")
    active: bool | None = None


class LoginRequest(WireModel):
    """A manager's password login for the API."""

    username: str
    password: str


class TokenOut(WireModel):
    """A bearer token and when it stops working."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 - a scheme name
    expires_at: datetime


class EnrollmentCodeRequest(WireModel):
    """A manager asks for a one-time code to enroll a terminal."""

    store_id: RowId
    terminal_code: str = Field(
        min_length=1, max_length=16, pattern=r"^[A-Z0-9]+$", examples=["T01"]
    )
    name: str = Field(default="", max_length=100)
    ttl_minutes: int = Field(default=60, ge=1, le=60 * 24 * 7)


class EnrollmentCodeOut(WireModel):
    """The one-time code, shown once."""

    code: str
    terminal_id: RowId
    terminal_code: str
    expires_at: datetime


class EnrollRequest(WireModel):
    """A till trades its one-time code for a device token."""

    code: str = Field(min_length=4, max_length=64)
    device_name: str = Field(default="", max_length=100)


class EnrollOut(WireModel):
    """The device token (shown once) and who the till now is."""

    device_token: str
    terminal_id: RowId
    terminal_code: str
    store_id: RowId
    store_name: str


class TerminalOut(WireModel):
    """A terminal and its sync health."""

    id: RowId
    store_id: RowId
    code: str
    name: str
    enrolled_at: datetime | None = None
    revoked_at: datetime | None = None
    last_seen_at: datetime | None = None
    events_waiting: Count | None = None
    rejected_events: Count = 0
