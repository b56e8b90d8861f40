"""The shift report and the QRIS countdown as the cashier reads them (no window)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from pos_client.domain.shifts import ShiftFigures, ShiftReport
from pos_client.ui.glue import countdown, report_rows
from shared.timezones import store_zone

LATE = datetime(2025, 6, 15, 23, 30, tzinfo=UTC)


def test_x_and_z_reports_show_the_stores_local_time() -> None:
    zone = store_zone("Asia/Jakarta")
    x = ShiftReport(
        "X", shift_id=uuid4(), user_id=1, opened_at=LATE, generated_at=LATE, figures=ShiftFigures()
    )
    assert dict(report_rows(x, zone))["Dibuka"] == "16/06/2025 06:30"
    assert dict(report_rows(x, zone))["Dibuat"] == "16/06/2025 06:30"
    z = ShiftReport(
        "Z",
        shift_id=uuid4(),
        user_id=1,
        opened_at=LATE,
        generated_at=LATE,
        figures=ShiftFigures(payments_by_method={"cash": 1000, "qris_static": 500}),
        closed_at=datetime(2025, 6, 16, 10, 0, tzinfo=UTC),
        counted_cash=0,
    )
    rows = dict(report_rows(z, zone))
    assert rows["Ditutup"] == "16/06/2025 17:00"
    assert "Tunai" in rows and "QRIS statis" in rows and "CASH" not in rows


def test_qris_countdown_is_minutes_and_seconds() -> None:
    assert countdown(905) == "15:05"
    assert countdown(59) == "00:59"
    assert countdown(0) == "00:00"
    assert countdown(-3) == "00:00"
