"""The services the UI calls: checkout, approvals, vouchers, PIN login, refunds, shifts."""

from __future__ import annotations

import pytest

from pos_client.config import ClientSettings
from pos_client.domain import (
    ApprovalRequired,
    CartError,
    Discount,
    PaymentError,
    QrisPayment,
    RefundError,
    ShiftError,
    VoucherError,
)
from pos_client.domain.tender import CashTender
from pos_client.services import (
    AuthError,
    InvalidBarcode,
    NotAllowed,
    NotLoggedIn,
    ProductNotFound,
    UserLocked,
    WrongPin,
)
from pos_client.store import LocalStore
from shared.barcodes import make_ean13
from shared.ids import new_id
from shared.models import PaymentMethod, RefundMethod, Role, SaleIn
from shared.receipt_text import receipt_link
from tests.client.conftest import (
    ADMIN,
    BERAS,
    CASHIER,
    INDOMIE,
    MANAGER,
    PINS,
    ROKOK,
    SUPERVISOR,
    TEH,
    FakeClock,
    Till,
    make_till,
)


# -- catalog -------------------------------------------------------------------------------
def test_scan_barcode_sku_and_errors(till: Till) -> None:
    assert till.checkout.scan(INDOMIE).product.id == 1
    assert till.checkout.scan("TEH-001").product.id == 2
    bad = INDOMIE[:-1] + str((int(INDOMIE[-1]) + 1) % 10)
    with pytest.raises(InvalidBarcode, match="check digit"):
        till.checkout.scan(bad)
    with pytest.raises(ProductNotFound):
        till.checkout.scan(make_ean13("899123456789"))
    with pytest.raises(CartError, match="not for sale"):
        till.checkout.scan(ROKOK)
    assert [p.id for p in till.catalog.search("teh bot")] == [2]
    assert till.catalog.search("rokok") == []
    assert till.catalog.stock_on_hand(1) == 100  # a cart line is not a sale yet
    assert len(till.checkout.cart.lines) == 2


# -- checkout ------------------------------------------------------------------------------
def test_cash_checkout(till: Till) -> None:
    line = till.checkout.scan(INDOMIE)
    till.checkout.change_quantity(line.id, 3)
    till.checkout.scan(BERAS)  # PPN added on top
    totals = till.checkout.totals()
    assert totals.total == 10_500 + 72_500 + 7975
    result = till.checkout.checkout_cash(100_000)
    assert result.change == 100_000 - totals.total
    assert result.sale.receipt_number == "T01-20250615-0001"
    assert result.sale.cashier_id == CASHIER
    assert result.sale.shift_id == till.shifts.current().id  # type: ignore[union-attr]
    assert till.checkout.cart.is_empty
    assert till.catalog.stock_on_hand(1) == 97


def test_split_tender_with_qris(till: Till) -> None:
    till.checkout.scan(BERAS)
    total = till.checkout.totals().total
    result = till.checkout.checkout([QrisPayment(50_000, reference="DEV-T1"), CashTender(50_000)])
    methods = {p.method: p for p in result.sale.payments}
    assert methods[PaymentMethod.QRIS].amount == 50_000
    assert methods[PaymentMethod.CASH].amount == total - 50_000
    assert result.change == 100_000 - total


def test_checkout_refusals_change_nothing(till: Till) -> None:
    with pytest.raises(CartError, match="empty"):
        till.checkout.checkout_cash(10_000)
    till.checkout.scan(TEH)
    with pytest.raises(PaymentError):
        till.checkout.checkout_cash(4000)
    assert till.store.pending_count() == 1  # only the shift opening
    till.auth.logout()
    with pytest.raises(NotLoggedIn):
        till.checkout.checkout_cash(5000)


def test_selling_needs_an_open_shift(
    store: LocalStore, settings: ClientSettings, clock: FakeClock
) -> None:
    till = make_till(store, settings, clock)
    till.auth.login(CASHIER, PINS[CASHIER])
    till.checkout.scan(TEH)
    with pytest.raises(ShiftError):
        till.checkout.checkout_cash(5000)


def test_big_discount_needs_a_supervisor_pin(till: Till) -> None:
    line = till.checkout.scan(TEH)  # 5000
    with pytest.raises(ApprovalRequired):
        till.checkout.set_line_discount(line.id, Discount.percent(2000))
    with pytest.raises(NotAllowed):
        till.checkout.set_line_discount(
            line.id, Discount.percent(2000), approver_id=CASHIER, approver_pin=PINS[CASHIER]
        )
    with pytest.raises(WrongPin):
        till.checkout.set_line_discount(
            line.id, Discount.percent(2000), approver_id=SUPERVISOR, approver_pin="0000"
        )
    till.checkout.set_line_discount(
        line.id, Discount.percent(2000), approver_id=SUPERVISOR, approver_pin=PINS[SUPERVISOR]
    )
    assert line.discount is not None and line.discount.approved_by == SUPERVISOR
    till.checkout.set_order_discount(Discount.rupiah(400))  # 10 % of 4000: no approval
    sale = till.checkout.checkout_cash(5000).sale
    assert (sale.lines[0].discount, sale.order_discount, sale.total) == (1000, 400, 3600)
    assert till.auth.current_user.id == CASHIER  # type: ignore[union-attr]


def test_vouchers_from_the_server(till: Till, clock: FakeClock) -> None:
    till.checkout.scan(TEH)
    with pytest.raises(VoucherError, match="minimum spend"):
        till.checkout.apply_voucher("hemat10")
    with pytest.raises(VoucherError, match="no voucher"):
        till.checkout.apply_voucher("NOPE")
    with pytest.raises(VoucherError, match="used up"):
        till.checkout.apply_voucher("HABIS")
    till.checkout.scan(BERAS)
    assert till.checkout.apply_voucher("hemat10") == 7750  # 10 % of 77.500
    sale = till.checkout.checkout_cash(200_000).sale
    assert sale.voucher_code == "HEMAT10" and sale.order_discount == 7750
    clock.advance(days=365)
    till.checkout.scan(BERAS)
    with pytest.raises(VoucherError, match="expired"):
        till.checkout.apply_voucher("HEMAT10")


def test_voucher_apply_refuse_and_remove(till: Till, clock: FakeClock) -> None:
    with pytest.raises(CartError, match="empty"):
        till.checkout.apply_voucher("POTONG5RB")  # nothing to discount yet
    till.checkout.scan(BERAS)  # 72.500, 11 % PPN added on top
    with pytest.raises(VoucherError, match="voucher code first"):
        till.checkout.apply_voucher("   ")
    assert till.checkout.apply_voucher(" potong5rb ") == 5000
    assert till.checkout.voucher_code == "POTONG5RB"
    totals = till.checkout.totals()
    assert (totals.voucher_discount, totals.total) == (5000, 67_500 + 7425)
    # a refused code leaves the voucher already on the cart as it was
    with pytest.raises(VoucherError, match="used up"):
        till.checkout.apply_voucher("HABIS")
    assert till.checkout.voucher_code == "POTONG5RB"
    assert till.checkout.totals() == totals
    # a second valid voucher replaces the first (one voucher per sale)
    assert till.checkout.apply_voucher("HEMAT10") == 7250
    assert till.checkout.voucher_code == "HEMAT10"
    till.checkout.remove_voucher()
    assert till.checkout.voucher_code is None
    assert till.checkout.totals().total == 72_500 + 7975
    sale = till.checkout.checkout_cash(100_000).sale
    assert (sale.voucher_code, sale.order_discount) == (None, 0)


def test_hold_and_resume(till: Till) -> None:
    till.checkout.scan(INDOMIE)
    till.checkout.scan(TEH)
    before = till.checkout.totals()
    held = till.checkout.hold("Pak Budi")
    assert till.checkout.cart.is_empty
    till.checkout.scan(BERAS)
    with pytest.raises(CartError, match="current cart"):
        till.checkout.resume(held.id)
    till.checkout.checkout_cash(100_000)
    assert [h.label for h in till.checkout.held()] == ["Pak Budi"]
    cart = till.checkout.resume(held.id)
    assert cart.id == held.id and till.checkout.totals() == before
    assert till.checkout.held() == []
    sale = till.checkout.checkout_cash(10_000).sale
    assert sale.id == held.id
    with pytest.raises(CartError):
        till.checkout.hold()


# -- PIN login -----------------------------------------------------------------------------
def test_pin_login_lockout_grows(till: Till, clock: FakeClock) -> None:
    auth = till.auth
    for left in (4, 3, 2, 1):
        with pytest.raises(WrongPin) as wrong:
            auth.login(SUPERVISOR, "9999")
        assert wrong.value.attempts_left == left
    with pytest.raises(UserLocked, match="30 s"):
        auth.login(SUPERVISOR, "9999")
    assert auth.current_user.id == CASHIER  # type: ignore[union-attr]
    with pytest.raises(UserLocked):
        auth.login(SUPERVISOR, PINS[SUPERVISOR])  # even the right PIN waits
    auth.login(MANAGER, PINS[MANAGER])  # other users are not affected
    clock.advance(seconds=30)
    for _ in range(4):
        with pytest.raises(WrongPin):
            auth.login(SUPERVISOR, "9999")
    with pytest.raises(UserLocked, match="60 s"):
        auth.login(SUPERVISOR, "9999")
    # The lock survives a restart of the app.
    again = make_till(till.store, auth.settings, clock)
    with pytest.raises(UserLocked):
        again.auth.login(SUPERVISOR, PINS[SUPERVISOR])
    clock.advance(seconds=60)
    assert again.auth.login(SUPERVISOR, PINS[SUPERVISOR]).role is Role.SUPERVISOR
    assert till.store.pin_lockout(SUPERVISOR) == (0, 0, None)


def test_switch_user_and_bad_users(till: Till) -> None:
    assert till.auth.switch_user(ADMIN, PINS[ADMIN]).id == ADMIN
    with pytest.raises(AuthError):
        till.auth.login(999, "1111")
    assert till.auth.current_user.id == ADMIN  # type: ignore[union-attr]
    names = [u.full_name for u in till.auth.users()]
    assert names == sorted(names) and len(names) == 4


def test_the_manager_area_asks_a_cashier_for_a_managers_pin(till: Till) -> None:
    till.auth.login(CASHIER, PINS[CASHIER])
    assert till.auth.needs_manager_pin()
    with pytest.raises(NotAllowed):
        till.auth.open_manager_area()  # no manager chosen
    with pytest.raises(NotAllowed) as supervisor:
        till.auth.open_manager_area(SUPERVISOR, PINS[SUPERVISOR])  # not enough
    assert supervisor.value.params["role"] == Role.MANAGER.value
    with pytest.raises(WrongPin):
        till.auth.open_manager_area(MANAGER, "0000")
    assert till.auth.open_manager_area(MANAGER, PINS[MANAGER]).id == MANAGER
    assert till.auth.current_user.id == CASHIER  # type: ignore[union-attr]
    # A logged-in manager (or admin) goes straight in, no PIN asked.
    till.auth.switch_user(MANAGER, PINS[MANAGER])
    assert not till.auth.needs_manager_pin()
    assert till.auth.open_manager_area().id == MANAGER
    till.auth.logout()
    with pytest.raises(NotLoggedIn):
        till.auth.open_manager_area(MANAGER, PINS[MANAGER])


# -- refunds and voids ---------------------------------------------------------------------
def _sale(till: Till) -> SaleIn:
    line = till.checkout.scan(INDOMIE)
    till.checkout.change_quantity(line.id, 3)
    till.checkout.scan(BERAS)
    return till.checkout.checkout_cash(200_000).sale


def test_a_sale_is_found_by_the_e_receipt_link_its_qr_carries(till: Till) -> None:
    sale = _sale(till)
    link = receipt_link("https://kasir.example", 7, sale.id, b"k" * 32)
    assert till.refunds.find_sale(link) == sale
    assert till.refunds.find_sale(f"  {sale.receipt_number.lower()} ") == sale
    # A link to a sale this till does not have is not found (nor is anything else).
    with pytest.raises(RefundError):
        till.refunds.find_sale(receipt_link("https://kasir.example", 7, new_id(), b"k" * 32))
    with pytest.raises(RefundError):
        till.refunds.find_sale("https://kasir.example/r/7/not-a-sale/x")


def test_partial_then_full_refund_never_more_than_sold(till: Till) -> None:
    sale = _sale(till)
    indomie = sale.lines[0]
    found = till.refunds.find_sale(sale.receipt_number)
    assert found == sale
    with pytest.raises(NotAllowed):
        till.refunds.refund(
            sale.id,
            {indomie.id: 1},
            manager_id=SUPERVISOR,
            manager_pin=PINS[SUPERVISOR],
            reason="rusak",
        )
    first = till.manager_refund(sale.id, {indomie.id: 1}, reason="rusak")
    assert first.total == 3500 and first.approved_by == MANAGER
    assert till.catalog.stock_on_hand(1) == 98
    with pytest.raises(RefundError):
        till.manager_refund(sale.id, {indomie.id: 3}, reason="x")
    rest = till.refunds.refund(sale.id, manager_id=ADMIN, manager_pin=PINS[ADMIN], reason="x")
    assert first.total + rest.total == sale.total
    with pytest.raises(RefundError, match="Nothing"):
        till.manager_refund(sale.id, reason="x")
    with pytest.raises(RefundError, match="refunded sale cannot be voided"):
        till.refunds.void(sale.id, manager_id=MANAGER, manager_pin=PINS[MANAGER])
    assert [e.type for e in till.store.pending_events(10)].count("refund") == 2


def test_store_rechecks_refund_limits(till: Till) -> None:
    from shared.ids import new_id
    from shared.models import RefundIn, RefundLineIn

    sale = _sale(till)
    line = sale.lines[0]
    too_many = RefundIn(
        id=new_id(),
        sale_id=sale.id,
        cashier_id=CASHIER,
        approved_by=MANAGER,
        created_at=till.clock(),
        total=14_000,
        lines=[RefundLineIn(id=new_id(), sale_line_id=line.id, quantity=4, amount=14_000)],
    )
    with pytest.raises(RefundError):
        till.store.record_refund(too_many)
    wrong_amount = too_many.model_copy(
        update={
            "lines": [RefundLineIn(id=new_id(), sale_line_id=line.id, quantity=1, amount=9999)],
            "total": 9999,
        }
    )
    with pytest.raises(RefundError, match="amount"):
        till.store.record_refund(wrong_amount)


def test_void_puts_stock_back_and_blocks_refunds(till: Till) -> None:
    sale = _sale(till)
    assert till.catalog.stock_on_hand(1) == 97
    with pytest.raises(WrongPin):
        till.refunds.void(sale.id, manager_id=MANAGER, manager_pin="0000")
    void = till.refunds.void(sale.id, manager_id=MANAGER, manager_pin=PINS[MANAGER], reason="salah")
    assert void.approved_by == MANAGER
    assert till.catalog.stock_on_hand(1) == 100
    assert till.store.sale_status(sale.id) == "voided"
    with pytest.raises(RefundError):
        till.refunds.void(sale.id, manager_id=MANAGER, manager_pin=PINS[MANAGER])
    with pytest.raises(RefundError):
        till.manager_refund(sale.id, reason="x")


def test_a_refund_needs_a_reason_before_the_pin_is_tried(till: Till) -> None:
    sale = _sale(till)
    indomie = sale.lines[0]
    for blank in ("", "   "):
        with pytest.raises(RefundError, match="reason") as caught:
            till.refunds.refund(
                sale.id, {indomie.id: 1}, manager_id=MANAGER, manager_pin="0000", reason=blank
            )
        assert caught.value.code == "refund_reason_required"
    # no PIN attempt was spent on the unfinished form: the right PIN still works
    refund = till.manager_refund(sale.id, {indomie.id: 1}, reason=" rusak ")
    assert refund.reason == "rusak"
    assert till.store.refunds_of_sale(sale.id)[0].reason == "rusak"


def test_only_a_qris_sale_may_be_refunded_outside_the_till(till: Till) -> None:
    cash_sale = _sale(till)
    with pytest.raises(RefundError) as caught:
        till.manager_refund(
            cash_sale.id,
            {cash_sale.lines[0].id: 1},
            reason="salah barang",
            method=RefundMethod.EXTERNAL,
        )
    assert caught.value.code == "refund_outside_needs_qris"
    assert till.store.refunds_of_sale(cash_sale.id) == []

    till.checkout.scan(TEH)
    qris_sale = till.checkout.checkout([QrisPayment(5000, reference="DEV-T9")]).sale
    expected_before = till.shifts.x_report().expected_cash
    outside = till.manager_refund(
        qris_sale.id, reason="transfer balik", method=RefundMethod.EXTERNAL
    )
    assert outside.method is RefundMethod.EXTERNAL and outside.total == 5000
    # given back outside the till: the drawer's expected cash does not drop
    report = till.shifts.x_report()
    assert report.figures.refunds_by_method == {"external": 5000}
    assert report.expected_cash == expected_before
    event = [e for e in till.store.pending_events(10) if e.type == "refund"][-1]
    assert event.payload["method"] == "external" and event.payload["reason"] == "transfer balik"
    slip = till.refunds.slip(outside.id)
    assert slip.refund.method == "external"


def test_outside_refund_asked_the_old_way_is_recorded_as_external(till: Till) -> None:
    """``qris`` (how "outside the till" was spelt before ``external``) is stored as
    ``external``; a cash refund of the same sale still comes out of the drawer."""
    from pos_client.services.refunds import render_refund_slip

    till.checkout.scan(TEH)
    till.checkout.scan(INDOMIE)
    sale = till.checkout.checkout([QrisPayment(5000), CashTender(3500)]).sale
    before = till.shifts.x_report().expected_cash
    old = till.manager_refund(
        sale.id, {sale.lines[0].id: 1}, reason="transfer", method=RefundMethod.QRIS
    )
    cash = till.manager_refund(sale.id, {sale.lines[1].id: 1}, reason="rusak")
    assert (old.method, cash.method) == (RefundMethod.EXTERNAL, RefundMethod.CASH)
    report = till.shifts.x_report()
    assert report.figures.refunds_by_method == {"external": 5000, "cash": 3500}
    assert report.expected_cash == before - 3500, "only the cash refund leaves the drawer"
    assert "Di luar kasir (transfer)" in render_refund_slip(till.refunds.slip(old.id))
    assert "Tunai dari laci" in render_refund_slip(till.refunds.slip(cash.id))


def test_refund_slip_is_laid_out_like_a_receipt(till: Till) -> None:
    from pos_client.services.refunds import refund_slip_lines, render_refund_slip

    sale = _sale(till)
    refund = till.manager_refund(
        sale.id, {sale.lines[0].id: 2}, reason="Barang rusak — kemasan sobek"
    )
    slip = till.refunds.slip(refund.id)
    for width in (32, 42, 48):
        text = render_refund_slip(slip, width=width)
        assert all(len(line) <= width for line in text.splitlines())
        assert "*** RETUR / REFUND ***" in text
        assert sale.receipt_number in text
        assert "Indomie Goreng 85g" in text and "-Rp 7.000" in text
        assert "TOTAL RETUR" in text and "Rp 7.000" in text
        assert "Tunai dari laci" in text
        assert "Alasan: Barang rusak" in text and "sobek" in text
    text = render_refund_slip(slip, width=48)
    assert "15/06/2025 10:00" in text, "the store's local time (WIB), not UTC"
    assert any(line.bold for line in refund_slip_lines(slip, width=32))
    from pos_client.printing.escpos import lines_bytes

    data = lines_bytes(refund_slip_lines(slip, width=32), qr_text=sale.receipt_number)
    assert b"TOTAL RETUR" in data and sale.receipt_number.encode() in data
    with pytest.raises(RefundError):
        from shared.ids import new_id

        till.refunds.slip(new_id())


# -- shifts --------------------------------------------------------------------------------
def test_x_and_z_reports(till: Till, clock: FakeClock) -> None:
    with pytest.raises(ShiftError, match="already open"):
        till.shifts.open(0)
    cash_sale = _sale(till)  # 10.500 + 80.475 = 90.975 cash
    till.checkout.scan(TEH)
    till.checkout.set_order_discount(Discount.rupiah(500))
    till.checkout.checkout([QrisPayment(4500)])
    voided = till.checkout.scan(INDOMIE) and till.checkout.checkout_cash(3500).sale
    till.refunds.void(voided.id, manager_id=MANAGER, manager_pin=PINS[MANAGER])
    till.manager_refund(cash_sale.id, {cash_sale.lines[0].id: 1}, reason="rusak")
    till.shifts.cash_in(50_000, "tukar uang kecil")
    till.shifts.cash_out(20_000, "beli es")
    x = till.shifts.x_report()
    f = x.figures
    assert (f.sales_count, f.sales_total, f.voids_count, f.voids_total) == (3, 98_975, 1, 3500)
    assert f.discount_total == 500 and f.tax_total > 0
    assert f.payments_by_method == {"cash": 90_975, "qris": 4500}
    assert (f.refunds_count, f.refunds_total, f.refunds_by_method) == (1, 3500, {"cash": 3500})
    assert (f.cash_in, f.cash_out) == (50_000, 20_000)
    assert x.expected_cash == 200_000 + 90_975 - 3500 + 50_000 - 20_000
    assert x.net_sales == 98_975 - 3500 - 3500
    assert x.variance is None
    clock.advance(hours=8)
    z = till.shifts.close(x.expected_cash - 1000)
    assert z.kind == "Z" and z.variance == -1000 and z.closed_at == clock()
    assert z.figures == f
    assert till.shifts.current() is None
    with pytest.raises(ShiftError):
        till.shifts.x_report()
    types = [e.type for e in till.store.pending_events(100)]
    assert types[0] == "shift_open" and types[-1] == "shift_close"
    assert types.count("cash_move") == 2 and types.count("void") == 1
    close = till.store.pending_events(100)[-1].payload
    assert close["counted_cash"] == x.expected_cash - 1000
    assert close["expected_cash"] == x.expected_cash
    assert till.shifts.z_report(z.shift_id).figures == f
    clock.advance(minutes=1)
    assert till.shifts.open(100_000).opening_float == 100_000


def test_no_sale_drawer_open_is_one_event_with_its_approver(till: Till, clock: FakeClock) -> None:
    shift = till.shifts.current()
    assert shift is not None
    with pytest.raises(AuthError):
        till.shifts.authorize_drawer(CASHIER, PINS[CASHIER])  # a cashier cannot approve
    assert [e.type for e in till.store.pending_events(100)] == ["shift_open"]
    approver = till.shifts.authorize_drawer(SUPERVISOR, PINS[SUPERVISOR], "  tukar uang  ")
    assert approver.id == SUPERVISOR
    [event] = [e for e in till.store.pending_events(100) if e.type == "no_sale"]
    assert event.payload == {
        "id": event.payload["id"],
        "shift_id": str(shift.id),
        "cashier_id": CASHIER,
        "approved_by": SUPERVISOR,
        "reason": "tukar uang",
        "created_at": clock().isoformat().replace("+00:00", "Z"),
    }
    assert event.payload["id"] != str(event.id), "the opening's id is not the event's id"
    # the drawer's figures do not move: no money changed hands
    assert till.shifts.x_report().expected_cash == 200_000


def test_cash_moves_need_an_open_shift(till: Till) -> None:
    till.shifts.close(200_000)
    with pytest.raises(ShiftError):
        till.shifts.cash_in(1000)
