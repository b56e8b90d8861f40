"""The till's screen-side preferences: printer, receipt width, camera, language, scanner.

They belong to this device, not to the shop, so they live in a small JSON file in the
data folder (``ui-settings.json``) rather than in the synced catalog. Unknown or broken
values fall back to the defaults.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

from pos_client.config import ClientSettings
from pos_client.printing.escpos import DevicePrinter, NetworkPrinter, PrinterTransport
from pos_client.scanner.wedge import SUFFIX_CHOICES, ScannerSetupError, WedgeSetup, wedge_setup

log = logging.getLogger("kasir.ui")

PrinterKind = Literal["none", "network", "usb"]
PREFS_FILE = "ui-settings.json"


@dataclass(frozen=True)
class UiPrefs:
    """Device preferences the settings screen edits."""

    language: str = "id"
    printer_kind: PrinterKind = "none"
    printer_host: str = ""
    printer_port: int = 9100
    printer_device: str = "/dev/usb/lp0"
    receipt_width: int = 32
    camera_source: str = ""
    scanner: dict[str, Any] | None = None
    """The USB scanner's setup saved on the Settings screen (``WedgeSetup`` fields); None
    until then: the ``KASIR_CLIENT_SCANNER_*`` settings apply."""

    def wedge(self, settings: ClientSettings) -> WedgeSetup:
        """The scanner setup in force: the one saved here, else the till's settings."""
        saved = _scanner(self.scanner)
        if saved is not None:
            return saved
        return WedgeSetup(
            suffixes=tuple(settings.scanner_suffixes),
            prefix=settings.scanner_prefix,
            max_gap_ms=settings.scanner_max_gap_ms,
            min_length=settings.scanner_min_length,
        )

    def printer(self) -> PrinterTransport | None:
        """The configured printer transport, or None when no printer is set."""
        if self.printer_kind == "network" and self.printer_host:
            return NetworkPrinter(self.printer_host, self.printer_port)
        if self.printer_kind == "usb" and self.printer_device:
            return DevicePrinter(self.printer_device)
        return None

    def with_changes(self, **changes: Any) -> UiPrefs:
        """A copy with ``changes`` applied and checked."""
        return _checked(replace(self, **changes))


def _checked(prefs: UiPrefs) -> UiPrefs:
    defaults = UiPrefs()
    if prefs.language not in ("id", "en"):
        prefs = replace(prefs, language=defaults.language)
    if prefs.printer_kind not in ("none", "network", "usb"):
        prefs = replace(prefs, printer_kind=defaults.printer_kind)
    if prefs.receipt_width not in (32, 42, 48):
        prefs = replace(prefs, receipt_width=defaults.receipt_width)
    if not 0 < int(prefs.printer_port) < 65536:
        prefs = replace(prefs, printer_port=defaults.printer_port)
    if prefs.scanner is not None:
        saved = _scanner(prefs.scanner)
        prefs = replace(prefs, scanner=scanner_prefs(saved) if saved is not None else None)
    return prefs


def scanner_prefs(setup: WedgeSetup) -> dict[str, Any]:
    """``setup`` as :attr:`UiPrefs.scanner` keeps it (JSON-ready)."""
    return {
        "suffixes": list(setup.suffixes),
        "prefix": setup.prefix,
        "max_gap_ms": setup.max_gap_ms,
        "min_length": setup.min_length,
    }


def _scanner(saved: object) -> WedgeSetup | None:
    """A saved scanner setup checked like the form checks it (None when unusable)."""
    if not isinstance(saved, dict):
        return None
    suffixes = saved.get("suffixes")
    choice = next(
        (
            name
            for name, keys in SUFFIX_CHOICES.items()
            if isinstance(suffixes, list) and set(keys) == set(suffixes)
        ),
        None,
    )
    try:
        return wedge_setup(
            suffix=choice or "",
            prefix=str(saved.get("prefix", "")),
            max_gap_ms=str(saved.get("max_gap_ms", "")),
            min_length=str(saved.get("min_length", "")),
        )
    except ScannerSetupError:
        return None


def load_prefs(data_dir: Path) -> UiPrefs:
    """Read the preferences in ``data_dir`` (defaults when missing or unreadable)."""
    path = data_dir / PREFS_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return UiPrefs()
    except (OSError, ValueError):
        log.warning("ui: %s is unreadable; using defaults", path)
        return UiPrefs()
    known = {f.name for f in fields(UiPrefs)}
    values = {k: v for k, v in raw.items() if k in known} if isinstance(raw, dict) else {}
    try:
        return _checked(UiPrefs(**values))
    except (TypeError, ValueError):
        return UiPrefs()


def save_prefs(data_dir: Path, prefs: UiPrefs) -> None:
    """Write the preferences atomically (a crash never leaves half a file)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / PREFS_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(prefs), indent=2), encoding="utf-8")
    tmp.replace(path)
