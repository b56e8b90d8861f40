"""Test-wide helpers: where MariaDB is, and whether a missing dependency may skip."""

from __future__ import annotations

import os

import pytest

MARIADB_URL_BASE = os.environ.get("KASIR_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306")


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
