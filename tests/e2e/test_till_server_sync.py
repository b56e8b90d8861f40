"""The till against the real server over HTTP: download, offline sales, dropped answers,
rejections, PIN changes, refunds and stock, each checked in the server's database."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import select

from pos_client.services import WrongPin
from pos_client.sync.worker import SyncWorker
from shared.models import ProductOut, PullResponse, SaleIn
from sync_server.catalog.demo import demo_items
from sync_server.catalog.models import Category, Product, TaxRate
from sync_server.core.models import Store
from sync_server.stock.models import StockLevel, StockMove
from sync_server.stock.service import on_hand_of
from sync_server.sync.models import Refund as ServerRefund
from sync_server.sync.models import (
    RefundLine,
    RejectedEvent,
    Sale,
    SaleLine,
    SyncEvent,
)
from tests.e2e.conftest import MANAGER_PIN, LiveServer, Till

ITEMS = demo_items()


def sell(till: Till, *barcodes: str, tendered: int | None = None) -> SaleIn:
    """Ring up ``barcodes`` and pay cash (exact unless ``tendered``)."""
    for code in barcodes:
        till.checkout.scan(code)
    total = till.checkout.totals().total
    return till.checkout.checkout_cash(tendered if tendered is not None else total).sale


def server_on_hand(server: LiveServer, product_id: int) -> int:
    """The server's on hand of ``product_id`` in the demo store (level plus the tills'
    deltas not yet folded, as every server read sums them)."""
    with server.db.session() as session:
        return on_hand_of(session, store_id=server.store_id(), product_ids=[product_id])[product_id]


def test_initial_download_brings_the_whole_demo_catalog_with_progress(till: Till) -> None:
    server = till.server
    # What the till may see: the catalog, its store, its people and its stock.
    expected = (
        server.count(Product)
        + server.count(Category)
        + server.count(TaxRate)
        + server.count(Store, code="S01")
        + 4  # admin, manager, siti, budi
        + server.count(StockLevel)
    )
    calls: list[tuple[int, int]] = []
    # Small pages so the progress bar moves several times.
    worker = SyncWorker(
        lambda: type(till.store).open(till.settings), till.sync_client, pull_limit=100
    )

    pulled = worker.initial_download(lambda done, total: calls.append((done, total)))

    assert pulled == expected
    assert len(calls) == -(-expected // 100)
    assert calls[-1] == (expected, expected)
    assert all(total == expected for _, total in calls)
    assert [done for done, _ in calls] == sorted({done for done, _ in calls})
    assert till.store.product_count() == len(ITEMS)
    first = ITEMS[0]
    found = till.catalog.by_barcode(first.barcode)
    assert (found.sku, found.name, found.price) == (first.sku, first.name, first.price)
    assert till.store.pending_count() == 0
    profile = till.store.store_profile()
    assert profile is not None and profile.name == "Toko Sumber Rejeki"


def test_sales_rung_up_offline_sync_exactly_once_when_the_server_returns(
    synced_till: Till,
) -> None:
    till, server = synced_till, synced_till.server  # the shift is on the server
    server.stop()

    sales = []
    for n, item in enumerate(ITEMS[:3], start=1):
        sales.append(sell(till, item.barcode, ITEMS[10].barcode))
        assert till.store.pending_count() == n
    offline = till.worker.run_once()

    assert offline.online is False and offline.retry_in is not None
    assert offline.pending == 3
    assert not server.running and server.count(Sale) == 0

    server.start()
    report = till.worker.run_once()

    assert report.online is True and report.pushed == 3 and report.pending == 0
    assert till.store.pending_count() == 0
    assert server.count(Sale) == 3
    for sale in sales:
        assert server.count(Sale, receipt_number=sale.receipt_number) == 1
        assert server.count(Sale, id=sale.id) == 1
        assert server.count(SaleLine, sale_id=sale.id) == 2
    with server.db.session() as session:
        totals = dict(session.execute(select(Sale.receipt_number, Sale.total)).all())
    assert totals == {s.receipt_number: s.total for s in sales}

    # Another round sends nothing again.
    again = till.worker.run_once()
    assert again.pushed == 0 and server.count(Sale) == 3


def test_an_answer_lost_after_the_server_committed_causes_no_duplicate(
    synced_till: Till,
) -> None:
    till, server = synced_till, synced_till.server
    item = ITEMS[5]
    level_before = server_on_hand(server, _product_id(server, item.sku))
    answers: list[list[str]] = []
    drop = {"next": True}

    class LosesOnePushAnswer(httpx.BaseTransport):
        """The real transport; the first push's answer is lost after the server sent it."""

        def __init__(self) -> None:
            self.inner = httpx.HTTPTransport()

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = self.inner.handle_request(request)
            if request.url.path.endswith("/sync/push"):
                response.read()
                if drop["next"]:
                    drop["next"] = False
                    response.close()
                    raise httpx.ReadError("connection reset by peer", request=request)
                answers.append([r["status"] for r in json.loads(response.content)["results"]])
            return response

        def close(self) -> None:
            self.inner.close()

    till.transport = LosesOnePushAnswer
    sales = [sell(till, item.barcode), sell(till, item.barcode, ITEMS[6].barcode)]

    lost = till.worker.run_once()

    assert lost.online is False and "ReadError" in (lost.last_error or "")
    assert till.store.pending_count() == 2  # the till never heard back
    assert server.count(Sale) == 2  # but the server committed the batch
    assert server.count(SyncEvent) == 3  # shift open + two sales

    report = till.worker.run_once()

    assert answers == [["duplicate", "duplicate"]]
    assert report.online is True and report.pending == 0
    assert till.store.pending_count() == 0
    assert server.count(Sale) == 2 and server.count(SyncEvent) == 3
    for sale in sales:
        assert server.count(Sale, id=sale.id) == 1
        assert server.count(StockMove, ref_id=str(sale.id)) == len(sale.lines)
    product_id = _product_id(server, item.sku)
    assert server_on_hand(server, product_id) == level_before - 2
    assert till.catalog.stock_on_hand(product_id) == level_before - 2


def _product_id(server: LiveServer, sku: str) -> int:
    with server.db.session() as session:
        return int(session.scalars(select(Product.id).where(Product.sku == sku)).one())


def test_rejected_events_stay_visible_and_do_not_block_later_ones(selling_till: Till) -> None:
    till, server = selling_till, selling_till.server
    store = till.store
    # A product this till believes in but the server never had.
    ghost = ProductOut(
        id=9_999_999, sku="GHOST-1", barcode=None, name="Barang Hantu", price=1000, change_no=0
    )
    store.apply_pull_page(
        PullResponse(cursor=store.pull_cursor(), has_more=False, remaining=0, products=[ghost])
    )
    first = sell(till, ITEMS[0].barcode)
    till.checkout.scan("GHOST-1")
    unknown = till.checkout.checkout_cash(1000).sale
    tampered = sell(till, ITEMS[1].barcode)
    # Someone edits the queued sale's total by hand.
    row = store.conn.execute(
        "SELECT id, payload FROM outbox WHERE payload LIKE ?", (f"%{tampered.id}%",)
    ).fetchone()
    payload: dict[str, Any] = json.loads(row[1])
    payload["total"] -= 500
    store.conn.execute("UPDATE outbox SET payload = ? WHERE id = ?", (json.dumps(payload), row[0]))
    last = sell(till, ITEMS[2].barcode)

    report = till.worker.run_once()

    assert report.online is True and report.pending == 0
    assert report.rejected == 2 and report.rejected_now == 2
    rejected = {r.payload["id"]: r for r in store.rejected_events()}
    assert set(rejected) == {str(unknown.id), str(tampered.id)}
    assert rejected[str(unknown.id)].code == "unknown_product"
    assert rejected[str(tampered.id)].code == "totals_mismatch"
    assert all(r.reason for r in rejected.values())
    for good in (first, last):
        assert server.count(Sale, id=good.id) == 1
    assert server.count(Sale) == 2
    assert server.count(RejectedEvent) == 2

    # Later sales still flow; the rejected ones are not sent again by themselves.
    later = sell(till, ITEMS[3].barcode)
    again = till.worker.run_once()
    assert again.pushed == 1 and again.rejected_now == 0
    assert server.count(Sale, id=later.id) == 1
    assert len(store.rejected_events()) == 2


def test_a_pin_changed_on_the_server_works_on_the_till_after_the_next_pull(till: Till) -> None:
    server = till.server
    till.worker.initial_download(lambda done, total: None)
    siti = server.user_id("siti")
    till.auth.login(siti, "1111")
    till.auth.logout()

    response = httpx.patch(
        f"{server.base_url}/api/v1/users/{siti}",
        json={"pin": "4321"},
        headers={"Authorization": f"Bearer {server.manager_token()}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    # Before the pull the till only knows the old PIN.
    till.auth.login(siti, "1111")
    till.auth.logout()

    report = till.worker.run_once()

    assert report.online is True and report.pulled >= 1
    assert till.auth.login(siti, "4321").username == "siti"
    till.auth.logout()
    try:
        till.auth.login(siti, "1111")
    except WrongPin:
        pass
    else:
        raise AssertionError("the old PIN still opens the till")


def test_a_refund_approved_with_the_manager_pin_syncs_with_stock(selling_till: Till) -> None:
    till, server = selling_till, selling_till.server
    item, other = ITEMS[20], ITEMS[21]
    product_id, other_id = _product_id(server, item.sku), _product_id(server, other.sku)
    before = server_on_hand(server, product_id), server_on_hand(server, other_id)
    till.checkout.scan(item.barcode, 3)
    till.checkout.scan(other.barcode)
    sale = till.checkout.checkout_cash(till.checkout.totals().total).sale
    line = next(ln for ln in sale.lines if ln.product_id == product_id)
    manager_id = server.user_id("manager")

    refund = till.refunds.refund(
        sale.id,
        {line.id: 2},
        manager_id=manager_id,
        manager_pin=MANAGER_PIN,
        reason="kemasan rusak",
    )
    report = till.worker.run_once()

    assert report.pending == 0 and report.rejected == 0
    with server.db.session() as session:
        stored = session.get(ServerRefund, refund.id)
        assert stored is not None
        assert (stored.sale_id, stored.total) == (sale.id, refund.total)
        assert stored.approved_by == manager_id
        lines = session.scalars(select(RefundLine).where(RefundLine.refund_id == refund.id)).all()
        assert [(ln.sale_line_id, ln.quantity) for ln in lines] == [(line.id, 2)]
        sold = session.get(SaleLine, line.id)
        assert sold is not None and sold.refunded_quantity == 2
    assert refund.total == sum(ln.amount for ln in refund.lines) > 0
    assert server_on_hand(server, product_id) == before[0] - 3 + 2
    assert server_on_hand(server, other_id) == before[1] - 1
    assert till.catalog.stock_on_hand(product_id) == before[0] - 1


def test_stock_on_the_till_is_server_level_plus_unsynced_moves_and_converges(
    selling_till: Till,
) -> None:
    till, server = selling_till, selling_till.server
    item = ITEMS[30]
    product_id = _product_id(server, item.sku)
    start = server_on_hand(server, product_id)
    assert till.catalog.stock_on_hand(product_id) == start

    till.checkout.scan(item.barcode, 4)
    till.checkout.checkout_cash(till.checkout.totals().total)
    # Goods arrive at the store while the sale waits on the till.
    response = httpx.post(
        f"{server.base_url}/api/v1/stock/receive",
        json={"lines": [{"product_id": product_id, "quantity": 10}]},
        headers={"Authorization": f"Bearer {server.manager_token()}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text

    assert server_on_hand(server, product_id) == start + 10
    assert till.catalog.stock_on_hand(product_id) == start - 4  # not pulled yet

    till.worker.run_once()

    assert server_on_hand(server, product_id) == start + 10 - 4
    assert till.catalog.stock_on_hand(product_id) == start + 10 - 4
    assert till.store.pending_count() == 0
