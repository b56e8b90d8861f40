"""Fixtures every window scenario may ask for by name (each scenario runs in its own
process, see ``tests/ui/test_window.py``); a scenario's own fixture of the same name wins.

Nothing here imports Kivy at module level: pytest reads this file whenever it collects
``tests/ui``, in processes that never open a window.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.client.conftest import FakeClock
from tests.client.fakes import FakeQrisGateway

if TYPE_CHECKING:
    from tests.ui.window.harness import CapturePrinter, FakeServer


HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every scenario here needs a window: mark it ``gui`` (only the items of this folder:
    pytest calls this hook with every item of the session)."""
    for item in items:
        if item.path.parent == HERE:
            item.add_marker(pytest.mark.gui)


@pytest.fixture(scope="module")
def server() -> FakeServer:
    """The sync server: applies every push, pulls nothing new."""
    from tests.ui.window.harness import FakeServer

    return FakeServer()


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    """The till's clock, fixed at 15 June 2025 03:00 UTC (10:00 WIB); tests move it."""
    return FakeClock(datetime(2025, 6, 15, 3, 0, tzinfo=UTC))


@pytest.fixture(scope="module")
def qris() -> FakeQrisGateway:
    """QRIS through the server, faked: a QR is paid on the second poll."""
    return FakeQrisGateway(polls_until_final=2)


@pytest.fixture(scope="module")
def printer() -> Iterator[CapturePrinter]:
    """A network receipt printer on 127.0.0.1 keeping every job's bytes."""
    from tests.ui.window.harness import CapturePrinter

    capture = CapturePrinter()
    yield capture
    capture.close()
