"""``kasir``: start the till app (or, with no display, the scripted demo sale).

``KIVY_NO_ARGS`` is set before Kivy is imported so Kivy leaves our arguments alone.
On a machine with no display (no ``DISPLAY`` and no ``WAYLAND_DISPLAY``) it says so
and runs ``python -m pos_client.demo`` with the same server, code and data folder.

``kasir export-unsynced --to FILE [--data-dir DIR]`` writes the events still waiting to
be synced to a file for ``kasir-server import-till-export`` (see
:mod:`pos_client.store.export`); it needs no display and leaves the queue as it is.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="kasir", description="Kasir point-of-sale till.")
    parser.add_argument("--server", help="sync server URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--data-dir", type=Path, help="where the till keeps its database")
    parser.add_argument("--enroll-code", help="one-time enrollment code from a manager")
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="log everything (Kivy, HTTP requests, tracebacks) to the console",
    )
    parser.add_argument("--version", action="version", version=f"kasir {kasir_version()}")
    return parser.parse_args(argv)


def kasir_version() -> str:
    """The installed Kasir version (``unknown`` when no package metadata is found)."""
    from importlib import metadata

    try:
        return metadata.version("kasir")
    except metadata.PackageNotFoundError:
        return "unknown"


NOISY_LOGGERS = ("httpx", "httpcore", "escpos", "PIL", "urllib3", "asyncio")
"""Libraries that talk at DEBUG/INFO; only ``--verbose`` shows them."""

QUIET_SENTENCES = {
    "Cutbuffer": "kasir: no clipboard tool (xclip or xsel) here; middle-click paste is off.",
    "Audio": "kasir: no sound device or audio library here; scans will not beep.",
}
"""Kivy's multi-line complaints about optional providers, said once in a sentence."""


class QuietFormatter(logging.Formatter):
    """One line per record and no tracebacks (``--verbose`` gets the whole story)."""

    def __init__(self) -> None:
        """``kasir: LEVEL name: message``."""
        super().__init__("%(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The first line of the message; a known optional provider as a sentence."""
        message = record.getMessage()
        if record.name.startswith("kivy"):
            for provider, sentence in QUIET_SENTENCES.items():
                if provider in message.split("]", 1)[0] or message.startswith(provider):
                    return sentence
        first = message.splitlines()[0] if message else ""
        return f"{record.levelname} {record.name}: {first}"


def configure_logging(*, verbose: bool = False, stream: TextIO | None = None) -> None:
    """The till's console: warnings, one line each; ``verbose``: everything at DEBUG.

    Call it before Kivy is imported, with ``KIVY_LOG_MODE=PYTHON`` set, so Kivy logs
    through :mod:`logging` instead of its own console handler.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    if verbose:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(QuietFormatter())
    handler.setLevel(logging.DEBUG if verbose else logging.WARNING)
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not getattr(h, "kasir_console", False)]
    handler.kasir_console = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.WARNING)


def window_config(*, kiosk: bool) -> None:
    """Size the first window before Kivy opens it: full screen for a kiosk, else a
    sensible 1280×800 that :class:`KasirApp` maximizes to the screen once it is up."""
    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")
    if kiosk:
        Config.set("graphics", "fullscreen", "auto")
        Config.set("graphics", "borderless", "1")
    else:
        Config.set("graphics", "fullscreen", "0")
        Config.set("graphics", "width", "1280")
        Config.set("graphics", "height", "800")


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


def export_unsynced(argv: Sequence[str]) -> int:
    """``kasir export-unsynced``: the waiting events to a file; the exit status."""
    parser = argparse.ArgumentParser(
        prog="kasir export-unsynced",
        description="Write the events not yet synced (pending and stuck) to a file a "
        "manager brings to the server (kasir-server import-till-export FILE).",
    )
    parser.add_argument("--to", type=Path, required=True, help="the file to write")
    parser.add_argument("--data-dir", type=Path, help="where the till keeps its database")
    args = parser.parse_args(argv)

    from pos_client.config import ClientSettings
    from pos_client.store import LocalStore
    from pos_client.store.export import ExportRefused
    from pos_client.store.export import export_unsynced as write_export

    overrides: dict[str, object] = {}
    if args.data_dir:
        overrides["data_dir"] = args.data_dir
    settings = ClientSettings(**overrides)  # type: ignore[arg-type]
    if not settings.database_path.exists():
        print(f"kasir: no till database at {settings.database_path}", file=sys.stderr)
        return 1
    store = LocalStore.open(settings)
    try:
        summary = write_export(store, args.to)
    except ExportRefused as exc:
        print(f"kasir: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(
        f"kasir: wrote {summary.events} events ({summary.pending} pending, "
        f"{summary.stuck} stuck) to {summary.path}, sha256 {summary.sha256}"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the app (blocking until it closes); returns the exit status."""
    given = list(sys.argv[1:] if argv is None else argv)
    if given[:1] == ["export-unsynced"]:
        return export_unsynced(given[1:])
    args = parse_args(argv)
    if not has_display():
        print("kasir: this machine has no display; running the scripted demo sale instead.")
        return subprocess.call(demo_command(args))
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ["KIVY_LOG_MODE"] = "PYTHON"
    if not args.verbose:
        os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    configure_logging(verbose=args.verbose)

    from pos_client.config import ClientSettings

    overrides: dict[str, object] = {}
    if args.server:
        overrides["server_url"] = args.server
    if args.data_dir:
        overrides["data_dir"] = args.data_dir
    settings = ClientSettings(**overrides)  # type: ignore[arg-type]

    window_config(kiosk=settings.kiosk)
    from pos_client.ui.app import KasirApp  # imports Kivy: after KIVY_NO_ARGS
    from pos_client.ui.till import ServerQris

    app = KasirApp(settings, qris=ServerQris(settings))
    app.fit_window = True
    if args.enroll_code and not app.till.enrolled():
        app.pending_enroll_code = args.enroll_code
    app.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
