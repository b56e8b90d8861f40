"""``kasir-server``: every administrative subcommand in-process, and ``serve`` for real."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select

from sync_server.auth import service
from sync_server.auth.models import Terminal, User
from sync_server.cli import main
from sync_server.core.database import Database
from sync_server.core.models import Store
from sync_server.core.security import verify_secret
from tests.server.conftest import TEST_SECRET


def _configure(monkeypatch: pytest.MonkeyPatch, url: str, data_dir: Path) -> None:
    monkeypatch.setenv("KASIR_DATABASE_URL", url)
    monkeypatch.setenv("KASIR_ENVIRONMENT", "test")
    monkeypatch.setenv("KASIR_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("KASIR_DATA_DIR", str(data_dir))


@pytest.fixture
def cli_db(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Database]:
    """The CLI pointed at the test database (SQLite, then MariaDB) through the environment."""
    _configure(monkeypatch, db_url, tmp_path)
    database = Database(db_url)
    yield database
    database.dispose()


def _store(db: Database, code: str) -> Store | None:
    with db.session() as s:
        store = s.scalar(select(Store).where(Store.code == code))
        if store is not None:
            s.expunge(store)
        return store


def test_migrate_creates_the_schema_and_can_run_again(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "fresh" / "kasir.sqlite3"
    _configure(monkeypatch, f"sqlite:///{path}", tmp_path)
    assert main(["migrate"]) == 0
    db = Database(f"sqlite:///{path}")
    try:
        tables = set(inspect(db.engine).get_table_names())
    finally:
        db.dispose()
    assert {"users", "stores", "terminals", "enrollment_codes", "alembic_version"} <= tables
    assert main(["migrate"]) == 0
    assert "newest schema" in capsys.readouterr().out


def test_create_store(cli_db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["create-store", "--code", "S10", "--name", "Toko Baru", "--npwp", "01.234.567.8"]
    assert main([*args, "--address", "Jl. Asia Afrika 8"]) == 0
    printed = json.loads(capsys.readouterr().out)
    store = _store(cli_db, "S10")
    assert store is not None
    assert printed["id"] == store.id
    assert (store.name, store.address, store.npwp) == (
        "Toko Baru",
        "Jl. Asia Afrika 8",
        "01.234.567.8",
    )
    assert store.change_no > 0

    assert main(args) == 1
    assert "store_code_taken" in capsys.readouterr().err


def test_create_user_who_can_then_sign_in(
    cli_db: Database, client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["create-store", "--code", "S01", "--name", "Toko Maju"]) == 0
    code = main(
        [
            "create-user",
            "--username",
            "bos",
            "--full-name",
            "Pak Bos",
            "--role",
            "manager",
            "--password",
            "rahasia-sekali",
            "--pin",
            "2468",
            "--store-code",
            "S01",
        ]
    )
    assert code == 0, capsys.readouterr().err
    with cli_db.session() as s:
        user = s.scalar(select(User).where(User.username == "bos"))
        assert user is not None
        assert user.role == "manager"
        assert user.store_id == s.scalar(select(Store.id).where(Store.code == "S01"))
        assert verify_secret(user.pin_hash, "2468")
        assert user.change_no > 0
    resp = client.post("/api/v1/auth/login", json={"username": "bos", "password": "rahasia-sekali"})
    assert resp.status_code == 200


def test_create_user_refuses_bad_input(
    cli_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["create-user", "--username", "siti", "--full-name", "Siti", "--role", "cashier"]
    assert main([*base, "--store-code", "NOPE"]) == 1
    assert "store_not_found" in capsys.readouterr().err
    assert main(["create-store", "--code", "S01", "--name", "Toko"]) == 0
    assert main([*base, "--store-code", "S01", "--pin", "12"]) == 2
    assert "pin" in capsys.readouterr().err
    assert main(base) == 1  # a cashier needs a store
    assert "store_required" in capsys.readouterr().err
    with cli_db.session() as s:
        assert s.scalar(select(User).where(User.username == "siti")) is None
    with pytest.raises(SystemExit):
        main([*base, "--role", "owner"])


def test_enroll_terminal_prints_a_code_that_enrolls(
    cli_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["create-store", "--code", "S01", "--name", "Toko Maju"]) == 0
    capsys.readouterr()
    args = ["enroll-terminal", "--store-code", "S01", "--terminal-code", "T01"]
    assert main([*args, "--ttl-minutes", "15", "--name", "Kasir depan"]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert "T01" in printed[0]
    code = printed[-1]
    device = service.enroll(db=cli_db, code=code)
    assert device.terminal_code == "T01"
    assert device.store_name == "Toko Maju"
    with cli_db.session() as s:
        terminal = s.scalar(select(Terminal).where(Terminal.code == "T01"))
        assert terminal is not None
        assert terminal.name == "Kasir depan"
        assert terminal.enrolled_at is not None

    # Enrolled now: a second code is refused until the terminal is revoked.
    assert main(args) == 1
    assert "terminal_enrolled" in capsys.readouterr().err
    assert main(["enroll-terminal", "--store-code", "S99", "--terminal-code", "T02"]) == 1
    assert "store_not_found" in capsys.readouterr().err


def test_seed_demo_loads_the_demo_store_once(
    cli_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["seed-demo"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert isinstance(summary, dict) and summary
    with cli_db.session() as s:
        stores = s.scalar(select(Store.id).limit(1))
        users = s.scalars(select(User.username)).all()
    assert stores is not None
    assert users
    assert main(["seed-demo"]) == 0  # missing rows only: a second run is harmless
    with cli_db.session() as s:
        assert sorted(s.scalars(select(User.username)).all()) == sorted(users)


def test_no_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_production_with_the_default_secret_refuses_to_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _configure(monkeypatch, f"sqlite:///{tmp_path / 'k.sqlite3'}", tmp_path)
    monkeypatch.setenv("KASIR_ENVIRONMENT", "production")
    monkeypatch.delenv("KASIR_SECRET_KEY")
    assert main(["migrate"]) == 2
    assert "KASIR_SECRET_KEY" in capsys.readouterr().err
    assert not (tmp_path / "k.sqlite3").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_starts_uvicorn_that_migrates_and_answers(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("kasir-server")
    assert script.exists(), "install the project (pip install -e .) for the console script"
    port = _free_port()
    env = {
        **os.environ,
        "KASIR_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "KASIR_ENVIRONMENT": "development",
        "KASIR_DATA_DIR": str(tmp_path),
    }
    proc = subprocess.Popen(
        [str(script), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            try:
                health = httpx.get(f"{base}/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None, "the server did not answer within 60 s"
        assert health.json() == {"status": "ok"}
        assert httpx.get(f"{base}/ready", timeout=5).json() == {"status": "ready"}
        # The schema exists, so a login is judged rather than crashing on a missing table.
        login = httpx.post(
            f"{base}/api/v1/auth/login", json={"username": "x", "password": "y"}, timeout=10
        )
        assert login.status_code == 401
        assert login.json()["error"]["code"] == "invalid_credentials"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()
