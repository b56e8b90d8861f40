"""Pull pages written in bulk: one transaction per page with its cursor, idempotent, and a
full-text index equal to the one the old per-row triggers kept, page after page (what a
search finds while a first download runs), on a first download and on a catch-up."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pos_client.store import LocalStore
from pos_client.store.catalog import fts_prefix_query
from pos_client.store.migrations import MIGRATIONS, migrate
from pos_client.store.sync import _UPSERT_PRODUCT
from shared.models import CategoryOut, ProductOut, PullResponse, StockLevelOut
from tests.client.big_catalog import WORDS, catalog_pages, variant_name

V7 = MIGRATIONS[:7]  # the schema whose triggers indexed products one row at a time


def queries(words: Iterable[str]) -> list[str]:
    """Every 1- to 3-letter prefix and whole word, and some two-word searches."""
    found: set[str] = set()
    for word in words:
        for n in (1, 2, 3, len(word)):
            found.add(word[:n].lower())
    pairs = sorted(found)
    return sorted(found) + [f"{a} {b}" for a, b in zip(pairs, pairs[3:], strict=False)]


def fts_hits(conn: sqlite3.Connection, text: str) -> list[int]:
    """The product ids the full-text index matches for ``text``, best first."""
    query = fts_prefix_query(text)
    assert query is not None
    return [
        row[0]
        for row in conn.execute(
            "SELECT rowid FROM products_fts WHERE products_fts MATCH ? ORDER BY rank, rowid",
            (query,),
        )
    ]


def assert_index_exact(conn: sqlite3.Connection) -> None:
    """FTS5's own check of the index against the products table (raises when stale)."""
    conn.execute("INSERT INTO products_fts(products_fts, rank) VALUES ('integrity-check', 1)")


class RowByRow:
    """The reference: the v7 schema, each product upserted alone, indexed by its triggers."""

    def __init__(self) -> None:
        self.conn = sqlite3.connect(":memory:", isolation_level=None)
        migrate(self.conn, V7)

    def apply(self, products: Sequence[ProductOut]) -> None:
        for p in products:
            self.conn.execute(
                _UPSERT_PRODUCT,
                (
                    p.id,
                    p.sku,
                    p.barcode,
                    p.name,
                    p.category_id,
                    p.unit,
                    p.price,
                    p.tax_rate_id,
                    p.active,
                    p.low_stock_threshold,
                    p.change_no,
                    None if p.updated_at is None else p.updated_at.isoformat(),
                ),
            )


def product(
    pid: int, change_no: int, name: str, *, sku: str | None = None, **extra: Any
) -> ProductOut:
    fields: dict[str, Any] = {"price": 1000 + pid, **extra}
    return ProductOut(id=pid, sku=sku or f"SKU-{pid:06d}", name=name, change_no=change_no, **fields)


def page(cursor: int, products: list[ProductOut], **more: Any) -> PullResponse:
    return PullResponse(cursor=cursor, has_more=False, remaining=0, products=products, **more)


def table(store: LocalStore, name: str) -> list[tuple[object, ...]]:
    return store.conn.execute(f"SELECT * FROM {name} ORDER BY 1, 2").fetchall()


# -- one transaction, idempotent -----------------------------------------------------------
def test_a_page_applied_twice_changes_nothing_the_second_time() -> None:
    store = LocalStore.memory()
    first = page(
        10,
        [product(i, i, f"{WORDS[i % 10]} Varian{i}") for i in range(1, 9)],
        categories=[CategoryOut(id=1, name="Sembako", change_no=9)],
        stock=[StockLevelOut(product_id=i, store_id=1, on_hand=i, change_no=10) for i in (1, 2)],
    )
    store.apply_pull_page(first)
    snapshot = {t: table(store, t) for t in ("products", "categories", "stock_levels")}
    hits = {q: fts_hits(store.conn, q) for q in queries(WORDS)}
    store.apply_pull_page(first)
    assert {t: table(store, t) for t in snapshot} == snapshot
    assert {q: fts_hits(store.conn, q) for q in hits} == hits
    assert store.pull_cursor() == 10 and fts_hits(store.conn, "varian3") == [3]
    assert_index_exact(store.conn)


def test_a_page_with_a_row_that_cannot_be_stored_stores_nothing_and_keeps_the_cursor() -> None:
    store = LocalStore.memory()
    store.apply_pull_page(page(10, [product(1, 1, "Kopi Kapal Api"), product(2, 2, "Teh Celup")]))
    before = {t: table(store, t) for t in ("products", "categories", "stock_levels")}
    # A renamed product and a new one come first; the last row breaks a NOT NULL column.
    broken = ProductOut.model_construct(
        id=4, sku="SKU-4", barcode=None, name=None, category_id=None, unit="pcs", price=1,
        tax_rate_id=None, active=True, low_stock_threshold=0, change_no=14, updated_at=None,
    )  # fmt: skip
    bad = page(
        20,
        [product(1, 11, "Susu Bendera"), product(3, 13, "Roti Tawar"), broken],
        categories=[CategoryOut(id=5, name="Minuman", change_no=12)],
        stock=[StockLevelOut(product_id=1, store_id=1, on_hand=3, change_no=15)],
    )
    with pytest.raises(sqlite3.IntegrityError):
        store.apply_pull_page(bad)
    assert store.pull_cursor() == 10
    assert {t: table(store, t) for t in before} == before
    assert fts_hits(store.conn, "kopi") == [1] and fts_hits(store.conn, "susu") == []
    assert fts_hits(store.conn, "roti") == []
    assert_index_exact(store.conn)
    # The same page without the broken row goes in whole.
    store.apply_pull_page(bad.model_copy(update={"products": bad.products[:2]}))
    assert store.pull_cursor() == 20 and fts_hits(store.conn, "susu") == [1]
    assert fts_hits(store.conn, "kopi") == [] and fts_hits(store.conn, "roti") == [3]


# -- the index equals the one kept row by row ----------------------------------------------
def test_first_download_then_catch_up_index_as_row_by_row_after_every_page() -> None:
    store, reference = LocalStore.memory(), RowByRow()
    pages = [
        page(
            start + 49,
            [
                product(i, i, variant_name(i))
                for i in range(start, start + 50)
            ],
        )
        for start in range(1, 301, 50)
    ]  # fmt: skip
    catch_up = page(
        400,
        [
            product(i, 300 + i, f"{WORDS[(i + 3) % 10]} Baru{i}") if i % 3 == 0
            else product(i, 300 + i, variant_name(i), sku=f"NEW-{i}")
            if i % 3 == 1
            else product(i, 300 + i, variant_name(i), active=False)
            for i in range(1, 301, 4)
        ],
    )  # fmt: skip
    texts = [*queries(WORDS), "varian12", "varian123", "baru12", "new", "sku 0001", "100g"]
    for each in [*pages, catch_up]:
        store.apply_pull_page(each)
        reference.apply(each.products)
        # What a search finds right after this page is exactly what the rows say.
        for text in texts:
            assert fts_hits(store.conn, text) == fts_hits(reference.conn, text), text
        assert_index_exact(store.conn)
    # 9 and 93 were renamed ("Baru9", "Baru93"); 97 got a new SKU, 1, 5 and 13 too.
    assert set(fts_hits(store.conn, "varian9")) == set(range(90, 100)) - {93}
    assert set(fts_hits(store.conn, "baru9")) == {9, 93}
    assert set(fts_hits(store.conn, "new")) == {i for i in range(1, 301, 4) if i % 3 == 1}


names = st.lists(st.sampled_from([*WORDS, "Kópi", "Gulá", "Teh-Botol"]), min_size=1, max_size=3)
pages_of = st.lists(
    st.lists(
        st.tuples(st.integers(1, 25), names, st.sampled_from(["A-1", "B-2", "KOPI-9"])),
        max_size=12,
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pages_of)
def test_random_pages_index_as_row_by_row(
    raw_pages: list[list[tuple[int, list[str], str]]],
) -> None:
    store, reference = LocalStore.memory(), RowByRow()
    change = 0
    texts = queries([*WORDS, "kopi", "gula", "botol", "a", "b"])
    for rows in raw_pages:
        products = []
        for pid, words, sku in rows:  # a page may even carry one product twice: last wins
            change += 1
            products.append(product(pid, change, " ".join(words), sku=f"{sku}{pid}"))
        store.apply_pull_page(page(change, products))
        reference.apply(products)
        for text in texts:
            assert fts_hits(store.conn, text) == fts_hits(reference.conn, text), text
        assert_index_exact(store.conn)
    assert (
        table(store, "products")
        == reference.conn.execute("SELECT * FROM products ORDER BY 1, 2").fetchall()
    )
    store.close()


# -- a week offline on a 100,000-product catalog --------------------------------------------
def test_catching_up_5000_changes_on_100k_products_keeps_search_exact() -> None:
    n, size = 100_000, 5000
    store = LocalStore.memory()
    for download in catalog_pages(n, size, lambda i: product(i, i, variant_name(i))):
        store.apply_pull_page(download)
    changed = list(range(7, n + 1, 20))  # 5,000 products all over the catalog
    assert len(changed) == 5000
    renamed = [i for i in changed if i % 3 == 0]
    repriced = [i for i in changed if i % 3 == 1]
    retired = [i for i in changed if i % 3 == 2]

    def changed_row(k: int, i: int) -> ProductOut:
        name = variant_name(i)
        if i % 3 == 0:
            return product(i, n + k, f"{WORDS[(i + 3) % 10]} Baru{i}")
        if i % 3 == 1:
            return product(i, n + k, name, price=2 * (1000 + i))
        return product(i, n + k, name, active=False)

    store.apply_pull_page(
        page(n + 5000, [changed_row(k, i) for k, i in enumerate(changed, start=1)])
    )
    assert store.product_count() == n and store.pull_cursor() == n + 5000
    for i in renamed[:50]:
        assert i not in fts_hits(store.conn, f"varian{i}")  # the old name is gone
        assert i in fts_hits(store.conn, f"baru{i}")
        assert store.search_products(f"baru{i}")[0].id == i
    for i in repriced[:50]:
        found = store.product(i)
        assert found is not None and found.price == 2 * (1000 + i)
    for i in retired[:50]:
        assert i not in [p.id for p in store.search_products(f"varian{i}")]
        assert i in [p.id for p in store.search_products(f"varian{i}", include_inactive=True)]
    # The same catalog's index built from scratch finds the same products in the same order.
    fresh = sqlite3.connect(":memory:", isolation_level=None)
    store.conn.backup(fresh)
    fresh.execute("INSERT INTO products_fts(products_fts) VALUES ('delete-all')")
    fresh.execute("INSERT INTO products_fts(products_fts) VALUES ('rebuild')")
    for text in [*queries(WORDS), "baru", "baru3", "varian21", "varian1234", "sku 00007"]:
        assert fts_hits(store.conn, text) == fts_hits(fresh, text), text
    assert_index_exact(store.conn)
    store.close()


# -- a till pulled under the trigger schema upgrades in place ------------------------------
BARCODES = [
    None,
    "",
    "96385074",  # EAN-8
    "036000291452",  # UPC-A
    "0036000291452",  # the same as EAN-13
    "10036000291459",  # GTIN-14
    "1234567",  # 7 digits
    "123456789",  # 9
    "12345678901",  # 11
    "123456789012345",  # 15
    "RT-0001",  # Code128 text
    "12345678901X",  # 12 characters, not all digits
    "4006381333931",
]


def test_a_till_pulled_before_bulk_writes_upgrades_with_its_index_and_gtin_keys(
    tmp_path: Path,
) -> None:
    path = tmp_path / "till.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, V7)
    old = RowByRow()
    products = [
        product(i, i, f"{WORDS[i % 10]} Varian{i}", barcode=code)
        for i, code in enumerate(BARCODES, start=1)
    ]
    for target in (conn, old.conn):
        for p in products:  # each row indexed by the v1 triggers, as a till did until now
            target.execute(
                "INSERT INTO products (id, sku, barcode, name, unit, price, active, change_no) "
                "VALUES (?, ?, ?, ?, 'pcs', 1000, 1, ?)",
                (p.id, p.sku, p.barcode, p.name, p.change_no),
            )
    keys_before = conn.execute("SELECT id, gtin FROM products ORDER BY id").fetchall()
    conn.close()

    store = LocalStore(path)
    assert store.schema_version == len(MIGRATIONS)
    assert store.conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
    ).fetchone() == (0,)
    assert store.conn.execute("SELECT id, gtin FROM products ORDER BY id").fetchall() == keys_before
    assert [r for r in keys_before if r[1]] == [
        (3, "00000096385074"),
        (4, "00036000291452"),
        (5, "00036000291452"),
        (6, "10036000291459"),
        (13, "04006381333931"),
    ]
    texts = queries(WORDS)
    for text in texts:
        assert fts_hits(store.conn, text) == fts_hits(old.conn, text), text
    # The first pull after the update renames a product: the old name is no longer found.
    renamed = product(2, 20, "Kopi Luwak Baru", barcode=BARCODES[1])
    store.apply_pull_page(page(20, [renamed]))
    old.apply([renamed])
    for text in [*texts, "luwak", "varian2"]:
        assert fts_hits(store.conn, text) == fts_hits(old.conn, text), text
    assert fts_hits(store.conn, "varian2") == [] and fts_hits(store.conn, "luwak") == [2]
    assert_index_exact(store.conn)
    plan = " ".join(
        row[-1]
        for row in store.conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM products WHERE gtin = ?", ("00036000291452",)
        )
    )
    assert "USING INDEX products_gtin" in plan
    store.close()
