"""End to end over real HTTP: the server and the Tripay sandbox each under uvicorn.

till (httpx) → server → sandbox → simulated payment (the CLI) → signed callback over
HTTP → the till's poll sees PAID. Runs on SQLite and on MariaDB.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select

from sync_server.core.database import Database, utcnow
from sync_server.main import create_app
from sync_server.payments import service
from sync_server.payments.models import PaymentCallback, PaymentOrder
from sync_server.payments.tripay import OrderItem, TripayClient, TripayError
from sync_server.tripay_sandbox.app import SandboxState
from sync_server.tripay_sandbox.cli import main as sandbox_cli
from sync_server.tripay_sandbox.qris import crc_is_valid
from tests.server.conftest import World, make_settings
from tests.server.tripay_helpers import running_sandbox

API_KEY = "DEV-e2e-api-key"
PRIVATE_KEY = "e2e-private-key"
MERCHANT = "T0099"


class LiveServer:
    """An ASGI app under uvicorn on 127.0.0.1, on a port bound before it starts."""

    def __init__(self, app: FastAPI) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.app = app
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(10)
        self.sock.close()


@pytest.fixture
def sandbox(sandbox_clock: list[float]) -> Iterator[LiveServer]:
    keys = (API_KEY, PRIVATE_KEY, MERCHANT)
    with running_sandbox(keys, sandbox_clock, retry_interval=0.2, attempts=2) as app:
        live = LiveServer(app)
        live.start()
        yield live
    live.stop()


@pytest.fixture
def server_socket() -> Iterator[LiveServer]:
    """The server's address, reserved before the app exists (it is the callback URL)."""
    placeholder = LiveServer(FastAPI())
    yield placeholder
    placeholder.stop()


@pytest.fixture
def app(db_url: str, sandbox: LiveServer, server_socket: LiveServer) -> Iterator[FastAPI]:
    settings = make_settings(
        db_url,
        tripay_base_url=f"{sandbox.url}/api-sandbox/",
        tripay_api_key=API_KEY,
        tripay_private_key=PRIVATE_KEY,
        tripay_merchant_code=MERCHANT,
        public_base_url=server_socket.url,
    )
    application = create_app(settings)
    yield application
    application.state.db.dispose()


@pytest.fixture
def server(app: FastAPI, server_socket: LiveServer, world: World) -> LiveServer:
    server_socket.app = app
    server_socket.start()
    return server_socket


@pytest.fixture
def till(server: LiveServer, world: World) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers=world.terminal_headers(), timeout=30) as c:
        yield c


def sandbox_state(live: LiveServer) -> SandboxState:
    state: SandboxState = live.app.state.sandbox
    return state


def poll_until_final(till: httpx.Client, order_id: str, seconds: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        answer = till.get("/api/v1/payment/get-status-payment", params={"order_id": order_id})
        assert answer.status_code == 200, answer.text
        order: dict[str, Any] = answer.json()
        if order["final"] or time.monotonic() > deadline:
            return order
        time.sleep(0.1)


def test_a_qris_payment_end_to_end(till: httpx.Client, sandbox: LiveServer, db: Database) -> None:
    created = till.post(
        "/api/v1/payment/create-transaction",
        json={
            "order_id": "T01-E2E-1",
            "amount": 27500,
            "items": [
                {"sku": "899", "name": "Indomie Goreng", "price": 3500, "quantity": 5},
                {"sku": "898", "name": "Teh Botol", "price": 5000, "quantity": 2},
            ],
        },
    )
    assert created.status_code == 201, created.text
    qr = till.post("/api/v1/payment/create-payment", json={"order_id": "T01-E2E-1"})
    assert qr.status_code == 200, qr.text
    order = qr.json()
    assert order["reference"].startswith("DEV-T")
    assert crc_is_valid(order["qr_string"])
    assert order["status"] == "UNPAID"
    # The till's lines added up, so Tripay got them as they are.
    tx = sandbox_state(sandbox).transactions[order["reference"]]
    assert [i["name"] for i in tx.data["order_items"]] == ["Indomie Goreng", "Teh Botol"]

    assert sandbox_cli(["pay", order["reference"], "--url", sandbox.url]) == 0
    final = poll_until_final(till, "T01-E2E-1")
    assert final["status"] == "PAID"
    assert final["paid_at"] is not None
    with db.session() as s:
        logged = list(s.scalars(select(PaymentCallback)))
        assert [(c.outcome, c.signature_ok) for c in logged] == [("processed", True)]
    assert [a.success for a in tx.callbacks] == [True]


def test_create_payment_is_idempotent_under_concurrent_http_calls(
    till: httpx.Client, sandbox: LiveServer
) -> None:
    till.post("/api/v1/payment/create-transaction", json={"order_id": "T01-E2E-2", "amount": 5000})
    answers: list[httpx.Response] = []

    def call() -> None:
        answers.append(till.post("/api/v1/payment/create-payment", json={"order_id": "T01-E2E-2"}))

    threads = [threading.Thread(target=call) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [a.status_code for a in answers] == [200] * 5
    assert len({a.json()["reference"] for a in answers}) == 1
    listed = httpx.get(
        f"{sandbox.url}/api-sandbox/merchant/transactions",
        params={"merchant_ref": "T01-E2E-2"},
        headers={"Authorization": f"Bearer {API_KEY}"},
    ).json()
    assert len(listed["data"]) == 1


def test_an_expired_order_is_settled_from_the_transaction_detail(
    till: httpx.Client,
    sandbox: LiveServer,
    sandbox_clock: list[float],
    app: FastAPI,
    db: Database,
) -> None:
    till.post("/api/v1/payment/create-transaction", json={"order_id": "T01-E2E-3", "amount": 9000})
    reference = till.post("/api/v1/payment/create-payment", json={"order_id": "T01-E2E-3"}).json()[
        "reference"
    ]
    # The EXPIRED callback never arrives: only asking Tripay can settle the order.
    sandbox_state(sandbox).http = httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(503))
    )
    sandbox_clock[0] += 20 * 60
    tripay = TripayClient.from_settings(app.state.settings)
    changed = service.settle_expired_orders(db, tripay, now=utcnow() + timedelta(minutes=20))
    assert changed == 1
    with db.session() as s:
        order = s.scalar(select(PaymentOrder).where(PaymentOrder.reference == reference))
        assert order is not None
        assert order.status == "EXPIRED"
    assert poll_until_final(till, "T01-E2E-3")["status"] == "EXPIRED"


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KASIR_")}
    env.update(values)
    return env


def test_the_sandbox_cli_serves_and_simulates(tmp_path: Path) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    url = f"http://127.0.0.1:{port}"
    env = _env(
        KASIR_TRIPAY_API_KEY=API_KEY,
        KASIR_TRIPAY_PRIVATE_KEY=PRIVATE_KEY,
        KASIR_TRIPAY_MERCHANT_CODE=MERCHANT,
        KASIR_TRIPAY_BASE_URL=f"{url}/api-sandbox/",
    )
    cmd = [sys.executable, "-m", "sync_server.tripay_sandbox"]
    proc = subprocess.Popen([*cmd, "serve", "--port", str(port)], env=env, cwd=tmp_path)
    try:
        tripay = TripayClient(
            httpx.Client(timeout=5), base_url=f"{url}/api-sandbox/", api_key=API_KEY,
            private_key=PRIVATE_KEY, merchant_code=MERCHANT,
        )  # fmt: skip
        deadline = time.monotonic() + 15
        while True:
            try:
                tripay.payment_channels()
                break
            except TripayError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        tx = tripay.create_transaction(
            method="QRIS", merchant_ref="CLI-1", amount=2000,
            items=[OrderItem(name="Permen", price=500, quantity=4)],
            customer_name="a", customer_email="a@example.com",
            expired_time=int(time.time()) + 600,
        )  # fmt: skip
        # No --url: the address comes from KASIR_TRIPAY_BASE_URL like the server's.
        paid = subprocess.run(
            [*cmd, "pay", tx.reference], env=env, capture_output=True, text=True, timeout=30
        )
        assert paid.returncode == 0, paid.stderr
        assert json.loads(paid.stdout)["data"]["status"] == "PAID"
        assert tripay.check_status(reference=tx.reference).value == "PAID"
        again = subprocess.run(
            [*cmd, "fail", tx.reference], env=env, capture_output=True, text=True, timeout=30
        )
        assert again.returncode == 1
        assert "needs UNPAID" in again.stdout
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_settle_command_settles_an_order_whose_callback_never_came(
    till: httpx.Client, sandbox: LiveServer, sandbox_clock: list[float], db_url: str, db: Database
) -> None:
    till.post("/api/v1/payment/create-transaction", json={"order_id": "T01-E2E-4", "amount": 9000})
    till.post("/api/v1/payment/create-payment", json={"order_id": "T01-E2E-4"})
    sandbox_state(sandbox).http = httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(503))
    )
    sandbox_clock[0] += 20 * 60
    env = _env(
        KASIR_ENVIRONMENT="test",
        KASIR_DATABASE_URL=db_url,
        KASIR_TRIPAY_API_KEY=API_KEY,
        KASIR_TRIPAY_PRIVATE_KEY=PRIVATE_KEY,
        KASIR_TRIPAY_MERCHANT_CODE=MERCHANT,
        KASIR_TRIPAY_BASE_URL=f"{sandbox.url}/api-sandbox/",
    )
    done = subprocess.run(
        [sys.executable, "-m", "sync_server.payments", "settle", "--once"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "settled 1 order(s)" in done.stderr
    with db.session() as s:
        order = s.scalar(select(PaymentOrder).where(PaymentOrder.order_id == "T01-E2E-4"))
        assert order is not None
        assert order.status == "EXPIRED"
