"""Real tills syncing with a live server through a proxy that breaks the network on purpose.

Three tills sell while their sync workers push and pull through :class:`FaultProxy`
(connections reset, answers dropped after the server committed, answers cut in half,
latency, stalls past the till's timeout) until at least 200 faults were injected. Then
the network heals and every till drains. The server must hold every sale exactly once,
the stock ledger must be exact, and no outbox may be left with anything waiting.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import func, select

from sync_server.catalog.models import Product
from sync_server.stock.models import StockMove
from sync_server.stock.service import on_hand_of
from sync_server.sync.models import Refund as ServerRefund
from sync_server.sync.models import Sale, SaleLine, SyncEvent
from tests.e2e.conftest import MANAGER_PIN, LiveServer, Till, make_till
from tests.e2e.fault_proxy import FAULTS, FaultProxy
from tests.e2e.test_till_server_sync import ITEMS

MIN_FAULTS = 200
DEADLINE_SECONDS = 150.0  # bounded: the loop stops here whatever happened
MAX_SALES_PER_TILL = 1000


@pytest.fixture
def proxy(live_server: LiveServer) -> Iterator[FaultProxy]:
    """A fault proxy in front of the live server (faults off until a test turns them on)."""
    fault_proxy = FaultProxy(live_server.port, seed=20261207, stall_seconds=3.0).start()
    yield fault_proxy
    fault_proxy.stop()


def _levels(server: LiveServer, skus: list[str]) -> dict[str, tuple[int, int]]:
    """sku -> (on hand as the server reads it: level plus deltas, sum of the ledger's
    moves) in the demo store."""
    store_id = server.store_id()
    ids = ids_by_sku(server, skus)
    with server.db.session() as session:
        out: dict[str, tuple[int, int]] = {}
        for sku, product_id in ids.items():
            level = on_hand_of(session, store_id=store_id, product_ids=[product_id])[product_id]
            moved = session.scalar(
                select(func.coalesce(func.sum(StockMove.quantity), 0)).where(
                    StockMove.product_id == product_id, StockMove.store_id == store_id
                )
            )
            out[sku] = (int(level or 0), int(moved or 0))
    return out


def test_sales_survive_200_network_faults_exactly_once(
    live_server: LiveServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    server = live_server
    tills: list[Till] = [
        make_till(
            server,
            tmp_path / code,
            terminal_code=code,
            base_url=proxy.url,
            timeout=2.0,
            batch_size=4,
        )
        for code in ("F01", "F02", "F03")
    ]
    try:
        for till in tills:
            till.worker.initial_download(lambda done, total: None)
            till.login_cashier()
            till.shifts.open(100_000)
        items = ITEMS[:12]
        skus = [item.sku for item in items]
        before = _levels(server, skus)
        rng = random.Random(7)
        sale_totals: dict[UUID, int] = {}
        expected_moves: Counter[int] = Counter()  # product id -> signed quantity rung up
        refunds = 0
        stop = threading.Event()
        errors: list[BaseException] = []

        def keep_syncing(till: Till) -> None:
            try:
                while not stop.is_set():
                    till.worker.run_once()
            except BaseException as exc:  # surfaced by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=keep_syncing, args=(t,), daemon=True) for t in tills]
        proxy.enabled = True
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + DEADLINE_SECONDS
        rounds = 0
        while proxy.fault_total < MIN_FAULTS and time.monotonic() < deadline:
            rounds += 1
            if rounds > MAX_SALES_PER_TILL:
                break
            for till in tills:
                picked = rng.sample(items, rng.randint(1, 3))
                for item in picked:
                    till.checkout.scan(item.barcode, rng.randint(1, 2))
                result = till.checkout.checkout_cash(till.checkout.totals().total)
                sale_totals[result.sale.id] = result.sale.total
                for line in result.sale.lines:
                    expected_moves[line.product_id] -= line.quantity
                if rng.random() < 0.08:
                    # Give one unit of the sale's first line back (manager PIN on the till).
                    first = result.sale.lines[0]
                    manager = server.user_id("manager")
                    till.refunds.refund(
                        result.sale.id,
                        manager_id=manager,
                        manager_pin=MANAGER_PIN,
                        quantities={first.id: 1},
                        reason="fault test",
                    )
                    expected_moves[first.product_id] += 1
                    refunds += 1
            time.sleep(0.03)
        proxy.enabled = False
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
        assert proxy.fault_total >= MIN_FAULTS, (proxy.fault_total, dict(proxy.faults))
        assert set(proxy.faults) == set(FAULTS), dict(proxy.faults)

        # The network heals: every till drains (bounded).
        for till in tills:
            for _ in range(20):
                report = till.worker.run_once()
                if report.online and till.store.pending_count() == 0:
                    break
            assert till.store.pending_count() == 0, till.store.pending_count()
            assert till.store.rejected_events() == []

        # Exactly once: every sale, every line, every event.
        assert server.count(Sale) == len(sale_totals)
        with server.db.session() as session:
            stored = dict(session.execute(select(Sale.id, Sale.total)).all())
            event_count = session.scalar(select(func.count()).select_from(SyncEvent))
            refund_count = session.scalar(select(func.count()).select_from(ServerRefund))
        assert {UUID(str(k)): v for k, v in stored.items()} == sale_totals
        for sale_id in sale_totals:
            assert server.count(SaleLine, sale_id=sale_id) >= 1
        # shift opens + sales + refunds, each applied once
        assert event_count == len(tills) + len(sale_totals) + refunds
        assert refund_count == refunds

        # The stock ledger is exact: what the tills recorded, moved once on the server.
        ids = ids_by_sku(server, skus)
        assert sum(expected_moves.values()) < 0  # the tills did sell
        after = _levels(server, skus)
        for sku in skus:
            level_before, ledger_before = before[sku]
            level_after, ledger_after = after[sku]
            assert ledger_after - ledger_before == expected_moves[ids[sku]], sku
            assert level_after - level_before == expected_moves[ids[sku]], sku
        # After one more pull each (the others pushed after a till's own drain), every
        # till shows the server's level.
        for till in tills:
            assert till.worker.run_once().online is True
        for till in tills:
            for sku in skus:
                assert till.catalog.stock_on_hand(ids[sku]) == after[sku][0], (till, sku)
    finally:
        for till in tills:
            till.store.close()


def ids_by_sku(server: LiveServer, skus: list[str]) -> dict[str, int]:
    """sku -> the server's product id."""
    with server.db.session() as session:
        rows = session.execute(select(Product.sku, Product.id).where(Product.sku.in_(skus)))
        return {sku: int(product_id) for sku, product_id in rows}
