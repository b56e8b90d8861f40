"""The ``kasir`` command keeps a quiet console: no DEBUG lines (httpx's included) and no
tracebacks for optional things a till may lack (a clipboard tool, a sound device)
unless ``--verbose``. The app runs in a real window (Xvfb, or SDL's offscreen driver)
and is stopped after a bounded while; its first-run screen tries to enroll against a
server that is not there, so the HTTP client has something to say."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import missing

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
RUN_FOR = 12  # seconds the app runs before it is stopped (a bound, not a measurement)


def run_kasir(tmp_path: Path, *extra: str) -> str:
    """Run ``kasir`` for a while; everything it wrote to stdout and stderr."""
    env = dict(os.environ)
    for name in ("KIVY_NO_CONSOLELOG", "KIVY_LOG_MODE", "KIVY_NO_FILELOG", "KIVY_GL_BACKEND"):
        env.pop(name, None)
    (tmp_path / "kivy").mkdir(parents=True)
    env.update(KIVY_HOME=str(tmp_path / "kivy"), PYTHONPATH=str(ROOT))
    command = [
        sys.executable,
        "-m",
        "pos_client.cli",
        "--data-dir",
        str(tmp_path / "till"),
        "--server",
        "http://127.0.0.1:9",
        "--enroll-code",
        "NOPE-1234",
        *extra,
    ]
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=RUN_FOR
        )
        return done.stdout + done.stderr
    except subprocess.TimeoutExpired as stopped:
        out = stopped.stdout or b""
        err = stopped.stderr or b""
        as_text = [part.decode() if isinstance(part, bytes) else part for part in (out, err)]
        return "".join(as_text)


def test_a_quiet_console_and_a_verbose_one(tmp_path: Path) -> None:
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        missing("Xvfb display (with none, kasir runs the scripted demo instead)")
    quiet = run_kasir(tmp_path / "quiet")
    assert "Traceback" not in quiet, quiet[-3000:]
    assert "DEBUG" not in quiet, quiet[-3000:]
    assert "httpx" not in quiet and "httpcore" not in quiet, quiet[-3000:]
    assert 'File "' not in quiet, "no traceback lines either"
    assert quiet.count("no clipboard tool") <= 1, "said once, in a sentence"

    verbose = run_kasir(tmp_path / "verbose", "--verbose")
    assert "DEBUG" in verbose, verbose[-3000:]
    assert "httpcore" in verbose or "httpx" in verbose, verbose[-3000:]
