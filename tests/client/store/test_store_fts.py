"""Search and barcode lookup stay right on a 100,000-product catalog (correctness only),
and a catalog pulled before GTIN keys existed gets them when the till is updated."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pos_client.services import CatalogService
from pos_client.store import LocalStore
from pos_client.store.migrations import MIGRATIONS, migrate
from tests.client.big_catalog import barcode, catalog_pages, catalog_product

N = 100_000
PAGE = 5000


def test_search_and_lookup_at_100k_products() -> None:
    store = LocalStore.memory()
    for page in catalog_pages(N, PAGE, lambda i: catalog_product(i, active=i % 1000 != 0)):
        store.apply_pull_page(page)
    assert store.product_count() == N and store.pull_cursor() == N
    catalog = CatalogService(store)

    assert [p.id for p in catalog.search("varian77777")] == [77_777]
    assert [p.id for p in catalog.search("kopi varian12345")] == [12_345]
    assert catalog.search("beras varian12345") == []  # every word must match
    hits = catalog.search("varian1234", limit=50)
    assert {p.id for p in hits} == {1234, *range(12_340, 12_350)}
    assert all(p.name.startswith("Gula") for p in catalog.search("gula 300", limit=30))
    offered = {p.id for p in catalog.search("varian5000", limit=50)}
    assert 5000 not in offered and 50_001 in offered  # inactive products are not offered
    assert [p.id for p in catalog.search("sku 099999")] == [99_999]
    assert catalog.by_barcode(barcode(54_321)).id == 54_321
    # Every GTIN form finds the product through the GTIN-14 index, never a table scan.
    assert catalog.by_barcode("0" + barcode(54_321)).id == 54_321
    plan = " ".join(
        row[-1]
        for row in store.conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM products WHERE gtin = ?", ("0" + barcode(1),)
        )
    )
    assert "USING INDEX products_gtin" in plan
    assert catalog.by_sku("SKU-000042").id == 42
    assert store.integrity_check() == "ok"
    assert (
        store.conn.execute(
            "INSERT INTO products_fts(products_fts, rank) VALUES ('integrity-check', 1)"
        )
        is not None
    )  # raises if the index disagrees with the products table


def test_a_catalog_pulled_before_gtin_keys_is_matched_after_the_update(tmp_path: Path) -> None:
    path = tmp_path / "till.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, MIGRATIONS[:2])  # the schema before the GTIN key
    conn.executemany(
        "INSERT INTO products (id, sku, barcode, name, unit, price, active, change_no) "
        "VALUES (?, ?, ?, ?, 'pcs', 1000, 1, 1)",
        [(1, "SODA", "036000291452", "Soda"), (2, "KODE", "RT-0001", "Rak"), (3, "X", None, "X")],
    )
    conn.close()

    store = LocalStore(path)
    assert store.schema_version == len(MIGRATIONS)
    soda = store.product_by_barcode("0036000291452")
    rak = store.product_by_barcode("RT-0001")
    assert (soda and soda.id, rak and rak.id) == (1, 2)
    assert store.product_by_barcode("rt-0001") is None  # other codes still match exactly
    store.close()
