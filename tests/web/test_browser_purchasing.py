"""Purchasing in a real browser: suppliers, a purchase order received in part, the
receive form's product search, stock requests and the margin reports, photographed at
desktop and phone widths into ``artifacts/web/``."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sync_server.auth.models import User
from sync_server.purchasing import service
from sync_server.purchasing.schemas import (
    OrderLineIn,
    OrderReceiptIn,
    PurchaseOrderIn,
    ReceiptLineIn,
    RequestLineIn,
    StockRequestIn,
    SupplierIn,
)
from sync_server.stock.schemas import ReceiveIn, ReceiveLine
from tests.e2e.conftest import LiveServer
from tests.server.sync_helpers import push, refund_event, sale_event, statuses
from tests.web.browser import PHONE, _by, go, live_site, shot
from tests.web.conftest import PRODUCTS_WITH_TAX, catalog_products, demo_app_with_till

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site() -> Iterator[LiveServer]:
    """The demo store: two suppliers, costs from receipts, sales and a refund, an order
    partly received, a draft and a stock request waiting."""
    app, cashier_id, headers = demo_app_with_till("kasir-web-purchasing-")
    db = app.state.db
    products = catalog_products(db, PRODUCTS_WITH_TAX.limit(4))
    with db.session() as s:
        manager = s.scalars(select(User).where(User.username == "manager")).one()
        s.expunge(manager)
    jaya = service.create_supplier(
        db,
        body=SupplierIn(
            name="CV Sumber Jaya", phone="0812-3456-7890", address="Jl. Pasar Baru 12, Bandung"
        ),
    )
    service.create_supplier(db, body=SupplierIn(name="UD Makmur Sentosa", phone="022 123456"))
    service.receive_free(
        db,
        user=manager,
        body=ReceiveIn(
            receipt_id=uuid.uuid4(),
            lines=[
                ReceiveLine(product_id=p.id, quantity=40, unit_cost=p.price * 7 // 10)
                for p in products[:3]
            ],
            note="SJ-0001",
        ),
    )
    sales = [
        sale_event(
            terminal_code="T01",
            cashier_id=cashier_id,
            items=[(products[k % 4], 1 + k % 3), (products[(k + 1) % 4], 1)],
        )
        for k in range(6)
    ]
    refund = refund_event(sales[0], lines=[(0, 1)], approved_by=manager.id)
    client = TestClient(app)
    assert set(statuses(push(client, headers, sales))) == {"applied"}
    assert set(statuses(push(client, headers, [refund]))) == {"applied"}
    order = service.create_order(
        db,
        user=manager,
        body=PurchaseOrderIn(
            supplier_id=jaya.id,
            lines=[
                OrderLineIn(product_id=p.id, quantity=24, unit_cost=p.price * 7 // 10)
                for p in products[:3]
            ],
            note="Stok akhir bulan",
        ),
    )
    service.send_order(db, user=manager, order_id=order.id)
    service.receive_order(
        db,
        user=manager,
        order_id=order.id,
        body=OrderReceiptIn(
            receipt_id=uuid.uuid4(),
            lines=[ReceiptLineIn(product_id=products[0].id, quantity=12)],
        ),
    )
    service.create_request(
        db,
        user=manager,
        body=StockRequestIn(
            lines=[RequestLineIn(product_id=products[3].id, quantity=10)], note="Rak minuman kosong"
        ),
    )
    with live_site(app) as server:
        server.order_id = order.id  # type: ignore[attr-defined]
        server.product_name = products[1].name  # type: ignore[attr-defined]
        yield server


def visit(driver: object, url: str) -> None:
    """Open ``url`` and load it once more: Chromium lays a table out at the phone width
    when the page loads right after a phone-sized screenshot, and keeps that layout."""
    driver.get(url)  # type: ignore[attr-defined]
    driver.refresh()  # type: ignore[attr-defined]


def test_orders_list_and_a_partly_received_order(site: LiveServer, manager: object) -> None:
    d = manager
    d.get(f"{site.base_url}/web/")  # type: ignore[attr-defined]
    go(d, d.find_element(_by("link"), "Pembelian"))  # type: ignore[attr-defined]
    assert "Pesanan pembelian" in d.find_element(_by("css"), "h1").text  # type: ignore[attr-defined]
    page = d.page_source  # type: ignore[attr-defined]
    assert "Diterima sebagian" in page and "Saran pesan ulang" in page
    shot(d, "purchasing-orders")
    shot(d, "purchasing-orders-phone", PHONE)
    go(d, d.find_element(_by("link"), f"PO #{site.order_id}"))  # type: ignore[attr-defined]
    assert "Terima barang" in d.page_source  # type: ignore[attr-defined]
    shot(d, "purchasing-order")
    shot(d, "purchasing-order-phone", PHONE)


def test_receive_form_shows_the_product_name_before_submit(
    site: LiveServer, manager: object
) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    d = manager
    visit(d, f"{site.base_url}/web/stock/receive")
    name = site.product_name  # type: ignore[attr-defined]
    box = d.find_element(_by("id"), "code-1")  # type: ignore[attr-defined]
    box.send_keys(name)
    out = d.find_element(_by("id"), "name-1")  # type: ignore[attr-defined]
    WebDriverWait(d, 5).until(lambda _: out.text == name)  # type: ignore[arg-type]
    cost = d.find_element(_by("id"), "cost-1")  # type: ignore[attr-defined]
    assert cost.get_attribute("value")  # the last price paid, filled in
    d.find_element(_by("css"), "input[name=quantity]").send_keys("6")  # type: ignore[attr-defined]
    shot(d, "purchasing-receive")
    shot(d, "purchasing-receive-phone", PHONE)
    go(d, d.find_element(_by("css"), "#stock-form button[type=submit]"))  # type: ignore[attr-defined]
    assert "Barang masuk dicatat" in d.page_source  # type: ignore[attr-defined]


def test_suppliers_and_stock_requests(site: LiveServer, manager: object) -> None:
    d = manager
    visit(d, f"{site.base_url}/web/purchasing/suppliers")
    assert "CV Sumber Jaya" in d.page_source  # type: ignore[attr-defined]
    shot(d, "purchasing-suppliers")
    shot(d, "purchasing-suppliers-phone", PHONE)
    go(d, d.find_element(_by("link"), "CV Sumber Jaya"))  # type: ignore[attr-defined]
    shot(d, "purchasing-supplier-form-phone", PHONE)
    visit(d, f"{site.base_url}/web/purchasing/requests")
    assert "Rak minuman kosong" in d.page_source  # type: ignore[attr-defined]
    shot(d, "purchasing-requests")
    shot(d, "purchasing-requests-phone", PHONE)


def test_margin_reports(site: LiveServer, manager: object) -> None:
    d = manager
    visit(d, f"{site.base_url}/web/reports/margin-products")
    page = d.page_source  # type: ignore[attr-defined]
    assert "Laba kotor" in page and "HPP belum diketahui" in page
    shot(d, "report-margin-products")
    shot(d, "report-margin-products-phone", PHONE)
    visit(d, f"{site.base_url}/web/reports/margin?granularity=month")
    shot(d, "report-margin-month")
    visit(d, f"{site.base_url}/web/reports/margin-categories")
    shot(d, "report-margin-categories-phone", PHONE)
