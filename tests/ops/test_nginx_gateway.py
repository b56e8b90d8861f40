"""nginx (packaging/nginx/kasir.conf) as the single entry point in front of two real server
processes sharing one MariaDB database.

The config is the shipped file with loopback ports and temporary paths put in; nginx runs
as a foreground process with its own prefix, pid and logs. Tills enroll, sell and sync
through it; every sale is in the database once, a replayed push answers ``duplicate`` on
whichever replica it reaches, a burst beyond the per-terminal limit gets 429 in the one
error shape, and ``/metrics`` is refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from shared.models import PROTOCOL_HEADER, PROTOCOL_VERSION
from sync_server.catalog.demo import demo_items
from sync_server.main import create_app
from sync_server.sync.models import Sale, SyncEvent
from tests.conftest import drop_mariadb_databases, fresh_mariadb_database, uvicorn_command
from tests.e2e.conftest import LiveServer, make_till
from tests.ops.conftest import (
    NGINX_DIR,
    ROOT,
    free_port,
    require_tool,
    run_tool,
    stop,
    wait_until_up,
)
from tests.server.conftest import TEST_SECRET, make_settings

ERROR_KEYS = {"code", "message", "details"}


@pytest.fixture
def shared_database() -> Iterator[str]:
    """A fresh MariaDB database, migrated and seeded by the server's own CLI."""
    name = f"kasir_ops_gateway_{os.getpid()}"
    url = fresh_mariadb_database(name)
    env = server_env(url)
    cli = [sys.executable, "-m", "sync_server.cli"]
    run_tool([*cli, "migrate"], cwd=ROOT, env=env)
    run_tool([*cli, "seed-demo"], cwd=ROOT, env=env)
    try:
        yield url
    finally:
        drop_mariadb_databases(name)


def server_env(database_url: str) -> dict[str, str]:
    """The environment of a server replica (settings come from ``KASIR_*``)."""
    return {
        **os.environ,
        "KASIR_DATABASE_URL": database_url,
        "KASIR_SECRET_KEY": TEST_SECRET,
        "KASIR_RUN_MIGRATIONS_ON_START": "false",
        "KASIR_LOG_LEVEL": "WARNING",
    }


@pytest.fixture
def replicas(shared_database: str, tmp_path: Path) -> Iterator[list[str]]:
    """Two uvicorn processes of the app on free loopback ports, one database."""
    processes: list[subprocess.Popen[bytes]] = []
    urls = []
    try:
        for n in (1, 2):
            port = free_port()
            log = (tmp_path / f"server-{n}.log").open("wb")
            processes.append(
                subprocess.Popen(
                    uvicorn_command(port),
                    cwd=ROOT,
                    env=server_env(shared_database),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
            wait_until_up(f"{urls[-1]}/ready", processes[-1], f"server-{n}")
        yield urls
    finally:
        for process in processes:
            stop(process)


def render_config(tmp_path: Path, replicas: list[str], port: int) -> Path:
    """The shipped kasir.conf inside a minimal nginx.conf, on test ports and paths."""
    conf = tmp_path / "nginx"
    (conf / "logs").mkdir(parents=True)
    (conf / "temp").mkdir()
    common = (NGINX_DIR / "kasir-common.conf").read_text()
    common = common.replace("/var/log/nginx/", f"{conf / 'logs'}/")
    (conf / "kasir-common.conf").write_text(common)
    site = (NGINX_DIR / "kasir.conf").read_text()
    for n, url in enumerate(replicas, start=1):
        site = site.replace(f"server-{n}:8000", url.removeprefix("http://"))
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    site = site.replace("/etc/nginx/kasir-common.conf", str(conf / "kasir-common.conf"))
    assert "server-1" not in site and "listen 80" not in site
    (conf / "kasir.conf").write_text(site)
    main = conf / "nginx.conf"
    temp = conf / "temp"
    main.write_text(
        f"pid {conf / 'nginx.pid'};\n"
        f"error_log {conf / 'logs' / 'error.log'} warn;\n"
        "worker_processes 1;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        "  include /etc/nginx/mime.types;\n"
        f"  client_body_temp_path {temp}/body;\n  proxy_temp_path {temp}/proxy;\n"
        f"  fastcgi_temp_path {temp}/fastcgi;\n  uwsgi_temp_path {temp}/uwsgi;\n"
        f"  scgi_temp_path {temp}/scgi;\n"
        f"  include {conf / 'kasir.conf'};\n"
        "}\n"
    )
    return main


@pytest.fixture
def gateway(replicas: list[str], tmp_path: Path) -> Iterator[str]:
    """nginx in the foreground on a free loopback port, in front of both replicas."""
    nginx = require_tool("nginx", "nginx")
    port = free_port()
    config = render_config(tmp_path, replicas, port)
    prefix = config.parent
    run_tool([nginx, "-t", "-p", f"{prefix}/", "-c", str(config), "-e", str(prefix / "t.log")])
    log = (prefix / "logs" / "stdout.log").open("wb")
    process = subprocess.Popen(
        [nginx, "-p", f"{prefix}/", "-c", str(config), "-g", "daemon off;"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/health", process, "nginx")
        yield url
    finally:
        stop(process)


def metric_sum(replica: str, sample: str, *labels: str) -> float:
    """The sum of the replica's own ``sample`` series carrying every one of ``labels``
    (its /metrics, not through nginx)."""
    text = httpx.get(f"{replica}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(f"{sample}{{") and all(label in line for label in labels)
    )


def sales_applied(replica: str) -> float:
    """The replica's own count of applied sale events."""
    return metric_sum(replica, "kasir_sync_events_total", 'status="applied"', 'type="sale"')


def requests_served(replica: str) -> float:
    """How many requests the replica answered (its latency histogram's counts)."""
    return metric_sum(replica, "kasir_http_request_duration_seconds_count")


class RecordingTransport(httpx.HTTPTransport):
    """The real transport, keeping a copy of every push body it sends."""

    def __init__(self, pushes: list[bytes]) -> None:
        super().__init__()
        self.pushes = pushes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/sync/push":
            self.pushes.append(request.read())
        return super().handle_request(request)


def test_tills_sync_through_nginx_exactly_once_over_two_replicas(
    gateway: str, replicas: list[str], shared_database: str, tmp_path: Path
) -> None:
    app = create_app(make_settings(shared_database))  # only its database handle is used
    server = LiveServer(app, int(gateway.rsplit(":", 1)[1]))  # the API as tills see it
    assert server.base_url == gateway
    served_before = [requests_served(r) for r in replicas]
    items = demo_items()
    pushes: list[bytes] = []
    sold: dict[str, set[str]] = {}
    tokens: dict[str, str] = {}
    try:
        for code in ("T01", "T02"):
            till = make_till(server, tmp_path / code, terminal_code=code)
            till.transport = lambda: RecordingTransport(pushes)
            till.worker.initial_download(lambda done, total: None)
            till.login_cashier()
            till.shifts.open(100_000)
            sold[code] = set()
            for n in range(5):
                till.checkout.scan(items[n].barcode)
                sale = till.checkout.checkout_cash(till.checkout.totals().total).sale
                sold[code].add(str(sale.id))
                assert till.worker.run_once().pending == 0
            tokens[code] = till.token
            till.store.close()

        everything = sold["T01"] | sold["T02"]
        with app.state.db.session() as session:
            ids = [str(i) for i in session.scalars(select(Sale.id))]
            events = list(session.scalars(select(SyncEvent.id)))
        assert len(events) == len(set(events)) >= len(everything)
        assert sorted(ids) == sorted(everything)  # each sale once, none lost

        # Replay every push the tills made, twice: whichever replica nginx picks, the
        # answers are all duplicate and nothing is written again.
        replayed = 0
        for code, body in ((c, b) for b in pushes for c in tokens):
            if not any(sale_id in body.decode() for sale_id in sold[code]):
                continue
            for _ in range(2):
                answer = httpx.post(
                    f"{gateway}/api/v1/sync/push",
                    content=body,
                    headers={
                        "Authorization": f"Bearer {tokens[code]}",
                        "Content-Type": "application/json",
                        PROTOCOL_HEADER: str(PROTOCOL_VERSION),
                    },
                    timeout=30,
                )
                assert answer.status_code == 200, answer.text
                statuses = {r["status"] for r in answer.json()["results"]}
                assert statuses == {"duplicate"}, answer.text
                replayed += 1
        assert replayed >= 2 * len(everything)  # each sale went in a push of its own
        with app.state.db.session() as session:
            assert sorted(str(i) for i in session.scalars(select(Sale.id))) == sorted(everything)
    finally:
        app.state.db.dispose()

    # Both replicas answered requests, and together they applied each sale once.
    served_after = [requests_served(r) for r in replicas]
    assert all(after > before for before, after in zip(served_before, served_after, strict=True))
    assert sum(sales_applied(r) for r in replicas) == len(everything)


def test_a_burst_beyond_the_terminal_limit_gets_429_in_the_one_error_shape(
    gateway: str,
) -> None:
    headers = {"Authorization": "Bearer a-busy-terminal", "X-Request-ID": "burst-1"}
    limited = None
    with httpx.Client(timeout=10) as http:
        for _ in range(300):
            answer = http.get(f"{gateway}/api/v1/sync/pull", headers=headers)
            if answer.status_code == 429:
                limited = answer
                break
            assert answer.status_code == 401  # reached a replica, which refused the token
    assert limited is not None, "300 requests in a row never hit the limit"
    assert limited.headers["content-type"].startswith("application/json")
    assert limited.headers["retry-after"] == "1"
    assert limited.headers["x-request-id"] == "burst-1"
    body = limited.json()
    assert set(body) == {"error"} and set(body["error"]) == ERROR_KEYS
    assert body["error"]["code"] == "rate_limited"
    assert body["error"]["details"] is None

    # Another terminal is not held back by that one's burst.
    other = httpx.get(
        f"{gateway}/api/v1/sync/pull", headers={"Authorization": "Bearer a-quiet-one"}, timeout=10
    )
    assert other.status_code == 401


def test_metrics_are_not_served_through_the_gateway(gateway: str, replicas: list[str]) -> None:
    for path in ("/metrics", "/metrics/", "/metrics?x=1"):
        answer = httpx.get(f"{gateway}{path}", timeout=10)
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "not_found"
        assert "kasir_" not in answer.text
    # ... while each replica still serves them to Prometheus on the inner network.
    assert "kasir_http_request_duration_seconds" in httpx.get(f"{replicas[0]}/metrics").text


def test_request_ids_pass_through_and_bodies_are_capped(gateway: str) -> None:
    answer = httpx.get(f"{gateway}/health", headers={"X-Request-ID": "till-abc"}, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["x-request-id"] == "till-abc"  # the server saw and echoed it
    made = httpx.get(f"{gateway}/health", timeout=10).headers["x-request-id"]
    assert len(made) == 32  # nginx's $request_id when the caller sent none

    too_big = httpx.post(
        f"{gateway}/api/v1/sync/push",
        content=b"{" + b" " * (4 * 1024 * 1024 + 10) + b"}",
        headers={"Authorization": "Bearer x", "Content-Type": "application/json"},
        timeout=30,
    )
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "payload_too_large"
    assert set(json.loads(too_big.text)["error"]) == ERROR_KEYS
