"""Backups of the server database, their restore, and a till's exported unsynced events.

``backup`` writes one timestamped file and a manifest next to it:

* the embedded SQLite default: ``kasir-<UTC time>.sqlite3``, made with SQLite's online
  backup API (``sqlite3.Connection.backup``), a consistent copy even while the server
  writes;
* MySQL/MariaDB: ``kasir-<UTC time>.sql.gz``, ``mariadb-dump --single-transaction
  --routines --triggers`` of the configured database (the password goes to the dump
  through ``MYSQL_PWD``, never on its command line).

The manifest (``<backup file>.manifest.json``) names the file's sha256 and size, the
schema revision, the row count of every table (for a dump, counted in the dump itself,
so they describe exactly its snapshot), when it was made and by which Kasir version.

``restore`` checks the whole backup against its manifest before touching anything, so a
truncated or corrupt file is refused and changes nothing; it refuses a target database
that holds rows unless forced, loads the backup, checks the row counts again and then
migrates to the newest schema (an older backup restored by newer code is brought up to
date). Stop the server while restoring.

``import_till_export`` applies the events of a till's ``kasir export-unsynced`` file
through :func:`sync_server.sync.service.push_events`, the push endpoint's own ingest, so
an event already pushed is a ``duplicate`` and each one is applied exactly once.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import BaseModel, ValidationError
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url

from shared.files import write_atomically
from shared.models import MAX_PUSH_EVENTS, EventResult, OutboxEvent, PushRequest
from sync_server.auth.models import Terminal
from sync_server.core.database import Database
from sync_server.core.errors import AppError

MANIFEST_SUFFIX = ".manifest.json"
"""A backup's manifest is the backup's file name plus this."""

BOOKKEEPING_TABLES = frozenset({"alembic_version", "change_counter", "kasir_migration_lock"})
"""Tables that hold rows even in a database that never saw a sale: they do not make a
restore target "not empty"."""

_MIGRATION_LOCK = "kasir_migration_lock"
_CHUNK = 1 << 20


class BackupManifest(BaseModel):
    """What a backup holds, written next to it and checked on restore."""

    format: Literal["sqlite", "mariadb-dump"]
    file: str
    sha256: str
    size_bytes: int
    schema_revision: str | None
    row_counts: dict[str, int]
    content_sha256: str
    """sha256 of what the backup holds, read back: every row of every table in order
    (SQLite), the uncompressed SQL (a dump). Catches damage a re-signed file would hide."""
    created_at: datetime
    kasir_version: str
    source: str


@dataclass(frozen=True)
class BackupResult:
    """Where a backup went and its manifest."""

    path: Path
    manifest_path: Path
    manifest: BackupManifest


def _refused(message_code: str, code: str, **params: Any) -> AppError:
    """A refusal the CLI prints: ``code`` for scripts, the message of ``message_code``."""
    return AppError(message_code, code=code, **params)


def kasir_version() -> str:
    """The installed Kasir version (``unknown`` when run from a bare checkout)."""
    try:
        return metadata.version("kasir")
    except metadata.PackageNotFoundError:
        return "unknown"


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _free_name(directory: Path, stem: str, suffix: str) -> Path:
    """``<stem><suffix>`` in ``directory``, or ``<stem>-2<suffix>``... if taken."""
    candidate = directory / f"{stem}{suffix}"
    n = 2
    while candidate.exists() or Path(f"{candidate}{MANIFEST_SUFFIX}").exists():
        candidate = directory / f"{stem}-{n}{suffix}"
        n += 1
    return candidate


def manifest_path_of(backup_file: Path) -> Path:
    """Where the manifest of ``backup_file`` lives."""
    return Path(f"{backup_file}{MANIFEST_SUFFIX}")


def _finish(
    partial: Path,
    final: Path,
    *,
    fmt: Literal["sqlite", "mariadb-dump"],
    revision: str | None,
    counts: dict[str, int],
    content: str,
    created_at: datetime,
    source: str,
) -> BackupResult:
    """Fsync and rename the finished backup, then write its manifest beside it."""
    with partial.open("rb+") as handle:
        os.fsync(handle.fileno())
    manifest = BackupManifest(
        format=fmt,
        file=final.name,
        sha256=_sha256_of(partial),
        size_bytes=partial.stat().st_size,
        schema_revision=revision,
        row_counts=dict(sorted(counts.items())),
        content_sha256=content,
        created_at=created_at,
        kasir_version=kasir_version(),
        source=source,
    )
    partial.replace(final)
    manifest_path = manifest_path_of(final)
    write_atomically(manifest_path, manifest.model_dump_json(indent=2).encode() + b"\n")
    return BackupResult(path=final, manifest_path=manifest_path, manifest=manifest)


# ---------------------------------------------------------------- backup


def backup(url: str, *, to_dir: Path, now: datetime | None = None) -> BackupResult:
    """Back the database at ``url`` up into ``to_dir`` (made if missing)."""
    to_dir.mkdir(parents=True, exist_ok=True)
    created_at = now or datetime.now(UTC)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return _backup_sqlite(url, to_dir=to_dir, created_at=created_at)
    if backend in ("mysql", "mariadb"):
        return _backup_mariadb(url, to_dir=to_dir, created_at=created_at)
    raise _refused("backup_backend_unsupported", "backup_unsupported", backend=backend)


def _sqlite_file(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise _refused("backup_in_memory", "backup_unsupported")
    return Path(database)


def _sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    ).fetchall()
    return [str(row[0]) for row in rows]


def _sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {
        name: int(conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])  # noqa: S608
        for name in _sqlite_tables(conn)
        if name != _MIGRATION_LOCK
    }


def _sqlite_content(conn: sqlite3.Connection) -> str:
    """sha256 over every row of every table (bookkeeping lock aside), in key order."""
    digest = hashlib.sha256()
    for name in _sqlite_tables(conn):
        if name == _MIGRATION_LOCK:
            continue
        digest.update(f"\x00{name}\x00".encode())
        for row in conn.execute(f'SELECT * FROM "{name}" ORDER BY 1'):  # noqa: S608
            digest.update(repr(row).encode())
    return digest.hexdigest()


def _sqlite_revision(conn: sqlite3.Connection) -> str | None:
    if "alembic_version" not in _sqlite_tables(conn):
        return None
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return None if row is None else str(row[0])


def _backup_sqlite(url: str, *, to_dir: Path, created_at: datetime) -> BackupResult:
    source = _sqlite_file(url)
    if not source.exists():
        raise _refused("backup_source_missing", "backup_source_missing", path=str(source))
    final = _free_name(to_dir, f"kasir-{_stamp(created_at)}", ".sqlite3")
    partial = final.with_name(f".{final.name}.partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        # One step (pages=-1): the read lock is held for the whole copy, so the copy is
        # one consistent snapshot however busy the server is.
        src.backup(dst, pages=-1)
        # The backup is one self-contained file, not a WAL database needing its -wal.
        dst.execute("PRAGMA journal_mode=DELETE")
        counts = _sqlite_counts(dst)
        content = _sqlite_content(dst)
        revision = _sqlite_revision(dst)
    except BaseException:
        dst.close()
        partial.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    dst.close()
    return _finish(
        partial,
        final,
        fmt="sqlite",
        revision=revision,
        counts=counts,
        content=content,
        created_at=created_at,
        source=_safe_url(url),
    )


@dataclass(frozen=True)
class _MariaTarget:
    host: str
    port: int
    user: str
    password: str | None
    database: str

    @classmethod
    def of(cls, url: str) -> _MariaTarget:
        parsed: URL = make_url(url)
        if not parsed.database:
            raise _refused("backup_no_database", "backup_unsupported")
        return cls(
            host=parsed.host or "127.0.0.1",
            port=parsed.port or 3306,
            user=parsed.username or "root",
            password=parsed.password,
            database=parsed.database,
        )

    def client_args(self) -> list[str]:
        """Connection options for ``mariadb`` and ``mariadb-dump`` (no password)."""
        return [
            f"--host={self.host}",
            f"--port={self.port}",
            f"--user={self.user}",
            "--protocol=TCP",
            "--default-character-set=utf8mb4",
        ]

    def env(self) -> dict[str, str]:
        """The environment of a client: the password in ``MYSQL_PWD``, never argv."""
        env = dict(os.environ)
        env.pop("MYSQL_PWD", None)
        if self.password:
            env["MYSQL_PWD"] = self.password
        return env


_INSERT = re.compile(rb"^INSERT INTO `((?:[^`]|``)+)` VALUES ?")
_CREATE = re.compile(rb"^CREATE TABLE `((?:[^`]|``)+)` \(")
_QUOTED = re.compile(rb"'(?:[^'\\]|\\.)*'", re.S)
_FIRST_STRING = re.compile(rb"'([^'\\]*)'")
_DUMP_DONE = b"-- Dump completed"


class _DumpScan:
    """Row counts, schema revision and completeness read from a dump as it streams by.

    An INSERT runs from its ``INSERT INTO `t` VALUES`` to the line ending in ``;``
    (mariadb-dump writes its rows on that line or one per line after it, strings quoted
    with backslash escapes, a newline inside a string as ``\\n``); with the strings
    taken out, every ``(`` starts one row.
    """

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.revision: str | None = None
        self.completed = False
        self.digest = hashlib.sha256()
        self._table: str | None = None

    def feed(self, line: bytes) -> None:
        """Take one line of the dump."""
        self.digest.update(line)
        values = line
        if self._table is None:
            if line.startswith(b"INSERT INTO "):
                match = _INSERT.match(line)
                if match is None:
                    return
                self._table = match.group(1).replace(b"``", b"`").decode()
                values = line[match.end() :]
            elif line.startswith(b"CREATE TABLE "):
                match = _CREATE.match(line)
                if match:
                    self.counts[match.group(1).replace(b"``", b"`").decode()] += 0
                return
            else:
                if line.startswith(_DUMP_DONE):
                    self.completed = True
                return
        if self._table == "alembic_version" and self.revision is None:
            first = _FIRST_STRING.search(values)
            if first:
                self.revision = first.group(1).decode()
        bare = _QUOTED.sub(b"", values)
        self.counts[self._table] += bare.count(b"(")
        if bare.rstrip().endswith(b";"):
            self._table = None


def _backup_mariadb(url: str, *, to_dir: Path, created_at: datetime) -> BackupResult:
    target = _MariaTarget.of(url)
    dump = shutil.which("mariadb-dump") or shutil.which("mysqldump")
    if dump is None:
        raise _refused("backup_dump_missing", "backup_tool_missing")
    final = _free_name(to_dir, f"kasir-{_stamp(created_at)}", ".sql.gz")
    partial = final.with_name(f".{final.name}.partial")
    command = [
        dump,
        *target.client_args(),
        "--single-transaction",
        "--routines",
        "--triggers",
        "--hex-blob",
        f"--ignore-table={target.database}.{_MIGRATION_LOCK}",
        target.database,
    ]
    scan = _DumpScan()
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, env=target.env())
        assert proc.stdout is not None
        try:
            with gzip.open(partial, "wb") as out:
                for line in proc.stdout:
                    scan.feed(line)
                    out.write(line)
        finally:
            proc.stdout.close()
            status = proc.wait()
        errors.seek(0)
        message = errors.read().decode(errors="replace").strip()
    if status != 0 or not scan.completed:
        partial.unlink(missing_ok=True)
        raise _refused(
            "backup_failed", "backup_failed", status=status, why=message or "backup_incomplete"
        )
    return _finish(
        partial,
        final,
        fmt="mariadb-dump",
        revision=scan.revision,
        counts=dict(scan.counts),
        content=scan.digest.hexdigest(),
        created_at=created_at,
        source=_safe_url(url),
    )


# ---------------------------------------------------------------- verify


def read_manifest(backup_file: Path) -> BackupManifest:
    """The manifest next to ``backup_file``; refused when missing or unreadable."""
    path = manifest_path_of(backup_file)
    if not backup_file.is_file():
        raise _refused("backup_not_found", "backup_not_found", path=str(backup_file))
    if not path.is_file():
        raise _refused(
            "backup_manifest_missing",
            "backup_manifest_missing",
            backup=backup_file.name,
            manifest=path.name,
        )
    try:
        return BackupManifest.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        raise _refused(
            "backup_manifest_invalid",
            "backup_manifest_invalid",
            manifest=path.name,
            reason=exc.errors()[0]["msg"],
        ) from exc


def _corrupt(backup_file: Path, why: str, **params: Any) -> AppError:
    """``why`` is a message code (``backup_why_...``) with ``params``, or a finished text."""
    return _refused("backup_corrupt", "backup_corrupt", backup=backup_file.name, why=why, **params)


def verify_backup(backup_file: Path) -> BackupManifest:
    """Check ``backup_file`` whole against its manifest; its manifest when sound.

    The size and sha256 must match, and the content must read back completely with the
    manifest's schema revision and row counts (SQLite: ``integrity_check`` too; a dump:
    every gzip block and the dump's closing line). Raises :class:`AppError` otherwise.
    """
    manifest = read_manifest(backup_file)
    size = backup_file.stat().st_size
    if size != manifest.size_bytes:
        raise _corrupt(backup_file, "backup_why_size", size=size, expected_size=manifest.size_bytes)
    if _sha256_of(backup_file) != manifest.sha256:
        raise _corrupt(backup_file, "backup_why_sha256")
    if manifest.format == "sqlite":
        counts, revision, content = _read_sqlite_backup(backup_file)
    else:
        counts, revision, content = _read_dump(backup_file)
    if revision != manifest.schema_revision:
        raise _corrupt(
            backup_file,
            "backup_why_schema",
            revision=revision,
            expected_revision=manifest.schema_revision,
        )
    if content != manifest.content_sha256:
        raise _corrupt(backup_file, "backup_why_content")
    if counts != manifest.row_counts:
        raise _corrupt(backup_file, "backup_why_row_counts")
    _check_revision_known(manifest.schema_revision)
    return manifest


def _check_revision_known(revision: str | None) -> None:
    from alembic.script import ScriptDirectory

    from sync_server.migrate import alembic_config

    if revision is None:
        return
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    known = {rev.revision for rev in script.walk_revisions()}
    if revision not in known:
        raise _refused(
            "backup_schema_unknown",
            "backup_schema_unknown",
            revision=revision,
            version=kasir_version(),
        )


def _read_sqlite_backup(backup_file: Path) -> tuple[dict[str, int], str | None, str]:
    try:
        conn = sqlite3.connect(f"{backup_file.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            check = conn.execute("PRAGMA integrity_check").fetchone()
            if check is None or check[0] != "ok":
                raise _corrupt(backup_file, "backup_why_integrity", check=str(check))
            return _sqlite_counts(conn), _sqlite_revision(conn), _sqlite_content(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise _corrupt(backup_file, str(exc)) from exc


def _dump_lines(backup_file: Path) -> Iterator[bytes]:
    with gzip.open(backup_file, "rb") as handle:
        yield from handle


def _read_dump(backup_file: Path) -> tuple[dict[str, int], str | None, str]:
    scan = _DumpScan()
    try:
        for line in _dump_lines(backup_file):
            scan.feed(line)
    except (OSError, EOFError, zlib.error) as exc:
        raise _corrupt(backup_file, str(exc) or type(exc).__name__) from exc
    if not scan.completed:
        raise _corrupt(backup_file, "backup_why_no_closing_line")
    return dict(scan.counts), scan.revision, scan.digest.hexdigest()


# ---------------------------------------------------------------- restore


def _rows_outside_bookkeeping(counts: dict[str, int]) -> dict[str, int]:
    return {name: n for name, n in counts.items() if n and name not in BOOKKEEPING_TABLES}


def restore(url: str, *, backup_file: Path, force: bool = False) -> BackupManifest:
    """Restore ``backup_file`` into the database at ``url`` and migrate it to the newest
    schema; the backup's manifest.

    The backup is checked first (:func:`verify_backup`). A target holding rows (outside
    the bookkeeping tables) is refused unless ``force``; otherwise whatever the target
    holds is replaced. Raises :class:`AppError` with nothing changed when refused.
    """
    from sync_server.migrate import upgrade

    manifest = verify_backup(backup_file)
    backend = make_url(url).get_backend_name()
    expected = "sqlite" if backend == "sqlite" else "mariadb-dump"
    if backend not in ("sqlite", "mysql", "mariadb"):
        raise _refused("restore_backend_unsupported", "backup_unsupported", backend=backend)
    if manifest.format != expected:
        raise _refused(
            "backup_format_mismatch",
            "backup_format_mismatch",
            format=manifest.format,
            backend=backend,
        )
    if backend == "sqlite":
        _restore_sqlite(url, backup_file=backup_file, manifest=manifest, force=force)
    else:
        _restore_mariadb(url, backup_file=backup_file, manifest=manifest, force=force)
    upgrade(url)
    return manifest


def _refuse_not_empty(occupied: dict[str, int], where: str) -> None:
    tables = ", ".join(f"{name} ({n})" for name, n in sorted(occupied.items())[:5])
    raise _refused(
        "restore_target_not_empty", "restore_target_not_empty", where=where, tables=tables
    )


def _check_restored(counts: dict[str, int], manifest: BackupManifest) -> None:
    if counts != manifest.row_counts:
        differ = sorted(
            name
            for name in set(counts) | set(manifest.row_counts)
            if counts.get(name) != manifest.row_counts.get(name)
        )
        raise _refused("restore_mismatch", "restore_mismatch", tables=", ".join(differ[:5]))


def _restore_sqlite(url: str, *, backup_file: Path, manifest: BackupManifest, force: bool) -> None:
    target = _sqlite_file(url)
    if target.exists():
        conn = sqlite3.connect(target, timeout=30)
        try:
            occupied = _rows_outside_bookkeeping(_sqlite_counts(conn))
        finally:
            conn.close()
        if occupied and not force:
            _refuse_not_empty(occupied, str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"{backup_file.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        # The backup API replaces the target's pages in one transaction of its own.
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=WAL")
        _check_restored(_sqlite_counts(dst), manifest)
    finally:
        src.close()
        dst.close()


def _mariadb_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            names = [n for n in inspect(conn).get_table_names() if n != _MIGRATION_LOCK]
            return {
                name: int(conn.execute(text(f"SELECT count(*) FROM `{name}`")).scalar_one())  # noqa: S608
                for name in names
            }
    finally:
        engine.dispose()


def _drop_all_tables(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            names = [n for n in inspect(conn).get_table_names() if n != _MIGRATION_LOCK]
            conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
            for name in names:
                conn.execute(text(f"DROP TABLE IF EXISTS `{name}`"))
            conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))
    finally:
        engine.dispose()


def _ensure_mariadb_database(target: _MariaTarget, url: str) -> None:
    server = make_url(url).set(database="")
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            name = target.database.replace("`", "``")
            conn.execute(
                text(
                    f"CREATE DATABASE IF NOT EXISTS `{name}` "
                    "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                )
            )
    finally:
        engine.dispose()


def _restore_mariadb(url: str, *, backup_file: Path, manifest: BackupManifest, force: bool) -> None:
    target = _MariaTarget.of(url)
    client = shutil.which("mariadb") or shutil.which("mysql")
    if client is None:
        raise _refused("restore_client_missing", "backup_tool_missing")
    _ensure_mariadb_database(target, url)
    occupied = _rows_outside_bookkeeping(_mariadb_counts(url))
    if occupied and not force:
        _refuse_not_empty(occupied, f"{target.database} on {target.host}:{target.port}")
    # Tables the backup does not have (a newer schema's) would stop the migration after
    # the load, so the target starts with none.
    _drop_all_tables(url)
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            [client, *target.client_args(), target.database],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            env=target.env(),
        )
        stdin: IO[bytes] | None = proc.stdin
        assert stdin is not None
        try:
            for line in _dump_lines(backup_file):
                stdin.write(line)
        except BrokenPipeError:
            pass  # the client stopped early; its exit status and message say why
        finally:
            with contextlib.suppress(BrokenPipeError):
                stdin.close()
            status = proc.wait()
        errors.seek(0)
        message = errors.read().decode(errors="replace").strip()
    if status != 0:
        raise _refused("restore_failed", "restore_failed", status=status, why=message)
    _check_restored(_mariadb_counts(url), manifest)


# ---------------------------------------------------------------- till exports


TILL_EXPORT_FORMAT = "kasir-till-export"
"""The first line's ``format`` of a ``kasir export-unsynced`` file."""

TILL_EXPORT_VERSION = 1


class TillExportHeader(BaseModel):
    """The first line of a till export: who wrote it and how many events follow."""

    format: Literal["kasir-till-export"]
    version: int
    terminal_id: int
    terminal_code: str
    store_id: int
    exported_at: datetime
    events: int
    pending: int
    stuck: int


class TillExportLine(BaseModel):
    """One exported outbox event; ``stuck`` when the till had set it aside."""

    event: OutboxEvent
    stuck: bool = False


@dataclass(frozen=True)
class TillExport:
    """A verified till export."""

    header: TillExportHeader
    events: list[OutboxEvent]


@dataclass(frozen=True)
class TillImportResult:
    """What became of an imported export: the terminal and one result per event."""

    terminal_code: str
    results: list[EventResult]

    def counts(self) -> dict[str, int]:
        """How many events ended in each status."""
        return dict(Counter(r.status.value for r in self.results))


def _bad_export(path: Path, why: str, **params: Any) -> AppError:
    """``why`` is a message code (``till_export_why_...``) with ``params``."""
    return _refused("till_export_invalid", "till_export_invalid", file=path.name, why=why, **params)


def read_till_export(path: Path) -> TillExport:
    """Read and check a till export: its sha256 line, header and every event."""
    if not path.is_file():
        raise _refused("till_export_not_found", "till_export_not_found", path=str(path))
    data = path.read_bytes()
    body, sep, last = data.rstrip(b"\n").rpartition(b"\n")
    if not sep:
        raise _bad_export(path, "till_export_why_not_export")
    try:
        claimed = json.loads(last)["sha256"]
    except (ValueError, KeyError, TypeError) as exc:
        raise _bad_export(path, "till_export_why_cut") from exc
    if hashlib.sha256(body + b"\n").hexdigest() != claimed:
        raise _bad_export(path, "till_export_why_sha256")
    lines = body.split(b"\n")
    try:
        header = TillExportHeader.model_validate_json(lines[0])
        events = [TillExportLine.model_validate_json(line).event for line in lines[1:]]
    except ValidationError as exc:
        raise _bad_export(path, "till_export_why_malformed", reason=exc.errors()[0]["msg"]) from exc
    if header.version != TILL_EXPORT_VERSION:
        raise _bad_export(
            path,
            "till_export_why_version",
            version=header.version,
            expected_version=TILL_EXPORT_VERSION,
        )
    if len(events) != header.events:
        raise _bad_export(
            path, "till_export_why_count", events=len(events), expected_events=header.events
        )
    return TillExport(header=header, events=events)


def _enrolled_terminal(db: Database, header: TillExportHeader, path: Path) -> Terminal:
    with db.session() as session:
        terminal = session.get(Terminal, header.terminal_id)
        if terminal is not None:
            session.expunge(terminal)
    if (
        terminal is None
        or terminal.code != header.terminal_code
        or terminal.store_id != header.store_id
    ):
        raise _refused(
            "till_export_terminal_unknown",
            "till_export_terminal_unknown",
            file=path.name,
            terminal_code=header.terminal_code,
            terminal_id=header.terminal_id,
            store_id=header.store_id,
        )
    if terminal.enrolled_at is None or terminal.revoked_at is not None:
        raise _refused(
            "till_export_terminal_not_enrolled",
            "till_export_terminal_not_enrolled",
            terminal_code=terminal.code,
        )
    return terminal


def import_till_export(db: Database, *, path: Path) -> TillImportResult:
    """Apply a till export's events as that terminal's push would, in batches.

    Goes through :func:`sync_server.sync.service.push_events`: events the server
    already has are ``duplicate`` (and the till's own later push of them too), the others
    are applied exactly once or rejected with their reason.
    """
    from sync_server.sync.service import push_events

    export = read_till_export(path)
    terminal = _enrolled_terminal(db, export.header, path)
    results: list[EventResult] = []
    for start in range(0, len(export.events), MAX_PUSH_EVENTS):
        batch = export.events[start : start + MAX_PUSH_EVENTS]
        answer = push_events(db, terminal=terminal, request=PushRequest(events=batch))
        results.extend(answer.results)
    return TillImportResult(terminal_code=terminal.code, results=results)


def describe(value: Any) -> dict[str, Any]:
    """A JSON-ready view of a backup result or manifest, for the CLI."""
    if isinstance(value, BackupResult):
        return {
            "backup": str(value.path),
            "manifest": str(value.manifest_path),
            **value.manifest.model_dump(mode="json"),
        }
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(type(value))
