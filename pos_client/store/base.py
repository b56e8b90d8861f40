"""The connection under every LocalStore: pragmas, migrations, the write transaction helper.

The store speaks plain :mod:`sqlite3`. sqlite-utils' ``Database.atomic()`` opens a
deferred ``BEGIN`` and nests as savepoints; a till has two writers (the UI thread and the
sync worker), so every write here takes the lock up front with ``BEGIN IMMEDIATE`` and a
nested write is a bug, not a savepoint. Migrations are our own small runner for the same
reason (see :mod:`pos_client.store.migrations`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from pos_client.store.migrations import migrate
from shared.ids import new_id
from shared.models import StockMoveKind


def to_db_time(moment: datetime) -> str:
    """A timezone-aware moment as stored: ISO 8601 in UTC (sorts as text)."""
    if moment.tzinfo is None:
        raise ValueError("the till stores timezone-aware datetimes only")
    return moment.astimezone(UTC).isoformat()


def from_db_time(text: str | None) -> datetime | None:
    """Read back :func:`to_db_time`."""
    return datetime.fromisoformat(text) if text else None


def dumps(value: Any) -> str:
    """Compact JSON for payload columns."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# SQLite checkpoints the WAL inside the commit that makes it reach this many pages, and
# that commit then copies the WAL into the database and fsyncs it: at the default 1,000
# pages (~40 sales) one checkout in forty pays for it, which sets the checkout's p99.
# The sync worker checkpoints after every round instead (:meth:`StoreBase.checkpoint`),
# off the cashier's path; this bound (~40 MB of WAL) only matters while it cannot run.
WAL_AUTOCHECKPOINT_PAGES = 10_000


class StoreBase:
    """Owns one SQLite connection (one per thread; the connection refuses other threads).

    WAL, ``synchronous=FULL`` and foreign keys are on; writes go through :meth:`_write`,
    which takes the write lock up front (``BEGIN IMMEDIATE``) so two threads' writers never
    deadlock on a lock upgrade.
    """

    def __init__(self, path: str | Path | None = None, *, busy_timeout_ms: int = 10_000) -> None:
        """Open (creating and migrating if needed) the database at ``path``; None = in memory."""
        target = ":memory:" if path is None else str(path)
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no hidden BEGINs; every transaction is explicit.
        self.conn = sqlite3.connect(target, isolation_level=None, check_same_thread=True)
        self.conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if path is not None:
            self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.path = None if path is None else Path(path)
        self.schema_version = migrate(self.conn)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: commits on success, rolls back on any exception."""
        if self.conn.in_transaction:
            raise RuntimeError("write transactions do not nest")
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def _one(
        self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()
    ) -> dict[str, Any] | None:
        """The first row of a query as a dict, or None."""
        cursor = self.conn.execute(sql, params)
        row = cursor.fetchone()
        if row is None:
            return None
        return dict(zip([c[0] for c in cursor.description], row, strict=True))

    def _all(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        """Every row of a query as dicts."""
        cursor = self.conn.execute(sql, params)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _scalar(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> Any:
        """The first column of the first row, or None."""
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def _state(self, key: str) -> str | None:
        """One sync_state value (cursor, device token, terminal code...), or None."""
        value = self._scalar("SELECT value FROM sync_state WHERE key = ?", (key,))
        return None if value is None else str(value)

    def _set_state(self, key: str, value: str | None) -> None:
        """Set one sync_state key; call inside :meth:`_write`."""
        self.conn.execute(
            "INSERT INTO sync_state (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def _insert_outbox(
        self, event_id: str, event_type: str, created_at: datetime, payload: Any
    ) -> None:
        """Queue one event for the server; call inside :meth:`_write` with the rows it carries."""
        self.conn.execute(
            "INSERT INTO outbox (id, type, created_at, payload) VALUES (?, ?, ?, ?)",
            (event_id, event_type, to_db_time(created_at), dumps(payload)),
        )

    def _insert_outbox_event(
        self, event_id: str, event_type: str, created_at: datetime, event: BaseModel
    ) -> None:
        """:meth:`_insert_outbox` of a wire model, as its JSON."""
        self._insert_outbox(event_id, event_type, created_at, event.model_dump(mode="json"))

    def _insert_with_event(
        self,
        sql: str,
        values: tuple[Any, ...],
        *,
        event_type: str,
        created_at: datetime,
        event: BaseModel,
    ) -> None:
        """Insert one row and queue the event that carries it to the server (the row's
        last column, after ``values``, is the new event's id); call inside :meth:`_write`."""
        event_id = str(new_id())
        self.conn.execute(sql, (*values, event_id))
        self._insert_outbox_event(event_id, event_type, created_at, event)

    def _insert_stock_moves(
        self,
        moves: Sequence[tuple[int, int]],
        *,
        kind: StockMoveKind,
        ref_id: str,
        event_id: str,
        created: str,
    ) -> None:
        """Record ``(product_id, signed quantity)`` moves carried by ``event_id``.

        Call inside :meth:`_write` with the outbox row; the moves count in
        :meth:`~pos_client.store.catalog.CatalogMixin.stock_on_hand` until the server
        acknowledges the event.
        """
        self.conn.executemany(
            "INSERT INTO stock_moves (id, product_id, quantity, kind, ref_id, event_id, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (str(new_id()), product_id, qty, kind.value, ref_id, event_id, created)
                for product_id, qty in moves
            ],
        )

    def integrity_check(self) -> str:
        """``PRAGMA integrity_check``: ``"ok"`` when the file is sound."""
        return str(self._scalar("PRAGMA integrity_check"))

    def checkpoint(self) -> None:
        """Copy the WAL into the database now, without waiting for readers or writers
        (``PASSIVE``): the sync worker calls it after each round so that no checkout
        commit has to (see :data:`WAL_AUTOCHECKPOINT_PAGES`)."""
        if self.path is not None and not self.conn.in_transaction:
            self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def close(self) -> None:
        """Close this thread's connection."""
        self.conn.close()
