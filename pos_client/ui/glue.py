"""What the screens need that the services do not give directly, built from them.

* :func:`report_rows` lays out an X/Z shift report as label/value rows.
* :func:`stuck_sentence` says what happened to an event the server keeps failing on.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pos_client.domain.shifts import ShiftReport
from pos_client.store.ports import PushFailure, StuckLocal
from pos_client.ui.i18n import language, tr
from shared.messages import MESSAGES, has_message, render, template_fields
from shared.models import OutboxEvent
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


def event_name(event: OutboxEvent) -> str:
    """What an outbox event is, for people: "Penjualan T01-20250615-0001", "Buka shift"."""
    if event.type == "sale":
        return tr("event_sale", receipt=event.payload.get("receipt_number") or "").strip()
    return tr(f"event_{event.type}")


def server_answer(failure: PushFailure) -> str:
    """The server's failure as a sentence: ours in the cashier's language when we know
    its code (and it needs no details the till did not keep), else the server's own."""
    lang = language()
    if has_message(failure.code, lang) and not template_fields(MESSAGES[lang][failure.code]):
        text = render(failure.code, {}, lang)
    else:
        text = failure.message.strip() or failure.code
    return text if text.endswith((".", "!", "?")) else text + "."


def stuck_sentence(stuck: StuckLocal, zone: ZoneInfo) -> str:
    """One stuck event in a sentence: what it is, the server's answer, when it is tried
    again (times in the store's ``zone``)."""
    return tr(
        "stuck_item",
        what=event_name(stuck.event),
        created=f"{stuck.event.created_at.astimezone(zone):%d/%m %H:%M}",
        status=stuck.failure.status_code,
        answer=server_answer(stuck.failure),
        attempts=stuck.attempts,
        retry=f"{stuck.retry_at.astimezone(zone):%H:%M}",
    )
