"""nginx (packaging/nginx/kasir.conf) as the single entry point in front of real server
processes sharing one MariaDB database: two sync servers for the tills and the back office.

The config is the shipped file with loopback ports and temporary paths put in; nginx runs
as a foreground process with its own prefix, pid and logs. Tills enroll, sell and sync
through it and reach only the sync servers; every sale is in the database once, a
replayed push answers ``duplicate`` on whichever sync server it reaches; every other route
of the app (pages, logins, reports, the catalog and admin API) reaches the back office,
and the sync servers serve them while it is down. On both sides a burst beyond the
per-terminal limit gets 429 in the one error shape, bodies over the cap 413, a dead
upstream 503, and ``/metrics`` is refused. nginx's access log names the upstream that
answered each request (by its request id).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import select

from pos_client.sync import customers_client, payments_client
from pos_client.sync.client import ENROLL_PATH, PULL_PATH, PUSH_PATH
from pos_client.sync.receipt_link import RECEIPT_EMAIL_PATH, RECEIPT_KEY_PATH
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
from tests.server.test_authz_matrix import app_routes

ERROR_KEYS = {"code", "message", "details"}


@pytest.fixture(scope="module")
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


SYNC_SERVERS = ("server-1", "server-2")
BACKOFFICE = "backoffice"

TILL_ROUTES = {
    PUSH_PATH,
    PULL_PATH,
    ENROLL_PATH,
    payments_client.CHANNELS_PATH,
    payments_client.CREATE_TRANSACTION_PATH,
    payments_client.CREATE_PAYMENT_PATH,
    payments_client.STATUS_PATH,
    "/api/v1/payment/callback",  # Tripay settling the order a till is polling
    RECEIPT_KEY_PATH,
    RECEIPT_EMAIL_PATH,  # a cashier's "Kirim e-mail", under /api/v1/sync/
    customers_client.CHANGES_PATH,  # polled by every till each round, like a pull
}
"""The routes nginx sends to the sync servers: the calls of pos_client/sync a till makes
all the time, and Tripay's callback. Every other route of the app is the back office's,
including ``/api/v1/customers`` itself: the managers' list and a till's occasional lookup
or registration by phone share it (``customers_client.CUSTOMERS_PATH``)."""


@dataclass
class Upstream:
    """A real server process nginx proxies to."""

    url: str
    process: subprocess.Popen[bytes]

    @property
    def address(self) -> str:
        return self.url.removeprefix("http://")


@pytest.fixture(scope="module")
def servers(
    shared_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Upstream]]:
    """The compose stack's server processes (uvicorn, the app, one database) on free
    loopback ports, by their compose names: server-1, server-2 and backoffice. Shared by
    the module's tests (each runs a fresh nginx in front of them)."""
    started: dict[str, Upstream] = {}
    tmp_path = tmp_path_factory.mktemp("servers")
    try:
        for name in (*SYNC_SERVERS, BACKOFFICE):
            port = free_port()
            log = (tmp_path / f"{name}.log").open("wb")
            process = subprocess.Popen(
                uvicorn_command(port),
                cwd=ROOT,
                env=server_env(shared_database),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            started[name] = Upstream(f"http://127.0.0.1:{port}", process)
            wait_until_up(f"{started[name].url}/ready", process, name)
        yield started
    finally:
        for upstream in started.values():
            stop(upstream.process)


@pytest.fixture
def replicas(servers: dict[str, Upstream]) -> list[str]:
    """The tills' two sync servers."""
    return [servers[name].url for name in SYNC_SERVERS]


def render_config(tmp_path: Path, addresses: dict[str, str], port: int) -> Path:
    """The shipped kasir.conf inside a minimal nginx.conf, on test ports and paths;
    ``addresses`` puts host:port in place of each compose service's name."""
    conf = tmp_path / "nginx"
    (conf / "logs").mkdir(parents=True)
    (conf / "temp").mkdir()
    common = (NGINX_DIR / "kasir-common.conf").read_text()
    common = common.replace("/var/log/nginx/", f"{conf / 'logs'}/")
    (conf / "kasir-common.conf").write_text(common)
    site = (NGINX_DIR / "kasir.conf").read_text()
    for name, address in addresses.items():
        site = site.replace(f"{name}:8000", address)
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    site = site.replace("/etc/nginx/kasir-common.conf", str(conf / "kasir-common.conf"))
    assert ":8000" not in site and "listen 80" not in site
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


UPSTREAM_IN_LOG = re.compile(r" upstream=(?P<tried>.*?) urt=.* request_id=(?P<id>\S+)$")


@dataclass
class Gateway:
    """nginx running the shipped config; its access log says where each request went."""

    url: str
    access_log: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def tried(self, request_id: str) -> list[str]:
        """The upstream addresses nginx tried for the request, in order (its log line)."""
        for _ in range(100):  # the line is written as the answer leaves: poll, bounded
            for line in reversed(self.access_log.read_text().splitlines()):
                found = UPSTREAM_IN_LOG.search(line)
                if found and found["id"] == request_id:
                    return [a.strip() for a in re.split(r"[,:] ", found["tried"])]
            time.sleep(0.05)
        raise AssertionError(f"no access log line for request {request_id}")

    def send(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        json_body: object = None,
    ) -> tuple[httpx.Response, list[str]]:
        """One request through nginx with a fresh request id, and the upstreams it tried."""
        request_id = uuid4().hex
        answer = httpx.request(
            method,
            f"{self.url}{path}",
            headers={"X-Request-ID": request_id, **(headers or {})},
            json=json_body,
            timeout=30,
        )
        return answer, self.tried(request_id)


@contextmanager
def running_gateway(tmp_path: Path, addresses: dict[str, str]) -> Iterator[Gateway]:
    """nginx in the foreground on a free loopback port, ``addresses`` as its upstreams."""
    nginx = require_tool("nginx", "nginx")
    port = free_port()
    config = render_config(tmp_path, addresses, port)
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
        # nginx answers /metrics itself (404), whether the servers behind it are up or not.
        wait_until_up(f"{url}/metrics", process, "nginx", status=404)
        yield Gateway(url, prefix / "logs" / "kasir-access.log")
    finally:
        stop(process)


@pytest.fixture
def gateway(servers: dict[str, Upstream], tmp_path: Path) -> Iterator[Gateway]:
    """nginx in front of the two sync servers and the back office."""
    addresses = {name: upstream.address for name, upstream in servers.items()}
    with running_gateway(tmp_path, addresses) as running:
        yield running


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


def requests_served(replica: str, *labels: str) -> float:
    """How many requests the replica answered (its latency histogram's counts), of those
    carrying every one of ``labels``."""
    return metric_sum(replica, "kasir_http_request_duration_seconds_count", *labels)


class RecordingTransport(httpx.HTTPTransport):
    """The real transport, keeping a copy of every push body it sends."""

    def __init__(self, pushes: list[bytes]) -> None:
        super().__init__()
        self.pushes = pushes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/sync/push":
            self.pushes.append(request.read())
        return super().handle_request(request)


def test_tills_sync_through_nginx_exactly_once_over_the_two_sync_servers(
    gateway: Gateway,
    servers: dict[str, Upstream],
    replicas: list[str],
    shared_database: str,
    tmp_path: Path,
) -> None:
    app = create_app(make_settings(shared_database))  # only its database handle is used
    server = LiveServer(app, gateway.port)  # the API as tills see it
    assert server.base_url == gateway.url
    backoffice = servers[BACKOFFICE].url
    served_before = [requests_served(r) for r in replicas]
    manager_before = {
        route: requests_served(backoffice, f'route="{route}"')
        for route in ("/api/v1/auth/login", "/api/v1/terminals/enrollment-codes")
    }
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

        # Replay every push the tills made, twice: whichever sync server nginx picks, the
        # answers are all duplicate and nothing is written again.
        replayed = 0
        for code, body in ((c, b) for b in pushes for c in tokens):
            if not any(sale_id in body.decode() for sale_id in sold[code]):
                continue
            for _ in range(2):
                answer = httpx.post(
                    f"{gateway.url}/api/v1/sync/push",
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

    # Both sync servers answered requests, and together they applied each sale once; the
    # back office saw none of the tills' calls (enrollment, pulls, pushes), only the
    # manager's part: signing in and issuing the enrollment codes.
    served_after = [requests_served(r) for r in replicas]
    assert all(after > before for before, after in zip(served_before, served_after, strict=True))
    assert sum(sales_applied(r) for r in replicas) == len(everything)
    assert sales_applied(backoffice) == 0
    for route in (PUSH_PATH, PULL_PATH, ENROLL_PATH):
        assert sum(requests_served(r, f'route="{route}"') for r in replicas) > 0, route
    for route in TILL_ROUTES:
        assert requests_served(backoffice, f'route="{route}"') == 0, route
    for route, before in manager_before.items():
        label = f'route="{route}"'
        assert requests_served(backoffice, label) == before + 2, route  # one per till
        assert sum(requests_served(r, label) for r in replicas) == 0, route


def concrete(path: str) -> str:
    """A route's path template with a value in each parameter."""
    return re.sub(r"\{[^}]+\}", "1", path)


def test_each_route_reaches_its_side_the_tills_the_sync_servers_the_rest_the_back_office(
    gateway: Gateway, servers: dict[str, Upstream], shared_database: str
) -> None:
    app = create_app(make_settings(shared_database))
    app.state.db.dispose()  # only its routes are read
    sync = {servers[name].address for name in SYNC_SERVERS}
    backoffice = servers[BACKOFFICE].address
    routes = sorted(set(app_routes(app)) - {("GET", "/metrics")})  # refused by nginx itself
    assert {path for _, path in routes} >= TILL_ROUTES  # the till's calls are the app's
    wrong = []
    for method, path in routes:
        url = concrete(path) if method != "*" else f"{path}/web.css"  # a mount
        answer, tried = gateway.send("GET" if method == "*" else method, url)
        assert answer.status_code not in (502, 503, 504), (method, path, answer.text)
        expected = sync if path in TILL_ROUTES else {backoffice}
        if len(tried) != 1 or tried[0] not in expected:
            wrong.append(f"{method} {path} -> {tried}")
    assert not wrong, "\n".join(wrong)

    # A manager's real work: sign in, read a report and a page, all on the back office.
    answer, tried = gateway.send(
        "POST",
        "/api/v1/auth/login",
        json_body={"username": "manager", "password": "manager123"},
    )
    assert answer.status_code == 200, answer.text
    assert tried == [backoffice]
    bearer = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    answer, tried = gateway.send("GET", "/api/v1/reports/dashboard", headers=bearer)
    assert answer.status_code == 200, answer.text
    assert tried == [backoffice]
    answer, tried = gateway.send("GET", "/web/login")
    assert answer.status_code == 200 and "<form" in answer.text
    assert tried == [backoffice]


def test_while_the_back_office_is_down_the_sync_servers_serve_its_pages(
    servers: dict[str, Upstream], tmp_path: Path
) -> None:
    sync = {servers[name].address for name in SYNC_SERVERS}
    down = f"127.0.0.1:{free_port()}"  # the back office's address, nobody listening
    addresses = {name: servers[name].address for name in SYNC_SERVERS} | {BACKOFFICE: down}
    with running_gateway(tmp_path, addresses) as gateway:
        answer, tried = gateway.send(
            "POST",
            "/api/v1/auth/login",
            json_body={"username": "manager", "password": "manager123"},
        )
        assert answer.status_code == 200, answer.text
        assert tried[0] == down and tried[-1] in sync  # refused, then a backup
        answer, tried = gateway.send("GET", "/web/login")
        assert answer.status_code == 200 and "<form" in answer.text
        assert tried[-1] in sync
        # The tills' side is untouched: the sync servers only, never the back office.
        answer, tried = gateway.send("GET", PULL_PATH, headers={"Authorization": "Bearer x"})
        assert answer.status_code == 401
        assert tried[0] in sync and down not in tried


@pytest.mark.parametrize(
    ("side", "path"),
    [("tills", PULL_PATH), ("back office", "/api/v1/reports/dashboard")],
)
def test_a_burst_beyond_the_terminal_limit_gets_429_in_the_one_error_shape(
    gateway: Gateway, servers: dict[str, Upstream], side: str, path: str
) -> None:
    expected = (
        {servers[name].address for name in SYNC_SERVERS}
        if side == "tills"
        else {servers[BACKOFFICE].address}
    )
    first, tried = gateway.send("GET", path, headers={"Authorization": "Bearer a-busy-one"})
    assert first.status_code == 401 and tried[0] in expected  # that side refused the token
    headers = {"Authorization": "Bearer a-busy-one", "X-Request-ID": "burst-1"}
    limited = None
    with httpx.Client(timeout=10) as http:
        for _ in range(300):
            answer = http.get(f"{gateway.url}{path}", headers=headers)
            if answer.status_code == 429:
                limited = answer
                break
            assert answer.status_code == 401  # reached a server, which refused the token
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
        f"{gateway.url}{path}", headers={"Authorization": "Bearer a-quiet-one"}, timeout=10
    )
    assert other.status_code == 401


def test_metrics_are_not_served_through_the_gateway(
    gateway: Gateway, servers: dict[str, Upstream]
) -> None:
    for path in ("/metrics", "/metrics/", "/metrics?x=1"):
        answer = httpx.get(f"{gateway.url}{path}", timeout=10)
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "not_found"
        assert "kasir_" not in answer.text
    # ... while each server still serves them to Prometheus on the inner network.
    for upstream in servers.values():
        assert "kasir_http_request_duration_seconds" in httpx.get(f"{upstream.url}/metrics").text


def refused_body(gateway: Gateway, path: str, size: int) -> tuple[int, bytes]:
    """The status and body nginx answers to a POST announcing ``size`` bytes (only the
    headers are sent: nginx judges the Content-Length)."""
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: kasir\r\nAuthorization: Bearer x\r\n"
            f"Content-Type: application/json\r\nContent-Length: {size}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        received = b""
        while chunk := sock.recv(65536):  # until the answer is whole (or nginx closes)
            received += chunk
            head, _, body = received.partition(b"\r\n\r\n")
            length = re.search(rb"(?im)^content-length: *(\d+)", head)
            if length and len(body) >= int(length[1]):
                break
    head, _, body = received.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_request_ids_pass_through_and_bodies_are_capped(gateway: Gateway) -> None:
    answer = httpx.get(f"{gateway.url}/health", headers={"X-Request-ID": "till-abc"}, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["x-request-id"] == "till-abc"  # the server saw and echoed it
    made = httpx.get(f"{gateway.url}/health", timeout=10).headers["x-request-id"]
    assert len(made) == 32  # nginx's $request_id when the caller sent none

    too_big = httpx.post(
        f"{gateway.url}{PUSH_PATH}",
        content=b"{" + b" " * (4 * 1024 * 1024 + 10) + b"}",
        headers={"Authorization": "Bearer x", "Content-Type": "application/json"},
        timeout=30,
    )
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "payload_too_large"
    assert set(json.loads(too_big.text)["error"]) == ERROR_KEYS

    # On the back office's side the cap is KASIR_MAX_BODY_BYTES (16 MiB, a CSV import).
    status, body = refused_body(gateway, "/api/v1/products/import", 16 * 1024 * 1024 + 1)
    assert status == 413, body
    assert json.loads(body)["error"]["code"] == "payload_too_large"
    assert set(json.loads(body)["error"]) == ERROR_KEYS


def test_a_dead_upstream_answers_503_in_the_one_error_shape_on_both_sides(
    tmp_path: Path,
) -> None:
    nobody = {name: f"127.0.0.1:{free_port()}" for name in (*SYNC_SERVERS, BACKOFFICE)}
    with running_gateway(tmp_path, nobody) as gateway:
        for method, path in (("POST", PUSH_PATH), ("GET", "/api/v1/reports/dashboard")):
            answer, tried = gateway.send(method, path, headers={"Authorization": "Bearer x"})
            assert answer.status_code == 503, (path, answer.text)
            assert answer.headers["retry-after"] == "5"
            body = answer.json()
            assert set(body) == {"error"} and set(body["error"]) == ERROR_KEYS
            assert body["error"]["code"] == "upstream_unavailable"
            # The dead addresses, or the group's name once nginx has marked them all down.
            assert set(tried) <= {*nobody.values(), "kasir_tills", "kasir_backoffice"}
