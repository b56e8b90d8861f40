"""A sale the server keeps failing on, in a real window: the status bar shows it as stuck
(in the store's local time), a tap lists it with the server's answer, and the Sync
button asks the worker for a manual round while a sale's push stays automatic.

Run by ``tests/ui/test_window.py`` in its own process (one Kivy window per process).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from pos_client.ui.app import KasirApp
from shared.timezones import store_zone
from tests.client.conftest import CASHIER, PINS
from tests.ui.window import harness as ui


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, server: ui.FakeServer) -> Iterator[KasirApp]:
    yield from ui.launch(tmp_path_factory, server=server, prepare=ui.stuck_sale)


def in_row(bar: Any, widget: Any, row: int) -> bool:
    """True when ``widget`` sits in the status bar's row 1 or 2 (ids are weak proxies)."""
    return bool(widget.parent is bar.ids[f"row{row}"].__self__)


def local_hhmm(app: KasirApp, moment: datetime) -> str:
    profile = app.till.store.store_profile()
    zone = store_zone(profile.timezone if profile else None)
    return f"{moment.astimezone(zone):%H:%M}"


def test_the_worker_reports_the_stuck_sale_in_the_status_bar(
    app: KasirApp, server: ui.FakeServer
) -> None:
    bar = app.status_bar
    assert bar is not None
    # The worker's first round (its report handed over by Clock.schedule_once): the
    # shift went through, the stuck sale waits for its own time and is not sent.
    ui.pump(lambda: app.sync is not None and app.sync.status().online is True, timeout=10)
    ui.pump(lambda: bar.online_text == "Online", timeout=5)
    report = app.sync.status() if app.sync else None
    assert report is not None and report.stuck == 1 and report.pending == 0
    assert report.next_stuck_retry_at == ui.RETRY_AT
    assert server.pushed == ["shift_open"]
    assert bar.waiting_text == "0 menunggu"
    assert bar.has_stuck
    assert bar.stuck_text == f"1 tertahan · coba {local_hhmm(app, ui.RETRY_AT)}"
    stuck = bar.ids.stuck
    assert in_row(bar, stuck, 1) and stuck.width > 0 and not stuck.disabled
    # it fits between the rejected count and the last sync time, inside the window
    assert bar.ids.rejected.right <= stuck.x and stuck.right <= bar.ids.last_sync.x
    assert bar.ids.sync_button.right <= bar.right
    ui.shot("stuck-01-statusbar")


def test_a_tap_on_the_stuck_count_lists_the_sale_with_the_servers_answer(
    app: KasirApp,
) -> None:
    bar = app.status_bar
    assert bar is not None
    ui.press(bar.ids.stuck)
    popup = next(w for w in app.root_window.children if type(w).__name__ == "StuckPopup")
    texts = [line.text for line in reversed(popup.ids.list.children)]
    assert popup.title == "Data tertahan di server"
    assert texts[0].startswith("Server gagal memproses data ini.")
    [item] = texts[1:]
    assert item.startswith("Penjualan T01-")
    assert "server menjawab 500 — Terjadi kesalahan di server." in item
    assert f"Sudah dicoba 2 kali; dicoba lagi pukul {local_hhmm(app, ui.RETRY_AT)}." in item
    ui.shot("stuck-02-list")
    popup.dismiss()
    ui.pump(frames=3)


def test_in_portrait_the_stuck_count_moves_to_the_second_row(app: KasirApp) -> None:
    bar = app.status_bar
    assert bar is not None
    ui.resize(ui.PORTRAIT)
    try:
        assert in_row(bar, bar.ids.stuck, 2)
        assert bar.ids.stuck.right <= bar.ids.message.x
        assert bar.ids.sync_button.right <= bar.right
        ui.shot("stuck-03-statusbar-portrait")
    finally:
        ui.resize(ui.LANDSCAPE)
    assert in_row(bar, bar.ids.stuck, 1)


def test_sync_button_asks_for_a_manual_round_and_a_sale_does_not(app: KasirApp) -> None:
    worker = app.sync
    assert worker is not None
    calls: list[bool] = []
    real = worker.sync_now

    def spy(manual: bool = False) -> None:
        calls.append(manual)
        real(manual=manual)

    worker.sync_now = spy  # type: ignore[method-assign]
    try:
        bar = app.status_bar
        assert bar is not None
        ui.press(bar.ids.sync_button)
        assert calls == [True]
        app.till.auth.login(CASHIER, PINS[CASHIER])
        app.till.checkout.add_product(1)
        app.sale_done(app.till.checkout.checkout_cash(100_000))
        assert app.current == "receipt"
        assert calls == [True, False]
    finally:
        worker.sync_now = real  # type: ignore[method-assign]
