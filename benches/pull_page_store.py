"""The till's store writing pull pages, next to a raw ``executemany`` of the same rows.

No server and no HTTP: the pages are built as models up front, so only
:meth:`~pos_client.store.LocalStore.apply_pull_page` is timed. Two figures, each next
to a raw ``sqlite3`` ``executemany`` of the same rows into bare tables (same folder, WAL,
``synchronous=FULL``, one transaction per page like the store) measured in the same run:

* initial download: ``--products`` products then as many stock levels, in pages of
  ``--page`` (as the server sends them: by change number);
* week-offline catch-up: ``--changed`` products changed on that full catalog (a third
  each renamed, repriced, deactivated) in one page, then their stock levels in another; its raw
  baseline upserts the same rows into the bare tables already holding the catalog.

The raw rows are tuples built before its clock starts (as in ``benches.catalog_download``);
the time to build them from the models is printed on its own.

Goal: store time <= ~2x the raw executemany. Run:
``.venv/bin/python -m benches.pull_page_store [--products 100000] [--page 5000]
[--changed 5000] [--interleaved]``.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from pos_client.store import LocalStore
from shared.models import ProductOut, PullResponse, StockLevelOut

WORDS = ["Indomie", "Teh", "Aqua", "Beras", "Gula", "Kopi", "Sabun", "Susu", "Roti", "Minyak"]


def product(i: int, change_no: int, now: datetime, *, change: str = "") -> ProductOut:
    """Product ``i`` as the server sends it; ``change`` is what a catch-up changed:
    ``"rename"`` (new name and price), ``"price"`` or ``"retire"`` (deactivated)."""
    renamed = change == "rename"
    word = WORDS[(i + 3) % 10] if renamed else WORDS[i % 10]
    return ProductOut(
        id=i,
        sku=f"BENCH-{i:06d}",
        barcode=f"{200_000_000_000 + i:013d}",
        name=f"{word} {'Baru' if renamed else 'Varian'} {i} {i % 7 + 1}00g",
        category_id=1,
        unit="pcs",
        price=1000 + (i * 37) % 50_000 + (500 if change in ("rename", "price") else 0),
        tax_rate_id=1,
        active=change != "retire",
        low_stock_threshold=5,
        change_no=change_no,
        updated_at=now,
    )


def download_pages(n: int, page: int, *, interleaved: bool = False) -> list[PullResponse]:
    """A first download: ``n`` products, then their ``n`` stock levels, ``page`` rows a page.

    ``interleaved``: the products' ids follow their change numbers in a fixed shuffled
    order (a catalog whose products were edited), so each page's ids spread over the
    others' instead of each page holding the next ids up."""
    now = datetime.now(UTC)
    total = 2 * n
    ids = list(range(1, n + 1))
    if interleaved:
        random.Random(15).shuffle(ids)
    pages = []
    for start in range(0, total, page):
        end = min(total, start + page)
        products = [product(ids[c], c + 1, now) for c in range(start, min(end, n))]
        stock = [
            StockLevelOut(product_id=ids[c - n], store_id=1, on_hand=100, change_no=c + 1)
            for c in range(max(start, n), end)
        ]
        pages.append(
            PullResponse(
                cursor=end,
                has_more=end < total,
                remaining=total - end,
                products=products,
                stock=stock,
            )
        )
    return pages


def catch_up_pages(n: int, changed: int, first_change_no: int) -> list[PullResponse]:
    """``changed`` products spread over the catalog, a third each renamed, repriced and
    deactivated, then their stock levels, as two pages."""
    now = datetime.now(UTC)
    step = max(1, n // changed)
    ids = list(range(1, n + 1, step))[:changed]
    changes = ("rename", "price", "retire")
    products = [
        product(i, first_change_no + k, now, change=changes[k % 3]) for k, i in enumerate(ids)
    ]
    cursor = first_change_no + len(ids) - 1
    stock = [
        StockLevelOut(product_id=i, store_id=1, on_hand=42, change_no=cursor + 1 + k)
        for k, i in enumerate(ids)
    ]
    return [
        PullResponse(cursor=cursor, has_more=True, remaining=len(stock), products=products),
        PullResponse(cursor=cursor + len(stock), has_more=False, remaining=0, stock=stock),
    ]


def _product_row(p: ProductOut) -> tuple[object, ...]:
    return (
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
        p.updated_at.isoformat() if p.updated_at else None,
    )


def raw_rows(pages: list[PullResponse]) -> list[tuple[list[tuple[object, ...]], ...]]:
    """The pages' rows as tuples for the raw baseline (built before its clock starts)."""
    return [
        (
            [_product_row(p) for p in page.products],
            [(s.product_id, s.store_id, s.on_hand, s.change_no) for s in page.stock],
        )
        for page in pages
    ]


def raw_apply(pages: list[tuple[list[tuple[object, ...]], ...]], conn: sqlite3.Connection) -> float:
    """Prebuilt rows by ``executemany`` into bare tables, one transaction a page."""
    product_sql = (
        "INSERT INTO products VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
        "sku = excluded.sku, barcode = excluded.barcode, name = excluded.name, "
        "category_id = excluded.category_id, unit = excluded.unit, price = excluded.price, "
        "tax_rate_id = excluded.tax_rate_id, active = excluded.active, "
        "low_stock_threshold = excluded.low_stock_threshold, change_no = excluded.change_no, "
        "updated_at = excluded.updated_at"
    )
    stock_sql = (
        "INSERT INTO stock_levels VALUES (?,?,?,?) ON CONFLICT(product_id, store_id) "
        "DO UPDATE SET on_hand = excluded.on_hand, change_no = excluded.change_no"
    )
    start = time.perf_counter()
    for products, stock in pages:
        conn.execute("BEGIN")
        conn.executemany(product_sql, products)
        conn.executemany(stock_sql, stock)
        conn.execute("COMMIT")
    return time.perf_counter() - start


def raw_db(path: Path) -> sqlite3.Connection:
    """Bare tables (no index, no FTS) in WAL with synchronous=FULL."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(
        "CREATE TABLE products (id INTEGER PRIMARY KEY, sku TEXT, barcode TEXT, name TEXT, "
        "category_id INTEGER, unit TEXT, price INTEGER, tax_rate_id INTEGER, active INTEGER, "
        "low_stock_threshold INTEGER, change_no INTEGER, updated_at TEXT)"
    )
    conn.execute(
        "CREATE TABLE stock_levels (product_id INTEGER, store_id INTEGER, on_hand INTEGER, "
        "change_no INTEGER, PRIMARY KEY (product_id, store_id)) WITHOUT ROWID"
    )
    return conn


def store_apply(pages: list[PullResponse], store: LocalStore) -> float:
    """The pages through ``apply_pull_page``."""
    start = time.perf_counter()
    for page in pages:
        store.apply_pull_page(page)
    return time.perf_counter() - start


def run_once(
    folder: Path, download: list[PullResponse], catch_up: list[PullResponse]
) -> tuple[float, float, float, float]:
    """(store download, raw download, store catch-up, raw catch-up) seconds, in fresh files."""
    store = LocalStore(folder / "till.sqlite3")
    raw = raw_db(folder / "raw.sqlite3")
    try:
        raw_download = raw_apply(raw_rows(download), raw)
        store_download = store_apply(download, store)
        raw_catch_up = raw_apply(raw_rows(catch_up), raw)
        store_catch_up = store_apply(catch_up, store)
        assert store.product_count() == len({p.id for page in download for p in page.products})
    finally:
        raw.close()
        store.close()
    return store_download, raw_download, store_catch_up, raw_catch_up


def main() -> None:
    """Build the pages, time store and raw, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--page", type=int, default=5000)
    parser.add_argument("--changed", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3, help="each figure is the best run")
    parser.add_argument(
        "--interleaved", action="store_true", help="product ids shuffled across the pages"
    )
    args = parser.parse_args()
    n = args.products

    download = download_pages(n, args.page, interleaved=args.interleaved)
    catch_up = catch_up_pages(n, args.changed, 2 * n + 1)
    start = time.perf_counter()
    raw_rows(download)
    build = time.perf_counter() - start
    runs = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(dir=Path.cwd()) as folder:
            runs.append(run_once(Path(folder), download, catch_up))
    store_download, raw_download, store_catch_up, raw_catch_up = (
        min(x) for x in zip(*runs, strict=True)
    )

    rows = 2 * n
    changed = len(catch_up[0].products) + len(catch_up[1].stock)
    print(
        f"{n} products + {n} stock levels in {len(download)} pages of {args.page}"
        f"{', ids interleaved' if args.interleaved else ''}, "
        f"best of {args.runs} runs, WAL + synchronous=FULL"
    )
    print(
        f"  initial download  store {store_download:6.2f} s ({rows / store_download:7.0f} rows/s)"
        f"   raw executemany {raw_download:6.2f} s   ratio {store_download / raw_download:5.2f}x"
    )
    print(
        f"  catch-up {changed:6d} rows  store {store_catch_up:6.3f} s"
        f"   raw executemany {raw_catch_up:6.3f} s   ratio {store_catch_up / raw_catch_up:5.2f}x"
    )
    print(
        f"  (raw rows are tuples built before the clock; building them from the models "
        f"took {build:.2f} s; goal: store <= ~2x raw)"
    )


if __name__ == "__main__":
    main()
