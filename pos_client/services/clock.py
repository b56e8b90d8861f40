"""The clock services read the time from, injectable so tests are deterministic."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns the current timezone-aware moment."""


def utc_now() -> datetime:
    """The real clock, in UTC."""
    return datetime.now(UTC)
