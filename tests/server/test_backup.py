"""``kasir-server backup`` / ``restore`` / ``import-till-export`` on SQLite and MariaDB.

Every test makes databases of its own (a SQLite file, or a fresh MariaDB database that
is dropped afterwards), so restores and downgrades never touch other tests' data.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from shared.models import PushRequest
from sync_server.auth.models import Terminal
from sync_server.backup import backup, manifest_path_of
from sync_server.cli import main
from sync_server.core.database import Database, utcnow
from sync_server.core.models import Store
from sync_server.migrate import downgrade, upgrade
from sync_server.sync.models import Sale, SyncEvent
from sync_server.sync.service import push_events
from tests.conftest import drop_mariadb_databases, fresh_mariadb_database, worker_id
from tests.server.conftest import TEST_SECRET, World, build_world, detached_row
from tests.server.sync_helpers import add_products, sale_event, shift_open_event

if TYPE_CHECKING:
    from _pytest.capture import CaptureResult


def _head() -> str:
    from alembic.script import ScriptDirectory

    from sync_server.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


HEAD = _head()

NewDatabase = Callable[[], str]


@pytest.fixture(params=["sqlite", "mariadb"])
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NewDatabase]:
    """Makes empty databases (no tables) of this test's own; MariaDB ones are dropped."""
    made: list[str] = []

    def make() -> str:
        n = len(made)
        if request.param == "sqlite":
            made.append(f"sqlite:///{tmp_path / f'db{n}' / 'kasir.sqlite3'}")
            (tmp_path / f"db{n}").mkdir()
            return made[-1]
        name = f"kasir_bk_{worker_id()}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        made.append(fresh_mariadb_database(name))
        return made[-1]

    yield make
    if request.param == "mariadb":
        drop_mariadb_databases(*(str(make_url(url).database) for url in made))


@dataclass
class Cli:
    """``kasir-server`` pointed at a database through the environment, and what it printed."""

    monkeypatch: pytest.MonkeyPatch
    data_dir: Path
    capsys: pytest.CaptureFixture[str]

    def point(self, url: str) -> None:
        """Point ``kasir-server`` at the database ``url``."""
        self.monkeypatch.setenv("KASIR_DATABASE_URL", url)
        self.monkeypatch.setenv("KASIR_ENVIRONMENT", "test")
        self.monkeypatch.setenv("KASIR_SECRET_KEY", TEST_SECRET)
        self.monkeypatch.setenv("KASIR_DATA_DIR", str(self.data_dir))

    def printed(self) -> CaptureResult[str]:
        """What was printed since the last call (and forget it)."""
        return self.capsys.readouterr()


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    """``kasir-server`` run in-process, its data folder in ``tmp_path``."""
    return Cli(monkeypatch, tmp_path / "data", capsys)


def _populate(url: str, sales: int = 4) -> World:
    """A store, people, two terminals, a shift and ``sales`` sales pushed through ingest."""
    upgrade(url)
    db = Database(url)
    try:
        world = build_world(db)
        products = add_products(db, 3)
        shift = shift_open_event(user_id=world.cashier_ids[0])
        events = [shift] + [
            sale_event(
                terminal_code="T01",
                cashier_id=world.cashier_ids[0],
                items=[(products[i % 3], i + 1), (products[(i + 1) % 3], 1)],
                shift_id=shift["payload"]["id"],
            )
            for i in range(sales)
        ]
        answer = push_events(
            db,
            terminal=detached_row(db, Terminal, world.terminal_ids[0]),
            request=PushRequest.model_validate({"events": events}),
        )
        assert [r.status.value for r in answer.results] == ["applied"] * (sales + 1)
        return world
    finally:
        db.dispose()


def _fingerprint(url: str) -> dict[str, object]:
    """Row count of every table, and sha256 over the ordered sales and sync events."""
    db = Database(url)
    try:
        with db.session() as s:
            names = [n for n in inspect(s.connection()).get_table_names()]
            counts = {
                n: int(s.execute(text(f"SELECT count(*) FROM {n}")).scalar_one())
                for n in names
                if n != "kasir_migration_lock"
            }
            sales = s.execute(select(Sale.id, Sale.total).order_by(Sale.id)).all()
            events = s.execute(
                select(SyncEvent.id, SyncEvent.type, SyncEvent.digest).order_by(SyncEvent.id)
            ).all()
            revision = s.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    finally:
        db.dispose()
    return {
        "counts": counts,
        "sales": hashlib.sha256(repr([(str(i), t) for i, t in sales]).encode()).hexdigest(),
        "sales_n": len(sales),
        "events": hashlib.sha256(repr([(str(i), t, d) for i, t, d in events]).encode()).hexdigest(),
        "revision": revision,
    }


def _wipe(url: str) -> None:
    """Take every table away (the database itself stays, empty)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database
        for suffix in ("", "-wal", "-shm"):
            Path(parsed.database + suffix).unlink(missing_ok=True)
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
        for name in inspect(conn).get_table_names():
            conn.execute(text(f"DROP TABLE `{name}`"))
    engine.dispose()


def _only_backup(folder: Path) -> Path:
    files = [p for p in folder.iterdir() if not p.name.endswith(".manifest.json")]
    assert len(files) == 1, files
    return files[0]


def test_backup_wipe_restore_gives_back_every_row(
    new_database: NewDatabase, cli: Cli, tmp_path: Path
) -> None:
    url = new_database()
    _populate(url)
    before = _fingerprint(url)
    assert before["sales_n"] == 4
    cli.point(url)

    assert main(["backup", "--to", str(tmp_path / "backups")]) == 0
    printed = json.loads(cli.printed().out)
    file = _only_backup(tmp_path / "backups")
    assert file.name.startswith("kasir-")
    assert file.name.endswith(".sqlite3" if url.startswith("sqlite") else ".sql.gz")
    assert printed["backup"] == str(file)
    manifest = json.loads(manifest_path_of(file).read_text())
    assert manifest["schema_revision"] == HEAD
    assert manifest["row_counts"]["sales"] == 4
    assert manifest["row_counts"]["sync_events"] == 5
    assert manifest["sha256"] == hashlib.sha256(file.read_bytes()).hexdigest()
    assert manifest["kasir_version"] and manifest["created_at"] and manifest["content_sha256"]
    assert "kasir_migration_lock" not in manifest["row_counts"]
    if not url.startswith("sqlite"):
        assert b"-- Dump completed" in gzip.decompress(file.read_bytes())

    _wipe(url)
    assert main(["restore", str(file)]) == 0, cli.printed().err
    assert _fingerprint(url) == before


def test_a_backup_taken_during_a_write_holds_only_what_was_committed(
    new_database: NewDatabase, tmp_path: Path
) -> None:
    url = new_database()
    _populate(url, sales=1)
    db = Database(url)
    try:
        with db.session() as s:  # a write under way while the backup runs
            s.add(Store(code="S99", name="Belum disimpan"))
            s.flush()
            result = backup(url, to_dir=tmp_path / "b")
            s.rollback()
        with db.session() as s:
            s.add(Store(code="S98", name="Sesudah"))
    finally:
        db.dispose()
    assert result.manifest.row_counts["stores"] == 2
    assert result.manifest.row_counts["sales"] == 1


def test_restoring_an_older_backup_migrates_it_to_the_newest_schema(
    new_database: NewDatabase, cli: Cli, tmp_path: Path
) -> None:
    url = new_database()
    _populate(url)
    downgrade(url, "0002")
    old = _fingerprint(url)
    assert old["revision"] == "0002"
    assert "flags" not in old["counts"]  # type: ignore[operator]
    backup(url, to_dir=tmp_path / "b")
    file = _only_backup(tmp_path / "b")
    assert json.loads(manifest_path_of(file).read_text())["schema_revision"] == "0002"

    target = new_database()
    cli.point(target)
    assert main(["restore", str(file)]) == 0, cli.printed().err
    now = _fingerprint(target)
    assert now["revision"] == HEAD
    assert (now["sales"], now["events"]) == (old["sales"], old["events"])
    counts: dict[str, int] = now["counts"]  # type: ignore[assignment]
    assert {"flags", "price_history", "voucher_uses"} <= set(counts)
    old_counts: dict[str, int] = old["counts"]  # type: ignore[assignment]
    assert {n: counts[n] for n in old_counts} == old_counts


def test_restore_refuses_a_database_that_holds_rows_unless_forced(
    new_database: NewDatabase, cli: Cli, tmp_path: Path
) -> None:
    source = new_database()
    _populate(source, sales=2)
    backup(source, to_dir=tmp_path / "b")
    file = _only_backup(tmp_path / "b")

    target = new_database()
    _populate(target, sales=3)
    before = _fingerprint(target)
    cli.point(target)
    cli.printed()
    assert main(["restore", str(file)]) == 1
    err = cli.printed().err
    assert "restore_target_not_empty" in err and "--force" in err
    assert _fingerprint(target) == before

    assert main(["restore", str(file), "--force"]) == 0, cli.printed().err
    assert _fingerprint(target) == _fingerprint(source)

    # A freshly migrated database holds only bookkeeping rows: that is empty.
    fresh = new_database()
    upgrade(fresh)
    cli.point(fresh)
    assert main(["restore", str(file)]) == 0, cli.printed().err
    assert _fingerprint(fresh) == _fingerprint(source)


def test_a_damaged_backup_is_refused_and_changes_nothing(
    new_database: NewDatabase, cli: Cli, tmp_path: Path
) -> None:
    source = new_database()
    _populate(source, sales=3)
    good = backup(source, to_dir=tmp_path / "b")
    target = new_database()
    upgrade(target)
    db = Database(target)
    with db.session() as s:
        s.add(Store(code="S01", name="Toko kosong"))  # stores count: bookkeeping aside
    db.dispose()
    before = _fingerprint(target)
    cli.point(target)
    data = good.path.read_bytes()

    def refused(file: Path, *words: str) -> None:
        cli.printed()
        assert main(["restore", str(file), "--force"]) == 1
        err = cli.printed().err
        for word in words:
            assert word in err, err
        assert "Traceback" not in err
        assert _fingerprint(target) == before

    def beside(folder: str, content: bytes) -> Path:
        """``content`` under the good backup's file name, in a folder of its own."""
        file = tmp_path / folder / good.path.name
        file.parent.mkdir()
        file.write_bytes(content)
        return file

    manifest = json.loads(good.manifest_path.read_text())

    def resign(file: Path) -> None:
        """Put a manifest whose size and sha256 match ``file`` beside it."""
        manifest["sha256"] = hashlib.sha256(file.read_bytes()).hexdigest()
        manifest["size_bytes"] = file.stat().st_size
        manifest_path_of(file).write_text(json.dumps(manifest))

    # Cut short, the manifest as it was: size and sha256 differ.
    cut = beside("cut", data[: len(data) // 2])
    manifest_path_of(cut).write_bytes(good.manifest_path.read_bytes())
    refused(cut, "backup_corrupt", "damaged or incomplete")

    # Cut short with a manifest that matches the cut file: the content itself is checked.
    resign(cut)
    refused(cut, "backup_corrupt")

    # Bytes of a row flipped, manifest re-signed: still refused. (A SQLite file has free
    # space whose bytes mean nothing, so flip a product's name; a compressed dump has no
    # plain text, and any flipped byte breaks it.)
    at = data.find(b"Barang ")
    assert at >= 0 or good.path.name.endswith(".gz"), "a SQLite backup holds the product names"
    start, width = (at, 6) if at >= 0 else (len(data) // 2, 64)
    flipped = beside(
        "flip",
        data[:start] + bytes(b ^ 0xFF for b in data[start : start + width]) + data[start + width :],
    )
    resign(flipped)
    refused(flipped, "backup_corrupt")

    # No manifest beside it.
    refused(beside("lonely", data), "backup_manifest_missing")

    # The intact backup still restores.
    assert main(["restore", str(good.path), "--force"]) == 0, cli.printed().err
    assert _fingerprint(target)["sales"] == _fingerprint(source)["sales"]


# ---------------------------------------------------------------- till exports


def _till_file(path: Path, header: dict[str, object], events: list[dict]) -> Path:
    """A file in the format ``kasir export-unsynced`` writes."""
    lines = [header] + [{"event": e, "stuck": False} for e in events]
    body = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    path.write_bytes(
        body + json.dumps({"sha256": hashlib.sha256(body).hexdigest()}).encode() + b"\n"
    )
    return path


def _header(world: World, events: int, **overrides: object) -> dict[str, object]:
    header: dict[str, object] = {
        "format": "kasir-till-export",
        "version": 1,
        "terminal_id": world.terminal_ids[0],
        "terminal_code": "T01",
        "store_id": world.store_id,
        "exported_at": utcnow().isoformat(),
        "events": events,
        "pending": events,
        "stuck": 0,
    }
    header.update(overrides)
    return header


def _populated_with_unsent_sales(
    url: str, *, count: int, quantity: int
) -> tuple[World, list[dict]]:
    """:func:`_populate` with one sale, then ``count`` sales of ``quantity`` of a new product
    that T01 made but never pushed."""
    world = _populate(url, sales=1)
    db = Database(url)
    products = add_products(db, 1)
    db.dispose()
    events = [
        sale_event(
            terminal_code="T01", cashier_id=world.cashier_ids[0], items=[(products[0], quantity)]
        )
        for _ in range(count)
    ]
    return world, events


def test_import_till_export_applies_through_ingest_exactly_once(
    new_database: NewDatabase, cli: Cli, tmp_path: Path
) -> None:
    url = new_database()
    world, events = _populated_with_unsent_sales(url, count=3, quantity=2)
    file = _till_file(tmp_path / "t01.jsonl", _header(world, 3), events)
    cli.point(url)
    cli.printed()

    assert main(["import-till-export", str(file)]) == 0, cli.printed().err
    out = json.loads(cli.printed().out)
    assert out == {"terminal": "T01", "counts": {"applied": 3}, "not_applied": []}
    assert _fingerprint(url)["sales_n"] == 4

    assert main(["import-till-export", str(file)]) == 0
    assert json.loads(cli.printed().out)["counts"] == {"duplicate": 3}
    assert _fingerprint(url)["sales_n"] == 4


def test_import_till_export_refuses_a_wrong_terminal_or_tampered_file(
    new_database: NewDatabase, cli: Cli, tmp_path: Path
) -> None:
    url = new_database()
    world, events = _populated_with_unsent_sales(url, count=1, quantity=1)
    before = _fingerprint(url)
    cli.point(url)

    def refused(file: Path, code: str) -> None:
        cli.printed()
        assert main(["import-till-export", str(file)]) == 1
        assert code in cli.printed().err
        assert _fingerprint(url) == before

    refused(
        _till_file(tmp_path / "a", _header(world, 1, terminal_code="T02"), events),
        "till_export_terminal_unknown",
    )
    refused(
        _till_file(tmp_path / "b", _header(world, 1, store_id=world.other_store_id), events),
        "till_export_terminal_unknown",
    )
    refused(
        _till_file(tmp_path / "c", _header(world, 1, terminal_id=999_999), events),
        "till_export_terminal_unknown",
    )
    refused(_till_file(tmp_path / "d", _header(world, 2), events), "till_export_invalid")

    good = _till_file(tmp_path / "e", _header(world, 1), events)
    tampered = tmp_path / "f"
    tampered.write_bytes(good.read_bytes().replace(b'"quantity": 1', b'"quantity": 9'))
    refused(tampered, "till_export_invalid")
    cut = tmp_path / "g"
    cut.write_bytes(good.read_bytes()[:-30])
    refused(cut, "till_export_invalid")

    db = Database(url)
    with db.session() as s:
        terminal = s.get(Terminal, world.terminal_ids[0])
        assert terminal is not None
        terminal.revoked_at = utcnow()
    db.dispose()
    refused(good, "till_export_terminal_not_enrolled")
