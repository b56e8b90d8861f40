"""The two ways a pull page's products are written: a page whose id range holds no stored
product is indexed by that range; any other page (one that encloses stored products,
even ones it does not carry) drops and adds the entries of its own rows only. And the
change times, turned into text once per distinct moment, are stored as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from pos_client.store import LocalStore
from pos_client.store.base import to_db_time
from shared.models import ProductOut, PullResponse

UTC_MOMENT = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def product(pid: int, name: str, **fields: Any) -> ProductOut:
    given: dict[str, Any] = {"sku": f"SKU-{pid}", "price": 1000, "change_no": pid, **fields}
    return ProductOut(id=pid, name=name, **given)


def page(cursor: int, *products: ProductOut) -> PullResponse:
    return PullResponse(cursor=cursor, has_more=False, remaining=0, products=list(products))


def hits(store: LocalStore, word: str) -> list[int]:
    rows = store.conn.execute(
        "SELECT rowid FROM products_fts WHERE products_fts MATCH ? ORDER BY rowid", (word,)
    )
    return [row[0] for row in rows]


def assert_index_exact(store: LocalStore) -> None:
    store.conn.execute("INSERT INTO products_fts(products_fts, rank) VALUES ('integrity-check', 1)")


def test_new_products_around_a_stored_one_leave_its_entry_alone() -> None:
    store = LocalStore.memory()
    store.apply_pull_page(page(5, product(5, "Kopi Tengah")))
    # 1 and 9 are new, but 5 (stored, not in this page) lies between them.
    store.apply_pull_page(page(9, product(1, "Kopi Awal"), product(9, "Kopi Akhir")))
    assert hits(store, "kopi") == [1, 5, 9] and hits(store, "tengah") == [5]
    assert_index_exact(store)
    # A page of new ids above every stored one, then one renaming inside the range.
    store.apply_pull_page(page(12, product(10, "Teh Manis"), product(12, "Teh Tawar")))
    store.apply_pull_page(page(13, product(11, "Teh Hijau"), product(10, "Susu Manis")))
    assert hits(store, "teh") == [11, 12] and hits(store, "manis") == [10]
    assert hits(store, "susu") == [10]
    assert store.product_count() == 6 and store.pull_cursor() == 13
    assert_index_exact(store)


def test_a_new_range_carrying_one_product_twice_indexes_the_last_once() -> None:
    store = LocalStore.memory()
    store.apply_pull_page(
        page(3, product(2, "Gula Pasir"), product(3, "Roti"), product(2, "Beras"))
    )
    assert hits(store, "gula") == [] and hits(store, "beras") == [2] and hits(store, "roti") == [3]
    assert_index_exact(store)


def test_change_times_are_stored_in_utc_each_as_to_db_time_says() -> None:
    store = LocalStore.memory()
    moment = datetime(2026, 12, 7, 15, 30, 1, 250, tzinfo=UTC)
    jakarta = moment.astimezone(timezone(timedelta(hours=7)))
    later = moment + timedelta(seconds=1)
    store.apply_pull_page(
        page(
            4,
            product(1, "A", updated_at=moment),
            product(2, "B", updated_at=jakarta),  # the same moment, another offset
            product(3, "C", updated_at=later),
            product(4, "D"),
        )
    )
    stored = store.conn.execute("SELECT updated_at FROM products ORDER BY id").fetchall()
    assert stored == [(to_db_time(moment),), (to_db_time(moment),), (to_db_time(later),), (None,)]
    assert stored[1][0].endswith("+00:00")


def test_a_naive_change_time_stores_nothing_of_the_page() -> None:
    store = LocalStore.memory()
    store.apply_pull_page(page(1, product(1, "Kopi")))
    naive = datetime(2026, 12, 7, 15, 30)  # what the store must refuse
    bad = page(3, product(2, "Teh", updated_at=UTC_MOMENT), product(3, "Susu", updated_at=naive))
    with pytest.raises(ValueError, match="timezone-aware"):
        store.apply_pull_page(bad)
    assert store.pull_cursor() == 1 and store.product_count() == 1 and hits(store, "teh") == []
    assert not store.conn.in_transaction
    assert_index_exact(store)


def test_a_download_whose_pages_interleave_ids_is_searchable_page_after_page() -> None:
    # An edited catalog comes by change number: each page's ids spread over the others'.
    store = LocalStore.memory()
    order = [(i * 7919) % 2000 + 1 for i in range(2000)]
    assert sorted(order) == list(range(1, 2001))
    for start in range(0, 2000, 200):
        ids = order[start : start + 200]
        store.apply_pull_page(page(start + 200, *(product(i, f"Kopi Varian{i}") for i in ids)))
        stored = sorted(order[: start + 200])
        assert hits(store, "kopi") == stored and hits(store, f"varian{ids[0]}") == [ids[0]]
        assert_index_exact(store)
    assert store.product_count() == 2000


def test_a_catch_up_moves_changed_barcodes_and_skus_and_keeps_the_others() -> None:
    store = LocalStore.memory()
    store.apply_pull_page(
        page(
            3,
            product(1, "Kopi", barcode="8991234567899"),
            product(2, "Teh", barcode="RT-0002"),
            product(3, "Susu", barcode="036000291452"),
        )
    )
    catch_up = page(
        9,
        product(1, "Kopi", barcode="8991234567899", price=2500, change_no=6),  # price only
        product(2, "Teh Manis", barcode="RT-0020", change_no=7),  # renamed, new code
        product(3, "Susu", sku="SUSU-1", barcode="036000291452", price=9, change_no=8),
        product(4, "Roti", barcode="4006381333931", change_no=9),  # new
    )
    store.apply_pull_page(catch_up)
    found = {
        code: (hit.id, hit.price) if (hit := store.product_by_barcode(code)) else None
        for code in ("8991234567899", "RT-0002", "RT-0020", "0036000291452", "4006381333931")
    }
    assert found == {
        "8991234567899": (1, 2500),
        "RT-0002": None,
        "RT-0020": (2, 1000),
        "0036000291452": (3, 9),
        "4006381333931": (4, 1000),
    }
    assert store.product_by_sku("SKU-3") is None and store.product_by_sku("SUSU-1") is not None
    assert hits(store, "manis") == [2] and hits(store, "susu") == [3] and hits(store, "3") == []
    assert hits(store, "sku") == [1, 2, 4]  # 3 is "SUSU-1" now
    assert store.integrity_check() == "ok"
    assert_index_exact(store)
