"""``kasir-server serve --workers 2`` as production runs it: two worker processes behind
one socket, their metrics summed through the multiprocess directory.

Two tills push sales over fresh connections (so the kernel hands them to either worker);
whichever worker answers ``/metrics``, the applied-sales counter equals the number of
sales pushed. When the server stops, every worker is marked dead: no live gauge is left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from shared.models import PROTOCOL_HEADER, PROTOCOL_VERSION, EnrollmentCodeRequest
from sync_server.auth import service as auth_service
from sync_server.auth.models import User
from sync_server.catalog.demo import STORE_CODE, seed_demo
from sync_server.core.database import Database
from sync_server.migrate import upgrade
from tests.e2e.conftest import answers_ok, free_port
from tests.server.conftest import TEST_SECRET
from tests.server.sync_helpers import add_products, sale_event

SALES_PER_TILL = 12
PER_PUSH = 3


class Served:
    """The running ``kasir-server serve`` and what the test set up for it."""

    def __init__(self, process: subprocess.Popen[bytes], base_url: str, metrics_dir: Path):
        self.process = process
        self.base_url = base_url
        self.metrics_dir = metrics_dir


@pytest.fixture
def data(tmp_path: Path) -> Database:
    """A migrated SQLite database with the demo store (the server finds it at start)."""
    url = f"sqlite:///{tmp_path / 'data' / 'kasir.sqlite3'}"
    upgrade(url)
    db = Database(url)
    seed_demo(db)
    return db


@pytest.fixture
def served(tmp_path: Path, data: Database) -> Iterator[Served]:
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_99999.db").write_bytes(b"left over from a previous run")
    env = {
        **os.environ,
        "KASIR_DATA_DIR": str(tmp_path / "data"),
        "KASIR_SECRET_KEY": TEST_SECRET,
        "KASIR_LOG_LEVEL": "WARNING",
    }
    env.pop("KASIR_DATABASE_URL", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    binary = Path(sys.executable).with_name("kasir-server")
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [
            str(binary),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "2",
            "--metrics-dir",
            str(metrics_dir),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):  # bounded: 60 s at most
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            if answers_ok(f"{base_url}/ready", timeout=2):
                break
            time.sleep(0.25)
        else:
            raise AssertionError("kasir-server serve never became ready")
        yield Served(process, base_url, metrics_dir)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # pragma: no cover - a hung shutdown
                process.kill()
                process.wait(timeout=10)
        log.close()
        data.dispose()


def enroll(served: Served, db: Database, terminal_code: str) -> dict[str, str]:
    store_id = auth_service.store_id_for_code(db=db, code=STORE_CODE)
    code = auth_service.create_enrollment_code(
        db=db,
        request=EnrollmentCodeRequest(store_id=store_id, terminal_code=terminal_code),
    ).code
    answer = httpx.post(
        f"{served.base_url}/api/v1/terminals/enroll",
        json={"code": code},
        headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION)},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return {
        "Authorization": f"Bearer {answer.json()['device_token']}",
        PROTOCOL_HEADER: str(PROTOCOL_VERSION),
    }


def applied_sales(served: Served) -> float:
    """The summed ``kasir_sync_events_total{type="sale",status="applied"}``, over a new
    connection (any worker may answer)."""
    text = httpx.get(f"{served.base_url}/metrics", timeout=30).text
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "kasir_sync_events_total" and s.labels == {
                "type": "sale",
                "status": "applied",
            }:
                return float(s.value)
    return 0.0


def test_two_workers_sum_their_counters(served: Served, data: Database) -> None:
    assert not (served.metrics_dir / "counter_99999.db").exists()  # wiped at start
    tills = {code: enroll(served, data, code) for code in ("T01", "T02")}
    (product,) = add_products(data, price=5_000)
    with data.session() as s:
        cashier_id = s.scalar(select(User.id).where(User.username == "siti"))
    assert cashier_id is not None

    pushed = 0
    for _ in range(SALES_PER_TILL // PER_PUSH):
        for code, headers in tills.items():
            events = [
                sale_event(terminal_code=code, cashier_id=cashier_id, items=[(product, 1)])
                for _ in range(PER_PUSH)
            ]
            # A new connection each time: the kernel may give it to either worker.
            answer = httpx.post(
                f"{served.base_url}/api/v1/sync/push",
                json={"events": events, "waiting": 0},
                headers=headers,
                timeout=30,
            )
            assert answer.status_code == 200, answer.text
            assert [r["status"] for r in answer.json()["results"]] == ["applied"] * PER_PUSH
            pushed += PER_PUSH
    assert pushed == 2 * SALES_PER_TILL

    # Every scrape, whichever worker answers it, shows the sum over both.
    assert [applied_sales(served) for _ in range(6)] == [float(pushed)] * 6
    text = httpx.get(f"{served.base_url}/metrics", timeout=30).text
    assert 'kasir_sync_last_push_timestamp_seconds{terminal="T01"}' in text
    assert 'kasir_sync_last_push_timestamp_seconds{terminal="T02"}' in text
    assert 'route="/api/v1/sync/push"' in text
    pids = {p.stem.rsplit("_", 1)[-1] for p in served.metrics_dir.glob("*.db")}
    assert len(pids) >= 2, f"one file set per worker expected: {sorted(pids)}"

    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=30) == 0
    live = sorted(p.name for p in served.metrics_dir.glob("gauge_live*.db"))
    assert live == [], f"workers not marked dead: {live}"
