"""Server fixtures: the app on SQLite and on MariaDB, and ready-made people and terminals.

Every server test that takes ``db_url`` (directly or through ``app``/``client``) runs
twice: on the embedded SQLite default and on the running MariaDB.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import create_engine, text

from shared.models import PROTOCOL_HEADER, PROTOCOL_VERSION, Role
from sync_server.auth.models import ApiToken, Terminal, User
from sync_server.core.config import Settings
from sync_server.core.database import Base, Database, utcnow
from sync_server.core.models import Store
from sync_server.core.security import hash_secret, new_token, token_hash
from sync_server.main import create_app
from sync_server.migrate import upgrade
from tests.conftest import drop_mariadb_databases, fresh_mariadb_database, worker_id

Row = TypeVar("Row")

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


def _mariadb_db_name() -> str:
    # The pid keeps parallel pytest runs (and xdist workers) out of each other's way.
    return f"kasir_test_{worker_id()}_{os.getpid()}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for every test (fast and isolated)."""
    path = tmp_path_factory.mktemp("tpl") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    """A migrated MariaDB database of this process's own, dropped at the end."""
    name = _mariadb_db_name()
    url = fresh_mariadb_database(name)
    upgrade(url)
    yield url
    drop_mariadb_databases(name)


def reset_mariadb(url: str) -> None:
    """Empty every table and restart the change counter."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
        for table in reversed(Base.metadata.sorted_tables):
            if table.name == "change_counter":
                conn.execute(text("UPDATE change_counter SET value = 0"))
            else:
                conn.execute(text(f"DELETE FROM `{table.name}`"))
        conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "mariadb"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database: SQLite file, then MariaDB."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "kasir.sqlite3"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("mariadb_url")
    reset_mariadb(url)
    return url


def make_settings(db_url: str, **overrides: object) -> Settings:
    """Test settings on ``db_url`` (no migrations at start: the fixture did them)."""
    values: dict[str, object] = {
        "environment": "test",
        "database_url": db_url,
        "secret_key": TEST_SECRET,
        "run_migrations_on_start": False,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def assert_refused(resp: Response, status_code: int, code: str) -> None:
    """``resp`` is the one error shape with ``status_code`` and the error ``code``."""
    assert resp.status_code == status_code, resp.text
    assert resp.json()["error"]["code"] == code


def production_settings(**overrides: object) -> Settings:
    """Settings production accepts (a long secret, real Tripay keys), ``overrides`` on top."""
    values: dict[str, object] = {
        "environment": "production",
        "secret_key": "x" * 40,
        "tripay_api_key": "real-api-key",
        "tripay_private_key": "real-private-key",
        "tripay_base_url": "https://tripay.co.id/api/",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def app(db_url: str) -> Iterator[FastAPI]:
    """The server app on the test database."""
    application = create_app(make_settings(db_url))
    yield application
    application.state.db.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An HTTP client for the app (no credentials)."""
    with TestClient(app) as c:
        yield c


@pytest.fixture
def db(app: FastAPI) -> Database:
    """The app's database, for arranging and checking rows directly."""
    database: Database = app.state.db
    return database


@pytest.fixture
def sandbox_clock() -> list[float]:
    """The Tripay sandbox's clock (``running_sandbox``): now, moved by hand."""
    return [time.time()]


@dataclass
class World:
    """A store with a manager, two cashiers and two enrolled terminals, plus their tokens."""

    store_id: int
    other_store_id: int
    manager_id: int
    admin_id: int
    cashier_ids: list[int]
    manager_token: str
    cashier_token: str
    terminal_ids: list[int]
    terminal_tokens: list[str]
    admin_token: str = ""

    def manager_headers(self) -> dict[str, str]:
        """Headers of a signed-in manager."""
        return {"Authorization": f"Bearer {self.manager_token}"}

    def admin_headers(self) -> dict[str, str]:
        """Headers of a signed-in admin (the chain catalog is theirs to change)."""
        return {"Authorization": f"Bearer {self.admin_token}"}

    def cashier_headers(self) -> dict[str, str]:
        """Headers of a signed-in cashier (a user token, not a terminal)."""
        return {"Authorization": f"Bearer {self.cashier_token}"}

    def terminal_headers(self, index: int = 0) -> dict[str, str]:
        """Headers of terminal ``index`` speaking the current protocol."""
        return {
            "Authorization": f"Bearer {self.terminal_tokens[index]}",
            PROTOCOL_HEADER: str(PROTOCOL_VERSION),
        }


def _user(session: object, username: str, role: Role, store_id: int | None) -> User:
    user = User(
        username=username,
        full_name=username.title(),
        role=role.value,
        store_id=store_id,
        password_hash=hash_secret("password123"),
        pin_hash=hash_secret("1234"),
        active=True,
    )
    session.add(user)  # type: ignore[attr-defined]
    session.flush()  # type: ignore[attr-defined]
    return user


def _api_token(session: object, user: User) -> str:
    token = new_token()
    from datetime import timedelta

    session.add(  # type: ignore[attr-defined]
        ApiToken(
            token_hash=token_hash(token),
            user_id=user.id,
            kind="api",
            expires_at=utcnow() + timedelta(hours=1),
        )
    )
    return token


def build_world(db: Database) -> World:
    """Arrange a store, people and two enrolled terminals directly in the database."""
    with db.session() as s:
        store = Store(code="S01", name="Toko Maju Jaya", address="Jl. Merdeka 1, Bandung")
        other = Store(code="S02", name="Toko Sebelah")
        s.add_all([store, other])
        s.flush()
        manager = _user(s, "manager", Role.MANAGER, store.id)
        admin = _user(s, "admin", Role.ADMIN, None)
        cashiers = [_user(s, f"kasir{i}", Role.CASHIER, store.id) for i in (1, 2)]
        terminal_tokens = [new_token(), new_token()]
        terminals = [
            Terminal(
                store_id=store.id,
                code=f"T0{i + 1}",
                name=f"Kasir {i + 1}",
                token_hash=token_hash(tok),
                enrolled_at=utcnow(),
            )
            for i, tok in enumerate(terminal_tokens)
        ]
        s.add_all(terminals)
        s.flush()
        return World(
            store_id=store.id,
            other_store_id=other.id,
            manager_id=manager.id,
            admin_id=admin.id,
            cashier_ids=[c.id for c in cashiers],
            manager_token=_api_token(s, manager),
            cashier_token=_api_token(s, cashiers[0]),
            terminal_ids=[t.id for t in terminals],
            terminal_tokens=terminal_tokens,
            admin_token=_api_token(s, admin),
        )


@pytest.fixture
def world(db: Database) -> World:
    """A ready store with people and terminals (see :class:`World`)."""
    return build_world(db)


@dataclass
class StoreStaff:
    """A manager, a supervisor and a cashier of one store, plus an enrolled terminal."""

    store_id: int
    manager_id: int
    supervisor_id: int
    cashier_id: int
    terminal_id: int
    manager_token: str
    supervisor_token: str
    cashier_token: str
    terminal_token: str


def build_staff(db: Database, *, store_id: int, prefix: str) -> StoreStaff:
    """Add the people and a terminal of store ``store_id`` (usernames start ``prefix``)."""
    with db.session() as s:
        manager = _user(s, f"{prefix}_manager", Role.MANAGER, store_id)
        supervisor = _user(s, f"{prefix}_supervisor", Role.SUPERVISOR, store_id)
        cashier = _user(s, f"{prefix}_kasir", Role.CASHIER, store_id)
        terminal_token = new_token()
        terminal = Terminal(
            store_id=store_id,
            code=f"{prefix.upper()}T1"[:16],
            name=f"Kasir {prefix}",
            token_hash=token_hash(terminal_token),
            enrolled_at=utcnow(),
        )
        s.add(terminal)
        s.flush()
        return StoreStaff(
            store_id=store_id,
            manager_id=manager.id,
            supervisor_id=supervisor.id,
            cashier_id=cashier.id,
            terminal_id=terminal.id,
            manager_token=_api_token(s, manager),
            supervisor_token=_api_token(s, supervisor),
            cashier_token=_api_token(s, cashier),
            terminal_token=terminal_token,
        )


@pytest.fixture
def other_staff(db: Database, world: World) -> StoreStaff:
    """The manager, supervisor, cashier and terminal of the second store (S02)."""
    return build_staff(db, store_id=world.other_store_id, prefix="s02")


def api_token_for(db: Database, user_id: int) -> str:
    """A fresh API token of user ``user_id``."""
    with db.session() as s:
        user = s.get(User, user_id)
        assert user is not None
        return _api_token(s, user)


def detached_row(db: Database, model: type[Row], row_id: int) -> Row:
    """Row ``row_id`` of ``model`` as it is in the database now, detached from its session."""
    with db.session() as s:
        row = s.get(model, row_id)
        assert row is not None
        s.expunge(row)
        return row
