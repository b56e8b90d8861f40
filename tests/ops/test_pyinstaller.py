"""The frozen till: ``packaging/pyinstaller/kasir.spec`` builds, and the built program sells.

The one-folder app is built once for this module into a temporary folder (PyInstaller's
``--distpath`` and ``--workpath`` there, never ``dist/`` or ``build/`` in the tree). Then
the *built* program, run from a folder outside the source tree with no ``PYTHONPATH``
and no virtualenv on ``PATH``, must:

* answer ``kasir --version`` with the package version;
* with no display, say so and run the scripted sale against a live server (the embedded
  SQLite): enroll with a one-time code, download the catalog, sell, print the receipt,
  and sync — the server answers ``applied`` and the sale is in the server's database;
* carry what the window needs (every .kv layout, the assets, Kivy's fonts) under its
  own ``_internal`` folder, where ``pos_client/ui/paths.py`` looks for them frozen, and
  nothing of the server or the test tools.

When PyInstaller is not installed it is installed into this virtualenv
(``pip install 'pyinstaller>=6.10'``, the ``build`` extra); if that fails the test skips
locally and fails on CI (``CI=true``).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from pos_client.config import ClientSettings
from tests.conftest import missing
from tests.e2e.conftest import LiveServer, make_settings
from tests.e2e.demo_output import check_demo_sale
from tests.tools import run_command

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "pyinstaller" / "kasir.spec"
PYINSTALLER_REQUIREMENT = "pyinstaller>=6.10"
"""The same requirement as the ``build`` extra in pyproject.toml."""

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pyinstaller")]


@dataclass(frozen=True)
class FrozenTill:
    """The built one-folder app."""

    folder: Path
    program: Path
    build_seconds: float

    @property
    def internal(self) -> Path:
        """Where PyInstaller puts everything but the program (``sys._MEIPASS`` at run time)."""
        return self.folder / "_internal"


@pytest.fixture
def server_settings(tmp_path: Path) -> Any:
    """The live server (``live_server``, from tests/ops/conftest.py) on the embedded SQLite."""
    return make_settings(
        "", database_url=None, data_dir=tmp_path / "server", run_migrations_on_start=True
    )


def ensure_pyinstaller() -> None:
    """PyInstaller importable in this interpreter, installed with pip when it is not."""
    if importlib.util.find_spec("PyInstaller") is not None:
        return
    done = run_command(
        [sys.executable, "-m", "pip", "install", "--quiet", PYINSTALLER_REQUIREMENT], timeout=300
    )
    if done.returncode != 0 or importlib.util.find_spec("PyInstaller") is None:
        missing(
            f"PyInstaller (pip install '{PYINSTALLER_REQUIREMENT}' failed: {done.stderr[-500:]})"
        )


def frozen_env(home: Path) -> dict[str, str]:
    """The environment of a shop's machine: no display, no source tree, no virtualenv."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DISPLAY", "WAYLAND_DISPLAY", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
        and not key.startswith(("KASIR_", "KIVY_"))
    }
    env.update(HOME=str(home), KIVY_HOME=str(home / ".kivy"), PATH="/usr/bin:/bin")
    return env


@pytest.fixture(scope="module")
def frozen_till(tmp_path_factory: pytest.TempPathFactory) -> FrozenTill:
    """``pyinstaller packaging/pyinstaller/kasir.spec`` into a temporary folder, once."""
    ensure_pyinstaller()
    base = tmp_path_factory.mktemp("pyinstaller")
    dist, work = base / "dist", base / "work"
    started = time.monotonic()
    done = run_command(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--log-level",
            "WARN",
            "--distpath",
            str(dist),
            "--workpath",
            str(work),
            str(SPEC),
        ],
        cwd=ROOT,
        env={**os.environ, "KIVY_HOME": str(base / "kivy-home")},
        timeout=900,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, f"PyInstaller failed:\n{done.stdout[-4000:]}{done.stderr[-8000:]}"
    folder = dist / "kasir"
    program = folder / "kasir"
    assert program.is_file() and os.access(program, os.X_OK), sorted(p.name for p in dist.iterdir())
    return FrozenTill(folder=folder, program=program, build_seconds=elapsed)


def run_frozen(
    till: FrozenTill, *args: str, home: Path, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """The built program as a shop runs it, from ``home`` (outside the source tree)."""
    home.mkdir(parents=True, exist_ok=True)
    return run_command([str(till.program), *args], cwd=home, env=frozen_env(home), timeout=timeout)


def bundled_modules(till: FrozenTill) -> set[str]:
    """Every Python module frozen into the program's archive (``pyi-archive_viewer``)."""
    done = run_command(
        [
            sys.executable,
            "-m",
            "PyInstaller.utils.cliutils.archive_viewer",
            "-r",
            "-b",
            str(till.program),
        ]
    )
    assert done.returncode == 0, done.stderr
    return {line.strip().strip("'\",") for line in done.stdout.splitlines() if line.strip()}


def test_the_built_till_answers_its_version(frozen_till: FrozenTill, tmp_path: Path) -> None:
    print(f"\nPyInstaller one-folder build: {frozen_till.build_seconds:.0f} s")
    done = run_frozen(frozen_till, "--version", home=tmp_path / "home")

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == f"kasir {metadata.version('kasir')}"


def test_the_built_till_carries_its_layouts_fonts_and_assets_and_no_server(
    frozen_till: FrozenTill,
) -> None:
    internal = frozen_till.internal
    layouts = sorted(p.name for p in (ROOT / "pos_client" / "ui" / "kv").glob("*.kv"))
    assert layouts
    for name in layouts:
        assert (internal / "pos_client" / "ui" / "kv" / name).is_file(), name
    for asset in (ROOT / "assets").iterdir():
        assert (internal / "assets" / asset.name).is_file(), asset.name
    # The fonts the .kv files name (Roboto is Kivy's default), where Kivy's runtime hook
    # points KIVY_DATA_DIR in the frozen app.
    fonts = internal / "kivy_install" / "data" / "fonts"
    for font in ("Roboto-Regular.ttf", "RobotoMono-Regular.ttf", "DejaVuSans.ttf"):
        assert (fonts / font).is_file(), font

    modules = bundled_modules(frozen_till)
    # What the window imports (a missing one fails only when the window opens; the
    # headless sale never imports the UI): escpos needs yaml for its capabilities file.
    needed_by_ui = ("pos_client.ui.app", "escpos.printer", "yaml", "pyzbar.pyzbar")
    for needed in ("pos_client.cli", "pos_client.demo", "kivy", "httpx", *needed_by_ui):
        assert needed in modules, needed
    assert (internal / "cv2").is_dir()  # OpenCV is collected as files, not in the archive
    for unwanted in (
        "sync_server",
        "fastapi",
        "sqlalchemy",
        "uvicorn",
        "alembic",
        "pymysql",
        "schemathesis",
        "hypothesis",
        "pytest",
        "_pytest",
    ):
        assert not any(m == unwanted or m.startswith(unwanted + ".") for m in modules), unwanted
        assert not (internal / unwanted).exists(), unwanted


def test_the_built_till_with_no_display_sells_and_the_server_applies_it(
    frozen_till: FrozenTill, live_server: LiveServer, tmp_path: Path
) -> None:
    code = live_server.enrollment_code("T31")
    data_dir = tmp_path / "till-data"

    done = run_frozen(
        frozen_till,
        "--server",
        live_server.base_url,
        "--enroll-code",
        code,
        "--data-dir",
        str(data_dir),
        home=tmp_path / "home",
    )

    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "no display" in out
    assert "Enrolled as terminal T31" in out
    check_demo_sale(out, live_server, "T31")
    assert ClientSettings(data_dir=data_dir).database_path.is_file()
