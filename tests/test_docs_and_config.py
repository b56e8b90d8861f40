"""The handbook promises: README documents every command, CI runs the README's test
command, and production refuses default secrets."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from sync_server.cli import build_parser
from sync_server.core.config import DEFAULT_SECRET, Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _subcommands(parser: argparse.ArgumentParser) -> list[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def test_every_server_subcommand_is_documented() -> None:
    commands = _subcommands(build_parser())
    assert commands, "the CLI has subcommands"
    for name in commands:
        assert f"`{name}`" in README, f"README does not document kasir-server {name}"


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash scripts/test.sh" in README
    assert re.search(r"^exec bash scripts/test\.sh\s*$", ci, re.M)


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValidationError, match="KASIR_SECRET_KEY"):
        Settings(environment="production", secret_key=DEFAULT_SECRET)
    with pytest.raises(ValidationError, match="KASIR_SECRET_KEY"):
        Settings(environment="production", secret_key="short")


def test_production_refuses_half_set_tripay_keys_and_runs_cash_only_without_them() -> None:
    # No Tripay keys at all: a cash-only shop; QRIS is disabled, the server starts.
    cash_only = Settings(environment="production", secret_key="s" * 40)
    assert cash_only.qris_enabled is False
    # A real private key beside the sandbox API key is a mistake, not a choice: refused.
    with pytest.raises(ValidationError, match="Tripay"):
        Settings(
            environment="production",
            secret_key="s" * 40,
            tripay_base_url="https://tripay.co.id/api/",
            tripay_private_key="real-private-key",
        )
    ok = Settings(
        environment="production",
        secret_key="s" * 40,
        tripay_base_url="https://tripay.co.id/api/",
        tripay_api_key="real-api-key",
        tripay_private_key="real-private-key",
    )
    assert ok.environment == "production" and ok.qris_enabled is True


def test_default_database_is_a_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'kasir.sqlite3'}"


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KASIR_DATABASE_URL", "mysql+pymysql://u:p@db:3306/kasir")
    monkeypatch.setenv("KASIR_MAX_BODY_BYTES", "not-a-number")
    with pytest.raises(ValidationError, match="max_body_bytes"):
        Settings()
    monkeypatch.setenv("KASIR_MAX_BODY_BYTES", "1024")
    settings = Settings()
    assert settings.effective_database_url.startswith("mysql+pymysql://")
    assert settings.max_body_bytes == 1024
