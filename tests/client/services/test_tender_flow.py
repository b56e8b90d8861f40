"""The payment of a cart (cash, QRIS, split) as the screen drives it, with no Kivy.

The QRIS port is :class:`tests.client.fakes.FakeQrisGateway`; the till's store and
checkout are real, so each test checks what a cashier would notice: what is left to
pay, the change, the sale and its payments, and that nothing is written before the
sale is finished.
"""

from __future__ import annotations

import pytest

from pos_client.domain import PaymentError
from pos_client.services.qris import QrisError, QrisStatus
from pos_client.services.tender import QrisOutcome, QrisStep, TenderFlow
from shared.models import PaymentMethod, PullResponse
from tests.client.conftest import BERAS, CASHIER, INDOMIE, TEH, Till
from tests.client.fakes import FakeQrisGateway


def ring_up(till: Till) -> None:
    """Indomie ×2 and a Teh Botol: Rp12.000, PPN included."""
    line = till.checkout.scan(INDOMIE)
    till.checkout.change_quantity(line.id, 2)
    till.checkout.scan(TEH)


def sales_count(till: Till) -> int:
    return int(till.store.conn.execute("SELECT COUNT(*) FROM sales").fetchone()[0])


def flow_for(
    till: Till, gateway: FakeQrisGateway | None, *, static_qris: str | None = None
) -> TenderFlow:
    return TenderFlow(till.checkout, gateway, now=till.clock, static_qris=static_qris)


def test_cash_only_gives_change_and_pays_one_sale(till: Till) -> None:
    ring_up(till)
    flow = flow_for(till, None)
    assert (flow.total, flow.remaining) == (12_000, 12_000)
    assert flow.change(10_000) == -2_000 and flow.change(20_000) == 8_000
    assert not flow.can_start_qris() and flow.start_qris() is None  # no QRIS on this till

    with pytest.raises(PaymentError, match="more is needed"):
        flow.pay(10_000)
    assert sales_count(till) == 0

    result = flow.pay(20_000)

    assert result.change == 8_000 and sales_count(till) == 1
    assert [p.method for p in result.sale.payments] == [PaymentMethod.CASH]
    with pytest.raises(PaymentError) as again:
        flow.pay(20_000)
    assert again.value.code == "sale_already_paid"
    assert sales_count(till) == 1


def test_split_tender_part_qris_then_cash_for_the_rest(till: Till) -> None:
    till.checkout.scan(BERAS)  # Rp80.475 with PPN
    gateway = FakeQrisGateway(polls_until_final=2, now=till.clock)
    flow = flow_for(till, gateway)
    assert flow.qris_amount(50_000) == 50_000
    assert flow.qris_amount(90_000) == flow.qris_amount(0) == 80_475  # all that remains

    shown = flow.start_qris(50_000)

    assert shown is not None and shown.amount == 50_000
    assert gateway.started == [(shown.charge.order_id, 50_000)]
    assert flow.step is QrisStep.WAITING and not flow.can_start_qris()
    assert flow.seconds_left() == 300
    assert flow.check_qris() is None  # UNPAID
    assert flow.check_qris() is QrisOutcome.PAID
    assert flow.step is QrisStep.IDLE and flow.shown is None
    assert (flow.qris_paid, flow.remaining) == (50_000, 30_475)
    assert not flow.can_leave()  # QRIS took money: the sale must be finished
    assert sales_count(till) == 0

    result = flow.pay(31_000)

    methods = {p.method: p for p in result.sale.payments}
    assert methods[PaymentMethod.QRIS].amount == 50_000
    assert methods[PaymentMethod.QRIS].order_id == shown.charge.order_id
    assert methods[PaymentMethod.CASH].amount == 30_475
    assert result.change == 525 and sales_count(till) == 1


def test_qris_for_the_whole_sale_needs_no_cash(till: Till) -> None:
    ring_up(till)
    flow = flow_for(till, FakeQrisGateway(polls_until_final=1, now=till.clock))
    assert flow.start_qris() is not None
    assert flow.check_qris() is QrisOutcome.PAID
    assert flow.remaining == 0 and flow.tenders(5_000) == flow.paid  # typed cash ignored

    result = flow.pay()

    assert [p.method for p in result.sale.payments] == [PaymentMethod.QRIS]
    assert result.sale.total == 12_000


@pytest.mark.parametrize(("outcome", "expected"), [("EXPIRED", "expired"), ("FAILED", "failed")])
def test_a_qr_that_expires_or_fails_pays_nothing(
    till: Till, outcome: QrisStatus, expected: str
) -> None:
    ring_up(till)
    flow = flow_for(till, FakeQrisGateway(outcome=outcome, polls_until_final=1, now=till.clock))
    flow.start_qris()

    assert flow.check_qris() is QrisOutcome(expected)

    assert flow.paid == [] and flow.remaining == 12_000 and flow.can_start_qris()
    assert flow.pay(12_000).change == 0  # cash still takes the same cart


def test_a_qr_past_its_expiry_is_dropped_and_released(till: Till) -> None:
    ring_up(till)
    gateway = FakeQrisGateway(ttl_seconds=60, now=till.clock)
    flow = flow_for(till, gateway)
    shown = flow.start_qris()
    assert shown is not None
    till.clock.advance(seconds=59)
    assert flow.expire_if_due() is None and flow.seconds_left() == 1

    till.clock.advance(seconds=1)
    order_id = flow.expire_if_due()
    flow.release(order_id)

    assert order_id == shown.charge.order_id and flow.shown is None
    assert gateway.cancelled == [order_id]
    # A late PAID for the dropped QR does not count.
    assert flow.on_status(shown.charge.order_id, "PAID") is None
    assert flow.paid == []


def test_a_refused_start_leaves_the_flow_as_it_was(till: Till) -> None:
    ring_up(till)
    flow = flow_for(till, FakeQrisGateway(fail_start="qris_offline", now=till.clock))

    with pytest.raises(QrisError) as refused:
        flow.start_qris()

    assert refused.value.code == "qris_offline"
    assert flow.step is QrisStep.IDLE and flow.shown is None and flow.can_start_qris()
    assert flow.pay(12_000).sale.total == 12_000


def test_cancel_while_the_qr_is_being_made_releases_it_when_it_arrives(till: Till) -> None:
    ring_up(till)
    flows: list[TenderFlow] = []

    def cashier_cancels() -> None:
        flows[0].cancel_qris()

    gateway = FakeQrisGateway(now=till.clock, on_start=cashier_cancels)
    flow = flow_for(till, gateway)
    flows.append(flow)

    assert flow.start_qris() is None

    [(order_id, _amount)] = gateway.started
    assert gateway.cancelled == [order_id]
    assert flow.shown is None and flow.step is QrisStep.IDLE and flow.can_start_qris()


def test_cancel_drops_the_qr_on_screen(till: Till) -> None:
    ring_up(till)
    gateway = FakeQrisGateway(now=till.clock)
    flow = flow_for(till, gateway)
    shown = flow.start_qris(5_000)
    assert shown is not None

    order_id = flow.cancel_qris()
    flow.release(order_id)

    assert order_id == shown.charge.order_id and gateway.cancelled == [order_id]
    assert flow.check_qris() is None and flow.can_leave()
    assert flow.cancel_qris() is None  # nothing left to cancel


# -- the store's static QRIS, offline ---------------------------------------------------

STATIC = (
    "00020101021126570011ID.DANA.WWW011893600915300000000002150000000000000000303UMI"
    "5204581253033605802ID5910TOKO MAJU6007JAKARTA63041234"
)


def pull_static_qris(till: Till, payload: str) -> None:
    """The manager set the store's static QRIS; the till pulled the store again."""
    profile = till.store.store_profile()
    assert profile is not None
    page = PullResponse(
        cursor=till.store.pull_cursor() + 1,
        has_more=False,
        remaining=0,
        stores=[profile.model_copy(update={"static_qris": payload, "change_no": 99})],
    )
    till.store.apply_pull_page(page)


def test_static_qris_is_offered_only_offline_and_only_when_the_store_has_one(till: Till) -> None:
    ring_up(till)
    gateway = FakeQrisGateway(now=till.clock)
    flow = flow_for(till, gateway)
    assert flow.static_qris == ""  # the pulled store has none
    assert not flow.can_offer_static_qris(online=False)
    assert flow.show_static_qris(online=False) is None

    pull_static_qris(till, STATIC)
    flow = flow_for(till, gateway)  # read from the store profile pulled to the till

    assert flow.static_qris == STATIC
    assert flow.can_offer_static_qris(online=False)
    assert not flow.can_offer_static_qris(online=True)  # online: the dynamic QR only
    assert not flow.can_offer_static_qris(online=None)  # not known to be offline yet
    assert flow.show_static_qris(online=True) is None and flow.step is QrisStep.IDLE


def test_confirmed_static_qris_records_a_qris_static_payment(till: Till) -> None:
    ring_up(till)  # Rp12.000
    pull_static_qris(till, STATIC)
    flow = flow_for(till, None)  # no dynamic QRIS at all on this till

    shown = flow.show_static_qris(online=False)

    assert shown is not None and (shown.payload, shown.amount) == (STATIC, 12_000)
    assert flow.step is QrisStep.STATIC and not flow.can_offer_static_qris(online=False)
    assert flow.remaining == 12_000 and sales_count(till) == 0  # nothing paid before confirm

    payment = flow.confirm_static_qris()

    assert payment is not None and payment.method is PaymentMethod.QRIS_STATIC
    assert flow.remaining == 0 and flow.step is QrisStep.IDLE and not flow.can_leave()
    assert flow.confirm_static_qris() is None  # confirmed once only
    result = flow.pay(0)
    assert sales_count(till) == 1
    [paid] = result.sale.payments
    assert (paid.method, paid.amount, paid.order_id) == (PaymentMethod.QRIS_STATIC, 12_000, None)
    assert result.sale.cashier_id == CASHIER  # the cashier who confirmed it is named
    stored = till.store.sale(result.sale.id)
    assert stored is not None and stored.payments[0].method is PaymentMethod.QRIS_STATIC


def test_static_qris_for_a_part_then_cash(till: Till) -> None:
    ring_up(till)
    flow = flow_for(till, None, static_qris=STATIC)
    shown = flow.show_static_qris(5_000, online=False)
    assert shown is not None and shown.amount == 5_000
    assert flow.confirm_static_qris() is not None

    result = flow.pay(10_000)

    methods = {p.method: p for p in result.sale.payments}
    assert methods[PaymentMethod.QRIS_STATIC].amount == 5_000
    assert (methods[PaymentMethod.CASH].amount, result.change) == (7_000, 3_000)


def test_cancelled_static_qris_pays_nothing(till: Till) -> None:
    ring_up(till)
    flow = flow_for(till, None, static_qris=STATIC)
    assert flow.show_static_qris(online=False) is not None

    assert flow.cancel_qris() is None  # no order to release

    assert flow.step is QrisStep.IDLE and flow.static_shown is None
    assert flow.confirm_static_qris() is None
    assert (flow.remaining, flow.paid) == (12_000, []) and flow.can_leave()
    assert flow.can_offer_static_qris(online=False)  # may be shown again
    result = flow.pay(20_000)
    assert [p.method for p in result.sale.payments] == [PaymentMethod.CASH]
