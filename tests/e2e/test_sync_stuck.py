"""One sale the real server fails on (a 500 from its ingest) never stalls the till.

The server's per-sale check is made to raise for one sale id, so the live uvicorn
server answers 500 to any push carrying it. The till's other events must still reach
the server; that one is kept aside as stuck (visible in the worker's status) and,
once the fault is gone, pushed again when its retry time comes and applied once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from pos_client.store import LocalStore
from pos_client.sync.worker import SyncWorker
from shared.models import SaleIn
from sync_server.catalog.demo import demo_items
from sync_server.sync.ingest import plans
from sync_server.sync.models import Sale, SyncEvent
from tests.e2e.conftest import Till

ITEMS = demo_items()


class Clock:
    """A wall clock the test moves by hand (stuck events wait for their retry time)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def sell(till: Till, barcode: str) -> SaleIn:
    """Ring up one item and pay the exact amount in cash."""
    till.checkout.scan(barcode)
    return till.checkout.checkout_cash(till.checkout.totals().total).sale


def test_a_sale_the_server_fails_on_is_stuck_and_the_rest_still_sync(
    selling_till: Till, monkeypatch: pytest.MonkeyPatch
) -> None:
    till, server = selling_till, selling_till.server
    sales = [sell(till, item.barcode) for item in ITEMS[:4]]
    bad = sales[1]
    real_plan_sale = plans.plan_sale

    def failing_plan_sale(ctx: Any, plan: Any, sale: SaleIn) -> None:
        if sale.id == bad.id:
            raise RuntimeError("a bug the server hits on this one sale")
        real_plan_sale(ctx, plan, sale)

    monkeypatch.setattr(plans, "plan_sale", failing_plan_sale)
    clock = Clock()
    worker = SyncWorker(lambda: LocalStore.open(till.settings), till.sync_client, clock=clock)

    first = worker.run_once()  # the whole batch fails once: retried after a backoff
    assert first.retry_in is not None and "500" in (first.last_error or "")
    assert server.count(Sale) == 0

    second = worker.run_once()  # failed again: cut down to the one sale, the rest go
    others = [s for s in sales if s is not bad]
    assert all(server.count(Sale, id=s.id) == 1 for s in others)
    assert server.count(Sale, id=bad.id) == 0
    assert (second.stuck, second.stuck_now, second.pending) == (1, 1, 0)
    assert worker.status().stuck == 1 and worker.status().last_error is None
    (stuck,) = till.store.stuck_events()
    assert stuck.event.payload["id"] == str(bad.id)
    assert (stuck.failure.status_code, stuck.failure.code) == (500, "internal_error")
    assert stuck.retry_at == clock.now + timedelta(minutes=1)

    assert worker.run_once().stuck == 1  # not due yet: nothing sent for it
    monkeypatch.undo()  # the server is fixed
    clock.now += timedelta(minutes=1)
    released = worker.run_once()
    assert (released.stuck, released.unstuck_now, released.pushed) == (0, 1, 1)
    assert server.count(Sale, id=bad.id) == 1
    event_id: UUID = stuck.event.id
    assert server.count(SyncEvent, id=event_id) == 1

    assert worker.run_once().pushed == 0  # nothing left, nothing sent twice
    assert server.count(Sale) == len(sales) and server.count(Sale, id=bad.id) == 1
    assert till.store.pending_count() == 0 and till.store.stuck_events() == []
