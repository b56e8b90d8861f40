"""The bench smoke tests share the ``cluster`` marker with ``tests/cluster``."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Register ``cluster`` here too, so this folder runs on its own with strict markers."""
    config.addinivalue_line(
        "markers", "cluster: needs a 3-node MariaDB Galera cluster on loopback (slow)"
    )
