"""End-to-end fixtures: the real sync server under uvicorn and an enrolled till talking to it.

``live_server`` runs :func:`sync_server.main.create_app` under uvicorn in a background
thread on a free loopback port, on the embedded SQLite default (a file in a temporary
data folder, migrated by the app as it starts) and on MariaDB (a fresh database), and
seeds the demo store. It can be stopped and started again on the same port, which is
how tests take the network away from the till.

``till`` enrolls a terminal over real HTTP with a one-time code minted through the API,
opens a :class:`~pos_client.store.LocalStore` in ``tmp_path``, wires the services as the
UI does, and builds a :class:`~pos_client.sync.worker.SyncWorker` whose clients talk
HTTP to the live server (optionally through a transport wrapper a test installs).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import func, select

from pos_client.config import ClientSettings
from pos_client.services.wiring import TillServices
from pos_client.store import LocalStore
from pos_client.sync.client import SyncClient, enroll
from pos_client.sync.worker import SyncWorker
from shared.models import EnrollmentCodeOut, EnrollmentCodeRequest, TokenOut
from sync_server.auth.models import User
from sync_server.catalog.demo import STORE_CODE, seed_demo
from sync_server.core.database import Database
from sync_server.core.models import Store
from sync_server.main import create_app
from tests.conftest import free_port
from tests.server.conftest import (  # noqa: F401 - fixtures reused by name
    make_settings,
    mariadb_url,
    reset_mariadb,
)

MANAGER = ("manager", "manager123")
"""The demo manager's web/API login (see ``sync_server.catalog.demo.USERS``)."""
ADMIN = ("admin", "admin12345")
"""The demo admin's login: the chain catalog (prices, tax) is the admin's."""
MANAGER_PIN = "9999"
CASHIER_PIN = "1111"
TERMINAL_CODE = "T01"


def answers_ok(url: str, *, timeout: float) -> bool:
    """True when a GET of ``url`` answers 200; False on any other answer or no answer."""
    try:
        return httpx.get(url, timeout=timeout).status_code == 200
    except httpx.TransportError:
        return False


class ThreadedServer:
    """An ASGI app served by uvicorn in a thread; :meth:`stop` and :meth:`start` toggle it."""

    health_path: str | None = "/health"
    """What :meth:`start` waits to answer 200 (None: only for uvicorn to listen)."""

    def __init__(self, app: FastAPI, port: int) -> None:
        """Serve ``app`` on 127.0.0.1:``port`` (not started yet)."""
        self.app = app
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 20.0) -> None:
        """Start serving and return once it listens and ``health_path`` answers."""
        config = uvicorn.Config(
            app=self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="on",
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="uvicorn-e2e", daemon=True)
        thread.start()
        self._server, self._thread = server, thread
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not thread.is_alive():
                raise RuntimeError("the server thread ended while starting")
            if server.started and self._healthy():
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"the server did not answer {self.health_path} within {timeout} s")

    def _healthy(self) -> bool:
        path = self.health_path
        return path is None or answers_ok(f"{self.base_url}{path}", timeout=1)

    def stop(self) -> None:
        """Shut the server down (connections closed, port released)."""
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=10)
        if self._thread.is_alive():  # pragma: no cover - a hung shutdown
            self._server.force_exit = True
            self._thread.join(timeout=5)
        self._server = self._thread = None

    @property
    def running(self) -> bool:
        """True while the server thread serves."""
        return self._thread is not None and self._thread.is_alive()


class LiveServer(ThreadedServer):
    """The sync server served by uvicorn in a thread, and the manager's API calls."""

    @property
    def db(self) -> Database:
        """The server's database, to arrange and check rows directly."""
        database: Database = self.app.state.db
        return database

    # -- acting as the manager through the API ---------------------------------------

    def manager_token(self) -> str:
        """Sign the demo manager in over HTTP; the bearer token."""
        return self.token_for(*MANAGER)

    def admin_token(self) -> str:
        """Sign the demo admin (who owns the chain catalog) in over HTTP; the bearer token."""
        return self.token_for(*ADMIN)

    def token_for(self, username: str, password: str) -> str:
        """Sign ``username`` in over HTTP; the bearer token."""
        response = httpx.post(
            f"{self.base_url}/api/v1/auth/login",
            json={"username": username, "password": password},
            timeout=10,
        )
        response.raise_for_status()
        return TokenOut.model_validate_json(response.content).access_token

    def enrollment_code(self, terminal_code: str = TERMINAL_CODE) -> str:
        """A one-time code for ``terminal_code`` of the demo store, minted through the API."""
        body = EnrollmentCodeRequest(
            store_id=self.store_id(), terminal_code=terminal_code, name=f"Kasir {terminal_code}"
        )
        response = httpx.post(
            f"{self.base_url}/api/v1/terminals/enrollment-codes",
            content=body.model_dump_json(),
            headers={
                "Authorization": f"Bearer {self.manager_token()}",
                "Content-Type": "application/json",
            },
            timeout=10,
        )
        response.raise_for_status()
        return EnrollmentCodeOut.model_validate_json(response.content).code

    def store_id(self) -> int:
        """The demo store's id."""
        with self.db.session() as session:
            return int(session.scalars(select(Store.id).where(Store.code == STORE_CODE)).one())

    def user_id(self, username: str) -> int:
        """The id of the user called ``username``."""
        with self.db.session() as session:
            return int(session.scalars(select(User.id).where(User.username == username)).one())

    def count(self, model: type[Any], **where: Any) -> int:
        """How many rows of ``model`` match ``where`` (column = value)."""
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        with self.db.session() as session:
            return int(session.scalar(query) or 0)


@contextmanager
def serving_demo(app: FastAPI, port: int) -> Iterator[LiveServer]:
    """``app`` served on ``port`` with the demo store seeded; stopped afterwards."""
    server = LiveServer(app, port)
    server.start()
    try:
        seed_demo(server.db)
        yield server
    finally:
        server.stop()
        app.state.db.dispose()


@pytest.fixture(params=["sqlite", "mariadb"])
def server_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """Server settings: the embedded SQLite default in a fresh data folder, then MariaDB.

    SQLite is migrated by the app as it starts; MariaDB is an emptied, migrated database.
    """
    if request.param == "sqlite":
        return make_settings(
            "", database_url=None, data_dir=tmp_path / "server", run_migrations_on_start=True
        )
    url: str = request.getfixturevalue("mariadb_url")
    reset_mariadb(url)
    return make_settings(url, log_level="WARNING")


@pytest.fixture
def live_server(server_settings: Any) -> Iterator[LiveServer]:
    """The real server on a free port with the demo store seeded; stopped afterwards."""
    if server_settings.database_url is None:
        server_settings.data_dir.mkdir(parents=True, exist_ok=True)
    server_settings.log_level = "WARNING"
    with serving_demo(create_app(server_settings), free_port()) as server:
        yield server


@dataclass
class Till(TillServices):
    """An enrolled till: its store, the services the UI calls, and its sync worker."""

    worker: SyncWorker
    server: LiveServer
    token: str
    base_url: str = ""
    timeout: float = 10.0
    transport: Callable[[], httpx.BaseTransport] | None = None
    reports: list[Any] = field(default_factory=list)

    def http(self) -> httpx.Client:
        """A fresh HTTP client to the server (through ``transport`` when set)."""
        inner = self.transport() if self.transport is not None else httpx.HTTPTransport()
        return httpx.Client(transport=inner, timeout=self.timeout)

    def sync_client(self) -> SyncClient:
        """A sync client for this till against the live server."""
        return SyncClient(
            self.http(), base_url=self.base_url or self.server.base_url, token=self.token
        )

    def login_cashier(self, username: str = "siti", pin: str = CASHIER_PIN) -> None:
        """Log ``username`` in with ``pin``."""
        self.auth.login(self.server.user_id(username), pin)


def make_till(
    server: LiveServer,
    data_dir: Path,
    *,
    terminal_code: str = TERMINAL_CODE,
    base_url: str | None = None,
    timeout: float = 10.0,
    batch_size: int | None = None,
) -> Till:
    """A till enrolled over HTTP as ``terminal_code``, its data in ``data_dir``.

    Sync talks to ``base_url`` (a proxy in front of the server, say; the server itself by
    default) with ``timeout`` seconds per request. Close ``till.store`` when done.
    """
    url = base_url or server.base_url
    settings = ClientSettings(data_dir=data_dir, server_url=url, terminal_code=terminal_code)
    store = LocalStore.open(settings)
    with httpx.Client(timeout=10) as http:
        answer = enroll(
            http, server.base_url, server.enrollment_code(terminal_code), f"e2e {terminal_code}"
        )
    store.save_enrollment(
        device_token=answer.device_token,
        terminal_id=answer.terminal_id,
        terminal_code=answer.terminal_code,
        store_id=answer.store_id,
    )
    holder: dict[str, Till] = {}

    def client_factory() -> SyncClient:
        return holder["till"].sync_client()

    worker = SyncWorker(
        lambda: LocalStore.open(settings),
        client_factory,
        on_result=lambda report: holder["till"].reports.append(report),
        pull_limit=settings.pull_page_size,
        batch_size=batch_size or settings.push_batch_size,
    )
    till = Till.wire(
        store,
        settings,
        worker=worker,
        server=server,
        token=answer.device_token,
        base_url=url,
        timeout=timeout,
    )
    holder["till"] = till
    return till


@pytest.fixture
def till(live_server: LiveServer, tmp_path: Path) -> Iterator[Till]:
    """A till enrolled over HTTP with the catalog not yet downloaded."""
    till = make_till(live_server, tmp_path / "till")
    yield till
    till.store.close()


@pytest.fixture
def selling_till(till: Till) -> Till:
    """The till with the catalog downloaded, siti logged in and a shift open (Rp200.000)."""
    till.worker.initial_download(lambda done, total: None)
    till.login_cashier()
    till.shifts.open(200_000)
    return till


@pytest.fixture
def synced_till(selling_till: Till) -> Till:
    """The selling till after one sync run: its shift is on the server, nothing waits."""
    assert selling_till.worker.run_once().pending == 0
    return selling_till
