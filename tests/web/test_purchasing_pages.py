"""The purchasing pages and the stock forms: suppliers, an order from draft to received,
stock requests to an order, low-stock suggestions, the product search of the forms and
the stock page's keyset paging (SQLite and MariaDB)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from sync_server.core.database import Database
from sync_server.purchasing.models import ProductCost
from sync_server.web.pages import stock as stock_page
from tests.server.conftest import World
from tests.server.sync_helpers import add_products, on_hand
from tests.web.conftest import WebClient


def _flash_target(resp: object) -> str:
    location = resp.headers["location"]  # type: ignore[attr-defined]
    assert isinstance(location, str)
    return location


def test_supplier_pages(manager_web: WebClient) -> None:
    http = manager_web.http
    assert http.get("/web/purchasing/suppliers").status_code == 200
    resp = manager_web.post(
        "/web/purchasing/suppliers/new",
        {"name": "UD Makmur", "phone": "0812 111", "address": "Pasar Baru", "active": "on"},
    )
    assert resp.status_code == 303
    page = http.get("/web/purchasing/suppliers").text
    assert "UD Makmur" in page and "aktif" in page
    sid = re.search(r'/web/purchasing/suppliers/(\d+)"', page)
    assert sid
    bad = manager_web.post(f"/web/purchasing/suppliers/{sid.group(1)}", {"name": " "})
    assert bad.status_code == 422
    assert 'class="flash' in bad.text or "error" in bad.text
    assert http.get("/web/purchasing/suppliers/999999").status_code == 404
    assert http.get("/web/purchasing/suppliers/99999999999999999999").status_code == 422


def test_an_order_from_draft_to_received_on_the_pages(
    manager_web: WebClient, db: Database, world: World
) -> None:
    (p,) = add_products(db)
    manager_web.post("/web/purchasing/suppliers/new", {"name": "CV Jaya", "active": "on"})
    form = manager_web.http.get("/web/purchasing/orders/new")
    assert form.status_code == 200 and "CV Jaya" in form.text
    sid = re.search(r'<option value="(\d+)"', form.text)
    assert sid
    # A line typed by name (one match) is found; a cost is required.
    no_cost = manager_web.post(
        "/web/purchasing/orders/new",
        {"supplier_id": sid.group(1), "code": [p.name], "quantity": ["10"], "cost": [""]},
    )
    assert no_cost.status_code == 422 and "harga beli" in no_cost.text
    made = manager_web.post(
        "/web/purchasing/orders/new",
        {"supplier_id": sid.group(1), "code": [p.name], "quantity": ["10"], "cost": ["1.500"]},
    )
    assert made.status_code == 303, made.text
    url = _flash_target(made).split("?")[0]
    page = manager_web.http.get(url).text
    assert "Draf" in page and "Rp 15.000" in page
    oid = url.rsplit("/", 1)[1]
    assert manager_web.post(f"/web/purchasing/orders/{oid}/send").status_code == 303
    page = manager_web.http.get(url).text
    assert "Terima barang" in page
    receipt = re.search(r'name="receipt_id" value="([^"]+)"', page)
    assert receipt
    body = {
        "receipt_id": receipt.group(1),
        "product_id": [str(p.id)],
        "quantity": ["4"],
        "cost": ["1500"],
    }
    assert manager_web.post(f"/web/purchasing/orders/{oid}/receive", body).status_code == 303
    # The same form sent twice (a double click) is applied once.
    again = manager_web.post(f"/web/purchasing/orders/{oid}/receive", body)
    assert "sudah" in _flash_target(again)
    assert on_hand(db, world.store_id, p.id) == 4
    over = manager_web.post(
        f"/web/purchasing/orders/{oid}/receive",
        {"receipt_id": "", "product_id": [str(p.id)], "quantity": ["7"], "cost": [""]},
    )
    assert over.status_code == 422 and "melebihi" in over.text
    assert "Diterima sebagian" in manager_web.http.get("/web/purchasing").text
    # Cancelling a partly received order is refused with a page, not a crash.
    assert manager_web.post(f"/web/purchasing/orders/{oid}/cancel").status_code == 409


def test_requests_suggestions_and_the_order_list(
    manager_web: WebClient, db: Database, world: World
) -> None:
    (p,) = add_products(db, low_stock_threshold=3)
    manager_web.post("/web/purchasing/suppliers/new", {"name": "PT Sentosa", "active": "on"})
    page = manager_web.http.get("/web/purchasing").text
    assert "Saran pesan ulang" in page and p.sku in page
    sid = re.search(r'<option value="(\d+)">PT Sentosa', page)
    assert sid
    made = manager_web.post("/web/purchasing/suggestions/to-po", {"supplier_id": sid.group(1)})
    assert made.status_code == 303
    assert "Draf" in manager_web.http.get(_flash_target(made).split("?")[0]).text
    asked = manager_web.post(
        "/web/purchasing/requests/new", {"code": [p.sku], "quantity": ["6"], "note": "rak kosong"}
    )
    assert asked.status_code == 303
    page = manager_web.http.get("/web/purchasing/requests").text
    assert "Diajukan" in page and "rak kosong" in page
    rid = re.search(r"/web/purchasing/requests/(\d+)/approve", page)
    assert rid
    manager_web.post(f"/web/purchasing/requests/{rid.group(1)}/approve")
    made = manager_web.post(
        f"/web/purchasing/requests/{rid.group(1)}/to-po", {"supplier_id": sid.group(1)}
    )
    assert made.status_code == 303
    assert "Sudah dipesan" in manager_web.http.get("/web/purchasing/requests").text
    unknown = manager_web.post(
        "/web/purchasing/requests/new", {"code": ["tidak-ada-xyz"], "quantity": ["1"]}
    )
    assert unknown.status_code == 422 and "tidak dikenal" in unknown.text
    bad_supplier = manager_web.post("/web/purchasing/suggestions/to-po", {"supplier_id": "x"})
    assert bad_supplier.status_code == 404


def test_free_receipt_form_finds_by_name_and_keeps_cost(
    manager_web: WebClient, db: Database, world: World
) -> None:
    (p,) = add_products(db)
    form = manager_web.http.get("/web/stock/receive").text
    receipt = re.search(r'name="receipt_id" value="([^"]+)"', form)
    assert receipt and "Harga beli" in form
    found = manager_web.http.get("/web/stock/lookup", params={"q": p.name}).json()
    assert [(f["id"], f["name"]) for f in found] == [(p.id, p.name)]
    body = {
        "receipt_id": receipt.group(1),
        "code": [p.name, ""],
        "quantity": ["12", ""],
        "cost": ["2.000", ""],
        "note": "SJ-1",
    }
    for _ in range(2):
        assert manager_web.post("/web/stock/receive", body).status_code == 303
    assert on_hand(db, world.store_id, p.id) == 12
    with db.session() as s:
        cost = s.get(ProductCost, (world.store_id, p.id))
        assert cost is not None and cost.avg_cost == 2_000
    found = manager_web.http.get("/web/stock/lookup", params={"q": p.sku}).json()
    assert found[0]["last_cost"] == 2_000 and found[0]["exact"] is True
    count = manager_web.post(
        "/web/stock/count", {"code": [p.sku], "quantity": ["10"], "note": "opname"}
    )
    assert count.status_code == 303
    assert on_hand(db, world.store_id, p.id) == 10
    bad = manager_web.post(
        "/web/stock/receive", {"code": [p.sku], "quantity": ["1"], "cost": ["murah"]}
    )
    assert bad.status_code == 422 and "rupiah" in bad.text


def test_stock_page_pages_by_product_id(
    manager_web: WebClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    products = add_products(db, 5)
    monkeypatch.setattr(stock_page, "STOCK_PAGE", 2)
    seen: list[str] = []
    url = "/web/stock"
    for _ in range(10):
        page = manager_web.http.get(url).text
        seen += [p.sku for p in products if p.sku in page]
        found = re.search(r'id="stock-next" href="([^"]+)"', page)
        if not found:
            break
        url = found.group(1).replace("&amp;", "&")
    assert seen == [p.sku for p in products]


def test_purchasing_pages_need_a_manager(client: TestClient, world: World) -> None:
    client.cookies.set("kasir_session", world.cashier_token)
    assert client.get("/web/purchasing", follow_redirects=False).status_code in (303, 403)


def test_bad_form_input_is_never_a_500(manager_web: WebClient, db: Database) -> None:
    (p,) = add_products(db)
    huge = "9" * 25
    posts = [
        (
            "/web/purchasing/orders/new",
            {"supplier_id": huge, "code": [p.sku], "quantity": ["1"], "cost": ["1"]},
        ),
        (
            "/web/purchasing/orders/new",
            {"supplier_id": "1", "code": [p.sku], "quantity": [huge], "cost": [huge]},
        ),
        (
            "/web/purchasing/orders/1/receive",
            {"receipt_id": "x", "product_id": [huge], "quantity": ["1"]},
        ),
        ("/web/purchasing/orders/1/send", {}),
        ("/web/purchasing/requests/1/to-po", {"supplier_id": "abc"}),
        ("/web/purchasing/requests/new", {"code": ["\x00"], "quantity": ["-1"]}),
        ("/web/purchasing/suppliers/new", {"name": "x" * 500, "phone": "telp?"}),
        ("/web/stock/receive", {"code": [p.sku], "quantity": ["0"], "cost": ["-5"]}),
        ("/web/stock/count", {"code": [p.sku], "quantity": [huge]}),
    ]
    for path, data in posts:
        resp = manager_web.post(path, data)
        assert resp.status_code < 500, (path, resp.status_code, resp.text[:200])
    for path in (
        f"/web/stock?after={huge}",
        "/web/stock?after=-4",
        f"/web/stock/lookup?q={'%25' * 300}",
        f"/web/purchasing/orders/{huge}",
        "/web/purchasing?status=nope",
    ):
        assert manager_web.http.get(path).status_code < 500, path
