"""The sales history the till's screen shows: today's or this shift's sales, searched by
receipt number, amount or local time, one opened with its refunds and void (no window)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pos_client.domain import QrisPayment, RefundError
from pos_client.domain.tender import CashTender
from pos_client.services.history import HistoryService, parse_rupiah, refunded_outside
from shared.models import RefundMethod, SaleIn
from shared.receipt_text import render_receipt
from tests.client.conftest import BERAS, INDOMIE, MANAGER, PINS, TEH, FakeClock, Till


@pytest.fixture
def history(till: Till) -> HistoryService:
    return HistoryService(till.store, now=till.clock)


def _cash(till: Till, *codes: str) -> SaleIn:
    for code in codes:
        till.checkout.scan(code)
    return till.checkout.checkout_cash(till.checkout.totals().total).sale


def test_today_lists_newest_first_in_local_time(
    till: Till, clock: FakeClock, history: HistoryService
) -> None:
    clock.moment = datetime(2025, 6, 14, 16, 30, tzinfo=UTC)  # 23:30 WIB on the 14th
    yesterday = _cash(till, TEH)
    clock.moment = datetime(2025, 6, 14, 17, 5, tzinfo=UTC)  # 00:05 WIB on the 15th
    first = _cash(till, INDOMIE)
    clock.moment = datetime(2025, 6, 15, 7, 42, tzinfo=UTC)  # 14:42 WIB
    second = _cash(till, BERAS)
    entries = history.sales("today")
    assert [e.sale.receipt_number for e in entries] == [
        second.receipt_number,
        first.receipt_number,
    ], "newest first; 23:30 WIB yesterday is not today even though it is the same UTC day"
    assert [f"{e.local_time:%H:%M}" for e in entries] == ["14:42", "00:05"]
    assert yesterday.receipt_number not in {e.sale.receipt_number for e in entries}
    assert entries[0].sale.methods == ("cash",) and entries[0].sale.total == second.total


def test_search_by_receipt_number_amount_and_time(
    till: Till, clock: FakeClock, history: HistoryService
) -> None:
    tea = _cash(till, TEH)  # Rp 5.000 at 10:00 WIB
    clock.advance(minutes=65)
    rice = _cash(till, BERAS)  # Rp 80.475 at 11:05
    clock.advance(minutes=3)
    noodles = _cash(till, INDOMIE)  # Rp 3.500 at 11:08

    def found(query: str) -> list[str]:
        return [e.sale.receipt_number for e in history.sales("today", query)]

    assert found("") == [noodles.receipt_number, rice.receipt_number, tea.receipt_number]
    assert found(rice.receipt_number.lower()) == [rice.receipt_number]
    assert found(rice.receipt_number[-4:]) == [rice.receipt_number], "the sequence alone"
    for typed in ("80475", "80.475", "Rp 80.475", "rp80.475"):
        assert found(typed) == [rice.receipt_number], typed
    assert found("5.000") == [tea.receipt_number]
    assert found("11:05") == [rice.receipt_number]
    assert found("11.0") == [noodles.receipt_number, rice.receipt_number]
    assert found("10") == [tea.receipt_number], "an hour alone"
    assert found("12:00") == [] and found("7.777") == [] and found("kopi") == []
    assert parse_rupiah("Rp 1.500") == 1500 and parse_rupiah("abc") is None


def test_shift_scope_is_the_open_shift_only(till: Till, history: HistoryService) -> None:
    before = _cash(till, TEH)
    till.shifts.close(205_000)
    assert history.sales("shift") == [], "no open shift: nothing in this shift"
    assert [e.sale.receipt_number for e in history.sales("today")] == [before.receipt_number]
    till.shifts.open(100_000)
    after = _cash(till, INDOMIE)
    assert [e.sale.receipt_number for e in history.sales("shift")] == [after.receipt_number]
    assert len(history.sales("today")) == 2


def test_an_opened_sale_shows_its_refunds_and_void(till: Till, history: HistoryService) -> None:
    sale = _cash(till, INDOMIE, TEH)
    detail = history.detail(sale.id)
    assert detail.sale == sale.model_copy(update={"catalog_cursor": detail.sale.catalog_cursor})
    assert (detail.status, detail.refunds, detail.void) == ("completed", (), None)
    assert detail.cashier_name == "Ibu Cashier" and detail.can_refund
    assert f"{detail.local_time:%H:%M}" == "10:00"
    till.manager_refund(sale.id, {sale.lines[1].id: 1}, reason="Barang rusak")
    detail = history.detail(sale.id)
    (refund,) = detail.refunds
    assert (refund.total, refund.reason, refund.method) == (5000, "Barang rusak", "cash")
    assert [(line.name, line.quantity, line.amount) for line in refund.lines] == [
        ("Teh Botol Sosro 450ml", 1, 5000)
    ]
    assert detail.names[refund.approved_by] == "Ibu Manager"
    assert detail.refunded == 5000 and detail.can_refund
    listed = history.sales("today")[0].sale
    assert listed.refunded == 5000

    voided = _cash(till, BERAS)
    till.refunds.void(voided.id, manager_id=MANAGER, manager_pin=PINS[MANAGER], reason="salah")
    gone = history.detail(voided.id)
    assert gone.status == "voided" and gone.void is not None and gone.void.reason == "salah"
    assert not gone.can_refund
    assert history.sales("today", voided.receipt_number)[0].sale.status == "voided"


def test_qris_sale_refunded_outside_the_till_is_shown_so(
    till: Till, history: HistoryService
) -> None:
    till.checkout.scan(TEH)
    sale = till.checkout.checkout([QrisPayment(5000, reference="DEV-T7")]).sale
    detail = history.detail(sale.id)
    assert detail.paid_by_qris
    assert history.sales("today")[0].sale.methods == ("qris",)
    till.manager_refund(sale.id, reason="Pelanggan batal", method=RefundMethod.EXTERNAL)
    detail = history.detail(sale.id)
    assert detail.refunds[0].method == "external"
    assert refunded_outside(detail.refunds[0].method)
    assert (detail.refunded_outside_till, detail.refunded_in_cash) == (5000, 0)
    assert not detail.can_refund, "everything went back"


def test_cash_and_outside_refunds_of_one_sale_are_told_apart(
    till: Till, history: HistoryService
) -> None:
    till.checkout.scan(TEH)
    till.checkout.scan(INDOMIE)
    sale = till.checkout.checkout([QrisPayment(5000), CashTender(3500)]).sale
    for line, method in zip(sale.lines, (RefundMethod.EXTERNAL, RefundMethod.CASH), strict=True):
        till.manager_refund(sale.id, {line.id: 1}, reason="batal", method=method)
    detail = history.detail(sale.id)
    assert [r.method for r in detail.refunds] == ["external", "cash"]
    assert (detail.refunded_outside_till, detail.refunded_in_cash) == (5000, 3500)
    assert detail.refunded == 8500
    # refunds recorded before ``external`` existed said ``qris`` for the same thing
    assert refunded_outside("qris") and not refunded_outside("cash")


def test_reprint_receipt_is_the_stored_sale(till: Till, history: HistoryService) -> None:
    sale = _cash(till, BERAS)
    text = render_receipt(history.receipt(sale.id), width=32, reprint=True)
    assert sale.receipt_number in text and "SALINAN" in text and "80.475" in text
    with pytest.raises(RefundError):
        from shared.ids import new_id

        history.detail(new_id())
