"""Receipt numbers: ``<terminal code>-<yyyymmdd>-<sequence>``, unique per terminal offline."""

from __future__ import annotations

import re
from datetime import date

_RECEIPT = re.compile(r"^(?P<terminal>[A-Z0-9]+)-(?P<day>\d{8})-(?P<seq>\d{4,})$")


def format_receipt_number(terminal_code: str, day: date, sequence: int) -> str:
    """The receipt number of the ``sequence``-th sale of ``day`` on a terminal (4+ digits)."""
    if sequence < 1:
        raise ValueError("receipt sequences start at 1")
    return f"{terminal_code}-{day:%Y%m%d}-{sequence:04d}"


def parse_receipt_number(number: str) -> tuple[str, date, int]:
    """Split a receipt number back into terminal code, day and sequence (ValueError if bad)."""
    match = _RECEIPT.match(number.strip().upper())
    if match is None:
        raise ValueError(f"{number!r} is not a receipt number")
    day = match["day"]
    return (
        match["terminal"],
        date(int(day[:4]), int(day[4:6]), int(day[6:])),
        int(match["seq"]),
    )
