"""QRIS when the network is down: a manager pastes the store's static QRIS, the till pulls
it, sells offline with it (the cashier confirms the payment proof), and the server applies
the sale and flags it ``qris_static`` for reconciliation with the bank statement."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import select

from pos_client.services.tender import TenderFlow
from shared.models import PaymentMethod
from sync_server.flags.models import Flag
from sync_server.sync.models import Sale
from sync_server.tripay_sandbox.qris import tlv, with_crc
from tests.e2e.conftest import Till
from tests.e2e.test_till_server_sync import ITEMS

STATIC = with_crc(
    tlv("00", "01")
    + tlv("01", "11")  # static: the customer types the amount
    + tlv("26", tlv("00", "ID.CO.QRIS.WWW") + tlv("01", "936009153000000001"))
    + tlv("52", "5411")
    + tlv("53", "360")
    + tlv("58", "ID")
    + tlv("59", "TOKO DEMO")
    + tlv("60", "JAKARTA")
)


def _set_static_qris(till: Till, payload: str) -> httpx.Response:
    server = till.server
    return httpx.patch(
        f"{server.base_url}/api/v1/stores/{server.store_id()}",
        json={"static_qris": payload},
        headers={"Authorization": f"Bearer {server.manager_token()}"},
        timeout=10,
    )


def test_offline_sale_with_the_stores_static_qris_is_synced_and_flagged(
    synced_till: Till,
) -> None:
    till, server = synced_till, synced_till.server
    assert TenderFlow(till.checkout, None).static_qris == ""  # none configured yet

    typo = _set_static_qris(till, STATIC[:-1] + ("0" if STATIC[-1] != "0" else "1"))
    assert typo.status_code == 422, typo.text
    assert typo.json()["error"]["details"] == {"field": "static_qris"}
    answer = _set_static_qris(till, STATIC)
    assert answer.status_code == 200, answer.text
    assert answer.json()["static_qris"] == STATIC

    assert till.worker.run_once().online is True  # the till pulls the store again
    profile = till.store.store_profile()
    assert profile is not None and profile.static_qris == STATIC

    # The network goes down: dynamic QRIS is out, the store's static QR is offered.
    till.checkout.scan(ITEMS[0].barcode)
    flow = TenderFlow(till.checkout, None)
    assert flow.can_offer_static_qris(online=False)
    shown = flow.show_static_qris(online=False)
    assert shown is not None and shown.payload == STATIC and shown.amount == flow.total
    assert flow.confirm_static_qris() is not None  # the cashier saw the payment proof
    sale = flow.pay(0).sale
    assert [p.method for p in sale.payments] == [PaymentMethod.QRIS_STATIC]

    report = till.worker.run_once()  # back online: the sale goes up

    assert report.online is True and report.pending == 0
    assert server.count(Sale, id=sale.id) == 1
    with server.db.session() as session:
        flags = session.execute(select(Flag.kind, Flag.sale_id, Flag.cashier_id, Flag.details))
        rows = [(k, s, c, json.loads(d)) for k, s, c, d in flags]
    assert [(k, s) for k, s, _, _ in rows] == [("qris_static", sale.id)]
    (_, _, cashier_id, details) = rows[0]
    assert cashier_id == server.user_id("siti") == details["confirmed_by"]
    assert details["amount"] == sale.total
    assert details["receipt_number"] == sale.receipt_number
