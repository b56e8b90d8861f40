"""The store's time zone, with the one fallback both sides use for a bad or missing name."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Asia/Jakarta"


def store_zone(name: str | None) -> ZoneInfo:
    """The zone called ``name``; Asia/Jakarta (WIB) when it is empty or unknown."""
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)
