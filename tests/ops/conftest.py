"""Operations fixtures: the packaging folder, the external tools the checks run, and the
metric names the server really exports (so rules and dashboards use nothing else)."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.metrics import MetricWrapperBase

from sync_server.core import metrics as server_metrics
from tests.conftest import missing
from tests.e2e.conftest import live_server  # noqa: F401 - the e2e fixture, reused by name
from tests.server.conftest import mariadb_url  # noqa: F401 - reused by name
from tests.tools import run_command

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
PROMETHEUS_DIR = PACKAGING / "prometheus"
GRAFANA_DIR = PACKAGING / "grafana"
NGINX_DIR = PACKAGING / "nginx"
SYSTEMD_DIR = PACKAGING / "systemd"

KASIR_METRIC = re.compile(r"\bkasir_[a-z0-9_]+")
"""A Kasir metric name inside a PromQL expression."""


def require_tool(name: str, package: str) -> str:
    """The path of the program ``name``; skips locally, fails on CI when it is missing."""
    path = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if p.exists()),
        None,
    )
    if path is None:
        missing(f"`{name}` (apt-get install -y --no-install-recommends {package})")
        raise AssertionError("unreachable")  # missing() skips or fails
    return path


def run_tool(
    args: list[str],
    cwd: Path | None = None,
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> str:
    """Run a tool; assert it succeeded and return what it printed."""
    done = run_command(args, cwd=cwd, env=env, timeout=timeout)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(args)} failed ({done.returncode}):\n{output}"
    return output


def wait_until_up(
    url: str,
    process: subprocess.Popen[bytes],
    what: str,
    *,
    attempts: int = 200,
    pause: float = 0.1,
    log: Path | None = None,
    status: int = 200,
) -> None:
    """Poll ``url`` (bounded) until it answers ``status``; fail if ``process`` ends first
    (with its ``log``, when it writes one)."""
    for _ in range(attempts):
        if process.poll() is not None:
            raise AssertionError(
                f"{what} ended while starting" + (f":\n{log.read_text()}" if log else "")
            )
        try:
            if httpx.get(url, timeout=1).status_code == status:
                return
        except httpx.TransportError:
            pass
        time.sleep(pause)
    raise AssertionError(f"{what} did not answer {url}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate a process we started and reap it."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:  # pragma: no cover - a hung shutdown
        process.kill()
        process.wait(timeout=5)


def exported_sample_names() -> set[str]:
    """Every sample name the server's metrics can produce (``_total``, ``_bucket``, ...)."""
    names: set[str] = set()
    for value in vars(server_metrics).values():
        if not isinstance(value, MetricWrapperBase):
            continue
        for family in value.describe():
            base = family.name
            if family.type == "counter":
                names.update({f"{base}_total", f"{base}_created"})
            elif family.type == "histogram":
                names.update(f"{base}{s}" for s in ("_bucket", "_count", "_sum", "_created"))
            else:
                names.add(base)
    return names


def kasir_metrics_in(expr: str) -> set[str]:
    """The Kasir metric names an expression reads."""
    return set(KASIR_METRIC.findall(expr))


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def promtool() -> str:
    """The promtool binary (Debian package ``prometheus``)."""
    return require_tool("promtool", "prometheus")


PENDING_SERVER_CHANGES: dict[str, str] = {}
"""What a dashboard query reads that the server does not emit yet (see the report).

A query containing one of these keys must still parse; once a sample of the live
``/metrics`` contains the key, the live test fails so the panel joins the ones that must
show data."""

CADVISOR_PREFIX = "container_"
"""cAdvisor's metrics; there is no cAdvisor on a test machine."""
