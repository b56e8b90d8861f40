"""A new terminal downloading a 100,000-product catalog from a live server, end to end.

Run: ``.venv/bin/python -m benches.catalog_download [--products 100000] [--no-stock]
[--mariadb]``

Starts the real server (uvicorn in a subprocess, as in production) on a fresh SQLite
file (or a fresh MariaDB database) holding the demo store plus ``--products`` products
inserted in bulk, each with a stock level, enrolls a terminal over HTTP, then times a
brand-new :class:`~pos_client.store.LocalStore` doing
:meth:`~pos_client.sync.worker.SyncWorker.initial_download` in pages of 5,000.

Prints the total, rows/s and products/s, split into HTTP+JSON (the client's ``pull``:
request, server, response parsing into models) and store time (``apply_pull_page``),
next to two baselines from the same run: fetching the same pages with raw httpx (no
parsing, no storing) and a raw ``sqlite3`` ``executemany`` of the same product rows
into a bare table. Goal: < 10 s end to end. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import httpx

from pos_client.config import ClientSettings
from pos_client.store import LocalStore
from pos_client.sync.client import PULL_PATH, SyncClient, enroll
from pos_client.sync.worker import SyncWorker
from shared.barcodes import make_ean13
from shared.models import (
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    EnrollmentCodeRequest,
    PullResponse,
)
from tests.conftest import free_port, fresh_mariadb_database, uvicorn_command

PAGE = 5000
SECRET = "bench-secret-key-that-is-long-enough-0123456789"
WORDS = ["Indomie", "Teh", "Aqua", "Beras", "Gula", "Kopi", "Sabun", "Susu", "Roti", "Minyak"]
MARIADB_DB = "kasir_bench_download"


def fresh_mariadb() -> str:
    """Drop and re-create the bench database on MariaDB; its URL."""
    return fresh_mariadb_database(MARIADB_DB)


def product_rows(n: int, *, first_change_no: int, category_id: int, tax_rate_id: int) -> list[dict]:
    """``n`` products as table rows, with unique SKUs, EAN-13s and change numbers."""
    now = datetime.now(UTC)
    return [
        {
            "sku": f"BENCH-{i:06d}",
            "barcode": make_ean13(f"{200_000_000_000 + i:012d}"),
            "name": f"{WORDS[i % 10]} Varian {i} {i % 7 + 1}00g",
            "category_id": category_id,
            "unit": "pcs",
            "price": 1000 + (i * 37) % 50_000,
            "tax_rate_id": tax_rate_id,
            "active": True,
            "low_stock_threshold": 5,
            "change_no": first_change_no + i,
            "updated_at": now,
        }
        for i in range(n)
    ]


def seed(url: str, n: int, *, with_stock: bool) -> tuple[str, int]:
    """Migrate ``url``, seed the demo store and ``n`` products in bulk; (enrollment code, rows)."""
    from sqlalchemy import insert, select

    from sync_server.auth import service as auth_service
    from sync_server.catalog.demo import STORE_CODE, seed_demo
    from sync_server.catalog.models import Category, Product, TaxRate
    from sync_server.core.database import Database, next_change_numbers
    from sync_server.core.models import Store
    from sync_server.migrate import upgrade
    from sync_server.stock.models import StockLevel

    upgrade(url)
    db = Database(url)
    try:
        seed_demo(db)
        with db.session() as session:
            store_id = int(session.scalars(select(Store.id).where(Store.code == STORE_CODE)).one())
            category_id = int(session.scalars(select(Category.id).limit(1)).one())
            tax_rate_id = int(
                session.scalars(select(TaxRate.id).where(TaxRate.code == "PPN")).one()
            )
            first = next_change_numbers(session, n * (2 if with_stock else 1))
            rows = product_rows(
                n, first_change_no=first, category_id=category_id, tax_rate_id=tax_rate_id
            )
            session.execute(insert(Product), rows)
            if with_stock:
                ids = session.scalars(
                    select(Product.id).where(Product.sku.like("BENCH-%")).order_by(Product.id)
                ).all()
                now = datetime.now(UTC)
                session.execute(
                    insert(StockLevel),
                    [
                        {
                            "store_id": store_id,
                            "product_id": pid,
                            "on_hand": 100,
                            "change_no": first + n + k,
                            "updated_at": now,
                        }
                        for k, pid in enumerate(ids)
                    ],
                )
        code = auth_service.create_enrollment_code(
            db=db,
            request=EnrollmentCodeRequest(store_id=store_id, terminal_code="BENCH1"),
        ).code
        with db.session() as session:
            from sqlalchemy import func

            total = int(session.scalar(select(func.count()).select_from(Product)) or 0)
            if with_stock:
                total += int(session.scalar(select(func.count()).select_from(StockLevel)) or 0)
        return code, total
    finally:
        db.dispose()


@contextmanager
def live_server(url: str) -> Iterator[str]:
    """uvicorn serving the app on ``url`` in a subprocess; yields its base URL."""
    port = free_port()
    env = dict(os.environ)
    env.update(
        KASIR_DATABASE_URL=url,
        KASIR_ENVIRONMENT="test",
        KASIR_SECRET_KEY=SECRET,
        KASIR_LOG_LEVEL="WARNING",
    )
    proc = subprocess.Popen(uvicorn_command(port, "--no-access-log"), env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


class TimedStore(LocalStore):
    """A LocalStore that adds up the time spent applying pull pages."""

    seconds = 0.0

    def apply_pull_page(self, page: PullResponse) -> None:
        """Apply ``page`` and count the time."""
        start = time.perf_counter()
        super().apply_pull_page(page)
        TimedStore.seconds += time.perf_counter() - start


class TimedClient(SyncClient):
    """A SyncClient that adds up pull time (HTTP, server work and parsing) and keeps cursors."""

    seconds = 0.0
    cursors: ClassVar[list[int]] = []

    def pull(self, cursor: int, limit: int) -> PullResponse:
        """Pull one page and count the time."""
        start = time.perf_counter()
        page = super().pull(cursor, limit)
        TimedClient.seconds += time.perf_counter() - start
        TimedClient.cursors.append(cursor)
        return page


def download(base: str, code: str, data_dir: Path) -> tuple[float, int, int, str]:
    """Enroll a fresh till and download everything; (seconds, rows, products, token)."""
    settings = ClientSettings(data_dir=data_dir, server_url=base)
    with httpx.Client(timeout=60) as http:
        answer = enroll(http, base, code, "bench till")
    start = time.perf_counter()
    store = TimedStore(settings.database_path)
    store.save_enrollment(
        device_token=answer.device_token,
        terminal_id=answer.terminal_id,
        terminal_code=answer.terminal_code,
        store_id=answer.store_id,
    )
    worker = SyncWorker(
        lambda: TimedStore(settings.database_path),
        lambda: TimedClient(httpx.Client(timeout=60), base_url=base, token=answer.device_token),
        pull_limit=PAGE,
    )
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 0.5 or done == total:
            last[0] = now
            bar = "#" * (30 * done // max(total, 1))
            print(f"\r  [{bar:<30}] {done:>7}/{total}", end="", flush=True)

    rows = worker.initial_download(progress)
    elapsed = time.perf_counter() - start
    print()
    products = store.product_count()
    store.close()
    return elapsed, rows, products, answer.device_token


def raw_fetch(base: str, token: str, cursors: list[int]) -> tuple[float, int]:
    """The same pages fetched with httpx, bodies read but not parsed; (seconds, bytes)."""
    headers = {"Authorization": f"Bearer {token}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
    size = 0
    start = time.perf_counter()
    with httpx.Client(timeout=60) as http:
        for cursor in cursors:
            response = http.get(
                base + PULL_PATH, params={"cursor": cursor, "limit": PAGE}, headers=headers
            )
            response.raise_for_status()
            size += len(response.content)
    return time.perf_counter() - start, size


def raw_sqlite(n: int, folder: Path) -> float:
    """``executemany`` of ``n`` product rows into a bare table (WAL, synchronous=FULL)."""
    rows = [
        (
            r["change_no"],
            r["sku"],
            r["barcode"],
            r["name"],
            r["category_id"],
            r["unit"],
            r["price"],
            r["tax_rate_id"],
            1,
            r["low_stock_threshold"],
            r["change_no"],
            r["updated_at"].isoformat(),
        )
        for r in product_rows(n, first_change_no=1, category_id=1, tax_rate_id=1)
    ]
    conn = sqlite3.connect(folder / "raw.sqlite3", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(
        "CREATE TABLE products (id INTEGER PRIMARY KEY, sku TEXT, barcode TEXT, name TEXT, "
        "category_id INTEGER, unit TEXT, price INTEGER, tax_rate_id INTEGER, active INTEGER, "
        "low_stock_threshold INTEGER, change_no INTEGER, updated_at TEXT)"
    )
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO products VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def main() -> None:
    """Seed, serve, download, and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--no-stock", action="store_true", help="products only, no stock levels")
    parser.add_argument("--mariadb", action="store_true", help="MariaDB instead of SQLite")
    args = parser.parse_args()
    n = args.products

    with tempfile.TemporaryDirectory(prefix="kasir-bench-") as tmp:
        folder = Path(tmp)
        url = fresh_mariadb() if args.mariadb else f"sqlite:///{folder / 'server.sqlite3'}"
        kind = "MariaDB" if args.mariadb else "SQLite"
        start = time.perf_counter()
        code, server_rows = seed(url, n, with_stock=not args.no_stock)
        print(
            f"server on {kind}: {server_rows} catalog rows seeded "
            f"in {time.perf_counter() - start:.1f} s"
        )
        with live_server(url) as base:
            print(f"new terminal downloading in pages of {PAGE}:")
            elapsed, rows, products, token = download(base, code, folder / "till")
            fetch, size = raw_fetch(base, token, TimedClient.cursors)
        sqlite_s = raw_sqlite(n, folder)

    http_s, store_s = TimedClient.seconds, TimedStore.seconds
    print()
    print(
        f"end to end           {elapsed:7.2f} s  ({rows} rows, {len(TimedClient.cursors)} pages; "
        f"goal < 10 s)  {'OK' if elapsed < 10 else 'MISSED'}"
    )
    print(f"  rows/s             {rows / elapsed:10,.0f}")
    print(f"  products/s         {products / elapsed:10,.0f}  ({products} products in the store)")
    print(f"  HTTP+server+JSON   {http_s:7.2f} s  (SyncClient.pull)")
    print(f"  store              {store_s:7.2f} s  (LocalStore.apply_pull_page)")
    print(f"  other              {elapsed - http_s - store_s:7.2f} s")
    print("baselines (same run):")
    print(f"  raw httpx fetch    {fetch:7.2f} s  (same pages, {size / 1e6:.1f} MB, not parsed)")
    print(f"  raw sqlite insert  {sqlite_s:7.2f} s  ({n} product rows, one executemany)")


if __name__ == "__main__":
    main()
