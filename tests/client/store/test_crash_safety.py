"""SIGKILL a till in the middle of checkouts, many times: no sale is ever half written.

A child process rings up sales in a loop on a file database (WAL, synchronous=FULL) and
is killed at random moments after its first sale. After every kill the file passes
``PRAGMA integrity_check``, every sale is whole (lines, payments, stock moves, outbox row)
or absent, every sale the child finished is still there, and the till sells on.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from pos_client.config import ClientSettings
from pos_client.domain.receipts import parse_receipt_number
from pos_client.store import LocalStore
from tests.client.conftest import CASHIER, INDOMIE, PINS, TEH, FakeClock, make_till, seed

ROOT = Path(__file__).resolve().parents[3]
KILLS = 24


def checkout_forever(path: str) -> None:
    """The child: sell 1-4 lines per sale, forever; says "ready", then "sold" once."""
    store = LocalStore(path)
    clock = FakeClock(datetime.now(UTC))
    till = make_till(store, ClientSettings(data_dir=Path(path).parent), clock)
    till.auth.login(CASHIER, PINS[CASHIER])
    rng = random.Random()
    print("ready", flush=True)
    sold = 0
    while True:
        for _ in range(rng.randint(1, 4)):
            till.checkout.scan(rng.choice([INDOMIE, TEH, "BRS-005", "GULA-1KG"]))
        till.checkout.checkout_cash(500_000)
        sold += 1
        if sold == 1:
            print("sold", flush=True)  # committed: this sale must survive the kill
        clock.advance(seconds=1)


def check_whole(path: Path) -> int:
    """Assert the file is sound and every sale whole; returns how many sales it holds."""
    store = LocalStore(path)
    try:
        assert store.integrity_check() == "ok"
        assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        sales = {
            row[0]: row[1]
            for row in store.conn.execute("SELECT id, event_id FROM sales").fetchall()
        }
        events = {
            json.loads(payload)["id"]: (event_id, json.loads(payload))
            for event_id, payload in store.conn.execute(
                "SELECT id, payload FROM outbox WHERE type = 'sale'"
            )
        }
        assert set(sales) == set(events)  # each sale has its outbox row, and vice versa
        for sale_id, event_id in sales.items():
            outbox_id, payload = events[sale_id]
            assert outbox_id == event_id
            lines = store.conn.execute(
                "SELECT count(*) FROM sale_lines WHERE sale_id = ?", (sale_id,)
            ).fetchone()[0]
            payments = store.conn.execute(
                "SELECT count(*) FROM payments WHERE sale_id = ?", (sale_id,)
            ).fetchone()[0]
            moves = store.conn.execute(
                "SELECT count(*) FROM stock_moves WHERE event_id = ?", (event_id,)
            ).fetchone()[0]
            assert lines == len(payload["lines"]) == moves
            assert payments == len(payload["payments"])
        # Receipt sequences moved only with committed sales: no gaps, no reuse.
        allocated = store.conn.execute(
            "SELECT COALESCE(sum(last_seq), 0) FROM receipt_sequences"
        ).fetchone()[0]
        assert allocated == len(sales)
        return len(sales)
    finally:
        store.close()


def test_sigkill_during_checkouts_never_leaves_half_a_sale(tmp_path: Path) -> None:
    path = tmp_path / "till.sqlite3"
    store = seed(LocalStore(path))
    till = make_till(store, ClientSettings(data_dir=tmp_path), FakeClock(datetime.now(UTC)))
    till.auth.login(CASHIER, PINS[CASHIER])
    till.shifts.open(0)
    store.close()

    rng = random.Random(20250615)
    code = "import sys; from tests.client.store.test_crash_safety import checkout_forever; "
    code += "checkout_forever(sys.argv[1])"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KIVY_NO_ARGS": "1"}
    seen = 0
    for _ in range(KILLS):
        child = subprocess.Popen(
            [sys.executable, "-c", code, str(path)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert child.stdout is not None
        for expected in (b"ready\n", b"sold\n"):
            if child.stdout.readline() != expected:
                child.kill()
                raise AssertionError(child.communicate()[1].decode(errors="replace"))
        # Kill at a random moment of the selling loop (often mid-transaction).
        time.sleep(rng.uniform(0.0, 0.25))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert child.returncode == -signal.SIGKILL
        now = check_whole(path)
        # Nothing committed is ever lost, and this child's announced sale is among them.
        assert now > seen
        seen = now

    # After the last kill the till opens the same file and sells on: the next receipt
    # number follows the last one taken, and the new sale is whole too.
    store = LocalStore(path)
    taken = dict(store.conn.execute("SELECT day, last_seq FROM receipt_sequences").fetchall())
    clock = FakeClock(datetime.now(UTC))
    till = make_till(store, ClientSettings(data_dir=tmp_path), clock)
    till.auth.login(CASHIER, PINS[CASHIER])
    till.checkout.scan(INDOMIE)
    sale = till.checkout.checkout_cash(500_000).sale
    _, day, sequence = parse_receipt_number(sale.receipt_number)
    assert sequence == taken.get(day.isoformat(), 0) + 1
    store.close()
    assert check_whole(path) == seen + 1
