"""The till's settings: one typed object read from ``KASIR_CLIENT_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ScannerSuffix = Literal["enter", "tab"]


def _default_data_dir() -> Path:
    return Path.home() / ".kasir"


def _default_scanner_suffixes() -> list[ScannerSuffix]:
    return ["enter", "tab"]


class ClientSettings(BaseSettings):
    """Where the till keeps its data, which server it talks to, and its shop rules.

    Every field can be set from the environment, e.g. ``KASIR_CLIENT_DATA_DIR=/var/lib/kasir``.
    """

    model_config = SettingsConfigDict(env_prefix="KASIR_CLIENT_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    server_url: str = "http://127.0.0.1:8000"
    terminal_code: str = Field(default="T01", pattern=r"^[A-Z0-9]+$")
    store_timezone: str = "Asia/Jakarta"
    discount_approval_bp: int = Field(default=1000, ge=0, le=10_000)
    """Discounts above this share of a line or order (basis points) need a supervisor PIN."""
    pin_max_failures: int = Field(default=5, ge=1)
    pin_lockout_seconds: int = Field(default=30, ge=1)
    """First lockout after ``pin_max_failures`` wrong PINs; each later lockout doubles."""
    pin_lockout_max_seconds: int = Field(default=24 * 3600, ge=1)
    require_open_shift: bool = True
    blind_count: bool = False
    """Close shifts blind: the cashier counts the drawer before seeing the expected cash."""
    push_batch_size: int = Field(default=200, ge=1, le=500)
    pull_page_size: int = Field(default=5000, ge=1, le=5000)
    sync_interval_seconds: float = Field(default=5.0, gt=0)
    http_timeout_seconds: float = Field(default=15.0, gt=0)
    scanner_suffixes: list[ScannerSuffix] = Field(
        default_factory=_default_scanner_suffixes, min_length=1
    )
    """Keys the USB scanner sends after a code (``KASIR_CLIENT_SCANNER_SUFFIXES='["enter"]'``)."""
    scanner_prefix: str = Field(default="", max_length=1)
    """A character the scanner sends before each code (empty: none); taken off the code."""
    scanner_max_gap_ms: int = Field(default=50, ge=5, le=500)
    """Keys closer together than this are the scanner's; slower ones are a person typing.
    Scanners send a key every 8–15 ms; the window reads keys once a frame (~17 ms)."""
    scanner_min_length: int = Field(default=6, ge=1)
    """A fast burst shorter than this is fast typing, not a scan."""
    kiosk: bool = False
    """Full screen with no window frame (``KASIR_CLIENT_KIOSK=1``); otherwise the window
    opens at the screen's size. Either way Esc and Android's back go back a screen and
    quitting needs a supervisor's PIN."""

    @property
    def database_path(self) -> Path:
        """The till's SQLite file inside ``data_dir``."""
        return self.data_dir / "kasir.sqlite3"
