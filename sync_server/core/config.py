"""One typed settings object, read from the environment (prefix ``KASIR_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Depends, Request
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me-in-production"  # noqa: S105 - the value production refuses
DEFAULT_TRIPAY_API_KEY = "DEV-sandbox-api-key"
DEFAULT_TRIPAY_PRIVATE_KEY = "sandbox-private-key"


class Settings(BaseSettings):
    """Server configuration. Every field can be set as ``KASIR_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="KASIR_", env_file=None, extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default=Path("data"), description="Folder for the embedded SQLite file.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default is a SQLite file in data_dir. "
        "MySQL/MariaDB: mysql+pymysql://user:pass@host:3306/db",
    )
    reports_database_url: str | None = Field(
        default=None, description="Read replica for reports; the main database when unset."
    )
    secret_key: str = DEFAULT_SECRET
    store_timezone: str = "Asia/Jakarta"
    max_body_bytes: int = 16 * 1024 * 1024  # a 100k-product CSV; pushes have their own cap
    session_hours: int = 12
    db_pool_size: int = 10
    db_max_overflow: int = 20
    reports_db_pool_size: int = Field(
        default=3,
        ge=1,
        description="Connections of the reports' own pool (on the replica when one is set, "
        "otherwise on the main database); reports and back-office pages never wait for "
        "ingest's connections.",
    )
    sync_max_concurrent: int | None = Field(
        default=None,
        ge=1,
        description="Pushes one worker process serves at once (pulls have their own gate, "
        "`sync_max_concurrent_pulls`); the database pool size when unset.",
    )
    sync_max_waiting: int | None = Field(
        default=None,
        ge=0,
        description="Pushes that may wait for a free place; beyond that the server answers "
        "503 `overloaded` at once. Four times the concurrent ones when unset.",
    )
    sync_max_concurrent_pulls: int | None = Field(
        default=None,
        ge=1,
        description="Pulls one worker process serves at once, in a gate of their own "
        "beside the pushes' (which pulls never take); a quarter of the pushes' places "
        "(at least 1) when unset.",
    )
    sync_max_waiting_pulls: int | None = Field(
        default=None,
        ge=0,
        description="Pulls that may wait for a free pull place; beyond that 503 "
        "`overloaded` at once. Four times the concurrent pulls when unset.",
    )
    sync_max_wait_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How long a push or pull may wait for a place before the 503 (well "
        "below the till's 15 s timeout).",
    )
    run_migrations_on_start: bool = True
    log_level: str = "INFO"
    log_format: Literal["json", "text"] | None = Field(
        default=None,
        description="One JSON object per log line, or plain text for a console; "
        "JSON in production, text otherwise, when unset.",
    )
    metrics_token: str | None = Field(
        default=None,
        description="When set, /metrics answers only `Authorization: Bearer <token>` (401 "
        "otherwise); unset, it is open and the proxy in front must keep it private.",
    )

    # Tripay (QRIS). The local sandbox is the development default. In production, leaving
    # API and private key unset (or empty) runs a cash-only shop: QRIS is disabled.
    tripay_base_url: str = "http://127.0.0.1:8765/api-sandbox/"
    tripay_api_key: str = DEFAULT_TRIPAY_API_KEY
    tripay_private_key: str = DEFAULT_TRIPAY_PRIVATE_KEY
    tripay_merchant_code: str = "T0001"
    public_base_url: str = "http://127.0.0.1:8000"

    # E-mail of e-receipts (the till's "Kirim e-mail"): unset host = not configured, and
    # the till opens its device's mail app instead.
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = True
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "Kasir <struk@localhost>"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.environment == "production":
            if self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32:
                raise ValueError(
                    "KASIR_SECRET_KEY must be set to a random value of at least 32 characters "
                    "in production"
                )
            if self.qris_enabled and (
                "sandbox" in self.tripay_private_key
                or "sandbox" in self.tripay_api_key
                or "127.0.0.1" in self.tripay_base_url
            ):
                raise ValueError(
                    "production needs real Tripay keys and base URL, or no Tripay keys at all "
                    "(QRIS disabled, cash only)"
                )
        return self

    @property
    def qris_enabled(self) -> bool:
        """False when no Tripay keys are configured: the payment routes answer 503
        ``qris_disabled`` and the till takes cash. In production the sandbox defaults count
        as no keys; in development they are the local sandbox's."""
        keys = (self.tripay_api_key, self.tripay_private_key)
        if not all(keys):
            return False
        if self.environment == "production":
            return keys != (DEFAULT_TRIPAY_API_KEY, DEFAULT_TRIPAY_PRIVATE_KEY)
        return True

    @property
    def effective_log_format(self) -> Literal["json", "text"]:
        """``log_format``, or JSON in production and text elsewhere."""
        if self.log_format is not None:
            return self.log_format
        return "json" if self.environment == "production" else "text"

    @property
    def effective_sync_max_concurrent(self) -> int:
        """Concurrent pushes per worker: ``sync_max_concurrent``, or the pool
        size (each holds one connection at a time, so the rest of the pool stays free
        for logins, the back office and the payment routes)."""
        return self.sync_max_concurrent or max(1, self.db_pool_size)

    @property
    def effective_sync_max_waiting(self) -> int:
        """Pushes that may queue: ``sync_max_waiting``, or 4 × the concurrent."""
        if self.sync_max_waiting is not None:
            return self.sync_max_waiting
        return 4 * self.effective_sync_max_concurrent

    @property
    def effective_sync_max_concurrent_pulls(self) -> int:
        """Concurrent pulls per worker: ``sync_max_concurrent_pulls``, or a quarter of
        the pushes' places, at least 1."""
        return self.sync_max_concurrent_pulls or max(1, self.effective_sync_max_concurrent // 4)

    @property
    def effective_sync_max_waiting_pulls(self) -> int:
        """Pulls that may queue: ``sync_max_waiting_pulls``, or 4 × the concurrent pulls."""
        if self.sync_max_waiting_pulls is not None:
            return self.sync_max_waiting_pulls
        return 4 * self.effective_sync_max_concurrent_pulls

    @property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to ``<data_dir>/kasir.sqlite3``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'kasir.sqlite3').resolve()}"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()


def settings_of_app(request: Request) -> Settings:
    """The settings the running app was built with (``app.state.settings``)."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(settings_of_app)]
"""The app's settings, for routes and dependencies."""
