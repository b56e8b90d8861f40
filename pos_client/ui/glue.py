"""What the screens need that the services do not give directly, built from them.

* :func:`report_rows` lays out an X/Z shift report as label/value rows.
* :func:`stuck_sentence` says what happened to an event the server keeps failing on.
* :func:`till_zone` and :func:`shown_time` are how a screen writes a moment: always the
  store's local time (its pulled profile, else the till's setting, else WIB).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from pos_client.domain.shifts import ShiftReport
from pos_client.store.ports import PushFailure, StuckLocal
from pos_client.ui.i18n import language, tr
from shared.messages import MESSAGES, has_message, render, template_fields
from shared.models import OutboxEvent, Role
from shared.money import format_rupiah
from shared.receipt_text import payment_label
from shared.timezones import TimeStyle, format_local, store_zone

if TYPE_CHECKING:
    from pos_client.ui.till import Till


Rgba = tuple[float, float, float, float]

TONE_ON_LIGHT: dict[str, Rgba] = {
    "info": (0.10, 0.10, 0.12, 1),
    "ok": (0.05, 0.45, 0.20, 1),
    "error": (0.75, 0.13, 0.10, 1),
}
"""Message colours on the screens' light background: plain, done (green), problem (red)."""

TONE_ON_DARK: dict[str, Rgba] = {
    "info": (1, 0.95, 0.60, 1),
    "ok": (0.45, 0.90, 0.50, 1),
    "error": (1, 0.50, 0.45, 1),
}
"""The same tones on the dark status bar and popups (the kv files import both)."""


def till_zone(till: Till) -> ZoneInfo:
    """The store's time zone: the pulled store profile's, else the till's setting."""
    profile = till.store.store_profile()
    return store_zone(profile.timezone if profile else till.settings.store_timezone)


def shown_time(moment: datetime, zone: ZoneInfo, style: TimeStyle = "datetime") -> str:
    """A moment as the cashier reads it: the store's local time (one format everywhere)."""
    return format_local(moment, zone, style)


def countdown(seconds: int) -> str:
    """Seconds left as a clock: 905 → "15:05", 59 → "00:59"."""
    minutes, rest = divmod(max(0, seconds), 60)
    return f"{minutes:02d}:{rest:02d}"


def role_name(role: Role) -> str:
    """A role in the cashier's language: "Kasir", "Penyelia", "Manajer", "Administrator"."""
    name = render(f"role_{role.value}", {}, language())
    return name[:1].upper() + name[1:]


_COUNTED_LABEL = re.compile(r"^(\d+) items?$")


def held_label(label: str) -> str:
    """A held cart's label in the cashier's language; older tills saved "3 items"."""
    match = _COUNTED_LABEL.match(label)
    return tr("held_items", n=int(match.group(1))) if match else label


def report_rows(report: ShiftReport, zone: ZoneInfo) -> list[tuple[str, str]]:
    """An X or Z report as (label, value) rows in the current language; its times are
    the store's local time (``zone``)."""
    f = report.figures
    rows = [(tr("report_opened"), shown_time(report.opened_at, zone))]
    if report.closed_at is not None:
        rows.append((tr("report_closed"), shown_time(report.closed_at, zone)))
    else:
        rows.append((tr("report_made"), shown_time(report.generated_at, zone)))
    rows += [
        (tr("opening_float").replace(" (Rp)", ""), format_rupiah(f.opening_float)),
        (tr("sales_count"), str(f.sales_count)),
        (tr("sales_total"), format_rupiah(f.sales_total)),
        (tr("refunds_total"), format_rupiah(f.refunds_total)),
        (tr("voids_total"), format_rupiah(f.voids_total)),
        (tr("net_sales"), format_rupiah(report.net_sales)),
    ]
    by_method = report.net_by_method.items()
    rows += [(payment_label(method), format_rupiah(amount)) for method, amount in by_method]
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
        created=shown_time(stuck.event.created_at, zone, "day_time"),
        status=stuck.failure.status_code,
        answer=server_answer(stuck.failure),
        attempts=stuck.attempts,
        retry=shown_time(stuck.retry_at, zone, "time"),
    )
