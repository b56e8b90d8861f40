"""Server cold start (scale to zero): process start to the first answered request.

Run: .venv/bin/python -m benches.server_cold_start [--runs 5]

Starts the server as production does (``kasir-server serve --workers 1``, production
settings, cash only, migrations checked at start) on an already migrated database with the
demo data, on SQLite and on MariaDB (127.0.0.1:3306, a bench database), and times from
spawning the process to the first ``/health`` answered 200 and to the first authenticated
read answered 200 (a manager's sales report, sent as soon as ``/health`` answered). Next
to it, in the same run: ``python -c pass`` and a bare FastAPI app under uvicorn with one
route. Medians of ``--runs`` (goal: first answered request < 2 s).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx

from benches._common import REPORT_PATH, SECRET, Db, fmt_ms, verdict
from tests.conftest import free_port

BENCH_DB = "kasir_bench_cold"
ROOT = Path(__file__).resolve().parents[1]

BARE_APP = """
import sys, uvicorn
from fastapi import FastAPI
app = FastAPI()
@app.get("/health")
def health():
    return {"status": "ok"}
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def prepare(url: str) -> str:
    """Migrate ``url``, load the demo data and give the manager an API token; the token."""
    from sqlalchemy import select

    from sync_server.auth.models import ApiToken, User
    from sync_server.catalog.demo import seed_demo
    from sync_server.core.database import Database, utcnow
    from sync_server.core.security import new_token, token_hash
    from sync_server.migrate import upgrade

    upgrade(url)
    db = Database(url)
    try:
        seed_demo(db)
        token = new_token()
        with db.session() as s:
            manager = s.scalar(select(User).where(User.username == "manager"))
            assert manager is not None
            s.add(
                ApiToken(
                    token_hash=token_hash(token),
                    user_id=manager.id,
                    kind="api",
                    expires_at=utcnow() + timedelta(days=1),
                )
            )
    finally:
        db.dispose()
    return token


def production_env(url: str, data_dir: str) -> dict[str, str]:
    """Production settings, cash only (no Tripay keys), on ``url``."""
    env = dict(os.environ)
    env.update(
        KASIR_ENVIRONMENT="production",
        KASIR_DATABASE_URL=url,
        KASIR_DATA_DIR=data_dir,
        KASIR_SECRET_KEY=SECRET,
        KASIR_TRIPAY_API_KEY="",
        KASIR_TRIPAY_PRIVATE_KEY="",
        KASIR_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after a bounded wait."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def first_answer(
    argv: list[str], env: dict[str, str], port: int, token: str | None, limit: float = 60.0
) -> tuple[float, float | None]:
    """Seconds from spawning ``argv`` to ``/health`` 200, and to the authenticated read 200."""
    base = f"http://127.0.0.1:{port}"
    start = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        with httpx.Client(base_url=base, timeout=10) as http:
            while True:
                if proc.poll() is not None:
                    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                    raise SystemExit(f"{argv[:4]} exited ({proc.returncode}):\n{err[-2000:]}")
                if time.monotonic() - start > limit:
                    raise SystemExit(f"{argv[:4]} did not answer within {limit:.0f} s")
                try:
                    if http.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.005)
            health = time.monotonic() - start
            if token is None:
                return health, None
            resp = http.get(REPORT_PATH, headers={"Authorization": f"Bearer {token}"})
            if resp.status_code != 200:
                raise SystemExit(f"the authenticated read answered {resp.status_code}: {resp.text}")
            return health, time.monotonic() - start
    finally:
        stop(proc)


def timed_pass(env: dict[str, str]) -> float:
    """Seconds to run ``python -c pass``."""
    start = time.monotonic()
    subprocess.run([sys.executable, "-c", "pass"], env=env, check=True, timeout=60)
    return time.monotonic() - start


def main(argv: list[str] | None = None) -> None:
    """Prepare both databases, then time every variant ``--runs`` times."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-mariadb", action="store_true", help="SQLite only")
    parser.add_argument("--db", default=BENCH_DB, help="MariaDB bench database (recreated)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="kasir-cold-") as tmp:
        sqlite_url = f"sqlite:///{Path(tmp) / 'kasir.sqlite3'}"
        targets = [("SQLite", sqlite_url, prepare(sqlite_url))]
        mariadb = Db(args.db)
        if not args.no_mariadb:
            mariadb.recreate()
            targets.append(("MariaDB", mariadb.url(), prepare(mariadb.url())))
        env = production_env(sqlite_url, tmp)

        def serve(port: int) -> list[str]:
            return [
                sys.executable,
                "-m",
                "sync_server.cli",
                "serve",
                "--port",
                str(port),
                "--workers",
                "1",
                "--metrics-dir",
                str(Path(tmp) / "metrics"),
            ]

        rows: dict[str, list[tuple[float, float | None]]] = {}
        # One untimed round first: the disk cache holds the modules, as on a warm host.
        warm_port = free_port()
        first_answer([sys.executable, "-c", BARE_APP, str(warm_port)], env, warm_port, None)
        for _ in range(args.runs):
            rows.setdefault("python -c pass", []).append((timed_pass(env), None))
            port = free_port()
            bare = first_answer([sys.executable, "-c", BARE_APP, str(port)], env, port, None)
            rows.setdefault("bare FastAPI + uvicorn", []).append(bare)
            for name, url, token in targets:
                port = free_port()
                target_env = production_env(url, tmp)
                rows.setdefault(f"kasir-server, {name}", []).append(
                    first_answer(serve(port), target_env, port, token)
                )
        if not args.no_mariadb:
            mariadb.drop()
        print_table(rows, args.runs, production_env(sqlite_url, tmp))


def print_table(
    rows: dict[str, list[tuple[float, float | None]]], runs: int, sqlite_env: dict[str, str]
) -> None:
    """The medians; when the goal is missed, where the start-up time went (measured)."""
    missed = False
    print(f"# Server cold start: process spawned to first answer, median of {runs}")
    print("| process | first /health 200 | first authenticated read 200 | goal |")
    print("| --- | --- | --- | --- |")
    for name, samples in rows.items():
        health = statistics.median(s[0] for s in samples)
        reads = [s[1] for s in samples if s[1] is not None]
        read = statistics.median(reads) if reads else None
        goal = "-"
        if read is not None:
            goal = f"< 2 s: {verdict(read, 2.0, higher_is_better=False)}"
            missed |= read >= 2.0
        print(
            f"| {name} | {fmt_ms(health)} (min {fmt_ms(min(s[0] for s in samples))}) |"
            f" {fmt_ms(read) if read is not None else '-'} | {goal} |"
        )
    if missed:
        print()
        print("# where the start-up time goes (SQLite, measured in one child process)")
        for phase, seconds in phases(sqlite_env):
            print(f"  {fmt_ms(seconds):>8}  {phase}")
        print("  largest imports while importing and building the app (-X importtime):")
        for seconds, module in slowest_imports(sqlite_env, 8):
            print(f"  {fmt_ms(seconds):>8}  {module}")


PHASES = """
import json, time
w0 = time.time()
t0 = time.perf_counter()
import sync_server.main as main
t1 = time.perf_counter()
from sync_server.core.config import Settings
settings = Settings()
app = main.create_app(settings)
t2 = time.perf_counter()
from sync_server.migrate import upgrade
upgrade(settings.effective_database_url)
t3 = time.perf_counter()
print(json.dumps([w0, time.time(), [["import sync_server.main", t1 - t0],
    ["create_app(settings)", t2 - t1],
    ["the migration check at start (alembic upgrade, up to date)", t3 - t2]]]))
"""


def phases(env: dict[str, str]) -> list[tuple[str, float]]:
    """Seconds of each start-up step, measured in a fresh interpreter."""
    start = time.time()
    done = subprocess.run(
        [sys.executable, "-c", PHASES], env=env, capture_output=True, text=True, timeout=120
    )
    end = time.time()
    if done.returncode != 0:
        return [(f"(phases failed: {done.stderr[-300:]})", 0.0)]
    began, finished, steps = json.loads(done.stdout.splitlines()[-1])
    return [
        ("interpreter start (spawn to the first line of the script)", began - start),
        *((str(name), float(sec)) for name, sec in steps),
        ("interpreter exit (last line to the process gone)", end - finished),
    ]


IMPORT_AND_BUILD = (
    "from sync_server.core.config import Settings; from sync_server.main import create_app;"
    " create_app(Settings())"
)


def slowest_imports(env: dict[str, str], top: int) -> list[tuple[float, str]]:
    """The ``top`` imports of importing and building the app, by cumulative time (nesting
    depth 1 and 2 of ``-X importtime``; ``create_app`` imports some modules lazily)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", IMPORT_AND_BUILD],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
        check=True,
    )
    found = []
    for line in done.stderr.splitlines():
        # "import time: self [us] | cumulative | <2 spaces per level>package"
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2][1:]
        depth = (len(name) - len(name.lstrip())) // 2
        if depth in (1, 2):
            found.append((int(parts[1]) / 1e6, "  " * (depth - 1) + name.strip()))
    return sorted(found, reverse=True)[:top]


if __name__ == "__main__":
    main()
