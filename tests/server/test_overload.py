"""Overload: pushes beyond the admission gate hear 503 ``overloaded`` at once (not after
the till's timeout), nothing is lost when they come back, and reports keep answering
while the gate is full. Pulls have a gate of their own: tills downloading never take a
push's place."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from httpx import Response
from prometheus_client import REGISTRY

from sync_server.core.database import Database
from sync_server.core.middleware import MAX_RETRY_AFTER, AdmissionGate, RetrySlots
from sync_server.main import create_app
from sync_server.sync import service
from tests.server.conftest import World, build_world, make_settings
from tests.server.sync_helpers import (
    CatalogProduct,
    add_products,
    push,
    row_counts,
    sale_event,
    statuses,
)

BOUND = 30.0
"""Longest any step of these tests waits for another thread (a hang fails, never stalls)."""


@dataclass
class HeldPushes:
    """Makes every push (or pull) wait inside the route (holding its place and its
    thread) until :meth:`release`; counts the requests that got that far."""

    real: Callable[..., Any]
    released: threading.Event = field(default_factory=threading.Event)
    entered: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))

    def push_events(self, db: Database, **kwargs: Any) -> Any:
        self.entered.release()
        if not self.released.wait(BOUND):
            raise AssertionError("the test never released the held requests")
        return self.real(db, **kwargs)

    def hold(self) -> None:
        self.released.clear()

    def wait_inside(self, count: int) -> None:
        for _ in range(count):
            assert self.entered.acquire(timeout=BOUND), "a push never reached the route"

    def release(self) -> None:
        self.released.set()


@dataclass
class Gated:
    client: TestClient
    world: World
    product: CatalogProduct
    held: HeldPushes
    pulls: HeldPushes
    """Pulls pass at once unless the test calls ``pulls.hold()``."""


def _gated(db_url: str, monkeypatch: pytest.MonkeyPatch, **gate: object) -> Iterator[Gated]:
    app = create_app(make_settings(db_url, **gate))
    held = HeldPushes(service.push_events)
    monkeypatch.setattr(service, "push_events", held.push_events)
    pulls = HeldPushes(service.pull_changes)
    pulls.release()
    monkeypatch.setattr(service, "pull_changes", pulls.push_events)
    world = build_world(app.state.db)
    product = add_products(app.state.db, 1)[0]
    try:
        with TestClient(app) as client:
            yield Gated(client, world, product, held, pulls)
    finally:
        held.release()
        pulls.release()
        app.state.db.dispose()


@pytest.fixture
def gate_of_two(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Gated]:
    """Two pushes served at once, one more may wait (for long), the rest refused."""
    yield from _gated(
        db_url, monkeypatch, sync_max_concurrent=2, sync_max_waiting=1, sync_max_wait_seconds=60
    )


@pytest.fixture
def pull_gate_of_one(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Gated]:
    """One pull at a time and none waiting; one push at a time, one may wait."""
    yield from _gated(
        db_url,
        monkeypatch,
        sync_max_concurrent=1,
        sync_max_waiting=1,
        sync_max_concurrent_pulls=1,
        sync_max_waiting_pulls=0,
        sync_max_wait_seconds=60,
    )


@pytest.fixture
def gate_of_one(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Gated]:
    """One push at a time, one may wait a moment."""
    yield from _gated(
        db_url, monkeypatch, sync_max_concurrent=1, sync_max_waiting=1, sync_max_wait_seconds=0.2
    )


class Sent:
    """A push sent from a thread of its own (the test's client is shared)."""

    def __init__(self, g: Gated, terminal: int = 0) -> None:
        self.event = sale_event(
            terminal_code=f"T0{terminal + 1}",
            cashier_id=g.world.cashier_ids[0],
            items=[(g.product, 1)],
        )
        self.response: Response | None = None
        self._thread = threading.Thread(
            target=self._send, args=(g, terminal), name="push", daemon=True
        )
        self._thread.start()

    def _send(self, g: Gated, terminal: int) -> None:
        self.response = push(g.client, g.world.terminal_headers(terminal), [self.event])

    def answer(self) -> Response:
        self._thread.join(BOUND)
        assert not self._thread.is_alive(), "the push got no answer"
        assert self.response is not None
        return self.response


def _gate(state: str) -> float:
    return REGISTRY.get_sample_value("kasir_sync_gate_requests", {"state": state}) or 0.0


class Pulled:
    """A pull sent from a thread of its own."""

    def __init__(self, g: Gated, terminal: int = 0) -> None:
        self.response: Response | None = None
        self._thread = threading.Thread(
            target=self._send, args=(g, terminal), name="pull", daemon=True
        )
        self._thread.start()

    def _send(self, g: Gated, terminal: int) -> None:
        self.response = g.client.get(
            "/api/v1/sync/pull", headers=g.world.terminal_headers(terminal)
        )

    def answer(self) -> Response:
        self._thread.join(BOUND)
        assert not self._thread.is_alive(), "the pull got no answer"
        assert self.response is not None
        return self.response


def _refused(reason: str, route: str = "/api/v1/sync/push") -> float:
    labels = {"route": route, "reason": reason}
    return REGISTRY.get_sample_value("kasir_overloaded_total", labels) or 0.0


def _until_waiting(count: int) -> None:
    deadline = time.monotonic() + BOUND
    while _gate("waiting") < count:
        assert time.monotonic() < deadline, "the push never queued at the gate"
        time.sleep(0.01)


def _assert_overloaded(resp: Response) -> None:
    assert resp.status_code == 503, resp.text
    assert int(resp.headers["Retry-After"]) >= 1
    error = resp.json()["error"]
    assert error["code"] == "overloaded"
    assert error["details"]["retryable"] is True
    assert "busy" in error["message"]


def test_a_push_beyond_the_gate_hears_503_at_once_and_lands_when_sent_again(
    gate_of_two: Gated,
) -> None:
    g = gate_of_two
    waiting_before = _gate("waiting")
    refused_before = _refused("queue_full")
    # A thread pool only one thread larger than the gate: pushes left to take threads
    # as they came would leave none for the manager.
    g.client.portal.call(_shrink_thread_pool, 3)  # type: ignore[union-attr]

    served = [Sent(g, 0), Sent(g, 1)]
    g.held.wait_inside(2)  # both places taken, each push holding a thread
    queued = Sent(g, 0)
    _until_waiting(waiting_before + 1)  # the one waiting place taken

    refused = Sent(g, 1)
    _assert_overloaded(refused.answer())  # answered while the others still hold
    assert _refused("queue_full") == refused_before + 1

    # The manager's report and the health probe answer while the gate is full.
    report = g.client.get("/api/v1/reports/sales", headers=g.world.manager_headers())
    assert report.status_code == 200, report.text
    assert g.client.get("/health").status_code == 200

    g.held.release()
    for sent in (*served, queued):
        assert statuses(sent.answer()) == ["applied"]
    # The till sends the refused push again later: applied, nothing lost or doubled.
    assert statuses(push(g.client, g.world.terminal_headers(1), [refused.event])) == ["applied"]
    assert statuses(push(g.client, g.world.terminal_headers(1), [refused.event])) == ["duplicate"]
    counts = row_counts(g.client.app.state.db, ("sync_events", "sales"))  # type: ignore[attr-defined]
    assert counts == {"sync_events": 4, "sales": 4}


async def _shrink_thread_pool(tokens: int) -> None:
    anyio.to_thread.current_default_thread_limiter().total_tokens = tokens


def test_a_push_that_waited_its_longest_hears_503(gate_of_one: Gated) -> None:
    g = gate_of_one
    before = _refused("wait_timeout")
    first = Sent(g, 0)
    g.held.wait_inside(1)
    late = Sent(g, 1)
    _assert_overloaded(late.answer())  # waited, then refused while the first still holds
    assert _refused("wait_timeout") == before + 1
    g.held.release()
    assert statuses(first.answer()) == ["applied"]
    assert statuses(push(g.client, g.world.terminal_headers(1), [late.event])) == ["applied"]
    counts = row_counts(g.client.app.state.db, ("sales",))  # type: ignore[attr-defined]
    assert counts == {"sales": 2}


def test_pulls_and_logins_never_wait_for_the_pushes_gate(gate_of_one: Gated) -> None:
    g = gate_of_one
    first = Sent(g, 0)
    g.held.wait_inside(1)
    late = Sent(g, 1)
    _assert_overloaded(late.answer())  # the pushes' gate is full...
    pull = g.client.get("/api/v1/sync/pull", headers=g.world.terminal_headers(1))
    assert pull.status_code == 200, pull.text  # ...and a pull has places of its own
    login = g.client.post(
        "/api/v1/auth/login", json={"username": "manager", "password": "password123"}
    )
    assert login.status_code == 200, login.text
    g.held.release()
    assert statuses(first.answer()) == ["applied"]


def test_a_full_pull_gate_answers_503_and_never_stops_pushes(pull_gate_of_one: Gated) -> None:
    g = pull_gate_of_one
    refused_before = _refused("queue_full", "/api/v1/sync/pull")
    g.pulls.hold()
    downloading = Pulled(g, 0)
    g.pulls.wait_inside(1)  # the one pull place taken, its thread held

    _assert_overloaded(g.client.get("/api/v1/sync/pull", headers=g.world.terminal_headers(1)))
    assert _refused("queue_full", "/api/v1/sync/pull") == refused_before + 1
    # A sale pushed meanwhile lands at once: the pull gate holds no push place.
    event = Sent(g, 1)
    g.held.wait_inside(1)  # inside the push route while the pull still holds its place
    g.held.release()
    assert statuses(event.answer()) == ["applied"]

    g.pulls.release()
    assert downloading.answer().status_code == 200
    page = g.client.get("/api/v1/sync/pull", headers=g.world.terminal_headers(1))
    assert page.status_code == 200, page.text
    assert [p["id"] for p in page.json()["products"]] == [g.product.id]


def test_the_pull_gate_is_a_quarter_of_the_pushes_at_least_one(db_url: str) -> None:
    assert make_settings(db_url, db_pool_size=10).effective_sync_max_concurrent_pulls == 2
    assert make_settings(db_url, db_pool_size=3).effective_sync_max_concurrent_pulls == 1
    assert make_settings(db_url, sync_max_concurrent=20).effective_sync_max_concurrent_pulls == 5
    pulls = make_settings(db_url, sync_max_concurrent_pulls=7)
    assert (pulls.effective_sync_max_concurrent_pulls, pulls.effective_sync_max_waiting_pulls) == (
        7,
        28,
    )


def test_the_gate_hands_places_on_in_order_and_takes_back_a_cancelled_wait() -> None:
    async def scenario() -> list[str]:
        gate = AdmissionGate(limit=1, queue=2)
        order: list[str] = []
        assert gate.try_enter()

        async def wait(name: str) -> None:
            if await gate.enter(BOUND):
                order.append(name)
                gate.leave()

        async with anyio.create_task_group() as tg:
            tg.start_soon(wait, "first")
            await anyio.sleep(0.01)
            tg.start_soon(wait, "second")
            await anyio.sleep(0.01)
            assert gate.waiting == 2
            assert not await gate.enter(BOUND)  # the queue is full: refused at once
            gate.leave()
        assert (gate.active, gate.waiting) == (0, 0)

        # A waiter that goes away (its client hung up) leaves no place taken.
        assert gate.try_enter()
        with anyio.move_on_after(0.05):
            await gate.enter(BOUND)
        assert gate.waiting == 0
        gate.leave()
        assert (gate.active, gate.waiting) == (0, 0)
        return order

    assert anyio.run(scenario) == ["first", "second"]


def test_a_crowd_sent_away_at_once_is_told_to_come_back_spread_over_the_drain_time() -> None:
    slots = RetrySlots(limit=2)
    for _ in range(50):
        slots.served(0.5)  # the average converges on half a second a request
    waits = [slots.book(10, now=100.0) for _ in range(100)]
    assert waits == sorted(waits)  # later refusals queue behind earlier ones
    assert waits[0] <= 4  # behind the 10 inside: 10 x 0.5 s / 2 places, about 2.5 s
    assert waits[-1] >= 25  # 100 more at 0.25 s each: about 27.5 s for the last
    assert len(set(waits)) >= 20  # not one wait for all
    assert slots.book(0, now=1_000.0) == 1  # long after the crowd: come back at once


def test_retry_after_is_capped() -> None:
    slots = RetrySlots(limit=1, initial_service=10.0)
    assert max(slots.book(100, now=0.0) for _ in range(10)) == MAX_RETRY_AFTER
