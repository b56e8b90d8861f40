"""Kivy scenarios in a real window, each scenario module in its own Python process.

Kivy's window, App and Clock are process-wide, so reusing them across modules is
fragile; each ``window/scenario_*.py`` runs as its own pytest process with a temporary
``KIVY_HOME``. Where Xvfb is installed each runs on a private 1280×1280 Xvfb (both
orientations fit on it, and no other test's keys reach it); with only a ``DISPLAY`` the
window is on that display; with neither, SDL's offscreen driver renders the same pixels.
If no window can be made at all the test skips locally and fails on CI
(``missing("Xvfb display")``). A scenario's ``FIGURE`` lines (counts it measured) are
echoed in this test's output (``pytest -s`` shows them).
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
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


def run_scenario(
    path: Path, env: dict[str, str], tmp_path_factory: pytest.TempPathFactory, *, timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run one scenario module in its own pytest process; fail with its output, and
    echo its ``FIGURE`` lines (counts a scenario measured) into this test's output."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(path),
            "-q",
            "-x",
            "-s",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(tmp_path_factory.mktemp("inner")),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-4000:]
    for line in done.stdout.splitlines():
        if "FIGURE " in line:
            print(line[line.index("FIGURE ") :])
    return done


def sized_kivy_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary ``KIVY_HOME`` whose first window is 1280×800 (set before Kivy is
    imported: the offscreen driver cannot resize its GL surface later; Xvfb windows
    can, so portrait shots are exact under Xvfb)."""
    kivy_home = tmp_path_factory.mktemp("kivy-home")
    (kivy_home / "config.ini").write_text("[graphics]\nwidth = 1280\nheight = 800\n")
    return kivy_home


@contextlib.contextmanager
def private_xvfb(screen: str) -> Iterator[str]:
    """A private Xvfb with a ``screen`` (``"1280x1280x24"``) of its own; the server picks a
    free display number, returned as ``":N"``; torn down afterwards."""
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", screen, "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:
        with os.fdopen(read) as answer:
            number = answer.readline().strip()
        if not number.isdigit():
            pytest.fail(f"Xvfb did not start (exit code {server.poll()})", pytrace=False)
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_in_a_window(scenario: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    kivy_home = sized_kivy_home(tmp_path_factory)
    problem = window_problem(str(kivy_home))
    if problem is not None:
        missing(f"Xvfb display ({problem.strip().splitlines()[-1] if problem else ''})")
    env = kivy_env(kivy_home)
    if shutil.which("Xvfb") is None:
        run_scenario(WINDOW_DIR / scenario, env, tmp_path_factory, timeout=300)
        return
    # A screen both orientations fit on (a window taller than its X screen draws
    # garbage where it is off screen, so an 800×1280 shot on a 1280×800 Xvfb is half
    # noise), and no keys or windows shared with other tests on the common display.
    with private_xvfb("1280x1280x24") as display:
        env["DISPLAY"] = display
        env.pop("SDL_VIDEODRIVER", None)
        run_scenario(WINDOW_DIR / scenario, env, tmp_path_factory, timeout=300)
