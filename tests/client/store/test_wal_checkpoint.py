"""The till's WAL is checkpointed by the sync worker, not inside a cashier's commit."""

from __future__ import annotations

import struct
from pathlib import Path

from pos_client.store import LocalStore
from pos_client.store.base import WAL_AUTOCHECKPOINT_PAGES


def _wal_frames(path: Path) -> tuple[int, int]:
    """(frames in the WAL, frames of it already copied into the database): ``mxFrame``
    and ``nBackfill`` of the wal-index header (bytes 16 and 96 of the ``-shm`` file,
    native byte order; SQLite's documented WAL-index format)."""
    with path.with_name(path.name + "-shm").open("rb") as shm:
        head = shm.read(100)
    return int(struct.unpack("=I", head[16:20])[0]), int(struct.unpack("=I", head[96:100])[0])


def _write_pages(store: LocalStore, rows: int) -> None:
    store.conn.execute("CREATE TABLE IF NOT EXISTS filler (v TEXT NOT NULL)")
    for i in range(rows):
        store.conn.execute("INSERT INTO filler (v) VALUES (?)", ("x" * 2000 + str(i),))


def test_every_connection_defers_the_automatic_checkpoint(tmp_path: Path) -> None:
    till = LocalStore(tmp_path / "till.sqlite3")
    worker = LocalStore(tmp_path / "till.sqlite3")
    try:
        for store in (till, worker):
            threshold = store.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
            assert threshold == WAL_AUTOCHECKPOINT_PAGES > 1000  # SQLite's default is 1,000
    finally:
        worker.close()
        till.close()


def test_the_workers_checkpoint_copies_the_cashiers_wal(tmp_path: Path) -> None:
    path = tmp_path / "till.sqlite3"
    till = LocalStore(path)
    worker = LocalStore(path)
    try:
        _write_pages(till, 1200)  # past SQLite's default threshold, below the till's
        log, done = _wal_frames(path)
        assert log > 1000 and done == 0  # no commit paid for a checkpoint
        worker.checkpoint()
        log, done = _wal_frames(path)
        assert log > 1000 and done == log  # all of it copied, by the worker
        assert till.integrity_check() == "ok"
    finally:
        worker.close()
        till.close()


def test_checkpoint_in_memory_or_inside_a_transaction_does_nothing(tmp_path: Path) -> None:
    memory = LocalStore(None)
    memory.checkpoint()
    memory.close()
    path = tmp_path / "till.sqlite3"
    till = LocalStore(path)
    try:
        _write_pages(till, 10)
        till.conn.execute("BEGIN IMMEDIATE")
        till.checkpoint()
        assert _wal_frames(path)[1] == 0
        till.conn.execute("ROLLBACK")
    finally:
        till.close()
