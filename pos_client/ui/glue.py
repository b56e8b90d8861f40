"""What the screens need that the services do not give directly, built from them.

* :func:`report_rows` lays out an X/Z shift report as label/value rows.
"""

from __future__ import annotations

from pos_client.domain.shifts import ShiftReport
from pos_client.ui.i18n import tr
from shared.money import format_rupiah


def report_rows(report: ShiftReport) -> list[tuple[str, str]]:
    """An X or Z report as (label, value) rows in the current language."""
    f = report.figures
    rows = [
        (tr("opening_float").replace(" (Rp)", ""), format_rupiah(f.opening_float)),
        (tr("sales_count"), str(f.sales_count)),
        (tr("sales_total"), format_rupiah(f.sales_total)),
        (tr("refunds_total"), format_rupiah(f.refunds_total)),
        (tr("voids_total"), format_rupiah(f.voids_total)),
        (tr("net_sales"), format_rupiah(report.net_sales)),
    ]
    by_method = report.net_by_method.items()
    rows += [(method.upper(), format_rupiah(amount)) for method, amount in by_method]
    rows += [
        (tr("cash_in_total"), format_rupiah(f.cash_in)),
        (tr("cash_out_total"), format_rupiah(f.cash_out)),
        (tr("expected_cash"), format_rupiah(report.expected_cash)),
    ]
    if report.counted_cash is not None:
        rows.append((tr("counted"), format_rupiah(report.counted_cash)))
    if report.variance is not None:
        rows.append((tr("variance"), format_rupiah(report.variance)))
    return rows
