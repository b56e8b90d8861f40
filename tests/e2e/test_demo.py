"""``python -m pos_client.demo`` against the live server: receipt on stdout, sale on the server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sync_server.sync.models import Sale
from tests.e2e.conftest import LiveServer
from tests.e2e.demo_output import check_demo_sale
from tests.tools import run_command

ROOT = Path(__file__).resolve().parents[2]


def run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    """The demo as a user runs it, in its own process."""
    return run_command(
        [sys.executable, "-m", "pos_client.demo", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
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
    receipt = check_demo_sale(done.stdout, live_server, "T09")
    assert any(line.startswith("TOTAL") for line in receipt)
    assert any(line.startswith("Kembali") for line in receipt)
    assert "Catalog [" in done.stderr and "#" * 30 in done.stderr

    # A second run on the same till sells again without enrolling (the code is spent).
    again = run_demo("--server", live_server.base_url, "--data-dir", str(data_dir))

    assert again.returncode == 0, again.stdout + again.stderr
    assert "Enrolled" not in again.stdout
    assert live_server.count(Sale) == 2
