"""Kivy scenarios in a real window, each scenario module in its own Python process.

Kivy's window, App and Clock are process-wide, so reusing them across modules is
fragile; each ``window/scenario_*.py`` runs as its own pytest process with a temporary
``KIVY_HOME``. With a ``DISPLAY`` (Xvfb) the window is a real X window; without one
SDL's offscreen driver renders the same pixels. If no window can be made at all the
test skips locally and fails on CI (``missing("Xvfb display")``).
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import missing

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
WINDOW_DIR = Path(__file__).resolve().parent / "window"
SCENARIOS = sorted(p.name for p in WINDOW_DIR.glob("scenario_*.py"))


def kivy_env(kivy_home: Path) -> dict[str, str]:
    """The environment a Kivy test process needs (set before Kivy is imported)."""
    env = dict(os.environ)
    env.update(
        KIVY_HOME=str(kivy_home),
        KIVY_NO_ARGS="1",
        KIVY_NO_CONSOLELOG="1",
        KIVY_NO_FILELOG="1",
        KIVY_LOG_MODE="PYTHON",
        PYTHONPATH=str(ROOT),
    )
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env["SDL_VIDEODRIVER"] = "offscreen"
    env.pop("KIVY_GL_BACKEND", None)  # the mock backend draws black screenshots
    return env


@functools.cache
def window_problem(kivy_home: str) -> str | None:
    """None when a Kivy window opens here, else what went wrong."""
    probe = "from kivy.base import EventLoop; EventLoop.ensure_window(); print('ok')"
    try:
        done = subprocess.run(
            [sys.executable, "-c", probe],
            env=kivy_env(Path(kivy_home)),
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        return "opening a window timed out"
    if done.returncode != 0 or "ok" not in done.stdout:
        return (done.stderr or done.stdout)[-2000:]
    return None


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_in_a_window(scenario: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    kivy_home = tmp_path_factory.mktemp("kivy-home")
    # Size the first window before Kivy is imported: the offscreen driver cannot resize
    # its GL surface later (Xvfb windows can, so portrait shots are exact under Xvfb).
    (kivy_home / "config.ini").write_text("[graphics]\nwidth = 1280\nheight = 800\n")
    problem = window_problem(str(kivy_home))
    if problem is not None:
        missing(f"Xvfb display ({problem.strip().splitlines()[-1] if problem else ''})")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(WINDOW_DIR / scenario),
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(tmp_path_factory.mktemp("inner")),
        ],
        cwd=ROOT,
        env=kivy_env(kivy_home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-4000:]
