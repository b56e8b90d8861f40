"""Cold start: process start to the PIN screen drawn, next to ``python -c "import kivy"``.

Prints figures only (goal: < 3 s to the PIN screen). Uses the X display when there is
one, else SDL's offscreen driver. Run: ``.venv/bin/python benches/cold_start.py``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 5

CHILD = r"""
import sys, time
from kivy.clock import Clock
from pos_client.config import ClientSettings
from pos_client.ui.app import KasirApp

class Bench(KasirApp):
    def on_start(self):
        super().on_start()
        def shown(_dt):
            assert self.current == "login" and self.screen("login").ids.users.children
            print("PIN_SCREEN", time.monotonic(), flush=True)
            self.stop()
        Clock.schedule_once(shown, 0)

Bench(ClientSettings(data_dir=sys.argv[1]), start_sync=False).run()
"""


def env(kivy_home: str) -> dict[str, str]:
    """Kivy quiet, in a temporary home, on the display or offscreen."""
    e = dict(os.environ, KIVY_HOME=kivy_home, KIVY_NO_ARGS="1", KIVY_NO_CONSOLELOG="1")
    e["PYTHONPATH"] = str(ROOT)
    if not e.get("DISPLAY") and not e.get("WAYLAND_DISPLAY"):
        e["SDL_VIDEODRIVER"] = "offscreen"
    return e


def seed(data_dir: Path) -> None:
    """An enrolled till with the small catalog (not timed)."""
    sys.path.insert(0, str(ROOT))
    from pos_client.config import ClientSettings
    from pos_client.store import LocalStore
    from tests.client.conftest import seed as seed_store

    store = LocalStore.open(ClientSettings(data_dir=data_dir))
    seed_store(store)
    store.close()


def timed(args: list[str], environment: dict[str, str]) -> tuple[float, str]:
    """Seconds from spawning ``args`` to its exit, and its output."""
    start = time.monotonic()
    done = subprocess.run(args, env=environment, capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - start
    if done.returncode != 0:
        raise SystemExit(f"{args[:3]} failed:\n{done.stderr[-2000:]}")
    return elapsed, done.stdout


def main() -> None:
    """Run both measurements ``RUNS`` times and print medians."""
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "till"
        data_dir.mkdir()
        seed(data_dir)
        environment = env(str(Path(tmp) / "kivy-home"))
        timed([sys.executable, "-c", "import kivy"], environment)  # warm the disk cache
        imports, to_pin = [], []
        for _ in range(RUNS):
            imports.append(timed([sys.executable, "-c", "import kivy"], environment)[0])
            start = time.monotonic()
            _, out = timed([sys.executable, "-c", CHILD, str(data_dir)], environment)
            shown = float(
                next(x for x in out.splitlines() if x.startswith("PIN_SCREEN")).split()[1]
            )
            to_pin.append(shown - start)
    mode = "X display" if environment.get("DISPLAY") else "SDL offscreen"
    print(f"cold start ({mode}, {RUNS} runs, median)")
    print(f"  python -c 'import kivy' (baseline): {statistics.median(imports):.2f} s")
    print(f"  process start -> PIN screen shown:  {statistics.median(to_pin):.2f} s  (goal < 3 s)")
    print(f"  (min {min(to_pin):.2f} s, max {max(to_pin):.2f} s)")


if __name__ == "__main__":
    main()
