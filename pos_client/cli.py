"""``kasir``: start the till app (or, with no display, the scripted demo sale).

``KIVY_NO_ARGS`` is set before Kivy is imported so Kivy leaves our arguments alone.
On a machine with no display (no ``DISPLAY`` and no ``WAYLAND_DISPLAY``) it says so
and runs ``python -m pos_client.demo`` with the same server, code and data folder.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="kasir", description="Kasir point-of-sale till.")
    parser.add_argument("--server", help="sync server URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--data-dir", type=Path, help="where the till keeps its database")
    parser.add_argument("--enroll-code", help="one-time enrollment code from a manager")
    return parser.parse_args(argv)


def has_display(env: Mapping[str, str] | None = None) -> bool:
    """True when a window can be shown: an X or Wayland display, or not Linux at all."""
    env = os.environ if env is None else env
    if not sys.platform.startswith("linux"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def demo_command(args: argparse.Namespace) -> list[str]:
    """The headless demo: a scripted sale through the same services."""
    command = [sys.executable, "-m", "pos_client.demo"]
    if args.server:
        command += ["--server", args.server]
    if args.enroll_code:
        command += ["--enroll-code", args.enroll_code]
    if args.data_dir:
        command += ["--data-dir", str(args.data_dir)]
    return command


def main(argv: Sequence[str] | None = None) -> int:
    """Run the app (blocking until it closes); returns the exit status."""
    args = parse_args(argv)
    if not has_display():
        print("kasir: this machine has no display; running the scripted demo sale instead.")
        return subprocess.call(demo_command(args))
    os.environ.setdefault("KIVY_NO_ARGS", "1")

    from pos_client.config import ClientSettings

    overrides: dict[str, object] = {}
    if args.server:
        overrides["server_url"] = args.server
    if args.data_dir:
        overrides["data_dir"] = args.data_dir
    settings = ClientSettings(**overrides)  # type: ignore[arg-type]

    from pos_client.ui.app import KasirApp  # imports Kivy: after KIVY_NO_ARGS
    from pos_client.ui.till import ServerQris

    app = KasirApp(settings, qris=ServerQris(settings))
    if args.enroll_code and not app.till.enrolled():
        app.pending_enroll_code = args.enroll_code
    app.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
