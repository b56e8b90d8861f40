"""The one clock: every time shown is the store's local time."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.timezones import format_local, local_time, store_zone

LATE = datetime(2025, 6, 15, 23, 30, tzinfo=UTC)


def test_2330_utc_is_0630_the_next_morning_in_jakarta() -> None:
    assert format_local(LATE, "Asia/Jakarta") == "16/06/2025 06:30"
    assert format_local(LATE, store_zone("Asia/Jakarta"), "time") == "06:30"
    assert format_local(LATE, "Asia/Jakarta", "day_time") == "16/06 06:30"
    assert format_local(LATE, "Asia/Jakarta", "date") == "16/06/2025"


def test_each_store_reads_its_own_zone() -> None:
    assert format_local(LATE, "Asia/Makassar", "time") == "07:30"
    assert format_local(LATE, "Asia/Jayapura", "time") == "08:30"


def test_a_missing_or_unknown_zone_falls_back_to_wib() -> None:
    assert format_local(LATE, None) == "16/06/2025 06:30"
    assert format_local(LATE, "") == "16/06/2025 06:30"
    assert format_local(LATE, "Mars/Olympus") == "16/06/2025 06:30"


def test_a_naive_moment_is_utc() -> None:
    naive = datetime(2025, 6, 15, 23, 30)
    assert local_time(naive, "Asia/Jakarta") == local_time(LATE, "Asia/Jakarta")
    assert format_local(naive, "Asia/Jakarta") == "16/06/2025 06:30"
