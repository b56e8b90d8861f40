"""The layer contracts in pyproject.toml hold, and a deliberate violation breaks them.

``scripts/test.sh`` runs ``lint-imports`` on the tree; these tests prove the check can
fail: each contract is broken on a copy of the packages and must be reported.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tools import run_command

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return run_command([str(LINT_IMPORTS), "--no-cache"], cwd=tree, env=env)


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("layers")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "templates", "static", "kv")
    for package in ("pos_client", "sync_server", "shared"):
        shutil.copytree(ROOT / package, tree / package, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_the_tree_keeps_every_contract() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("sync_server/_violation.py", "import pos_client.demo", "sync_server never imports"),
        ("pos_client/store/_violation.py", "import pos_client.ui.i18n", "never import its"),
        ("pos_client/domain/_violation.py", "import kivy", "never import its"),
        ("shared/_violation.py", "import sync_server.core.config", "shared imports neither"),
    ],
)
def test_a_deliberate_violation_fails_the_check(
    tree_copy: Path, module: str, line: str, contract: str
) -> None:
    offender = tree_copy / module
    offender.write_text(f"{line}\n")
    try:
        result = _lint(tree_copy)
    finally:
        offender.unlink()
    assert result.returncode != 0
    assert "_violation" in result.stdout
    assert contract in result.stdout.replace("\n", " ")
