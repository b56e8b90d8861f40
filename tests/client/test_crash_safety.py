"""SIGKILL a till in the middle of checkouts, many times: no sale is ever half written.

A child process rings up sales in a loop on a file database (WAL, synchronous=FULL) and
is killed at random moments. After every kill the file passes ``PRAGMA integrity_check``
and every sale is whole (lines, payments, stock moves, outbox row) or absent.
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
from pos_client.store import LocalStore

from .conftest import CASHIER, INDOMIE, PINS, TEH, FakeClock, make_till, seed

ROOT = Path(__file__).resolve().parents[2]
KILLS = 24


def checkout_forever(path: str) -> None:
    """The child: sell 1-4 lines per sale, forever, announcing when it starts."""
    store = LocalStore(path)
    clock = FakeClock(datetime.now(UTC))
    till = make_till(store, ClientSettings(data_dir=Path(path).parent), clock)
    till.auth.login(CASHIER, PINS[CASHIER])
    rng = random.Random()
    print("ready", flush=True)
    while True:
        for _ in range(rng.randint(1, 4)):
            till.checkout.scan(rng.choice([INDOMIE, TEH, "BRS-005", "GULA-1KG"]))
        till.checkout.checkout_cash(500_000)
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
    code = "import sys; from tests.client.test_crash_safety import checkout_forever; "
    code += "checkout_forever(sys.argv[1])"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KIVY_NO_ARGS": "1"}
    seen = 0
    deadline = time.monotonic() + 60
    for _ in range(KILLS):
        child = subprocess.Popen(
            [sys.executable, "-c", code, str(path)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert child.stdout is not None
        ready = child.stdout.readline()
        if ready != b"ready\n":
            child.kill()
            raise AssertionError(child.communicate()[1].decode(errors="replace"))
        time.sleep(rng.uniform(0.0, 0.25))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert child.returncode == -signal.SIGKILL
        now = check_whole(path)
        assert now >= seen  # nothing committed is ever lost
        seen = now
        assert time.monotonic() < deadline, "crash test is too slow"
    assert seen > KILLS  # the children really were selling when killed
