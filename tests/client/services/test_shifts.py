"""Shift close like a cash office: the denomination count, opening the drawer with a
supervisor's PIN, and one meaning of "Penjualan bersih" on the till and the server."""

from __future__ import annotations

import logging

import pytest

from pos_client.domain import QrisPayment
from pos_client.domain.errors import ShiftError
from pos_client.domain.shifts import DENOMINATIONS, Denomination, counted_from_denominations
from pos_client.services.errors import AuthError
from sync_server.reports.schemas import SalesFigures
from tests.client.conftest import (
    BERAS,
    CASHIER,
    INDOMIE,
    MANAGER,
    PINS,
    SUPERVISOR,
    TEH,
    Till,
)


def by_key(**counts: int) -> dict[Denomination, int]:
    """``note_100000=2, coin_500=3`` → counts per denomination."""
    named = {d.key.replace("-", "_"): d for d in DENOMINATIONS}
    return {named[name]: count for name, count in counts.items()}


def test_the_denominations_a_cashier_counts() -> None:
    notes = [d.value for d in DENOMINATIONS if d.kind == "note"]
    coins = [d.value for d in DENOMINATIONS if d.kind == "coin"]
    assert notes == [100_000, 50_000, 20_000, 10_000, 5_000, 2_000, 1_000]
    assert coins == [1_000, 500, 200, 100]
    assert len({d.key for d in DENOMINATIONS}) == 11  # Rp 1.000 note and coin stay apart


def test_counts_sum_into_the_counted_cash() -> None:
    counts = by_key(note_100000=2, note_50000=1, note_2000=3, note_1000=1, coin_1000=2, coin_500=3)
    assert counted_from_denominations(counts) == 200_000 + 50_000 + 6_000 + 1_000 + 2_000 + 1_500
    assert counted_from_denominations({}) == 0
    with pytest.raises(ShiftError) as err:
        counted_from_denominations(by_key(coin_100=-1))
    assert err.value.code == "denomination_count_negative"


def test_close_with_a_denomination_count(till: Till) -> None:
    till.checkout.scan(INDOMIE)
    till.checkout.checkout_cash(5_000)  # 3.500 cash taken
    expected = till.shifts.x_report().expected_cash
    assert expected == 203_500
    counts = by_key(note_100000=2, note_2000=1, coin_1000=1, coin_200=2)  # 203.400
    z = till.shifts.close_counted(counts)
    assert z.kind == "Z" and z.counted_cash == 203_400 and z.variance == -100
    close = till.store.pending_events(100)[-1]
    assert close.type == "shift_close" and close.payload["counted_cash"] == 203_400


def test_opening_the_drawer_needs_a_supervisor_pin(
    till: Till, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(AuthError) as wrong:
        till.shifts.authorize_drawer(SUPERVISOR, "0000")
    assert wrong.value.code == "wrong_pin"
    with pytest.raises(AuthError) as low:
        till.shifts.authorize_drawer(CASHIER, PINS[CASHIER])  # a cashier cannot approve
    assert low.value.code == "not_allowed"
    with caplog.at_level(logging.INFO, logger="kasir.drawer"):
        approver = till.shifts.authorize_drawer(SUPERVISOR, PINS[SUPERVISOR])
    assert approver.id == SUPERVISOR
    [record] = [r for r in caplog.records if r.name == "kasir.drawer"]
    assert "Ibu Cashier (1)" in record.getMessage()
    assert "approved by Ibu Supervisor (2)" in record.getMessage()
    # the refused PINs recorded nothing; the approved opening is one no_sale event
    assert [e.type for e in till.store.pending_events(100)] == ["shift_open", "no_sale"]


def test_net_sales_is_the_same_number_on_the_till_and_the_server(till: Till) -> None:
    """One worked example: three sales, one voided, one partly refunded.

    Sales 3.500 (Indomie) + 80.475 (Beras with PPN on top) + 5.000 (Teh, QRIS) = 88.975;
    the Teh sale is voided (5.000) and one Indomie refunded (3.500).
    Penjualan bersih = sales − refunds − voids = 88.975 − 3.500 − 5.000 = 80.475.
    """
    indomie = till.checkout.scan(INDOMIE) and till.checkout.checkout_cash(3_500).sale
    till.checkout.scan(BERAS)
    till.checkout.checkout_cash(100_000)
    till.checkout.scan(TEH)
    teh = till.checkout.checkout([QrisPayment(5_000, reference="DEV-T1")]).sale
    till.refunds.void(teh.id, manager_id=MANAGER, manager_pin=PINS[MANAGER])
    till.manager_refund(indomie.id, {indomie.lines[0].id: 1}, reason="rusak")
    x = till.shifts.x_report()
    f = x.figures
    assert (f.sales_total, f.refunds_total, f.voids_total) == (88_975, 3_500, 5_000)
    assert x.net_sales == 80_475

    # The server's figures for the same day: a voided sale counts only in the voids, so
    # its ``net`` is the live sales' totals; "Penjualan bersih" is ``net_after_refunds``.
    server = SalesFigures(
        sales_count=2,
        net=f.sales_total - f.voids_total,
        refunds_count=1,
        refunds_amount=f.refunds_total,
        voids_count=1,
        voids_amount=f.voids_total,
    )
    assert server.net_after_refunds == x.net_sales == 80_475
