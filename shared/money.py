"""Rupiah as shoppers read and type it: ``Rp 12.500`` (dots between thousands, no decimals).

Money is always whole rupiah in an ``int``; this is the one formatter and the one parser
both the till and the server use.
"""

from __future__ import annotations


def format_rupiah(amount: int) -> str:
    """Format whole rupiah ``12500`` → ``"Rp 12.500"``, ``-500`` → ``"-Rp 500"``.

    Money is always an ``int``; a float (or bool) is a bug and raises ``TypeError``.
    """
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"rupiah must be an int, not {type(amount).__name__}")
    digits = f"{abs(amount):,}".replace(",", ".")
    return f"-Rp {digits}" if amount < 0 else f"Rp {digits}"


def parse_rupiah(text: str) -> int | None:
    """Whole rupiah from typed text (dots, spaces and "Rp" ignored); None when not a number."""
    cleaned = text.replace("Rp", "").replace(".", "").replace(",", "").replace(" ", "").strip()
    if not cleaned.isdigit():
        return None
    return int(cleaned)
