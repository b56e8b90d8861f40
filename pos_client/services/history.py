"""The till's sales history: today's or this shift's sales, searched and opened.

Everything comes from the local store, so the history works offline for every sale
rung up on this till. Times are the store's local time (its time zone from the last
pull, Asia/Jakarta when none), as on receipts and in the status bar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from pos_client.domain.errors import RefundError
from pos_client.services.clock import Clock, utc_now
from pos_client.services.receipts import receipt_for_sale
from pos_client.store import LocalStore
from pos_client.store.refunds import RefundRecord, VoidRecord
from pos_client.store.sales import SaleListing
from shared.models import PaymentMethod, RefundMethod, SaleIn
from shared.receipt_text import ReceiptData
from shared.timezones import store_zone

Scope = Literal["today", "shift"]
"""Which sales the history lists: since local midnight, or in the open shift."""

_TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{0,2}))?$")

OUTSIDE_METHODS = frozenset(
    {RefundMethod.EXTERNAL.value, RefundMethod.QRIS.value, RefundMethod.QRIS_STATIC.value}
)
"""Refund methods that gave the money back outside the till (``qris``: the spelling of
refunds recorded before ``external`` existed)."""


def refunded_outside(method: str) -> bool:
    """True when a refund of ``method`` gave the money back outside the till (not from
    the drawer)."""
    return method in OUTSIDE_METHODS


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One row of the history list: the stored sale and its local time."""

    sale: SaleListing
    local_time: datetime

    @property
    def id(self) -> UUID:
        """The sale's id."""
        return self.sale.id


@dataclass(frozen=True)
class SaleDetail:
    """One sale opened from the history: as rung up, plus what happened to it since."""

    sale: SaleIn
    local_time: datetime
    status: str
    cashier_name: str
    refunds: tuple[RefundRecord, ...]
    void: VoidRecord | None
    names: dict[int, str]
    """Who rang, refunded or approved, by user id."""

    @property
    def refunded(self) -> int:
        """Money given back so far."""
        return sum(r.total for r in self.refunds)

    @property
    def refunded_in_cash(self) -> int:
        """Money given back from the drawer."""
        return sum(r.total for r in self.refunds if not refunded_outside(r.method))

    @property
    def refunded_outside_till(self) -> int:
        """Money given back outside the till (a transfer to a QRIS payer)."""
        return sum(r.total for r in self.refunds if refunded_outside(r.method))

    @property
    def paid_by_qris(self) -> bool:
        """True when QRIS paid (part of) the sale: it may be refunded outside the till."""
        return any(p.method is PaymentMethod.QRIS for p in self.sale.payments)

    @property
    def can_refund(self) -> bool:
        """Not voided and something is left to give back."""
        return self.status != "voided" and self.refunded < self.sale.total


def parse_rupiah(text: str) -> int | None:
    """``"15.000"``, ``"Rp 15.000"`` or ``"15000"`` as whole rupiah; None if not an amount."""
    cleaned = text.strip().lower().removeprefix("rp").strip().replace(".", "").replace(" ", "")
    return int(cleaned) if cleaned.isdigit() else None


def matches(entry: HistoryEntry, query: str) -> bool:
    """True when ``query`` finds ``entry``: part of its receipt number, its total or
    refunded amount, or its local time (``"14"``, ``"14:0"``, ``"14.05"``)."""
    text = query.strip()
    if not text:
        return True
    sale = entry.sale
    if text.upper().replace(" ", "") in sale.receipt_number.upper():
        return True
    amount = parse_rupiah(text)
    if amount is not None and amount in (sale.total, sale.refunded):
        return True
    found = _TIME.match(text)
    if found:
        hour, minute = int(found.group(1)), found.group(2) or ""
        shown = entry.local_time
        return shown.hour == hour and f"{shown.minute:02d}".startswith(minute)
    return False


class HistoryService:
    """The sales on this till for the history screen; reads only."""

    def __init__(self, store: LocalStore, *, now: Clock = utc_now) -> None:
        """Read sales from ``store``; ``now`` decides what "today" is."""
        self.store = store
        self.now = now

    def zone(self) -> ZoneInfo:
        """The store's time zone (from the last pull)."""
        profile = self.store.store_profile()
        return store_zone(profile.timezone if profile else None)

    def sales(self, scope: Scope = "today", query: str = "") -> list[HistoryEntry]:
        """Today's sales (since local midnight) or the open shift's, newest first, those
        ``query`` finds (see :func:`matches`). No open shift: the shift scope is empty."""
        zone = self.zone()
        if scope == "shift":
            shift = self.store.open_shift_row()
            if shift is None:
                return []
            listings = self.store.sales_since(shift.opened_at, shift_id=shift.id)
        else:
            midnight = datetime.combine(self.now().astimezone(zone).date(), time(), tzinfo=zone)
            listings = self.store.sales_since(midnight)
        entries = [HistoryEntry(sale=s, local_time=s.created_at.astimezone(zone)) for s in listings]
        return [entry for entry in entries if matches(entry, query)]

    def detail(self, sale_id: UUID) -> SaleDetail:
        """The sale with its lines, payments, refunds and void."""
        sale = self.store.sale(sale_id)
        status = self.store.sale_status(sale_id)
        if sale is None or status is None:
            raise RefundError("sale_not_on_till")
        refunds = tuple(self.store.refunds_of_sale(sale_id))
        void = self.store.void_of_sale(sale_id)
        ids = {sale.cashier_id}
        for refund in refunds:
            ids |= {refund.cashier_id, refund.approved_by}
        if void is not None:
            ids |= {void.cashier_id, void.approved_by}
        names: dict[int, str] = {}
        for user_id in ids:
            user = self.store.user(user_id)
            names[user_id] = user.full_name if user else str(user_id)
        return SaleDetail(
            sale=sale,
            local_time=sale.created_at.astimezone(self.zone()),
            status=status,
            cashier_name=names[sale.cashier_id],
            refunds=refunds,
            void=void,
            names=names,
        )

    def receipt(self, sale_id: UUID) -> ReceiptData:
        """The sale's receipt, to show or reprint."""
        return receipt_for_sale(self.store, self.detail(sale_id).sale)
