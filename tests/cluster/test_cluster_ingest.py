"""Three servers, one per Galera node, ingesting at once: every event lands exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from shared.models import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.cluster.conftest import DATABASE, ClusterWorld, conflicts, query, table_digest
from tests.cluster.galera import GaleraCluster
from tests.e2e.conftest import LiveServer
from tests.server.sync_helpers import sale_event, shift_open_event

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("galera")]


def headers(token: str) -> dict[str, str]:
    """A terminal's headers speaking the current protocol."""
    return {"Authorization": f"Bearer {token}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}


def batch(cw: ClusterWorld, terminal_code: str, size: int, *, shift: bool = True) -> list[dict]:
    """A shift opening and ``size - 1`` sales of ``terminal_code``."""
    cashier = cw.world.cashier_ids[0]
    events = [shift_open_event(user_id=cashier)] if shift else []
    products = cw.products
    for i in range(size - len(events)):
        events.append(
            sale_event(
                terminal_code=terminal_code,
                cashier_id=cw.world.cashier_ids[i % 2],
                items=[(products[i % len(products)], 1), (products[(i + 3) % len(products)], 2)],
            )
        )
    return events


def push(server: LiveServer, token: str, events: list[dict], timeout: float = 60) -> httpx.Response:
    """POST one batch to ``server``."""
    return httpx.post(
        f"{server.base_url}/api/v1/sync/push",
        json={"events": events},
        headers=headers(token),
        timeout=timeout,
    )


def counts(cluster: GaleraCluster, nodes: list[int] | None = None) -> dict[str, list[int]]:
    """Rows of sync_events and sales on each node (causal reads)."""
    picked = [cluster.nodes[i] for i in (nodes or range(cluster.size))]
    return {
        table: [int(query(n, DATABASE, f"SELECT COUNT(*) FROM {table}")[0][0]) for n in picked]
        for table in ("sync_events", "sales")
    }


def digests(cluster: GaleraCluster, nodes: list[int] | None = None) -> dict[str, list[Any]]:
    """(count, checksum) of sales and sync_events on each node."""
    picked = [cluster.nodes[i] for i in (nodes or range(cluster.size))]
    return {
        table: [table_digest(n, DATABASE, table) for n in picked]
        for table in ("sync_events", "sales", "sale_lines", "stock_moves")
    }


def test_three_servers_push_the_same_batches_and_each_event_lands_once(
    healthy: GaleraCluster, servers: list[LiveServer], cluster_world: ClusterWorld
) -> None:
    before = counts(healthy)
    conflicts_before = conflicts(healthy)
    token, code = cluster_world.terminal_tokens[0], cluster_world.terminal_codes[0]
    rounds, size = 6, 25
    errors: list[str] = []
    applied: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    for _ in range(rounds):
        events = batch(cluster_world, code, size)
        barrier = threading.Barrier(len(servers))

        def send(
            server: LiveServer, events: list[dict] = events, barrier: threading.Barrier = barrier
        ) -> httpx.Response:
            barrier.wait(timeout=30)
            return push(server, token, events)

        with ThreadPoolExecutor(len(servers)) as pool:
            answers = list(pool.map(send, servers))
        for answer in answers:
            if answer.status_code != 200:
                errors.append(f"{answer.status_code} {answer.text[:300]}")
                continue
            for result in answer.json()["results"]:
                statuses[result["status"]] += 1
                if result["status"] == "applied":
                    applied[result["id"]] += 1
        # Each event: applied by exactly one server; the others said duplicate.
        assert sorted(applied[e["id"]] for e in events) == [1] * size, (statuses, errors)
    print(
        f"\nsame batches x3 servers: {rounds * 3} pushes, {statuses}, {len(errors)} errors, "
        f"{conflicts(healthy) - conflicts_before} Galera conflicts retried"
    )
    assert errors == []
    assert statuses == {"applied": rounds * size, "duplicate": 2 * rounds * size}
    after = counts(healthy)
    events_added = [a - b for a, b in zip(after["sync_events"], before["sync_events"], strict=True)]
    sales_added = [a - b for a, b in zip(after["sales"], before["sales"], strict=True)]
    assert events_added == [rounds * size] * 3
    assert sales_added == [rounds * (size - 1)] * 3
    sums = digests(healthy)
    for table, per_node in sums.items():
        assert len(set(per_node)) == 1, (table, per_node)


def test_distinct_batches_spread_over_three_servers_all_apply(
    healthy: GaleraCluster, servers: list[LiveServer], cluster_world: ClusterWorld
) -> None:
    before = counts(healthy)
    conflicts_before = conflicts(healthy)
    terminals = list(zip(cluster_world.terminal_codes, cluster_world.terminal_tokens, strict=True))
    batches_each, size = 4, 20

    def till(index: int) -> tuple[int, list[str]]:
        code, token = terminals[index]
        applied, errors = 0, []
        for b in range(batches_each):
            events = batch(cluster_world, code, size, shift=b == 0)
            server = servers[(index + b) % len(servers)]  # round robin over the nodes
            answer = push(server, token, events)
            if answer.status_code != 200:
                errors.append(f"{answer.status_code} {answer.text[:300]}")
                continue
            results = answer.json()["results"]
            applied += sum(r["status"] == "applied" for r in results)
            errors += [str(r) for r in results if r["status"] != "applied"]
        return applied, errors

    with ThreadPoolExecutor(len(terminals)) as pool:
        outcomes = list(pool.map(till, range(len(terminals))))
    applied = sum(a for a, _ in outcomes)
    errors = [e for _, errs in outcomes for e in errs]
    total = len(terminals) * batches_each * size
    print(
        f"\ndistinct batches: {len(terminals)} tills x {batches_each} pushes x {size} events "
        f"over 3 servers: {applied}/{total} applied, {len(errors)} errors {errors[:3]}, "
        f"{conflicts(healthy) - conflicts_before} Galera conflicts retried"
    )
    assert errors == []
    assert applied == total
    after = counts(healthy)
    assert [a - b for a, b in zip(after["sync_events"], before["sync_events"], strict=True)] == [
        total
    ] * 3
    sums = digests(healthy)
    for table, per_node in sums.items():
        assert len(set(per_node)) == 1, (table, per_node)
