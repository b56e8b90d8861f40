"""A new terminal downloading a 100,000-product catalog from a live server, end to end.

Run: ``.venv/bin/python -m benches.catalog_download [--products 100000] [--no-stock]
[--mariadb] [--link 10mbit-50ms] [--catch-up 5000] [--server-pages]``

Starts the real server (uvicorn in a subprocess, as in production) on a fresh SQLite
file (or a fresh MariaDB database) holding the demo store plus ``--products`` products
inserted in bulk, each with a stock level, enrolls a terminal over HTTP, then times a
brand-new :class:`~pos_client.store.LocalStore` doing
:meth:`~pos_client.sync.worker.SyncWorker.initial_download` in pages of 5,000 (the
pages travel gzip-compressed, as the till asks).

Prints the total, the time fetching pages (HTTP+server+gunzip) and parsing them (each in
a thread of the worker's, ahead of the store) and in the store (``apply_pull_page``),
the rest being the store waiting for a page, the body bytes on the wire against the
JSON they carry, next to the baseline from the same run: the same pages fetched with
raw httpx asking for the same compression, bodies read as they came (not decoded, not
parsed).
Goals: < 5 s and <= 1.5x the raw fetch on the local link.

``--link 10mbit-50ms`` puts the till (and its baseline) behind :mod:`benches._throttle`,
a shop's 4G: 10 Mbit/s, 50 ms each way. Goals: < 30 s, <= 20 % of the JSON's bytes.
``--catch-up 5000`` then changes 5,000 products on the server (one transaction, stamped
by the catalog service's ``stamp_change_numbers``) and times the till, already holding
the catalog, catching up. Goal: < 2 s. On the local link it also prints what each gzip
level costs and saves on these pages. Nothing leaves 127.0.0.1.

``--server-pages`` first times the server building each page of that download in this
process (:func:`~sync_server.sync.pull.pull_page`, then serialised as the route does),
next to the page built the way it was before (every row validated, change numbers merged
in Python: ``reference_pull_page`` in ``tests/server/test_pull_page_json.py``) and to the
baseline of the bare SELECTs of the same rows, and checks the JSON is the same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import os
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx

from benches._throttle import Throttled, throttled
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
from sync_server.sync.pages import PULL_GZIP_LEVEL
from tests.conftest import free_port, fresh_mariadb_database, uvicorn_command

PAGE = 5000
SECRET = "bench-secret-key-that-is-long-enough-0123456789"
WORDS = ["Indomie", "Teh", "Aqua", "Beras", "Gula", "Kopi", "Sabun", "Susu", "Roti", "Minyak"]
MARIADB_DB = "kasir_bench_download"
LOCAL_GOAL_S = 5.0
LINK_GOAL_S = 30.0
CATCH_UP_GOAL_S = 2.0


def fresh_mariadb() -> str:
    """Drop and re-create the bench database on MariaDB; its URL."""
    return fresh_mariadb_database(MARIADB_DB)


def product_rows(
    n: int, *, first_change_no: int, category_id: int, tax_rate_id: int | None
) -> list[dict]:
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


def add_catalog(url: str, n: int, *, store_id: int, with_stock: bool) -> None:
    """Insert ``n`` BENCH products (and their stock levels in ``store_id``) in bulk,
    stamped with change numbers from the server's counter as catalog edits are."""
    from sqlalchemy import insert, select

    from sync_server.catalog.models import Category, Product, TaxRate
    from sync_server.core.database import Database, next_change_numbers
    from sync_server.stock.models import StockLevel

    db = Database(url)
    try:
        with db.session() as session:
            category_id = session.scalars(select(Category.id).limit(1)).first()
            if category_id is None:
                category = Category(name="Bench", change_no=next_change_numbers(session))
                session.add(category)
                session.flush()
                category_id = category.id
            tax_rate_id = session.scalars(select(TaxRate.id).limit(1)).first()
            first = next_change_numbers(session, n * (2 if with_stock else 1))
            rows = product_rows(
                n, first_change_no=first, category_id=int(category_id), tax_rate_id=tax_rate_id
            )
            for start in range(0, n, 20_000):
                session.execute(insert(Product), rows[start : start + 20_000])
            if with_stock:
                ids = session.scalars(
                    select(Product.id).where(Product.sku.like("BENCH-%")).order_by(Product.id)
                ).all()
                now = datetime.now(UTC)
                levels = [
                    {
                        "store_id": store_id,
                        "product_id": pid,
                        "on_hand": 100,
                        "change_no": first + n + k,
                        "updated_at": now,
                    }
                    for k, pid in enumerate(ids)
                ]
                for start in range(0, len(levels), 20_000):
                    session.execute(insert(StockLevel), levels[start : start + 20_000])
    finally:
        db.dispose()


def seed(url: str, n: int, *, with_stock: bool) -> tuple[str, int]:
    """Migrate ``url``, seed the demo store and ``n`` products in bulk; (enrollment code, rows)."""
    from sqlalchemy import func, select

    from sync_server.auth import service as auth_service
    from sync_server.catalog.demo import STORE_CODE, seed_demo
    from sync_server.catalog.models import Product
    from sync_server.core.database import Database
    from sync_server.core.models import Store
    from sync_server.migrate import upgrade
    from sync_server.stock.models import StockLevel

    upgrade(url)
    db = Database(url)
    try:
        seed_demo(db)
        with db.session() as session:
            store_id = int(session.scalars(select(Store.id).where(Store.code == STORE_CODE)).one())
        add_catalog(url, n, store_id=store_id, with_stock=with_stock)
        code = auth_service.create_enrollment_code(
            db=db,
            request=EnrollmentCodeRequest(store_id=store_id, terminal_code="BENCH1"),
        ).code
        with db.session() as session:
            total = int(session.scalar(select(func.count()).select_from(Product)) or 0)
            if with_stock:
                total += int(session.scalar(select(func.count()).select_from(StockLevel)) or 0)
        return code, total
    finally:
        db.dispose()


def change_products(url: str, n: int) -> int:
    """Change ``n`` BENCH products spread over the catalog (price and name) in one
    transaction, stamped by the catalog service's own :func:`stamp_change_numbers`."""
    from sqlalchemy import select

    from sync_server.catalog.models import Product
    from sync_server.catalog.service import stamp_change_numbers
    from sync_server.core.database import Database, utcnow

    db = Database(url)
    try:
        with db.session() as session:
            ids = session.scalars(
                select(Product.id).where(Product.sku.like("BENCH-%")).order_by(Product.id)
            ).all()
            step = max(1, len(ids) // n)
            chosen = ids[::step][:n]
            rows = session.scalars(select(Product).where(Product.id.in_(chosen))).all()
            now = utcnow()
            for row in rows:
                row.price += 500
                row.name = row.name + " (baru)"
                row.updated_at = now
            stamp_change_numbers(session, rows)
            return len(rows)
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


class Meter:
    """What one download spent: fetching pages (HTTP, server, gzip), parsing them,
    storing them, the cursors it asked for, and the body bytes that crossed the wire."""

    def __init__(self) -> None:
        """All zero."""
        self.pull_s = 0.0
        self.parse_s = 0.0
        self.store_s = 0.0
        self.cursors: list[int] = []
        self.wire_bytes = 0


METER = Meter()
"""The meter the worker's store and client add to (reset before each timed download)."""


class TimedStore(LocalStore):
    """A LocalStore that adds up the time spent applying pull pages."""

    def apply_pull_page(self, page: PullResponse) -> None:
        """Apply ``page`` and count the time."""
        start = time.perf_counter()
        super().apply_pull_page(page)
        METER.store_s += time.perf_counter() - start


class TimedClient(SyncClient):
    """A SyncClient that adds up the time to fetch pull pages (HTTP and server work) and
    to parse them, and keeps the cursors asked for."""

    def pull_body(self, cursor: int, limit: int) -> bytes:
        """Fetch one page's bytes and count the time."""
        start = time.perf_counter()
        body = super().pull_body(cursor, limit)
        METER.pull_s += time.perf_counter() - start
        METER.cursors.append(cursor)
        return body

    def parse_pull(self, body: bytes, cursor: int) -> PullResponse:
        """Parse one page and count the time."""
        start = time.perf_counter()
        page = super().parse_pull(body, cursor)
        METER.parse_s += time.perf_counter() - start
        return page


class _CountedStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream) -> None:
        self._inner = inner

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            METER.wire_bytes += len(chunk)
            yield chunk

    def close(self) -> None:
        self._inner.close()


class CountingTransport(httpx.HTTPTransport):
    """httpx's transport, counting the response body bytes as they came (compressed)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``; its answer's body is counted as it is read."""
        response = super().handle_request(request)
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = _CountedStream(response.stream)
        return response


def worker_for(path: Path, base: str, token: str) -> SyncWorker:
    """The till's sync worker on the store at ``path``, talking to ``base``, metered."""
    return SyncWorker(
        lambda: TimedStore(path),
        lambda: TimedClient(
            httpx.Client(transport=CountingTransport(), timeout=120), base_url=base, token=token
        ),
        pull_limit=PAGE,
    )


def timed_download(worker: SyncWorker) -> tuple[float, int]:
    """``initial_download`` from the store's cursor with a progress bar; (seconds, rows)."""
    global METER
    METER = Meter()
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 0.5 or done == total:
            last[0] = now
            bar = "#" * (30 * done // max(total, 1))
            print(f"\r  [{bar:<30}] {done:>7}/{total}", end="", flush=True)

    start = time.perf_counter()
    rows = worker.initial_download(progress)
    elapsed = time.perf_counter() - start
    print()
    return elapsed, rows


def enroll_till(base: str, code: str, data_dir: Path) -> tuple[Path, str]:
    """Enroll a fresh till (its store at the returned path); (store path, token)."""
    settings = ClientSettings(data_dir=data_dir, server_url=base)
    with httpx.Client(timeout=60) as http:
        answer = enroll(http, base, code, "bench till")
    store = LocalStore(settings.database_path)
    store.save_enrollment(
        device_token=answer.device_token,
        terminal_id=answer.terminal_id,
        terminal_code=answer.terminal_code,
        store_id=answer.store_id,
    )
    store.close()
    return settings.database_path, answer.device_token


def raw_fetch(base: str, token: str, cursors: list[int]) -> tuple[float, list[bytes]]:
    """The same pages fetched with httpx asking for gzip like the till, bodies read as
    they came (not decoded, not parsed); (seconds, raw bodies)."""
    headers = {
        "Authorization": f"Bearer {token}",
        PROTOCOL_HEADER: str(PROTOCOL_VERSION),
        "Accept-Encoding": "gzip",
    }
    bodies: list[bytes] = []
    start = time.perf_counter()
    with httpx.Client(timeout=120) as http:
        for cursor in cursors:
            params = {"cursor": cursor, "limit": PAGE}
            with http.stream("GET", base + PULL_PATH, params=params, headers=headers) as answer:
                answer.raise_for_status()
                bodies.append(b"".join(answer.iter_raw()))
    return time.perf_counter() - start, bodies


def plain(body: bytes) -> bytes:
    """A raw body decoded (gzip or not)."""
    return gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body


def gzip_levels(bodies: list[bytes]) -> list[str]:
    """Each zlib level on these pages: server CPU to compress, bytes, and the 10 Mbit/s
    wire time those bytes take, to choose ``PULL_GZIP_LEVEL``."""
    pages = [plain(b) for b in bodies]
    size = sum(len(p) for p in pages)
    lines = [f"  identity  {size / 1e6:7.1f} MB  {size * 8 / 10e6:6.1f} s at 10 Mbit/s"]
    for level in range(1, 7):
        start = time.perf_counter()
        packed = sum(len(gzip.compress(p, compresslevel=level, mtime=0)) for p in pages)
        spent = time.perf_counter() - start
        mark = "  <- PULL_GZIP_LEVEL" if level == PULL_GZIP_LEVEL else ""
        lines.append(
            f"  level {level}   {packed / 1e6:7.2f} MB ({100 * packed / size:4.1f} %)"
            f"  compress {spent:5.2f} s  wire {packed * 8 / 10e6:5.1f} s at 10 Mbit/s"
            f"  sum {spent + packed * 8 / 10e6:5.1f} s{mark}"
        )
    return lines


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


def server_pages(url: str) -> None:
    """Time each page of a whole download built by the server, old way and new, next to
    the bare SELECTs of its rows; check both give the same JSON."""
    from sqlalchemy import select

    from sync_server.auth.models import Terminal
    from sync_server.catalog.demo import STORE_CODE
    from sync_server.core.database import Database, utcnow
    from sync_server.core.models import Store
    from sync_server.core.security import token_hash
    from sync_server.sync.pull import SOURCES, _rows_query, _store_of, count_after, pull_page
    from tests.server.test_pull_page_json import reference_pull_page

    db = Database(url)
    try:
        with db.session() as session:
            store_id = int(session.scalars(select(Store.id).where(Store.code == STORE_CODE)).one())
            terminal = Terminal(
                store_id=store_id,
                code="BENCHSRV",
                name="bench",
                token_hash=token_hash("bench-server-pages"),
                enrolled_at=utcnow(),
            )
            session.add(terminal)
            session.flush()
            session.expunge(terminal)
        old_s = new_s = raw_s = json_s = count_s = 0.0
        cursor, pages, same = 0, 0, True
        while True:
            with db.session() as session:
                t0 = time.perf_counter()
                old = reference_pull_page(session, terminal=terminal, cursor=cursor, limit=PAGE)
                t1 = time.perf_counter()
                new = pull_page(session, terminal=terminal, cursor=cursor, limit=PAGE)
                t2 = time.perf_counter()
                for source in SOURCES:
                    query = _rows_query(source, _store_of(terminal), cursor, new.cursor)
                    session.execute(query).all()
                t3 = time.perf_counter()
                count_after(session, terminal=terminal, cursor=new.cursor)
                t4 = time.perf_counter()
            body = new.__pydantic_serializer__.to_json(new)
            t5 = time.perf_counter()
            same = same and body == old.__pydantic_serializer__.to_json(old)
            old_s, new_s, raw_s = old_s + t1 - t0, new_s + t2 - t1, raw_s + t3 - t2
            count_s, json_s = count_s + t4 - t3, json_s + t5 - t4
            pages += 1
            if not new.has_more:
                break
            cursor = new.cursor
        print(f"server building the {pages} pages of {PAGE} (in process, per page):")
        print(f"  before (validated)  {1000 * old_s / pages:7.1f} ms  (reference_pull_page)")
        print(
            f"  now (pull_page)     {1000 * new_s / pages:7.1f} ms  of which remaining "
            f"{1000 * count_s / pages:.1f} ms (count_after)"
        )
        print(f"  baseline: SELECTs   {1000 * raw_s / pages:7.1f} ms  (the page's rows, bare)")
        print(f"  serialise (route)   {1000 * json_s / pages:7.1f} ms  (to_json, same for both)")
        print(
            f"  same JSON bytes     {'yes' if same else 'NO'}  "
            f"(total {old_s:.2f} s -> {new_s:.2f} s)"
        )
    finally:
        db.dispose()


def verdict(ok: bool) -> str:
    """``ok`` or ``MISSED``."""
    return "ok" if ok else "MISSED"


def report_download(
    what: str,
    elapsed: float,
    rows: int,
    meter: Meter,
    fetch: float,
    bodies: list[bytes],
    goal: float,
    *,
    ratio_goal: bool = True,
) -> None:
    """Print one timed download next to its raw-fetch baseline."""
    wire = sum(len(b) for b in bodies)
    size = sum(len(plain(b)) for b in bodies)
    ratio = elapsed / fetch if fetch else float("nan")
    print(
        f"{what:<21}{elapsed:7.2f} s  ({rows} rows, {len(meter.cursors)} pages; goal < {goal:g} s)"
        f"  {verdict(elapsed < goal)}"
    )
    if ratio_goal:
        print(f"  vs raw fetch       {ratio:7.2f} x  (goal <= 1.5 x)  {verdict(ratio <= 1.5)}")
    else:
        print(f"  vs raw fetch       {ratio:7.2f} x")
    print(f"  rows/s             {rows / elapsed:10,.0f}")
    print(
        f"  HTTP+server        {meter.pull_s:7.2f} s  (SyncClient.pull_body: request, server,"
        " gunzip; the pages ahead in a thread of their own)"
    )
    print(
        f"  parse              {meter.parse_s:7.2f} s  (SyncClient.parse_pull, in a second"
        " thread while the server makes the next page)"
    )
    print(f"  store              {meter.store_s:7.2f} s  (LocalStore.apply_pull_page)")
    print(
        f"  not storing        {elapsed - meter.store_s:7.2f} s  (the first page, then "
        "waiting for a page the store caught up with)"
    )
    print(
        f"  on the wire        {meter.wire_bytes / 1e6:7.2f} MB of bodies (gzip) for "
        f"{size / 1e6:.1f} MB of JSON = {100 * meter.wire_bytes / max(size, 1):.1f} %"
    )
    print(
        f"  baseline: raw fetch {fetch:6.2f} s  (same {len(bodies)} pages asking for gzip, "
        f"{wire / 1e6:.2f} MB read, not decoded or parsed)"
    )


def main() -> None:
    """Seed, serve, download (and catch up), and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--no-stock", action="store_true", help="products only, no stock levels")
    parser.add_argument("--mariadb", action="store_true", help="MariaDB instead of SQLite")
    parser.add_argument(
        "--link", help="through a throttled link on loopback, e.g. 10mbit-50ms (a shop's 4G)"
    )
    parser.add_argument(
        "--catch-up",
        type=int,
        default=0,
        metavar="N",
        help="then change N products on the server and time the till catching up",
    )
    parser.add_argument(
        "--server-pages",
        action="store_true",
        help="first time the server building each page, before and now, in process",
    )
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
        if args.server_pages:
            server_pages(url)
        goal = LINK_GOAL_S if args.link else LOCAL_GOAL_S
        where = f"through a {args.link} link" if args.link else "on the local link"
        # Each timed phase gets a freshly started server, so no phase is served pages
        # another one left in the server's page cache.
        with serving(url, None) as (base, _):
            path, token = enroll_till(base, code, folder / "till")
        with serving(url, args.link) as (till_base, link):
            print(f"new terminal downloading in pages of {PAGE} {where}:")
            elapsed, rows = timed_download(worker_for(path, till_base, token))
        first = METER
        with serving(url, args.link) as (till_base, _):
            fetch, bodies = raw_fetch(till_base, token, first.cursors)
        report_download("end to end", elapsed, rows, first, fetch, bodies, goal)
        size = sum(len(plain(b)) for b in bodies)
        if link is not None:
            share = link.down / max(size, 1)
            print(
                f"  link {args.link}: {link.down / 1e6:.2f} MB to the till (bodies and headers)"
                f" = {100 * share:.1f} % of {size / 1e6:.1f} MB of JSON (goal <= 20 %)"
                f"  {verdict(share <= 0.2)}; {link.up / 1e6:.3f} MB from it"
            )
        if args.catch_up:
            changed = change_products(url, args.catch_up)
            print(f"\n{changed} products changed on the server; the till catches up {where}:")
            with serving(url, args.link) as (till_base, _):
                elapsed_c, rows_c = timed_download(worker_for(path, till_base, token))
            catch = METER
            with serving(url, args.link) as (till_base, _):
                fetch_c, bodies_c = raw_fetch(till_base, token, catch.cursors)
            report_download(
                "catch-up",
                elapsed_c,
                rows_c,
                catch,
                fetch_c,
                bodies_c,
                CATCH_UP_GOAL_S,
                ratio_goal=False,
            )
        if not args.link:
            print("\ngzip levels on these pages (server CPU to compress, bytes at 10 Mbit/s):")
            for line in gzip_levels(bodies):
                print(line)
            print(
                f"raw sqlite insert    {raw_sqlite(n, folder):7.2f} s  "
                f"({n} product rows, one executemany: the store's floor)"
            )


@contextmanager
def serving(url: str, link: str | None) -> Iterator[tuple[str, Throttled | None]]:
    """A fresh server on ``url`` (behind a ``link`` throttle when given); (till's URL,
    throttle)."""
    with live_server(url) as base:
        if link is None:
            yield base, None
            return
        with throttled(int(base.rsplit(":", 1)[1]), link) as throttle:
            yield throttle.url, throttle


if __name__ == "__main__":
    main()
