"""A till that sold offline at the price it had pulled is believed; a price it never had
is applied and flagged. The till sends its catalog cursor with every sale."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from sync_server.catalog.models import Product
from sync_server.flags.models import Flag
from sync_server.sync.models import Sale
from tests.e2e.conftest import Till
from tests.e2e.test_till_server_sync import ITEMS, sell


def _set_price(till: Till, sku: str, price: int) -> int:
    server = till.server
    with server.db.session() as session:
        product_id = int(session.scalars(select(Product.id).where(Product.sku == sku)).one())
    response = httpx.patch(
        f"{server.base_url}/api/v1/products/{product_id}",
        json={"price": price},
        headers={"Authorization": f"Bearer {server.admin_token()}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return product_id


def _flags(till: Till) -> list[tuple[str, str]]:
    with till.server.db.session() as session:
        rows = session.execute(select(Flag.kind, Flag.sale_id)).all()
    return [(kind, str(sale_id)) for kind, sale_id in rows]


def test_a_sale_at_the_pulled_price_is_not_flagged_after_a_price_change(
    synced_till: Till,
) -> None:
    till, server = synced_till, synced_till.server
    item = ITEMS[3]
    old_price = till.catalog.by_barcode(item.barcode).price

    # The admin raises the price on the server while the till has not pulled yet.
    _set_price(till, item.sku, old_price + 1_000)
    stale = sell(till, item.barcode)
    assert stale.catalog_cursor is not None and stale.catalog_cursor > 0
    assert stale.lines[0].unit_price == old_price

    report = till.worker.run_once()  # pushes the sale, then pulls the new price

    assert report.online is True and report.pending == 0
    assert server.count(Sale, id=stale.id) == 1
    assert _flags(till) == []  # the till sold at the price it had: believed
    assert till.catalog.by_barcode(item.barcode).price == old_price + 1_000

    fresh = sell(till, item.barcode)
    assert fresh.lines[0].unit_price == old_price + 1_000
    assert fresh.catalog_cursor is not None and fresh.catalog_cursor > stale.catalog_cursor
    till.worker.run_once()
    assert server.count(Sale, id=fresh.id) == 1
    assert _flags(till) == []


def test_a_price_the_till_never_had_is_applied_and_flagged(synced_till: Till) -> None:
    till, server = synced_till, synced_till.server
    item = ITEMS[4]
    real = till.catalog.by_barcode(item.barcode).price
    # A till whose local catalog was tampered with (or a third-party till) claims Rp 1.
    till.store.conn.execute("UPDATE products SET price = 1 WHERE sku = ?", (item.sku,))
    cheap = sell(till, item.barcode)
    assert cheap.lines[0].unit_price == 1 != real

    till.worker.run_once()

    assert server.count(Sale, id=cheap.id) == 1  # money was taken: the sale is kept
    assert _flags(till) == [("price_mismatch", str(cheap.id))]
