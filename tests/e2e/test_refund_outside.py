"""A QRIS sale refunded outside the till, end to end: the till records ``external``, its
drawer's expected cash stays put, and the live server stores and reports it apart
("Di luar kasir"). The same till's no-sale drawer opening reaches the server once."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from pos_client.domain import QrisPayment
from shared.models import PaymentMethod, RefundMethod
from sync_server.sync.models import DrawerOpen, SalePayment
from sync_server.sync.models import Refund as ServerRefund
from tests.e2e.conftest import MANAGER_PIN, LiveServer, Till
from tests.e2e.test_till_server_sync import ITEMS


def test_qris_sale_refunded_outside_the_till_is_external_on_the_server(
    selling_till: Till, live_server: LiveServer
) -> None:
    till = selling_till
    till.checkout.scan(ITEMS[0].barcode)
    total = till.checkout.totals().total
    sale = till.checkout.checkout([QrisPayment(total, reference="DEV-E2E-OUT")]).sale
    assert [p.method for p in sale.payments] == [PaymentMethod.QRIS]
    expected_before = till.shifts.x_report().expected_cash
    manager = live_server.user_id("manager")
    refund = till.refunds.refund(
        sale.id,
        manager_id=manager,
        manager_pin=MANAGER_PIN,
        reason="transfer balik ke pelanggan",
        method=RefundMethod.EXTERNAL,
    )
    assert refund.method is RefundMethod.EXTERNAL and refund.total == total
    assert till.shifts.x_report().expected_cash == expected_before, "no cash left the drawer"
    till.shifts.authorize_drawer(manager, MANAGER_PIN, "tukar uang kecil")

    report = till.worker.run_once()
    assert report.online is True and report.pending == 0 and report.rejected_now == 0
    assert till.worker.run_once().pushed == 0, "nothing is sent twice"

    siti = live_server.user_id("siti")
    with live_server.db.session() as session:
        stored = session.scalars(select(ServerRefund)).one()
        assert (stored.id, stored.method, stored.total) == (refund.id, "external", total)
        methods = session.scalars(
            select(SalePayment.method).where(SalePayment.sale_id == sale.id)
        ).all()
        assert methods == ["qris"]
        opening = session.scalars(select(DrawerOpen)).one()
        assert (opening.cashier_id, opening.approved_by) == (siti, manager)

    headers = {"Authorization": f"Bearer {live_server.manager_token()}"}
    with httpx.Client(base_url=live_server.base_url, headers=headers, timeout=10) as http:
        methods_resp = http.get("/api/v1/reports/payment-methods")
        assert methods_resp.status_code == 200, methods_resp.text
        rows = {r["method"]: r for r in methods_resp.json()}
        assert rows["external"]["label"] == "Di luar kasir"
        assert (rows["external"]["refunds_count"], rows["external"]["refunds_amount"]) == (
            1,
            total,
        )
        assert rows["qris"]["amount"] == total and rows["qris"]["refunds_count"] == 0
        refunds_resp = http.get("/api/v1/reports/refunds-voids-discounts")
        assert refunds_resp.status_code == 200, refunds_resp.text
        assert [
            (r["method"], r["label"], r["refunds_amount"])
            for r in refunds_resp.json()["refunds_by_method"]
        ] == [("external", "Di luar kasir", total)]
        cashiers = http.get("/api/v1/reports/cashiers").json()
        assert {c["username"]: c["no_sale_opens"] for c in cashiers} == {"siti": 1}
