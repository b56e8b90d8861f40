"""Durable checkout commit vs one fsynced single-row SQLite commit, in the same run.

Both databases live in the same temporary folder, in WAL mode with synchronous=FULL, and
the two measurements are interleaved so they see the same disk. Prints p50/p99 and the
ratio (goal: checkout p99 <= 2x the single-row commit p99), the pages a sale appends to
the WAL, and how many measured commits also ran SQLite's automatic WAL checkpoint (which
a commit runs once the WAL holds ``wal_autocheckpoint`` pages: copying them into the
database and syncing it is part of that commit's time). Run:
``.venv/bin/python -m benches.checkout_commit [--n 500] [--offline]``; ``--wal-autocheckpoint N``
sets the till connection's threshold (default: the till's own) to see what it changes.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import struct
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from argon2 import PasswordHasher

from pos_client.config import ClientSettings
from pos_client.domain import Cart, CashTender, build_sale_draft, settle
from pos_client.services import AuthService, CheckoutService, ShiftService
from pos_client.store import LocalStore
from shared.models import (
    EventResult,
    EventStatus,
    ProductOut,
    PullResponse,
    Role,
    TaxRateOut,
    UserOut,
)

PAGE_COUNT_COMMITS = 50
"""Commits of each kind the WAL pages per commit are averaged over."""


def percentile(samples: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``samples``, nearest rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def wal_pages(conn: sqlite3.Connection, path: Path, write: Callable[[], object]) -> int:
    """How many pages ``write()`` appends to the WAL (no checkpoint meanwhile)."""
    threshold = int(conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    wal = path.with_name(path.name + "-wal")
    before = wal.stat().st_size if wal.exists() else 0
    write()
    page = int(conn.execute("PRAGMA page_size").fetchone()[0])
    header = 32 if before == 0 else 0
    pages = (wal.stat().st_size - before - header) // (page + 24)
    conn.execute(f"PRAGMA wal_autocheckpoint={threshold}")
    return pages


def backfilled(path: Path) -> int:
    """Frames checkpointed so far from the WAL now in use (``nBackfill`` of the wal-index,
    byte 96 of the ``-shm`` file, native byte order: SQLite's documented WAL-index format).
    It grows when a checkpoint copies frames (and drops to 0 when the WAL restarts)."""
    with path.with_name(path.name + "-shm").open("rb") as shm:
        return int(struct.unpack("=I", shm.read(100)[96:100])[0])


def seeded_store(path: Path, hasher: PasswordHasher) -> LocalStore:
    """A till database with 1,000 products, PPN 11 % and one cashier (PIN 1111)."""
    store = LocalStore(path)
    store.apply_pull_page(
        PullResponse(
            cursor=1,
            has_more=False,
            remaining=0,
            tax_rates=[TaxRateOut(id=1, code="PPN", name="PPN", rate_bp=1100, change_no=1)],
            products=[
                ProductOut(
                    id=i,
                    sku=f"SKU-{i:05d}",
                    name=f"Barang {i}",
                    price=1000 + 17 * i,
                    tax_rate_id=1,
                    change_no=i,
                )
                for i in range(1, 1001)
            ],
            users=[
                UserOut(
                    id=1,
                    username="kasir",
                    full_name="Kasir",
                    role=Role.CASHIER,
                    pin_hash=hasher.hash("1111"),
                )
            ],
        )
    )
    return store


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=500, help="commits of each kind")
    parser.add_argument("--lines", type=int, default=5, help="lines per sale")
    parser.add_argument(
        "--wal-autocheckpoint",
        type=int,
        default=None,
        help="PRAGMA wal_autocheckpoint for the till's connection (default: the till's own)",
    )
    parser.add_argument(
        "--checkpoint-every",
        type=int,
        default=10,
        help="rounds (a record_sale and a service checkout each) between the sync worker's "
        "checkpoints, run untimed on a connection of its own as the till's worker does "
        "after each sync round; 0: never",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="the till never syncs: no sale is acknowledged, its outbox row and stock moves "
        "stay (by default every --checkpoint-every rounds the sync worker acknowledges what "
        "is pending, as after a push)",
    )
    args = parser.parse_args()
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

    with tempfile.TemporaryDirectory(dir=Path.cwd()) as folder:
        till_path = Path(folder) / "till.sqlite3"
        store = seeded_store(till_path, hasher)
        if args.wal_autocheckpoint is not None:
            store.conn.execute(f"PRAGMA wal_autocheckpoint={int(args.wal_autocheckpoint)}")
        autocheckpoint = int(store.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
        settings = ClientSettings(data_dir=Path(folder))
        auth = AuthService(store, settings, hasher=hasher)
        auth.login(1, "1111")
        ShiftService(store, auth).open(100_000)
        checkout = CheckoutService(store, auth, settings)
        worker = LocalStore(till_path)  # the sync worker's own connection

        baseline = sqlite3.connect(Path(folder) / "baseline.sqlite3", isolation_level=None)
        baseline.execute("PRAGMA journal_mode=WAL")
        baseline.execute("PRAGMA synchronous=FULL")
        baseline.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")

        shift = store.open_shift_row()
        single: list[float] = []
        commit: list[float] = []
        full: list[float] = []
        checkpointed = {"record_sale": 0, "service": 0}
        day = date.today()
        for i in range(args.n):
            if args.checkpoint_every and i % args.checkpoint_every == 0:
                # Untimed, between sales, as a sync round does: the server's answer for the
                # pushed sales (their outbox rows and pending stock moves go), then the
                # checkpoint. --offline: nothing is acknowledged, the queue only grows.
                if not args.offline:
                    worker.acknowledge(
                        [
                            EventResult(id=event.id, status=EventStatus.APPLIED)
                            for event in worker.pending_events(10_000)
                        ]
                    )
                worker.checkpoint()
            # One fsynced single-row commit.
            t0 = time.perf_counter()
            baseline.execute("BEGIN")
            baseline.execute("INSERT INTO t (v) VALUES (?)", (f"row {i}",))
            baseline.execute("COMMIT")
            single.append(time.perf_counter() - t0)

            # The checkout commit alone: one transaction of sale, lines, payments, moves, outbox.
            cart = Cart()
            for k in range(args.lines):
                product = store.product((i * 7 + k * 131) % 1000 + 1)
                assert product is not None
                cart.add(product, 1 + k % 3)
            totals = cart.totals()
            draft = build_sale_draft(
                cart,
                totals,
                settle(totals.total, [CashTender(totals.total)]),
                cashier_id=1,
                shift_id=shift.id if shift else None,
                created_at=datetime.now(UTC),
            )
            mark = backfilled(till_path)
            t0 = time.perf_counter()
            store.record_sale(draft, terminal_code="T01", day=day)
            commit.append(time.perf_counter() - t0)
            checkpointed["record_sale"] += backfilled(till_path) > mark

            # The whole service call: validation, pricing, tender and the commit.
            for k in range(args.lines):
                checkout.add_product((i * 11 + k * 97) % 1000 + 1, 1 + k % 3)
            total = checkout.totals().total
            mark = backfilled(till_path)
            t0 = time.perf_counter()
            checkout.checkout_cash(total)
            full.append(time.perf_counter() - t0)
            checkpointed["service"] += backfilled(till_path) > mark

        # Pages each commit appends to the WAL (what its fsync must cover), counted from
        # an emptied WAL over more sales through the service and as many single rows
        # (50: a B-tree splits every few sales, and over ten the figure moved by a few pages).
        def more_sales() -> None:
            for n in range(PAGE_COUNT_COMMITS):
                for k in range(args.lines):
                    checkout.add_product((n * 13 + k * 97) % 1000 + 1, 1)
                checkout.checkout_cash(checkout.totals().total)

        def more_rows() -> None:
            for n in range(PAGE_COUNT_COMMITS):
                baseline.execute("INSERT INTO t (v) VALUES (?)", (f"last {n}",))

        sale_pages = wal_pages(store.conn, till_path, more_sales) / PAGE_COUNT_COMMITS
        row_pages = (
            wal_pages(baseline, Path(folder) / "baseline.sqlite3", more_rows) / PAGE_COUNT_COMMITS
        )
        baseline.close()
        worker.close()
        store.close()

    def row(name: str, samples: list[float]) -> str:
        return (
            f"{name:<44} p50 {percentile(samples, 0.5) * 1e3:7.3f} ms   "
            f"p99 {percentile(samples, 0.99) * 1e3:7.3f} ms   "
            f"mean {statistics.fmean(samples) * 1e3:7.3f} ms"
        )

    print(f"{args.n} commits each, {args.lines} lines per sale, WAL + synchronous=FULL")
    print(f"pages written to the WAL per commit: sale {sale_pages:.1f}, single row {row_pages:.1f}")
    print(
        f"commits that also ran the WAL autocheckpoint (every {autocheckpoint} pages): "
        f"record_sale {checkpointed['record_sale']}/{args.n}, "
        f"service {checkpointed['service']}/{args.n}; the sync worker's passive checkpoint "
        + (f"every {args.checkpoint_every} rounds" if args.checkpoint_every else "off")
        + ("; offline (nothing acknowledged)" if args.offline else ", after acknowledging")
    )
    print(row("single-row commit (baseline)", single))
    print(row("checkout commit (LocalStore.record_sale)", commit))
    print(row("checkout_cash (service, incl. commit)", full))
    for q, label in ((0.5, "p50"), (0.99, "p99")):
        base = percentile(single, q)
        print(
            f"ratio {label}: record_sale {percentile(commit, q) / base:5.2f}x   "
            f"checkout_cash {percentile(full, q) / base:5.2f}x   (goal <= 2x)"
        )


if __name__ == "__main__":
    main()
