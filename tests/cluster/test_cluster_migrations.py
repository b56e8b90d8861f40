"""Migrating one Galera cluster from several processes at once, one per node.

``GET_LOCK`` is local to one node on Galera, so the migration lock there is a row that
a primary-key INSERT takes cluster-wide (``sync_server.migrate.cluster_lock``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory

from sync_server.migrate import alembic_config
from tests.cluster.conftest import create_database, query
from tests.cluster.galera import GaleraCluster
from tests.conftest import free_port, uvicorn_command
from tests.server.conftest import TEST_SECRET

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("galera")]

REPO = Path(__file__).resolve().parents[2]

MIGRATOR = """
import logging, sys
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
from sync_server.migrate import upgrade
print("ready", flush=True)
sys.stdin.readline()
upgrade(sys.argv[1])
print("done", flush=True)
"""


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def _check_at_head_everywhere(cluster: GaleraCluster, database: str) -> None:
    head = _head()
    for node in cluster.nodes:
        assert query(node, database, "SELECT version_num FROM alembic_version") == [(head,)], (
            node.name
        )
        assert query(node, database, "SELECT * FROM kasir_migration_lock") == [], node.name
        tables = {r[0] for r in query(node, database, "SHOW TABLES")}
        assert {"sales", "sync_events", "change_counter"} <= tables, node.name


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def test_three_processes_migrate_one_empty_cluster_at_once(healthy: GaleraCluster) -> None:
    database = "kasir_cluster_mig"
    create_database(healthy.nodes[0], database)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATOR, node.url(database)],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        for node in healthy.nodes
    ]
    try:
        for proc in procs:  # every one imported and is waiting at the gate
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == b"ready"
        for proc in procs:  # then all go at once
            assert proc.stdin is not None
            proc.stdin.write(b"go\n")
            proc.stdin.flush()
        outputs = [proc.communicate(timeout=180) for proc in procs]
    finally:
        for proc in procs:
            _kill_group(proc)
    logs = [err.decode(errors="replace") for _, err in outputs]
    for proc, (out, _), log in zip(procs, outputs, logs, strict=True):
        assert proc.returncode == 0, log[-3000:]
        assert out.decode().split()[-1] == "done"
    # The schema was built once: one process ran the revisions, the others found head.
    migrators = [log for log in logs if "Running upgrade  -> " in log]
    assert len(migrators) == 1, "\n-----\n".join(logs)
    waited = sum("waiting for the migration lock" in log for log in logs)
    print(f"\nmigration: 1 process migrated, {waited} of 2 others waited for its lock")
    _check_at_head_everywhere(healthy, database)


def _start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "KASIR_DATABASE_URL": url,
        "KASIR_ENVIRONMENT": "test",
        "KASIR_SECRET_KEY": TEST_SECRET,
        "KASIR_RUN_MIGRATIONS_ON_START": "true",
        "KASIR_LOG_LEVEL": "INFO",
    }
    return subprocess.Popen(
        uvicorn_command(port),
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def test_three_servers_start_at_once_on_an_empty_cluster_database(
    healthy: GaleraCluster,
) -> None:
    database = "kasir_cluster_boot"
    create_database(healthy.nodes[0], database)
    ports = [free_port() for _ in healthy.nodes]
    procs = [
        _start_server(node.url(database), port)
        for node, port in zip(healthy.nodes, ports, strict=True)
    ]
    try:
        pending = set(range(len(procs)))
        deadline = time.monotonic() + 150
        while pending and time.monotonic() < deadline:
            for i in list(pending):
                if procs[i].poll() is not None:
                    err = procs[i].communicate(timeout=5)[1].decode(errors="replace")
                    pytest.fail(f"server {i + 1} exited ({procs[i].returncode}):\n{err[-3000:]}")
                try:
                    ready = httpx.get(f"http://127.0.0.1:{ports[i]}/ready", timeout=2)
                    if ready.status_code == 200:
                        pending.discard(i)
                except httpx.TransportError:
                    pass
            time.sleep(0.2)
        assert not pending, f"servers {sorted(i + 1 for i in pending)} not ready within 150 s"
        assert all(proc.poll() is None for proc in procs)
    finally:
        for proc in procs:
            _kill_group(proc)
    logs = [proc.communicate(timeout=10)[1].decode(errors="replace") for proc in procs]
    # Each took the cluster lock in turn (the first migrated, the others found head).
    assert all("migration lock taken by" in log for log in logs), "\n-----\n".join(logs)
    _check_at_head_everywhere(healthy, database)
