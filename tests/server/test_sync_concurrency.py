"""The same events arriving at the same moment (threads, or two server processes) land once."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from shared.models import PushRequest
from sync_server.auth.models import Terminal
from sync_server.core.database import Database
from sync_server.sync.service import push_events
from tests.conftest import free_port, uvicorn_command
from tests.server.conftest import TEST_SECRET, World, detached_row
from tests.server.sync_helpers import (
    add_products,
    all_at_once,
    on_hand,
    refund_event,
    row_counts,
    sale_event,
    shift_open_event,
    stock_up,
)

REPO = Path(__file__).resolve().parents[2]


def _batch(world: World, products, size: int) -> list[dict]:
    events = [shift_open_event(user_id=world.cashier_ids[0])]
    for i in range(size - 1):
        events.append(
            sale_event(
                terminal_code="T01",
                cashier_id=world.cashier_ids[i % 2],
                items=[(products[i % len(products)], 1), (products[(i + 1) % len(products)], 2)],
            )
        )
    return events


def test_eight_threads_push_the_same_events(db: Database, world: World) -> None:
    products = add_products(db, 5)
    for p in products:
        stock_up(db, world.store_id, p.id, 100)
    terminal = detached_row(db, Terminal, world.terminal_ids[0])
    rounds = 3
    for _ in range(rounds):
        events = _batch(world, products, 40)
        request = PushRequest.model_validate({"events": events})
        answers = all_at_once(
            [lambda r=request: push_events(db, terminal=terminal, request=r) for _ in range(8)]
        )
        per_event = zip(*([r.status.value for r in a.results] for a in answers), strict=True)
        for statuses in per_event:
            assert sorted(statuses) == ["applied"] + ["duplicate"] * 7

    counts = row_counts(db)
    assert counts["sync_events"] == 40 * rounds
    assert counts["sales"] == 39 * rounds
    assert counts["shifts"] == rounds
    assert counts["sale_lines"] == 78 * rounds
    # 39 sales of 1 + 2 units per round, spread over the 5 products.
    assert sum(on_hand(db, world.store_id, p.id) for p in products) == 500 - 117 * rounds


def test_overlapping_batches_at_once(db: Database, world: World) -> None:
    products = add_products(db, 3)
    terminal = detached_row(db, Terminal, world.terminal_ids[0])
    events = _batch(world, products, 30)
    # Each thread sends a different window of the same queue (as retries after timeouts do).
    windows = [events[i : i + 12] for i in range(0, 19, 3)]
    answers = all_at_once(
        [
            lambda w=w: push_events(
                db, terminal=terminal, request=PushRequest.model_validate({"events": w})
            )
            for w in windows
        ]
    )
    applied = [r.id for a in answers for r in a.results if r.status.value == "applied"]
    assert len(applied) == len(set(applied)) == 30
    assert row_counts(db)["sync_events"] == 30
    assert sum(on_hand(db, world.store_id, p.id) for p in products) == -3 * 29


def test_concurrent_refunds_of_one_sale_never_exceed_it(db: Database, world: World) -> None:
    (product,) = add_products(db)
    sale = sale_event(terminal_code="T01", cashier_id=world.cashier_ids[0], items=[(product, 3)])
    first = detached_row(db, Terminal, world.terminal_ids[0])
    second = detached_row(db, Terminal, world.terminal_ids[1])
    push_events(db, terminal=first, request=PushRequest.model_validate({"events": [sale]}))
    refunds = [refund_event(sale, lines=[(0, 2)], approved_by=world.manager_id) for _ in range(2)]

    answers = all_at_once(
        [
            lambda t=t, r=r: push_events(
                db, terminal=t, request=PushRequest.model_validate({"events": [r]})
            )
            for t, r in ((first, refunds[0]), (second, refunds[1]))
        ]
    )
    outcomes = sorted((a.results[0].status.value, a.results[0].code or "") for a in answers)
    assert outcomes == [("applied", ""), ("rejected", "refund_exceeds_sale")]
    assert on_hand(db, world.store_id, product.id) == -3 + 2


@pytest.fixture
def two_servers(db_url: str) -> Iterator[list[str]]:
    """Two uvicorn processes of the app on the same database (MariaDB, or one SQLite file)."""
    env = {
        **os.environ,
        "KASIR_DATABASE_URL": db_url,
        "KASIR_ENVIRONMENT": "test",
        "KASIR_SECRET_KEY": TEST_SECRET,
        "KASIR_RUN_MIGRATIONS_ON_START": "false",
        "KASIR_LOG_LEVEL": "WARNING",
    }
    ports = [free_port(), free_port()]
    procs = [
        subprocess.Popen(
            uvicorn_command(port),
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 30
        for url, proc in zip(urls, procs, strict=True):
            while True:
                if proc.poll() is not None:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    pytest.fail(f"server on {url} exited: {err[-2000:]}")
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"server on {url} did not start")
                time.sleep(0.1)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_two_server_processes_apply_each_event_once(
    two_servers: list[str], db: Database, world: World
) -> None:
    products = add_products(db, 4)
    batches = [_batch(world, products, 25) for _ in range(4)]
    headers = world.terminal_headers(0)

    def send(url: str, batch: list[dict]) -> list[str]:
        with httpx.Client(base_url=url, timeout=60) as http:
            resp = http.post("/api/v1/sync/push", json={"events": batch}, headers=headers)
            assert resp.status_code == 200, resp.text
            return [r["status"] for r in resp.json()["results"]]

    # Every batch goes to both servers, three times each, all at the same moment.
    calls = [(url, batch) for batch in batches for url in two_servers for _ in range(3)]
    with ThreadPoolExecutor(len(calls)) as pool:
        answers = list(pool.map(lambda c: send(*c), calls))

    for b in range(len(batches)):
        mine = answers[b * 6 : (b + 1) * 6]
        for statuses in zip(*mine, strict=True):
            assert sorted(statuses) == ["applied"] + ["duplicate"] * 5
    counts = row_counts(db)
    assert counts["sync_events"] == 100
    assert counts["sales"] == 96
    with db.session() as s:
        receipts = list(s.scalars(select(Terminal.last_seen_at)))
    assert any(r is not None for r in receipts)
    units = 96 * 3
    assert sum(on_hand(db, world.store_id, p.id) for p in products) == -units
