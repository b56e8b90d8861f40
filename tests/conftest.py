"""Test-wide helpers: where MariaDB is, whether a missing dependency may skip, and how
a server subprocess is started (benches use these too)."""

from __future__ import annotations

import os
import socket
import sys
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import pymysql

MYSQL_DRIVER = os.environ.get("KASIR_TEST_MYSQL_DRIVER", "pymysql")
"""The DBAPI driver of the MariaDB URLs: ``pymysql`` or ``mysqldb`` (mysqlclient)."""

MARIADB_URL_BASE = os.environ.get(
    "KASIR_TEST_MARIADB", f"mysql+{MYSQL_DRIVER}://root@127.0.0.1:3306"
)


def in_ci() -> bool:
    """True on CI, where tests needing MariaDB, Xvfb or Chromium must run, never skip."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(what: str) -> None:
    """Skip locally, fail on CI: a missing dependency is never hidden in CI."""
    if in_ci():
        pytest.fail(f"{what} is required on CI (CI=true) but is not available", pytrace=False)
    pytest.skip(f"{what} not available")


def worker_id() -> str:
    """The pytest-xdist worker name (gw0, gw1...) or 'main'."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def mariadb_server() -> pymysql.connections.Connection:
    """A connection to the MariaDB server on 127.0.0.1:3306 (no database chosen).

    Skips locally, fails on CI, when the server does not answer.
    """
    import pymysql

    try:
        return pymysql.connect(host="127.0.0.1", port=3306, user="root", password="")
    except pymysql.MySQLError as exc:
        missing(f"MariaDB on 127.0.0.1:3306 ({exc})")
        raise


def fresh_mariadb_database(name: str) -> str:
    """Drop database ``name`` if it is there and create it again, empty; its URL."""
    conn = mariadb_server()
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    conn.close()
    return f"{MARIADB_URL_BASE}/{name}"


def drop_mariadb_databases(*names: str) -> None:
    """Drop the databases ``names`` (those that are there)."""
    conn = mariadb_server()
    with conn.cursor() as cur:
        for name in names:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def uvicorn_command(port: int, *options: str) -> list[str]:
    """The command serving ``sync_server.main:create_app`` with uvicorn on 127.0.0.1:``port``.

    ``options`` are further uvicorn options (``--workers``, ``--no-access-log``...).
    """
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "sync_server.main:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        *options,
    ]
