"""Each scale-out bench runs end to end at a tiny size and its correctness checks hold.

The benches are scripts (``python -m benches.<name>``); these run them the same way, as
subprocesses, on MariaDB at 127.0.0.1:3306 (their own databases, dropped afterwards) or
on a Galera cluster of their own. Only what does not depend on speed is asserted: every
sale arrives exactly once, no errors, every figure is printed. Never a time.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cluster.galera import missing_tools
from tests.conftest import drop_mariadb_databases, mariadb_server, missing, worker_id

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def mariadb() -> None:
    """The MariaDB on 3306 answers (skips locally, fails on CI, when it does not)."""
    mariadb_server().close()


def run_bench(name: str, *args: str, timeout: float = 600) -> str:
    """``python -m benches.<name> args``; its output (the test fails on a non-zero exit)."""
    # A session of its own: on a timeout the bench's servers and load processes go too.
    proc = subprocess.Popen(
        [sys.executable, "-m", f"benches.{name}", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=30)
        pytest.fail(f"benches.{name} ran past {timeout:.0f} s:\n{out[-3000:]}{err[-3000:]}")
    assert proc.returncode == 0, out[-3000:] + err[-3000:]
    return out


def run_bench_on_db(name: str, *args: str) -> str:
    """``run_bench`` with ``--db`` a database of this worker's own, dropped (with its
    ``_raw`` twin) afterwards."""
    db = f"kasir_smoke_{name}_{worker_id()}"
    try:
        return run_bench(name, *args, "--db", db)
    finally:
        drop_mariadb_databases(db, f"{db}_raw")


def figure(pattern: str, text: str) -> str:
    """The first group of ``pattern`` in ``text`` (fails when the line is missing)."""
    found = re.search(pattern, text)
    assert found is not None, f"{pattern!r} not in:\n{text}"
    return found.group(1)


@pytest.mark.mariadb
def test_ingest_every_sale_arrives_once(mariadb: None) -> None:
    out = run_bench_on_db(
        "ingest",
        *("--sales", "40", "--terminals", "2", "--batch", "10", "--baseline-sales", "4"),
        *("--procs", "1", "--workers", "1"),
    )
    assert "raw executemany, pymysql" in out
    assert figure(r"verified in the database: (\d+) sales, 0 lost, 0 duplicated", out) == "40"
    assert "| batched ingest vs raw executemany |" in out
    assert "| batched ingest vs one sale per request |" in out
    assert figure(r"\| errors \| (\d+) \|", out) == "0"


@pytest.mark.mariadb
def test_storm_drains_every_sale_once_and_times_the_report(mariadb: None) -> None:
    out = run_bench_on_db(
        "storm",
        *("--tills", "6", "--procs", "2", "--workers", "1", "--idle-polls", "3"),
        *("--warm-tills", "1", "--warm-sales", "2"),
    )
    assert figure(r"\((\d+) sales applied", out) == "30"
    assert figure(r"pushes: (\d+) acknowledged of 6", out) == "6"
    assert "lost 0, duplicated 0" in out
    assert figure(r"\| errors \| (\d+) \|", out) == "0"
    assert "report p99 idle" in out and "report p99 during the storm" in out


@pytest.mark.mariadb
def test_server_cold_start_answers_on_sqlite_and_mariadb(mariadb: None) -> None:
    out = run_bench_on_db("server_cold_start", "--runs", "1")
    for row in ("python -c pass", "bare FastAPI + uvicorn"):
        assert f"| {row} |" in out
    for target in ("SQLite", "MariaDB"):
        # Both columns are figures: /health and the manager's report answered 200.
        assert re.search(rf"\| kasir-server, {target} \| \d+ ms .*\| \d+ ms \|", out), out


@pytest.mark.cluster
@pytest.mark.xdist_group("galera")
def test_galera_scale_runs_both_clusters_without_errors() -> None:
    lacking = missing_tools()
    if lacking:
        missing(f"a Galera cluster ({', '.join(lacking)} not installed)")
    out = run_bench("galera_scale", "--tills", "6", "--procs", "1", timeout=900)
    assert figure(r"1 server\(s\) on 1 node\(s\): .*?\((\d+) sales", out) == "30"
    assert figure(r"3 server\(s\) on 3 node\(s\): .*?\((\d+) sales", out) == "30"
    assert figure(r"\| errors \| (\d+) \|", out) == "0"
