"""The store's time zone, and the one way a moment is written for people on the till,
the receipt and the reports.

Every time a cashier or a customer reads (held carts, shift open and close, X/Z
reports, the status bar, receipts) goes through :func:`format_local`, so they all show
the store's local time, never UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Asia/Jakarta"

TimeStyle = Literal["datetime", "day_time", "time", "date"]
"""``datetime`` 16/06/2025 06:30, ``day_time`` 16/06 06:30, ``time`` 06:30, ``date`` 16/06/2025."""

_FORMATS: dict[str, str] = {
    "datetime": "%d/%m/%Y %H:%M",
    "day_time": "%d/%m %H:%M",
    "time": "%H:%M",
    "date": "%d/%m/%Y",
}


def store_zone(name: str | None) -> ZoneInfo:
    """The zone called ``name``; Asia/Jakarta (WIB) when it is empty or unknown."""
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def local_time(moment: datetime, zone: ZoneInfo | str | None) -> datetime:
    """``moment`` in the store's ``zone`` (a zone or its name; a bad name means WIB).

    A naive moment is taken as UTC: the till and the server store UTC.
    """
    tz = zone if isinstance(zone, ZoneInfo) else store_zone(zone)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz)


def format_local(
    moment: datetime, zone: ZoneInfo | str | None, style: TimeStyle = "datetime"
) -> str:
    """``moment`` as the store's local time, e.g. ``16/06/2025 06:30`` (see :data:`TimeStyle`)."""
    return local_time(moment, zone).strftime(_FORMATS[style])
