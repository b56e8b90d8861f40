"""Where the UI's files are: the .kv layouts and the shared assets."""

from __future__ import annotations

from pathlib import Path

UI_DIR = Path(__file__).resolve().parent
KV_DIR = UI_DIR / "kv"
ASSETS_DIR = UI_DIR.parents[1] / "assets"
MONO_FONT = "RobotoMono-Regular"
