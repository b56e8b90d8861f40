"""A real 3-node MariaDB Galera cluster on loopback for the whole session, and servers on it.

``galera`` starts the cluster once per session (see :mod:`tests.cluster.galera`) and tears
it down at the end. ``healthy`` hands each test the cluster with all three nodes Synced
again (a node a previous test killed is restarted, a frozen one thawed). ``servers``
are three sync servers (uvicorn in threads), one per node, on the migrated database
``kasir_cluster`` with a store, people and terminals seeded through node 1.

Every cluster test is marked ``cluster`` and put in the xdist group ``galera`` so one
worker runs them all against one cluster.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from sync_server.auth.models import Terminal
from sync_server.core.database import Database, utcnow
from sync_server.core.security import new_token, token_hash
from sync_server.main import create_app
from sync_server.migrate import upgrade
from tests.cluster.galera import GaleraCluster, Node, missing_tools
from tests.conftest import missing
from tests.e2e.conftest import LiveServer, free_port
from tests.server.conftest import World, build_world, make_settings
from tests.server.sync_helpers import CatalogProduct, add_products, stock_up

DATABASE = "kasir_cluster"


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``cluster`` marker (the tests still run by default, also on CI)."""
    config.addinivalue_line(
        "markers", "cluster: needs a 3-node MariaDB Galera cluster on loopback (slow)"
    )


@pytest.fixture(scope="session")
def galera() -> Iterator[GaleraCluster]:
    """Three Synced Galera nodes for the whole session; stopped and removed afterwards."""
    lacking = missing_tools()
    if lacking:
        missing(f"a Galera cluster ({', '.join(lacking)} not installed)")
    cluster = GaleraCluster()
    try:
        cluster.start(timeout=120)
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def healthy(galera: GaleraCluster) -> GaleraCluster:
    """The cluster with every node running and Synced (whatever the last test did)."""
    for node in galera.nodes:
        if node.frozen:
            galera.thaw(node)
        if not node.running:
            galera.start_node(node)
    try:
        galera.wait_synced(galera.nodes, deadline=time.monotonic() + 90)
    except RuntimeError:
        # A thawed node that does not find its way back: restart it cleanly.
        for node in galera.nodes:
            if node.status().get("wsrep_local_state_comment") != "Synced":
                galera.kill(node)
                galera.start_node(node)
        galera.wait_synced(galera.nodes, deadline=time.monotonic() + 90)
    return galera


def create_database(node: Node, name: str) -> None:
    """An empty database ``name`` on the cluster (DDL replicates to every node)."""
    with closing(node.connect()) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")


def query(node: Node, database: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` on ``node``, read causally (after everything the cluster committed)."""
    with closing(node.connect(database)) as conn, conn.cursor() as cur:
        cur.execute("SET SESSION wsrep_sync_wait = 1")
        cur.execute(sql)
        return list(cur.fetchall())


def table_digest(node: Node, database: str, table: str) -> tuple[int, str]:
    """(row count, sha256 of every row in primary-key order) of ``table`` on ``node``."""
    rows = query(node, database, f"SELECT * FROM `{table}` ORDER BY 1")
    digest = hashlib.sha256()
    for row in rows:
        digest.update(repr(row).encode())
    return len(rows), digest.hexdigest()


@dataclass
class ClusterWorld:
    """The seeded store on the cluster: people, terminals with tokens, stocked products."""

    world: World
    products: list[CatalogProduct]
    terminal_codes: list[str]
    terminal_tokens: list[str]


def _add_terminals(db: Database, store_id: int, count: int) -> tuple[list[str], list[str]]:
    codes, tokens = [], []
    with db.session() as s:
        for i in range(count):
            token = new_token()
            code = f"C{i + 1:02d}"
            s.add(
                Terminal(
                    store_id=store_id,
                    code=code,
                    name=f"Kasir cluster {i + 1}",
                    token_hash=token_hash(token),
                    enrolled_at=utcnow() - timedelta(minutes=1),
                )
            )
            codes.append(code)
            tokens.append(token)
    return codes, tokens


@pytest.fixture(scope="session")
def cluster_world(galera: GaleraCluster) -> ClusterWorld:
    """``kasir_cluster`` created, migrated and seeded through node 1."""
    first = galera.nodes[0]
    create_database(first, DATABASE)
    upgrade(first.url(DATABASE))
    db = Database(first.url(DATABASE))
    try:
        world = build_world(db)
        products = add_products(db, 8, prefix="CL")
        for p in products:
            stock_up(db, world.store_id, p.id, 1_000)
        codes, tokens = _add_terminals(db, world.store_id, 6)
    finally:
        db.dispose()
    return ClusterWorld(world, products, codes, tokens)


@pytest.fixture(scope="session")
def servers(galera: GaleraCluster, cluster_world: ClusterWorld) -> Iterator[list[LiveServer]]:
    """Three servers, server i on node i, all on ``kasir_cluster``; stopped at the end."""
    started: list[LiveServer] = []
    try:
        for node in galera.nodes:
            settings = make_settings(node.url(DATABASE), log_level="CRITICAL")
            server = LiveServer(create_app(settings), free_port())
            server.start(timeout=60)
            started.append(server)
        yield started
    finally:
        for server in started:
            server.stop()
            server.app.state.db.dispose()


def conflicts(cluster: GaleraCluster) -> int:
    """Certification failures plus brute-force aborts so far, summed over the nodes."""
    total = 0
    for node in cluster.nodes:
        status = node.status()
        total += int(status.get("wsrep_local_cert_failures", 0))
        total += int(status.get("wsrep_local_bf_aborts", 0))
    return total
