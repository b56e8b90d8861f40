"""Run Alembic migrations programmatically, safely from several processes at once."""

from __future__ import annotations

import fcntl
import logging
import os
import random
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:  # Alembic is loaded only when a migration runs: a faster cold start
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

_REVISION = re.compile(r"^revision(?:\s*:[^=]*)?=\s*[\"']([^\"']+)[\"']", re.M)
_DOWN_REVISION = re.compile(r"^down_revision(?:\s*:[^=]*)?=\s*(.+)$", re.M)


def migration_heads() -> set[str]:
    """The newest revision(s) of the packaged migrations, read from the revision files'
    ``revision`` and ``down_revision`` lines without loading Alembic (which costs a
    quarter of a second at every start). ``tests/server/test_migrations.py`` checks it
    against Alembic's own answer."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found = _REVISION.search(source)
        if found is None:
            continue
        revisions.add(found.group(1))
        down = _DOWN_REVISION.search(source)
        if down is not None:
            parents.update(re.findall(r"[\"']([^\"']+)[\"']", down.group(1)))
    return revisions - parents


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged migrations and ``url``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


LOCK_TABLE = "kasir_migration_lock"
"""The cluster-wide migration lock: at most one row (id 1), written outside Alembic."""

LOCK_WAIT_SECONDS = 300.0
"""How long a process waits for another one's migration before it gives up."""

LOCK_TTL_SECONDS = 120
"""A held lock expires this long after its last heartbeat (a crashed migrator)."""

log = logging.getLogger("kasir.migrate")


@contextmanager
def _migration_lock(url: str) -> Iterator[None]:
    """Only one process migrates a database at a time (replicas start together).

    SQLite: an ``flock`` beside the file. MySQL/MariaDB on one server: ``GET_LOCK``.
    A Galera cluster (``wsrep_on``): ``GET_LOCK`` is local to one node there, so the
    lock is a row in :data:`LOCK_TABLE` (see :func:`cluster_lock`).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        db_path = parsed.database
        if not db_path or db_path == ":memory:":
            yield
            return
        Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        with open(f"{db_path}.migrate.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if _is_galera(conn):
                with cluster_lock(conn):
                    yield
                return
            got = conn.execute(text("SELECT GET_LOCK('kasir_migrate', 120)")).scalar()
            if got != 1:
                raise RuntimeError("could not take the migration lock within 120 s")
            try:
                yield
            finally:
                conn.execute(text("SELECT RELEASE_LOCK('kasir_migrate')"))
    finally:
        engine.dispose()


def _is_galera(conn: Connection) -> bool:
    row = conn.execute(text("SHOW VARIABLES LIKE 'wsrep_on'")).first()
    return row is not None and str(row[1]).upper() == "ON"


def _mysql_code(exc: DBAPIError) -> int | None:
    args = getattr(exc.orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


# Another holder (duplicate key), a cluster certification conflict or a DDL of another
# node aborting us (deadlock), a lock wait: all mean "try again in a moment".
_LOCK_BUSY = {1062, 1213, 1205}


@contextmanager
def cluster_lock(
    conn: Connection,
    *,
    wait_seconds: float = LOCK_WAIT_SECONDS,
    ttl_seconds: int = LOCK_TTL_SECONDS,
    owner: str | None = None,
) -> Iterator[str]:
    """Hold the cluster-wide migration lock on an autocommit MySQL/MariaDB ``conn``.

    Taking it is ``INSERT`` of row 1 into :data:`LOCK_TABLE`: a primary-key insert is
    certified cluster-wide on Galera (and unique on any one server), so of several
    processes on any nodes exactly one succeeds; the others get a duplicate key (or a
    deadlock, Galera's certification failure) and wait with bounded, jittered retries
    until ``wait_seconds`` have passed. The row names its owner and expires
    ``ttl_seconds`` after the last heartbeat (a thread renews it while the lock is
    held), so a migrator that crashed is replaced once its lock went stale. Released
    by deleting the row (only our own). Yields the owner id.
    """
    me = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    conn.execute(
        text(
            "CREATE TABLE IF NOT EXISTS kasir_migration_lock ("
            " id INTEGER NOT NULL PRIMARY KEY,"
            " owner VARCHAR(200) NOT NULL,"
            " acquired_at DATETIME(6) NOT NULL,"
            " expires_at DATETIME(6) NOT NULL"
            ") ENGINE=InnoDB"
        )
    )
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    waited_for: str | None = None
    while True:
        try:
            conn.execute(
                text(
                    "INSERT INTO kasir_migration_lock (id, owner, acquired_at, expires_at) "
                    "VALUES (1, :owner, UTC_TIMESTAMP(6), "
                    "UTC_TIMESTAMP(6) + INTERVAL :ttl SECOND)"
                ),
                {"owner": me, "ttl": ttl_seconds},
            )
            break
        except DBAPIError as exc:
            if _mysql_code(exc) not in _LOCK_BUSY:
                raise
        holder = _take_over_stale(conn)
        if time.monotonic() >= deadline:
            raise RuntimeError(
                f"could not take the migration lock within {wait_seconds:.0f} s "
                f"(held by {holder or 'nobody now'})"
            )
        if holder is None:  # stale and deleted, or just released: try again soon
            time.sleep(random.uniform(0, 0.02))
            continue
        if holder != waited_for:
            log.info("waiting for the migration lock held by %s", holder)
            waited_for = holder
        time.sleep(random.uniform(delay / 2, delay))
        delay = min(delay * 2, 1.0)
    log.info("migration lock taken by %s", me)
    stop = threading.Event()
    beat = threading.Thread(
        target=_heartbeat,
        args=(conn.engine, me, ttl_seconds, stop),
        name="kasir-migrate-lock",
        daemon=True,
    )
    beat.start()
    try:
        yield me
    finally:
        stop.set()
        beat.join(timeout=30)
        _release(conn, me)
        log.info("migration lock released by %s", me)


def _take_over_stale(conn: Connection) -> str | None:
    """Delete the lock row if it expired; the holder's owner id while it is live."""
    try:
        conn.execute(
            text("DELETE FROM kasir_migration_lock WHERE id = 1 AND expires_at < UTC_TIMESTAMP(6)")
        )
        holder = conn.execute(text("SELECT owner FROM kasir_migration_lock WHERE id = 1")).scalar()
    except DBAPIError as exc:
        if _mysql_code(exc) not in _LOCK_BUSY:
            raise
        return "(unknown: busy)"
    return None if holder is None else str(holder)


def _heartbeat(engine: Engine, owner: str, ttl_seconds: int, stop: threading.Event) -> None:
    """Push the lock's expiry forward every third of its lifetime until ``stop``."""
    while not stop.wait(ttl_seconds / 3):
        try:
            with engine.connect() as conn:
                conn.execute(
                    text(
                        "UPDATE kasir_migration_lock SET expires_at = "
                        "UTC_TIMESTAMP(6) + INTERVAL :ttl SECOND "
                        "WHERE id = 1 AND owner = :owner"
                    ),
                    {"ttl": ttl_seconds, "owner": owner},
                )
        except DBAPIError:  # the next beat tries again; the lock outlives a missed one
            log.warning("could not renew the migration lock", exc_info=True)


def _release(conn: Connection, owner: str) -> None:
    """Delete our lock row (retried across certification conflicts)."""
    for attempt in range(10):
        try:
            conn.execute(
                text("DELETE FROM kasir_migration_lock WHERE id = 1 AND owner = :owner"),
                {"owner": owner},
            )
            return
        except DBAPIError as exc:
            if _mysql_code(exc) not in _LOCK_BUSY or attempt == 9:
                raise
            time.sleep(random.uniform(0.01, 0.05 * (attempt + 1)))


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision``."""
    from alembic import command

    with _migration_lock(url):
        command.upgrade(alembic_config(url), revision)


def upgrade_if_behind(url: str) -> None:
    """:func:`upgrade` to the newest revision, unless the database already is there
    (one cheap read instead of loading Alembic: the usual case of a server start)."""
    from sync_server.core.database import schema_revision

    try:
        if schema_revision(url) == migration_heads():
            return
    except Exception:  # no alembic_version table yet, or no database file: migrate
        log.debug("schema revision unreadable before migrating", exc_info=True)
    upgrade(url)


def downgrade(url: str, revision: str) -> None:
    """Take the database at ``url`` back to ``revision``."""
    from alembic import command

    with _migration_lock(url):
        command.downgrade(alembic_config(url), revision)
