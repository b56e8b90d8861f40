"""What the MariaDB benches share: databases on either driver, the seeded store, realistic
sales, the raw executemany ceiling, servers under uvicorn, a load generator of tills that
behave like the real one, a manager polling a report, and CPU accounting from ``/proc``.

Nothing here leaves 127.0.0.1. Every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import statistics
import subprocess
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar
from uuid import UUID

import httpx

from shared.ids import new_id
from shared.models import PROTOCOL_HEADER, PROTOCOL_VERSION
from shared.pricing import LineInput, price_sale
from tests.conftest import free_port, uvicorn_command

HOST = "127.0.0.1"
N_PRODUCTS = 500
DRIVERS = ("pymysql", "mysqldb")
SECRET = "bench-secret-key-that-is-long-enough-0123456789"

TILL_TIMEOUT = 15.0
"""The till's HTTP timeout (``ClientSettings.http_timeout_seconds``), read at import below."""
TILL_BASE_DELAY = 1.0
TILL_MAX_DELAY = 60.0
"""The sync worker's backoff: full jitter on ``base * 2**n`` capped at ``max`` seconds."""

with suppress(ImportError):  # the till's own figure, so the bench follows it if it changes
    from pos_client.config import ClientSettings

    TILL_TIMEOUT = float(ClientSettings.model_fields["http_timeout_seconds"].default)

UNAVAILABLE = frozenset({408, 425, 429, 502, 503, 504})
"""Answers after which the till backs off and sends the same batch again (worker.py)."""
MAX_SERVER_ERRORS = 3
"""The bench gives a batch up after this many other 5xx answers (each is an error; the
real till would go on to isolate the failing event)."""


# ------------------------------------------------------------------ databases


def driver_available(driver: str) -> bool:
    """True when the DB-API module of ``driver`` imports."""
    try:
        if driver == "mysqldb":
            import MySQLdb  # noqa: F401
        else:
            import pymysql  # noqa: F401
    except ImportError:
        return False
    return True


def add_load_options(
    parser: argparse.ArgumentParser,
    *,
    procs: int,
    workers: int,
    workers_help: str = "uvicorn worker processes",
    db: str | None = None,
) -> None:
    """The options of a push-load bench: load processes, server workers, the driver and,
    when the bench owns one, its database."""
    parser.add_argument("--procs", type=int, default=procs, help="load-generating processes")
    parser.add_argument("--workers", type=int, default=workers, help=workers_help)
    parser.add_argument(
        "--driver",
        choices=["pymysql", "mysqldb"],
        default="pymysql",
        help="the driver the server's URL names",
    )
    if db is not None:
        parser.add_argument(
            "--db", default=db, help="bench database (dropped and created; raw: <db>_raw)"
        )


def parse_load_args(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Parse ``argv``; stop when the driver's module is not installed."""
    args = parser.parse_args(argv)
    if not driver_available(args.driver):
        raise SystemExit(f"--driver {args.driver}: its module is not installed")
    return args


@dataclass(frozen=True)
class Db:
    """A database on a MariaDB server on loopback, reached through ``driver``."""

    name: str
    port: int = 3306
    driver: str = "pymysql"

    def url(self) -> str:
        """The SQLAlchemy URL the server is given."""
        return f"mysql+{self.driver}://root@{HOST}:{self.port}/{self.name}"

    def with_driver(self, driver: str) -> Db:
        """The same database through another driver."""
        return Db(self.name, self.port, driver)

    def connect(self, database: bool = True) -> Any:
        """A DB-API connection (autocommit off) as root, through ``driver``."""
        db = self.name if database else None
        if self.driver == "mysqldb":
            import MySQLdb

            kwargs: dict[str, Any] = {"database": db} if db else {}
            return MySQLdb.connect(host=HOST, port=self.port, user="root", password="", **kwargs)
        import pymysql

        return pymysql.connect(
            host=HOST, port=self.port, user="root", password="", database=db, autocommit=False
        )

    def recreate(self) -> None:
        """Drop the database if it is there, create it empty and migrate it to head."""
        from sync_server.migrate import upgrade

        conn = self.connect(database=False)
        try:
            cur = conn.cursor()
            cur.execute(f"DROP DATABASE IF EXISTS `{self.name}`")
            cur.execute(
                f"CREATE DATABASE `{self.name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
            conn.commit()
        finally:
            conn.close()
        upgrade(self.with_driver("pymysql").url())

    def drop(self) -> None:
        """Drop the database (if it is there)."""
        conn = self.connect(database=False)
        try:
            conn.cursor().execute(f"DROP DATABASE IF EXISTS `{self.name}`")
            conn.commit()
        finally:
            conn.close()

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row of ``sql`` (read causally on Galera)."""
        conn = self.connect()
        try:
            cur = conn.cursor()
            if self.port != 3306:
                cur.execute("SET SESSION wsrep_sync_wait = 1")
            cur.execute(sql, tuple(params))
            row = cur.fetchone()
            return row[0] if row else None
        finally:
            conn.close()


@dataclass(frozen=True)
class Seeded:
    """The bench store: its ids, one device token per till, and a manager's API token."""

    store_id: int
    cashier_id: int
    tokens: list[str]
    manager_token: str


def seed(db: Db, terminals: int) -> Seeded:
    """A store, a cashier, a manager with an API token, products with stock, and
    ``terminals`` enrolled tills (rows written directly: seeding is not measured)."""
    from sync_server.core.security import new_token, token_hash

    conn = db.connect()
    now = datetime.now(UTC).replace(tzinfo=None)
    born = SALES_DAY.replace(tzinfo=None) - timedelta(days=30)
    tokens = [new_token() for _ in range(terminals)]
    manager_token = new_token()
    cur = conn.cursor()
    store_id = insert_bench_store(cur, now)
    cur.execute(
        "INSERT INTO users (username, full_name, role, store_id, active, failed_logins,"
        " change_no, created_at) VALUES ('kasir','Kasir','cashier',%s,1,0,0,%s)",
        (store_id, now),
    )
    cashier_id = int(cur.lastrowid)
    cur.execute(
        "INSERT INTO users (username, full_name, role, store_id, active, failed_logins,"
        " change_no, created_at) VALUES ('manajer','Manajer','manager',%s,1,0,0,%s)",
        (store_id, now),
    )
    manager_id = int(cur.lastrowid)
    cur.execute(
        "INSERT INTO api_tokens (token_hash, user_id, kind, created_at, expires_at)"
        " VALUES (%s,%s,'api',%s,%s)",
        (token_hash(manager_token), manager_id, now, now + timedelta(days=1)),
    )
    # PPN 11 % inclusive, as the bench's sales charge it: honest sales raise no flags, so
    # the report the manager polls reads rollups, not thousands of flagged raw sales.
    cur.execute(
        "INSERT INTO tax_rates (code, name, rate_bp, inclusive, active, change_no)"
        " VALUES ('PPN11','PPN 11%',1100,1,1,0)"
    )
    tax_rate_id = int(cur.lastrowid)
    cur.executemany(
        "INSERT INTO products (id, sku, barcode, name, unit, price, tax_rate_id, active,"
        " low_stock_threshold, change_no, updated_at)"
        " VALUES (%s,%s,NULL,%s,'pcs',%s,%s,1,0,0,%s)",
        [
            (i, f"SKU{i:05d}", f"Produk {i}", 1000 + (i * 500) % 50000, tax_rate_id, now)
            for i in range(1, N_PRODUCTS + 1)
        ],
    )
    cur.executemany(
        "INSERT INTO stock_levels (store_id, product_id, on_hand, change_no, updated_at)"
        " VALUES (%s,%s,1000000,0,%s)",
        [(store_id, i, now) for i in range(1, N_PRODUCTS + 1)],
    )
    cur.executemany(
        "INSERT INTO terminals (store_id, code, name, token_hash, enrolled_at, created_at)"
        " VALUES (%s,%s,'',%s,%s,%s)",
        # Enrolled before the sales' day: a sale older than its store is flagged clock_skew.
        [(store_id, f"T{i:04d}", token_hash(tok), born, born) for i, tok in enumerate(tokens)],
    )
    conn.commit()
    conn.close()
    return Seeded(store_id, cashier_id, tokens, manager_token)


def insert_bench_store(cur: Any, now: datetime) -> int:
    """Insert the bench store (S01, 'Toko Bench') through ``cur``; its id."""
    cur.execute(
        "INSERT INTO stores (code, name, address, npwp, phone, timezone, receipt_header,"
        " receipt_footer, logo_text, change_no, updated_at)"
        " VALUES ('S01','Toko Bench','','','','Asia/Jakarta','','','',0,%s)",
        (now,),
    )
    return int(cur.lastrowid)


def count_sales(db: Db) -> tuple[int, int]:
    """(rows, distinct ids) of ``sales``."""
    conn = db.connect()
    try:
        cur = conn.cursor()
        if db.port != 3306:
            cur.execute("SET SESSION wsrep_sync_wait = 1")
        cur.execute("SELECT COUNT(*), COUNT(DISTINCT id) FROM sales")
        total, distinct = cur.fetchone()
    finally:
        conn.close()
    return int(total), int(distinct)


# ------------------------------------------------------------------ sales


SALES_DAY = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
"""Every bench sale is made on this day and the next few (reports ask for November)."""


def make_sale(terminal_index: int, seq: int, cashier_id: int, rng: random.Random) -> dict[str, Any]:
    """One realistic sale event (1-5 lines, PPN 11 % inclusive, cash) as an outbox event."""
    created = SALES_DAY + timedelta(seconds=seq * 7)
    products = rng.sample(range(1, N_PRODUCTS + 1), rng.randint(1, 5))
    inputs = [
        LineInput(
            unit_price=1000 + (pid * 500) % 50000,
            quantity=rng.randint(1, 3),
            tax_rate_bp=1100,
            tax_inclusive=True,
        )
        for pid in products
    ]
    totals = price_sale(inputs)
    lines = [
        {
            "id": str(new_id()),
            "product_id": pid,
            "quantity": li.quantity,
            "unit_price": li.unit_price,
            "discount": 0,
            "tax_rate_bp": 1100,
            "tax_inclusive": True,
            "tax": lt.tax,
            "total": lt.total,
        }
        for pid, li, lt in zip(products, inputs, totals.lines, strict=True)
    ]
    tendered = (totals.total // 50000 + 1) * 50000
    sale = {
        "id": str(new_id()),
        "receipt_number": f"T{terminal_index:04d}-20261101-{seq:06d}",
        "cashier_id": cashier_id,
        "created_at": created.isoformat(),
        "lines": lines,
        "subtotal": totals.subtotal,
        "discount_total": totals.discount_total,
        "tax_total": totals.tax_total,
        "total": totals.total,
        "payments": [
            {
                "id": str(new_id()),
                "method": "cash",
                "amount": totals.total,
                "tendered": tendered,
                "change": tendered - totals.total,
            }
        ],
    }
    return {"id": str(new_id()), "type": "sale", "created_at": created.isoformat(), "payload": sale}


def push_body(events: list[dict[str, Any]], waiting: int = 0) -> bytes:
    """The JSON body of one push, as the till sends it."""
    return json.dumps({"events": events, "waiting": waiting}).encode()


# ------------------------------------------------------------------ the raw ceiling


def raw_rows(
    events: list[dict[str, Any]], store_id: int, terminal_id: int
) -> dict[str, list[tuple[Any, ...]]]:
    """The rows ingest writes for these sales, as plain tuples per table."""
    now = datetime.now(UTC).replace(tzinfo=None)
    rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in RAW_SQL}
    for ev in events:
        s = ev["payload"]
        created = datetime.fromisoformat(s["created_at"]).replace(tzinfo=None)
        sale_id = UUID(s["id"]).hex
        rows["sync_events"].append((UUID(ev["id"]).hex, terminal_id, "sale", created, now))
        rows["sales"].append(
            (
                sale_id,
                UUID(ev["id"]).hex,
                store_id,
                terminal_id,
                s["receipt_number"],
                s["cashier_id"],
                created,
                created.date(),
                s["subtotal"],
                s["discount_total"],
                0,
                s["tax_total"],
                s["total"],
                0,
                now,
            )
        )
        for line in s["lines"]:
            rows["sale_lines"].append(
                (
                    UUID(line["id"]).hex,
                    sale_id,
                    line["product_id"],
                    "",
                    "",
                    line["quantity"],
                    line["unit_price"],
                    0,
                    0,
                    1100,
                    1,
                    line["tax"],
                    line["total"],
                    0,
                    0,
                )
            )
            rows["stock_moves"].append(
                (
                    UUID(line["id"]).hex,
                    store_id,
                    line["product_id"],
                    "sale",
                    -line["quantity"],
                    s["id"],
                    terminal_id,
                    "",
                    created,
                )
            )
        for p in s["payments"]:
            rows["sale_payments"].append(
                (UUID(p["id"]).hex, sale_id, "cash", p["amount"], p["tendered"], p["change"])
            )
    return rows


RAW_SQL = {
    "sync_events": "INSERT INTO sync_events (id, terminal_id, type, created_at, received_at)"
    " VALUES (%s,%s,%s,%s,%s)",
    "sales": "INSERT INTO sales (id, event_id, store_id, terminal_id, receipt_number, cashier_id,"
    " created_at, business_date, subtotal, discount_total, order_discount, tax_total, total,"
    " voided, received_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
    "sale_lines": "INSERT INTO sale_lines (id, sale_id, product_id, sku, name, quantity,"
    " unit_price, discount, order_discount, tax_rate_bp, tax_inclusive, tax, total,"
    " refunded_quantity, refunded_amount) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
    "sale_payments": "INSERT INTO sale_payments (id, sale_id, method, amount, tendered, `change`)"
    " VALUES (%s,%s,%s,%s,%s,%s)",
    "stock_moves": "INSERT INTO stock_moves (id, store_id, product_id, kind, quantity, ref_id,"
    " terminal_id, note, created_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)",
}


@dataclass(frozen=True)
class Ceiling:
    """The raw executemany ceiling through one driver."""

    driver: str
    rate: float
    rows: int


def raw_ceiling(db: Db, events: list[dict[str, Any]], batch: int) -> Ceiling:
    """Write the sales' rows into a fresh ``db`` with executemany, one transaction per
    ``batch`` sales, on one connection through ``db.driver``; sales per second."""
    db.recreate()
    seeded = seed(db, 1)
    conn = db.connect()
    cur = conn.cursor()
    cur.execute("SELECT id FROM terminals LIMIT 1")
    terminal_id = cur.fetchone()[0]
    n_rows = 0
    start = time.perf_counter()
    for i in range(0, len(events), batch):
        rows = raw_rows(events[i : i + batch], seeded.store_id, terminal_id)
        cur = conn.cursor()
        for table, sql in RAW_SQL.items():
            cur.executemany(sql, rows[table])
            n_rows += len(rows[table])
        conn.commit()
    elapsed = time.perf_counter() - start
    conn.close()
    return Ceiling(db.driver, len(events) / elapsed, n_rows)


def raw_ceilings(db_name: str, events: list[dict[str, Any]], batch: int) -> list[Ceiling]:
    """The raw ceiling through each installed driver (a note for a missing one)."""
    found = []
    for driver in DRIVERS:
        if not driver_available(driver):
            print(f"  (driver {driver} not installed: its raw ceiling is skipped)")
            continue
        found.append(raw_ceiling(Db(db_name, driver=driver), events, batch))
    Db(db_name).drop()
    return found


def print_ceilings(ceilings: list[Ceiling], what: str) -> Ceiling:
    """Print each driver's ceiling; the fastest, which is the baseline."""
    best = max(ceilings, key=lambda c: c.rate)
    for c in ceilings:
        mark = "  <- baseline (faster driver)" if c is best and len(ceilings) > 1 else ""
        print(f"raw executemany, {c.driver:<8}: {c.rate:9.0f} sales/s  ({what}){mark}")
    return best


# ------------------------------------------------------------------ servers


@dataclass
class Server:
    """A uvicorn process tree serving the app on loopback."""

    proc: subprocess.Popen[bytes]
    base: str

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a bounded wait."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a bench server on ``database_url``."""
    env = dict(os.environ)
    env.update(
        KASIR_DATABASE_URL=database_url,
        KASIR_ENVIRONMENT="test",
        KASIR_SECRET_KEY=SECRET,
        KASIR_LOG_LEVEL="WARNING",
        KASIR_DB_POOL_SIZE="20",
        KASIR_DB_MAX_OVERFLOW="40",
    )
    env.update(extra)
    return env


def start_server(
    database_url: str, workers: int, timeout: float = 90.0, *, nice: int = 0
) -> Server:
    """uvicorn with ``workers`` processes on a free loopback port, ready to answer;
    ``nice`` > 0 runs it at a lower CPU priority (as a container's smaller CPU weight)."""
    port = free_port()
    command = uvicorn_command(
        port, "--workers", str(workers), "--no-access-log", "--backlog", "4096"
    )
    proc = subprocess.Popen(
        ["nice", "-n", str(nice), *command] if nice > 0 else command,
        env=server_env(database_url),
    )
    server = Server(proc, f"http://{HOST}:{port}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}) on {database_url}")
        try:
            if httpx.get(f"{server.base}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError("server did not start")


@contextmanager
def running_server(database_url: str, workers: int, *, nice: int = 0) -> Iterator[Server]:
    """:func:`start_server`, stopped on the way out."""
    server = start_server(database_url, workers, nice=nice)
    try:
        yield server
    finally:
        server.stop()


# ------------------------------------------------------------------ CPU accounting

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far (0 when it is gone)."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields is not None:
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(parents.get(p, []))
    return found


def mariadbd_pids(port: int) -> list[int]:
    """The mariadbd processes listening on ``port`` (3306: the system server)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if comm not in ("mariadbd", "mysqld"):
            continue
        has_port = any(arg == f"--port={port}" for arg in cmdline)
        if has_port or (port == 3306 and not any(a.startswith("--port=") for a in cmdline)):
            pids.append(int(entry.name))
    return pids


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    return (total - idle) / _TICK, total / _TICK


@dataclass
class CpuMeter:
    """CPU seconds the server, the database and the whole machine spent between
    :meth:`start` and :meth:`stop` (the load generators report their own)."""

    server_pids: list[int]
    db_pids: list[int]
    wall: float = 0.0
    server: float = 0.0
    db: float = 0.0
    busy: float = 0.0
    _t0: float = 0.0
    _s0: float = 0.0
    _d0: float = 0.0
    _b0: float = 0.0

    @classmethod
    def of(cls, servers: Sequence[Server], db_ports: Sequence[int]) -> CpuMeter:
        """Meter the process trees of ``servers`` and the mariadbd on ``db_ports``."""
        pids = [p for s in servers for p in descendants(s.proc.pid)]
        return cls(pids, [p for port in db_ports for p in mariadbd_pids(port)])

    def _sample(self) -> tuple[float, float, float, float]:
        return (
            time.monotonic(),
            sum(process_cpu(p) for p in self.server_pids),
            sum(process_cpu(p) for p in self.db_pids),
            machine_cpu()[0],
        )

    def start(self) -> None:
        """Take the first sample."""
        self._t0, self._s0, self._d0, self._b0 = self._sample()

    def stop(self) -> None:
        """Take the second sample; the differences are kept."""
        t1, s1, d1, b1 = self._sample()
        self.wall, self.server = t1 - self._t0, s1 - self._s0
        self.db, self.busy = d1 - self._d0, b1 - self._b0


CORES = os.cpu_count() or 1


def cpu_breakdown(meter: CpuMeter, load_cpu: float, requests: int) -> list[str]:
    """Lines saying where the CPU went during the metered window (measured, per push)."""
    capacity = meter.wall * CORES
    other = max(meter.busy - meter.server - meter.db - load_cpu, 0.0)
    share = lambda x: f"{x:6.1f} s = {100 * x / capacity:4.0f} % of {CORES} cores"  # noqa: E731
    lines = [
        f"  window {meter.wall:.1f} s; machine busy {share(meter.busy)}",
        f"  server processes      {share(meter.server)}"
        + (f"  ({1000 * meter.server / requests:.1f} ms CPU per request)" if requests else ""),
        f"  mariadbd              {share(meter.db)}"
        + (f"  ({1000 * meter.db / requests:.1f} ms CPU per request)" if requests else ""),
        f"  load generators       {share(load_cpu)}",
        f"  everything else       {share(other)}  (other work on this shared machine)",
    ]
    return lines


def bottleneck(meter: CpuMeter, load_cpu: float, requests: int) -> str:
    """The measured limit in one sentence: whether the cores were full, and which of the
    bench's own consumers (server, mariadbd, load generators) used the most of them."""
    capacity = meter.wall * CORES
    ours = {
        "the server processes (Python: HTTP, JSON, ingest)": meter.server,
        "mariadbd": meter.db,
        "the load generators": load_cpu,
    }
    top = max(ours, key=lambda k: ours[k])
    other = max(meter.busy - sum(ours.values()), 0.0)
    busy = meter.busy / capacity if capacity else 0.0
    per = f", {1000 * ours[top] / requests:.1f} ms CPU per request" if requests else ""
    shared = (
        f"; other processes on this shared machine took {100 * other / capacity:.0f} %"
        if capacity and other / capacity >= 0.10
        else ""
    )
    if busy >= 0.85:
        return (
            f"CPU-bound: the {CORES} cores were {100 * busy:.0f} % busy; of the bench's own"
            f" work {top} used the most ({100 * ours[top] / capacity:.0f} % of the cores{per})"
            f"{shared}"
        )
    return (
        f"not CPU-bound ({100 * busy:.0f} % of {CORES} cores busy): time went to waiting"
        f" (locks, commits, backoff); the largest CPU user was {top}{per}{shared}"
    )


# ------------------------------------------------------------------ tills and their storm


def till_backoff(failures: int, retry_after: float | None, rng: random.Random) -> float:
    """The wait before the till sends the same batch again.

    As ``SyncWorker._failed``: after a ``Retry-After`` (each till of a crowd gets its own,
    spread by the server) that plus up to one base delay of jitter; without one, full
    jitter on ``base * 2**(failures-1)`` capped at ``max`` (``SyncWorker.next_delay``).
    """
    if retry_after is not None:
        return min(retry_after, TILL_MAX_DELAY) + rng.uniform(0, TILL_BASE_DELAY)
    n = min(max(failures - 1, 0), 30)
    return rng.uniform(0, min(TILL_MAX_DELAY, TILL_BASE_DELAY * 2**n))


@dataclass
class TillJob:
    """One till: its token, the server it talks to, and its push bodies in order."""

    token: str
    base: str
    bodies: list[bytes]


LATEST_FIELDS = frozenset({"last_ok", "ended", "late_start"})
"""Moments of a load process's figures that merge as the latest, not as a sum."""


def add_figures(into: Any, part: Any) -> None:
    """Merge the dataclass ``part`` into ``into`` field by field: lists are joined, counts
    by key and numbers added, the moments in :data:`LATEST_FIELDS` take the later one
    and ``started`` stays ``into``'s (the parent's start)."""
    for spec in fields(into):
        name = spec.name
        mine, theirs = getattr(into, name), getattr(part, name)
        if name == "started":
            continue
        if name in LATEST_FIELDS:
            setattr(into, name, max(mine, theirs))
        elif isinstance(mine, dict):
            for key, value in theirs.items():
                mine[key] = mine.get(key, 0) + value
        else:
            setattr(into, name, mine + theirs)


@dataclass
class LoadResult:
    """What a set of tills saw (merged over the load processes)."""

    started: float = 0.0
    last_ok: float = 0.0
    ended: float = 0.0
    ok_latencies: list[float] = field(default_factory=list)
    """Seconds of each push attempt answered 200."""
    to_ack: list[float] = field(default_factory=list)
    """Seconds from the start to each batch's 200 (retries and backoff included)."""
    attempts: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    """Per-event answers: applied, duplicate, rejected, conflict."""
    http: dict[int, int] = field(default_factory=dict)
    """HTTP status of every attempt."""
    timeouts: int = 0
    transport_errors: int = 0
    errors: list[str] = field(default_factory=list)
    """5xx other than 502/503/504, refusals of a batch, batches given up."""
    load_cpu: float = 0.0
    late_start: float = 0.0

    def merge(self, part: LoadResult) -> None:
        """Add ``part`` (one process's figures)."""
        add_figures(self, part)

    @property
    def pushes(self) -> int:
        """Batches acknowledged (200)."""
        return len(self.to_ack)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by nearest rank; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


PUSH_PATH = "/api/v1/sync/push"


def push_request(job: TillJob, body: bytes) -> bytes:
    """The bytes of one push on the wire, headers included: what the till's httpx client
    sends (the same headers, in its order), serialised once before the storm."""
    host = job.base.split("://", 1)[-1]
    head = (
        f"POST {PUSH_PATH} HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        "Accept-Encoding: gzip, deflate\r\n"
        "Connection: keep-alive\r\n"
        f"User-Agent: python-httpx/{httpx.__version__}\r\n"
        f"Authorization: Bearer {job.token}\r\n"
        f"{PROTOCOL_HEADER}: {PROTOCOL_VERSION}\r\n"
        "Content-Type: application/json\r\n"
        "Accept: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


@dataclass
class Answer:
    """One HTTP answer as the simulated till reads it."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON (gunzipped or inflated when the server compressed it)."""
        return json.loads(self.text())

    def text(self) -> str:
        """The body as text."""
        coding = self.headers.get("content-encoding", "")
        body = self.body
        if coding == "gzip":
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            body = zlib.decompress(body)
        return body.decode("utf-8", errors="replace")

    def retry_after(self) -> float | None:
        """``Retry-After`` in seconds, when the answer has one."""
        value = self.headers.get("retry-after")
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None


class Closed(Exception):
    """The server closed the connection before the whole answer arrived."""


async def read_answer(reader: asyncio.StreamReader) -> Answer:
    """Read one HTTP/1.1 answer (Content-Length or chunked) from ``reader``."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        raise Closed from exc
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    try:
        if "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                parts.append(await reader.readexactly(size))
                await reader.readexactly(2)
            body = b"".join(parts)
        else:
            body = await reader.read()
    except asyncio.IncompleteReadError as exc:
        raise Closed from exc
    return Answer(status, headers, body)


class TillConnection:
    """A till's keep-alive HTTP/1.1 connection to the server, opened when first needed
    and opened again after the server closed it (as httpx's pool does)."""

    def __init__(self, base: str) -> None:
        host, _, port = base.split("://", 1)[-1].partition(":")
        self.host, self.port = host, int(port or 80)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def exchange(self, request: bytes, timeout: float) -> Answer:
        """Send ``request`` and read its answer: connecting and the exchange each get
        ``timeout`` seconds (httpx's connect and read timeouts); raises ``TimeoutError``
        or ``OSError``/:class:`Closed` (the connection is closed then)."""
        try:
            if self._reader is None or self._reader.at_eof() or self._writer is None:
                self.close()
                async with asyncio.timeout(timeout):
                    self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            async with asyncio.timeout(timeout):
                self._writer.write(request)
                answer = await read_answer(self._reader)
        except BaseException:
            self.close()
            raise
        if answer.headers.get("connection", "").lower() == "close":
            self.close()
        return answer

    def close(self) -> None:
        """Drop the connection (if any)."""
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


async def _run_till(job: TillJob, requests: list[bytes], out: LoadResult, seed_: int) -> None:
    """One till: each batch until it is acknowledged, backing off like the sync worker
    (the same bytes, timeout, ``Retry-After`` and jitter as the threaded httpx till it
    replaced; one event loop serves all the tills of a load process)."""
    rng = random.Random(seed_)
    deadline_after = 40 * TILL_TIMEOUT  # bounded: the bench gives a batch up after this
    conn = TillConnection(job.base)
    try:
        for request in requests:
            failures = server_errors = 0
            while True:
                t0 = time.perf_counter()
                if time.time() - out.started > deadline_after or server_errors >= MAX_SERVER_ERRORS:
                    out.errors.append(f"batch given up after {failures} failed attempts")
                    break
                retry_after = None
                out.attempts += 1
                try:
                    resp = await conn.exchange(request, TILL_TIMEOUT)
                except TimeoutError:
                    out.timeouts += 1
                except (OSError, Closed):
                    out.transport_errors += 1
                else:
                    dt = time.perf_counter() - t0
                    code = resp.status
                    out.http[code] = out.http.get(code, 0) + 1
                    if code == 200:
                        results = resp.json()["results"]
                        now = time.time()
                        out.ok_latencies.append(dt)
                        out.to_ack.append(now - out.started)
                        out.last_ok = max(out.last_ok, now)
                        for r in results:
                            out.statuses[r["status"]] = out.statuses.get(r["status"], 0) + 1
                        break
                    if code not in UNAVAILABLE:
                        out.errors.append(f"{code} {resp.text()[:160]}")
                        if code < 500:
                            break  # a refusal of the batch: the till sets it aside
                        server_errors += 1
                    retry_after = resp.retry_after()
                failures += 1
                await asyncio.sleep(till_backoff(failures, retry_after, rng))
    finally:
        conn.close()


_M = TypeVar("_M", bound="Mergeable")


class Mergeable(Protocol):
    """A result that takes in another of its kind."""

    def merge(self, other: Any) -> None:
        """Add ``other``'s figures to this one."""


class ReleasedProcesses:
    """Load processes started and made ready before anything is timed, then released
    together by :meth:`go`. ``target(*args, ready, go, go_at, results, index)`` runs in
    each; it puts ``ready`` once set up, waits for ``go`` and puts one result (with a
    ``merge`` method) on ``results``."""

    def __init__(self, target: Any, per_process: list[tuple[Any, ...]]) -> None:
        """Start one process per entry of ``per_process`` (its leading arguments)."""
        ctx = mp.get_context("spawn")
        self._ready, self._results, self._go = ctx.Queue(), ctx.Queue(), ctx.Event()
        self._go_at = ctx.Value("d", 0.0)
        self._procs = [
            ctx.Process(
                target=target,
                args=(*args, self._ready, self._go, self._go_at, self._results, i),
                daemon=True,
            )
            for i, args in enumerate(per_process)
        ]
        for p in self._procs:
            p.start()
        for _ in self._procs:
            self._ready.get(timeout=180)
        self.started = 0.0

    def go(self) -> float:
        """Release every process at once; the wall time of the start."""
        self.started = time.time()
        self._go_at.value = self.started
        self._go.set()
        return self.started

    def _merged(self, merged: _M, timeout: float) -> _M:
        """Every process's result merged into ``merged`` (bounded by ``timeout``)."""
        for _ in self._procs:
            merged.merge(self._results.get(timeout=timeout))
        for p in self._procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
        return merged


class Tills(ReleasedProcesses):
    """Tills spread over ``procs`` load processes, ready before anything is timed."""

    def __init__(self, jobs: list[TillJob], procs: int) -> None:
        """Start the processes; their tills wait for :meth:`go`."""
        procs = max(1, min(procs, len(jobs)))
        super().__init__(_load_main, [(jobs[i::procs],) for i in range(procs)])

    def wait(self, timeout: float) -> LoadResult:
        """Every process's figures merged (bounded by ``timeout``)."""
        return self._merged(LoadResult(started=self.started), timeout)


def _load_main(
    jobs: list[TillJob], ready: Any, go: Any, go_at: Any, results: Any, index: int
) -> None:  # pragma: no cover - runs in a child process
    """A load process: one event loop running a coroutine per till, released at the
    parent's go (a thread per till with an httpx client cost 4.5-7.7 ms of CPU per push
    attempt on this 2-core machine; this costs about 0.5 ms)."""
    out = LoadResult()
    requests = [[push_request(job, body) for body in job.bodies] for job in jobs]
    ready.put(index)
    if not go.wait(600):
        results.put(out)
        return
    out.started = go_at.value
    out.late_start = max(0.0, time.time() - out.started)
    cpu0 = time.process_time()

    async def all_tills() -> None:
        await asyncio.gather(
            *(_run_till(job, requests[i], out, index * 100_003 + i) for i, job in enumerate(jobs))
        )

    try:  # the server's own loop, when installed: the same sockets, less CPU per call
        import uvloop
    except ImportError:
        asyncio.run(all_tills())
    else:
        uvloop.run(all_tills())
    out.ended = time.time()
    out.load_cpu = time.process_time() - cpu0
    results.put(out)


def run_tills(
    jobs: list[TillJob], procs: int, meter: CpuMeter | None = None, timeout: float = 1200.0
) -> LoadResult:
    """Start the tills, release them at once, and wait for every batch; ``meter`` (when
    given) covers the load only, not the load processes' start-up."""
    tills = Tills(jobs, procs)
    if meter is not None:
        meter.start()
    tills.go()
    res = tills.wait(timeout)
    if meter is not None:
        meter.stop()
    return res


# ------------------------------------------------------------------ the manager's report


REPORT_PATH = "/api/v1/reports/sales?start=2026-11-01&end=2026-11-30&granularity=day"
"""The report the manager polls: November's sales by day (every bench sale is there)."""


@dataclass
class Polled:
    """What the manager saw: ``(wall time sent, seconds)`` per answered request of the
    report and of ``/health`` (asked in turn, to tell queueing in front of the app from
    waiting inside it), and the errors."""

    report: list[tuple[float, float]] = field(default_factory=list)
    health: list[tuple[float, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def report_between(self, start: float, end: float) -> list[float]:
        """Latencies of the report requests that were in flight during ``[start, end]``."""
        return [dt for t, dt in self.report if t <= end and t + dt >= start]

    def health_between(self, start: float, end: float) -> list[float]:
        """Latencies of the ``/health`` requests in flight during ``[start, end]``."""
        return [dt for t, dt in self.health if t <= end and t + dt >= start]


def _poll_main(
    base: str, token: str, count: int, stop: Any, ready: Any, gap: float, results: Any
) -> None:  # pragma: no cover - runs in a child process
    """Ask for the report (and ``/health``) ``count`` times, or until ``stop``."""
    out = Polled()
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        for _ in range(3):  # warm the connection and the server's caches
            http.get(REPORT_PATH)
        ready.set()
        for _ in range(count or 100_000):  # bounded even when nobody says stop
            if not count and stop.is_set():
                break
            for path, into in ((REPORT_PATH, out.report), ("/health", out.health)):
                t = time.time()
                t0 = time.perf_counter()
                try:
                    resp = http.get(path)
                except httpx.HTTPError as exc:
                    out.errors.append(f"{path}: {exc!r}")
                    continue
                dt = time.perf_counter() - t0
                if resp.status_code == 200:
                    into.append((t, dt))
                else:
                    out.errors.append(f"{path}: {resp.status_code} {resp.text[:120]}")
            time.sleep(gap)
    results.put(out)


class ReportPoller:
    """A manager in another process asking for a report over HTTP."""

    def __init__(self, base: str, token: str, *, count: int = 0, gap: float = 0.05) -> None:
        """Start polling: ``count`` rounds, or until :meth:`stop` when ``count`` is 0."""
        ctx = mp.get_context("spawn")
        self._stop = ctx.Event()
        self._ready = ctx.Event()
        self._results = ctx.Queue()
        self._proc = ctx.Process(
            target=_poll_main,
            args=(base, token, count, self._stop, self._ready, gap, self._results),
            daemon=True,
        )
        self._proc.start()

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Return once the poller is warm and polling (bounded)."""
        if not self._ready.wait(timeout):
            raise RuntimeError("the report poller did not start")

    def stop(self, timeout: float = 120.0) -> Polled:
        """Stop (or wait for the count) and return what was seen."""
        self._stop.set()
        polled: Polled = self._results.get(timeout=timeout)
        self._proc.join(timeout=10)
        return polled


def idle_polls(base: str, token: str, count: int) -> Polled:
    """``count`` report (and ``/health``) requests with nothing else going on."""
    return ReportPoller(base, token, count=count).stop(timeout=600)


def fmt_ms(seconds: float) -> str:
    """Seconds as whole milliseconds."""
    return f"{seconds * 1000:.0f} ms"


def median(values: Sequence[float]) -> float:
    """The median, NaN when empty."""
    return statistics.median(values) if values else float("nan")


def verdict(value: float, goal: float, higher_is_better: bool = True) -> str:
    """``ok`` or ``MISSED`` for a figure against its goal."""
    ok = value >= goal if higher_is_better else value <= goal
    return "ok" if ok else "MISSED"
