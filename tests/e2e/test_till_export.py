"""A till's unsynced sales carried to the server on a file, then synced as usual:
every sale lands exactly once (SQLite and MariaDB)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pos_client.cli import main as kasir
from sync_server.cli import main as kasir_server
from sync_server.sync.models import Sale, SaleLine, SyncEvent
from tests.e2e.conftest import LiveServer, Till
from tests.e2e.test_till_server_sync import ITEMS, sell
from tests.server.conftest import TEST_SECRET


def _point_cli_at(server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = server.app.state.settings
    monkeypatch.setenv("KASIR_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("KASIR_ENVIRONMENT", "test")
    monkeypatch.setenv("KASIR_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("KASIR_RUN_MIGRATIONS_ON_START", "false")


def test_exported_sales_imported_on_the_server_then_synced_land_once(
    selling_till: Till,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    till, server = selling_till, selling_till.server
    synced = sell(till, ITEMS[0].barcode)
    assert till.worker.run_once().pending == 0  # the shift and the first sale are in
    assert server.count(Sale) == 1

    waiting = [sell(till, item.barcode, ITEMS[10].barcode) for item in ITEMS[1:4]]
    assert till.store.pending_count() == 3
    outbox_before = till.store.conn.execute("SELECT * FROM outbox ORDER BY seq").fetchall()

    export = tmp_path / "flashdisk" / "T01.jsonl"
    capsys.readouterr()
    code = kasir(
        ["export-unsynced", "--data-dir", str(till.settings.data_dir), "--to", str(export)]
    )
    assert code == 0, capsys.readouterr().err
    assert till.store.conn.execute("SELECT * FROM outbox ORDER BY seq").fetchall() == (
        outbox_before
    )

    _point_cli_at(server, monkeypatch)
    capsys.readouterr()
    assert kasir_server(["import-till-export", str(export)]) == 0, capsys.readouterr().err
    imported = json.loads(capsys.readouterr().out)
    assert imported == {"terminal": "T01", "counts": {"applied": 3}, "not_applied": []}
    assert server.count(Sale) == 4

    # The manager imports the same file again by mistake: nothing doubles.
    assert kasir_server(["import-till-export", str(export)]) == 0
    assert json.loads(capsys.readouterr().out)["counts"] == {"duplicate": 3}

    # The till comes back online and pushes what it still holds: all duplicates.
    report = till.worker.run_once()
    assert report.online is True and report.pending == 0
    assert till.store.pending_count() == 0
    assert till.store.sync_status().rejected == 0

    assert server.count(Sale) == 4
    for sale in [synced, *waiting]:
        assert server.count(Sale, id=sale.id) == 1
        assert server.count(Sale, receipt_number=sale.receipt_number) == 1
        assert server.count(SaleLine, sale_id=sale.id) == len(sale.lines)
    assert server.count(SyncEvent) == 5  # the shift and four sales
