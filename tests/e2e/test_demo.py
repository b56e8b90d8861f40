"""``python -m pos_client.demo`` against the live server: receipt on stdout, sale on the server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from pos_client.demo import DEMO_BARCODES, RECEIPT_WIDTH
from shared.money import format_rupiah
from sync_server.catalog.demo import demo_items
from sync_server.sync.models import Sale, SaleLine, SyncEvent
from tests.e2e.conftest import LiveServer

ROOT = Path(__file__).resolve().parents[2]


def run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    """The demo as a user runs it, in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "pos_client.demo", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_demo_enrolls_sells_prints_the_receipt_and_syncs(
    live_server: LiveServer, tmp_path: Path
) -> None:
    code = live_server.enrollment_code("T09")
    data_dir = tmp_path / "demo-till"

    done = run_demo(
        "--server", live_server.base_url, "--enroll-code", code, "--data-dir", str(data_dir)
    )

    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    names = {item.barcode: item.name for item in demo_items()}
    printed = out.splitlines()
    start = next(i for i, line in enumerate(printed) if line.startswith("Catalog:")) + 1
    end = next(i for i, line in enumerate(printed) if line.startswith("Server:"))
    receipt = printed[start:end]
    assert "=" * RECEIPT_WIDTH in receipt
    assert all(len(line) <= RECEIPT_WIDTH for line in receipt)
    for barcode in DEMO_BARCODES:
        assert names[barcode] in out
    assert any(line.startswith("TOTAL") for line in receipt)
    assert any(line.startswith("Kembali") for line in receipt)
    assert any(line.startswith("Kasir") and "Siti Rahmawati" in line for line in receipt)
    assert "Catalog [" in done.stderr and "#" * 30 in done.stderr

    number_line = next(line for line in out.splitlines() if line.startswith("No."))
    receipt_number = number_line.split()[-1]
    assert receipt_number.startswith("T09-")
    assert f"Server: sale {receipt_number} applied" in out
    assert "waiting 0" in out
    with live_server.db.session() as session:
        sale = session.scalars(select(Sale).where(Sale.receipt_number == receipt_number)).one()
        lines = session.scalars(select(SaleLine).where(SaleLine.sale_id == sale.id)).all()
        assert sorted(line.name for line in lines) == sorted(names[b] for b in DEMO_BARCODES)
        total_line = next(line for line in receipt if line.startswith("TOTAL"))
        assert total_line.endswith(format_rupiah(sale.total))
    assert live_server.count(SyncEvent, type="sale") == 1

    # A second run on the same till sells again without enrolling (the code is spent).
    again = run_demo("--server", live_server.base_url, "--data-dir", str(data_dir))

    assert again.returncode == 0, again.stdout + again.stderr
    assert "Enrolled" not in again.stdout
    assert live_server.count(Sale) == 2
