"""The USB scanner through REAL X input: xdotool (XTEST) key events into the real app.

The window tests in ``window/`` dispatch synthetic Kivy events, which skip what SDL
really does: it sends text-input events only while a text field has started text
input, key-down events always. Here the app runs in a window on its own Xvfb (so other
window tests on the shared display never receive these keystrokes) and
``realinput/scenario_real_input.py`` types scans and PINs with ``xdotool``.

Without Xvfb or xdotool the test skips locally and fails on CI (``missing``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import missing
from tests.ui.test_window import ROOT, kivy_env

pytestmark = pytest.mark.gui

SCENARIO = Path(__file__).resolve().parent / "realinput" / "scenario_real_input.py"


@pytest.fixture
def own_display() -> Iterator[str]:
    """A private Xvfb (the server picks a free display number); torn down afterwards."""
    for tool in ("Xvfb", "xdotool"):
        if shutil.which(tool) is None:
            missing(f"{tool} (apt-get install -y --no-install-recommends xvfb xdotool)")
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
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


def test_scanner_and_typing_through_real_x_input(
    own_display: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    kivy_home = tmp_path_factory.mktemp("kivy-home")
    (kivy_home / "config.ini").write_text("[graphics]\nwidth = 1280\nheight = 800\n")
    env = kivy_env(kivy_home)
    env["DISPLAY"] = own_display
    env.pop("SDL_VIDEODRIVER", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(SCENARIO),
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(tmp_path_factory.mktemp("inner")),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-4000:]
    assert " passed" in done.stdout and "skipped" not in done.stdout, done.stdout[-2000:]
