"""The USB scanner through REAL X input: xdotool (XTEST) key events into the real app.

The window tests in ``window/`` dispatch synthetic Kivy events, which skip what SDL
really does: it sends text-input events only while a text field has started text
input, key-down events always. Here the app runs in a window on its own Xvfb (so other
window tests on the shared display never receive these keystrokes) and
``realinput/scenario_real_input.py`` types scans and PINs with ``xdotool``.

Without Xvfb or xdotool the test skips locally and fails on CI (``missing``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import missing
from tests.ui.test_window import kivy_env, private_xvfb, run_scenario, sized_kivy_home

pytestmark = pytest.mark.gui

SCENARIO = Path(__file__).resolve().parent / "realinput" / "scenario_real_input.py"


@pytest.fixture
def own_display() -> Iterator[str]:
    """A private 1280×800 Xvfb for this test alone (see ``private_xvfb``)."""
    for tool in ("Xvfb", "xdotool"):
        if shutil.which(tool) is None:
            missing(f"{tool} (apt-get install -y --no-install-recommends xvfb xdotool)")
    with private_xvfb("1280x800x24") as display:
        yield display


def test_scanner_and_typing_through_real_x_input(
    own_display: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    env = kivy_env(sized_kivy_home(tmp_path_factory))
    env["DISPLAY"] = own_display
    env.pop("SDL_VIDEODRIVER", None)
    done = run_scenario(SCENARIO, env, tmp_path_factory, timeout=400)
    assert " passed" in done.stdout and "skipped" not in done.stdout, done.stdout[-2000:]
