"""A node crashes or freezes: the servers on the other nodes carry on; the node comes back."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.cluster.conftest import ClusterWorld
from tests.cluster.galera import GaleraCluster
from tests.cluster.test_cluster_ingest import batch, digests, push
from tests.e2e.conftest import LiveServer

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("galera")]

KILLED = 2  # node3 and its server
FROZEN = 1  # node2 and its server


def _push_through(
    servers: list[LiveServer], indexes: list[int], cw: ClusterWorld, terminal: int, pushes: int
) -> list[str]:
    """Push ``pushes`` fresh batches of ``terminal`` round robin through ``indexes``."""
    code, token = cw.terminal_codes[terminal], cw.terminal_tokens[terminal]
    errors = []
    for b in range(pushes):
        events = batch(cw, code, 10, shift=False)
        answer = push(servers[indexes[b % len(indexes)]], token, events, timeout=30)
        if answer.status_code != 200:
            errors.append(f"{answer.status_code} {answer.text[:300]}")
        elif any(r["status"] != "applied" for r in answer.json()["results"]):
            errors.append(answer.text[:300])
    return errors


def test_a_killed_node_leaves_the_other_two_servers_working(
    healthy: GaleraCluster, servers: list[LiveServer], cluster_world: ClusterWorld
) -> None:
    healthy.kill(healthy.nodes[KILLED])
    survivors = [i for i in range(healthy.size) if i != KILLED]
    errors = _push_through(servers, survivors, cluster_world, terminal=0, pushes=6)
    assert errors == []
    sums = digests(healthy, survivors)
    for table, per_node in sums.items():
        assert len(set(per_node)) == 1, (table, per_node)


def _in_use(server: LiveServer, cw: ClusterWorld, terminal: int) -> tuple[LiveServer, str, str]:
    """``server`` after a batch of ``terminal`` went through it (its pool now holds
    connections to its node); the server, the terminal's token and its code."""
    token, code = cw.terminal_tokens[terminal], cw.terminal_codes[terminal]
    assert push(server, token, batch(cw, code, 3, shift=False)).status_code == 200
    return server, token, code


def _assert_unavailable(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    body = answer.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == "database_unavailable", body
    assert body["error"]["details"] == {"retryable": True}, body


def test_the_server_of_a_killed_node_answers_503_quickly(
    healthy: GaleraCluster, servers: list[LiveServer], cluster_world: ClusterWorld
) -> None:
    # Its pool holds connections to the node that is about to die.
    orphan, token, code = _in_use(servers[KILLED], cluster_world, terminal=1)
    healthy.kill(healthy.nodes[KILLED])
    try:  # a bounded deadline, not a timing assertion: a hang fails with a clear message
        answer = push(orphan, token, batch(cluster_world, code, 3, shift=False), timeout=10)
    except httpx.TimeoutException:
        pytest.fail("the server of a dead database node did not answer within 10 s")
    _assert_unavailable(answer)


def test_the_server_of_a_frozen_node_gives_up_instead_of_hanging(
    healthy: GaleraCluster, servers: list[LiveServer], cluster_world: ClusterWorld
) -> None:
    stuck, token, code = _in_use(servers[FROZEN], cluster_world, terminal=2)
    healthy.freeze(healthy.nodes[FROZEN])
    try:
        try:
            answer = push(stuck, token, batch(cluster_world, code, 3, shift=False), timeout=30)
        except httpx.TimeoutException:
            pytest.fail("the server of a frozen database node did not answer within 30 s")
        _assert_unavailable(answer)
        # Meanwhile the other servers carry on.
        others = [i for i in range(healthy.size) if i != FROZEN]
        assert _push_through(servers, others, cluster_world, terminal=3, pushes=2) == []
    finally:
        healthy.thaw(healthy.nodes[FROZEN])


def test_a_restarted_node_rejoins_with_identical_data(
    healthy: GaleraCluster, servers: list[LiveServer], cluster_world: ClusterWorld
) -> None:
    node = healthy.nodes[KILLED]
    healthy.kill(node)
    survivors = [i for i in range(healthy.size) if i != KILLED]
    # Writes it misses while it is down come to it by state transfer.
    assert _push_through(servers, survivors, cluster_world, terminal=4, pushes=4) == []
    began = time.monotonic()
    healthy.restart(node, timeout=120)
    rejoin = time.monotonic() - began
    last_start = node.error_log.read_text(errors="replace").rsplit(" as process ", 1)[-1]
    transfer = "SST (rsync)" if "rsync SST completed on joiner" in last_start else "IST"
    print(f"\nnode3 rejoined in {rejoin:.1f} s ({transfer})")
    sums = digests(healthy)
    for table, per_node in sums.items():
        assert len(set(per_node)) == 1, (table, per_node)
    # And its server works again.
    assert _push_through(servers, [KILLED], cluster_world, terminal=4, pushes=2) == []
    sums = digests(healthy)
    for table, per_node in sums.items():
        assert len(set(per_node)) == 1, (table, per_node)
