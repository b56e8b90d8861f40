"""The :class:`~pos_client.store.ports.SyncStore` side of the store: outbox, pull, status."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter, itemgetter
from typing import Any
from uuid import UUID

from pos_client.store.base import StoreBase, dumps, from_db_time, to_db_time
from pos_client.store.ports import LocalSyncStatus, PushFailure, RejectedLocal, StuckLocal
from shared.models import (
    EventResult,
    EventStatus,
    OutboxEvent,
    ProductOut,
    PullResponse,
    UserOut,
    VoucherOut,
)


@dataclass(frozen=True, slots=True)
class TerminalIdentity:
    """Who this till is after enrollment."""

    terminal_id: int | None
    terminal_code: str | None
    store_id: int | None


def _upsert_sql(table: str, columns: Sequence[str], key: str = "id") -> str:
    keys = [k.strip() for k in key.split(",")]
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in keys)
    marks = ", ".join("?" for _ in columns)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) "  # noqa: S608
        f"ON CONFLICT({key}) DO UPDATE SET {updates}"
    )


def _event_of(row: Sequence[Any]) -> OutboxEvent:
    """An outbox event from a row starting with id, type, created_at, payload."""
    return OutboxEvent(
        id=UUID(row[0]),
        type=row[1],
        created_at=datetime.fromisoformat(row[2]),
        payload=json.loads(row[3]),
    )


def _opt_time(moment: datetime | None) -> str | None:
    return None if moment is None else to_db_time(moment)


_PRODUCT_COLS = (
    "id",
    "sku",
    "barcode",
    "name",
    "category_id",
    "unit",
    "price",
    "tax_rate_id",
    "active",
    "low_stock_threshold",
    "change_no",
    "updated_at",
)
_VOUCHER_COLS = (
    "id",
    "code",
    "kind",
    "value",
    "valid_from",
    "valid_until",
    "min_spend",
    "usage_limit",
    "used_count",
    "active",
    "change_no",
)
_USER_COLS = ("id", "username", "full_name", "role", "store_id", "pin_hash", "active", "change_no")
_STORE_COLS = (
    "id",
    "code",
    "name",
    "address",
    "npwp",
    "phone",
    "timezone",
    "receipt_header",
    "receipt_footer",
    "logo_text",
    "static_qris",
    "change_no",
)
_UPSERT_PRODUCT = _upsert_sql("products", _PRODUCT_COLS)
_UPSERT_CATEGORY = _upsert_sql("categories", ("id", "name", "active", "change_no"))
_TAX_COLS = ("id", "code", "name", "rate_bp", "inclusive", "active", "change_no")
_UPSERT_TAX = _upsert_sql("tax_rates", _TAX_COLS)
_UPSERT_VOUCHER = _upsert_sql("vouchers", _VOUCHER_COLS)
_UPSERT_USER = _upsert_sql("users", _USER_COLS)
_UPSERT_STORE = _upsert_sql("stores", _STORE_COLS)
_STOCK_COLS = ("product_id", "store_id", "on_hand", "change_no")
_UPSERT_STOCK = _upsert_sql("stock_levels", _STOCK_COLS, key="product_id, store_id")

# Each row's values straight from the model's attributes, in the upsert's column order
# (one C call a row); only the times and enums need Python.
_CATEGORY_ROW = attrgetter("id", "name", "active", "change_no")
_TAX_ROW = attrgetter(*_TAX_COLS)
_STORE_ROW = attrgetter(*_STORE_COLS)
_STOCK_FIELDS = itemgetter(*_STOCK_COLS)  # of a stock level's __dict__
_VOUCHER_TAIL = attrgetter(*_VOUCHER_COLS[6:])  # min_spend ... change_no
_USER_HEAD = attrgetter(*_USER_COLS[:3])  # id, username, full_name
_USER_TAIL = attrgetter(*_USER_COLS[4:])  # store_id ... change_no


def _voucher_row(v: VoucherOut) -> tuple[Any, ...]:
    """A voucher's upsert values: its kind as text, its validity as stored times."""
    head = (v.id, v.code, v.kind.value, v.value, _opt_time(v.valid_from), _opt_time(v.valid_until))
    return (*head, *_VOUCHER_TAIL(v))


def _user_row(u: UserOut) -> tuple[Any, ...]:
    """A user's upsert values, the role as text."""
    return (*_USER_HEAD(u), u.role.value, *_USER_TAIL(u))


# A product's upsert values straight from the validated model's fields (its ``__dict__``,
# one C call a row, no attribute lookups), then its change time as stored text.
_PRODUCT_FIELDS = itemgetter(*_PRODUCT_COLS[:-1])


def _product_rows(products: Sequence[ProductOut]) -> list[tuple[Any, ...]]:
    """The page's product upsert values. A page's products mostly share a few change
    times (a bulk edit stamps them alike): each distinct time is turned into text once."""
    texts: dict[datetime, str] = {}
    rows = []
    for p in products:
        moment = p.updated_at
        if moment is None:
            text = None
        else:
            text = texts.get(moment)
            if text is None:
                text = texts[moment] = to_db_time(moment)
        rows.append((*_PRODUCT_FIELDS(p.__dict__), text))
    return rows


# A first download sends products by change number: a page's ids mostly lie above every
# stored one. When no stored product has an id between the page's lowest and highest,
# the page only adds rows, and after the upsert the rows in that id range are exactly
# the page's: they are indexed with one range query, nothing is dropped. When the range
# holds stored products but none of the page's ids (a catalog whose products were
# edited interleaves ids across pages), the page's ids alone go to SQL as one JSON
# list, and the page's rows are indexed by it.
_ANY_STORED_IN = "SELECT EXISTS (SELECT 1 FROM products WHERE id BETWEEN ? AND ?)"
_FTS_ADD_RANGE = (
    "INSERT INTO products_fts(rowid, name, sku) SELECT id, name, sku FROM products "
    "WHERE id BETWEEN ? AND ?"
)
# What the index holds for the page's stored products: their name and SKU.
_STORED_KEYS = "SELECT id, name, sku FROM products WHERE id IN (SELECT value FROM json_each(?))"
# Otherwise (a catch-up) the entries to change are those of the page's new products and
# of the stored ones whose name or SKU differs: a price or stock change leaves the index
# alone. 'delete' needs the values the index holds, so it runs before the upsert; the
# entries are added back after it, each statement taking the ids as one JSON list.
_FTS_DROP = (
    "INSERT INTO products_fts(products_fts, rowid, name, sku) "
    "SELECT 'delete', id, name, sku FROM products "
    "WHERE id IN (SELECT value FROM json_each(?))"
)
_FTS_ADD = (
    "INSERT INTO products_fts(rowid, name, sku) SELECT id, name, sku FROM products "
    "WHERE id IN (SELECT value FROM json_each(?))"
)


class SyncMixin(StoreBase):
    """Outbox queue, pull pages and sync bookkeeping for the sync worker."""

    # -- push side -----------------------------------------------------------------------
    def pending_events(self, limit: int) -> list[OutboxEvent]:
        """Up to ``limit`` pending events, oldest first; rejected and stuck events never
        block them."""
        rows = self.conn.execute(
            "SELECT id, type, created_at, payload FROM outbox "
            "WHERE status = 'pending' AND stuck_until IS NULL ORDER BY seq LIMIT ?",
            (limit,),
        ).fetchall()
        return [_event_of(row) for row in rows]

    def pending_count(self) -> int:
        """How many events wait in the queue (rejected and stuck ones not counted)."""
        return int(
            self._scalar(
                "SELECT count(*) FROM outbox WHERE status = 'pending' AND stuck_until IS NULL"
            )
        )

    def acknowledge(self, results: Sequence[EventResult]) -> None:
        """Apply the server's answers in one transaction.

        ``applied`` and ``duplicate`` delete the outbox row with exactly that id (and the
        local stock moves it carried, now part of the server's levels); any other answer
        (``rejected``, ``conflict``) keeps the row, marked with the code and reason, out of
        the queue: a refused event is never deleted. Unknown ids are ignored.
        """
        deleted = (EventStatus.APPLIED, EventStatus.DUPLICATE)
        done = [(str(r.id),) for r in results if r.status in deleted]
        rejected = [
            (r.code or r.status.value, r.reason or "", str(r.id))
            for r in results
            if r.status not in deleted
        ]
        with self._write() as conn:
            conn.executemany("DELETE FROM outbox WHERE id = ?", done)
            # One pass over the pending moves for the whole batch (they have no index by
            # event: a sale writes one B-tree fewer for it; migration "fewer B-trees").
            conn.execute(
                "DELETE FROM stock_moves WHERE event_id IN (SELECT value FROM json_each(?))",
                (json.dumps([event_id for (event_id,) in done]),),
            )
            conn.executemany(
                "UPDATE outbox SET status = 'rejected', reject_code = ?, reject_reason = ?, "
                "attempts = attempts + 1, stuck_until = NULL, stuck_since = NULL, "
                "stuck_attempts = 0, stuck_status = NULL, stuck_code = NULL, "
                "stuck_message = NULL WHERE id = ?",
                rejected,
            )

    def mark_stuck(
        self, event_id: UUID, failure: PushFailure, *, at: datetime, retry_at: datetime
    ) -> None:
        """Set a pending event aside until ``retry_at`` with the server's answer.

        Counts the attempt; ``at`` becomes the time it got stuck unless it already was.
        Raises :class:`LookupError` when no pending (or stuck) event has that id.
        """
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE outbox SET stuck_until = ?, stuck_since = coalesce(stuck_since, ?), "
                "stuck_attempts = stuck_attempts + 1, stuck_status = ?, stuck_code = ?, "
                "stuck_message = ? WHERE id = ? AND status = 'pending'",
                (
                    to_db_time(retry_at),
                    to_db_time(at),
                    failure.status_code,
                    failure.code,
                    failure.message,
                    str(event_id),
                ),
            )
            if cursor.rowcount != 1:
                raise LookupError(f"no pending event {event_id}")

    def stuck_events(self, due_by: datetime | None = None) -> list[StuckLocal]:
        """Stuck events oldest first; only those whose retry time has come by ``due_by``
        when it is given."""
        rows = self.conn.execute(
            "SELECT id, type, created_at, payload, stuck_status, stuck_code, stuck_message, "
            "stuck_attempts, stuck_since, stuck_until FROM outbox "
            "WHERE status = 'pending' AND stuck_until IS NOT NULL ORDER BY seq"
        ).fetchall()
        stuck = [
            StuckLocal(
                event=_event_of(row),
                failure=PushFailure(status_code=row[4], code=row[5], message=row[6]),
                attempts=row[7],
                stuck_since=datetime.fromisoformat(row[8]),
                retry_at=datetime.fromisoformat(row[9]),
            )
            for row in rows
        ]
        # Compared as datetimes, not as text: few rows, and no format subtleties.
        return [s for s in stuck if due_by is None or s.retry_at <= due_by]

    def rejected_events(self) -> list[RejectedLocal]:
        """Events the server rejected, oldest first, kept for the manager to see."""
        rows = self.conn.execute(
            "SELECT id, type, created_at, reject_code, reject_reason, payload FROM outbox "
            "WHERE status = 'rejected' ORDER BY seq"
        ).fetchall()
        return [
            RejectedLocal(
                id=UUID(row[0]),
                type=row[1],
                created_at=datetime.fromisoformat(row[2]),
                code=row[3],
                reason=row[4],
                payload=json.loads(row[5]),
            )
            for row in rows
        ]

    def retry_rejected(self, event_id: UUID) -> None:
        """Queue a rejected event again (it keeps its place: oldest first).

        Raises :class:`LookupError` when no rejected event has that id.
        """
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE outbox SET status = 'pending', reject_code = NULL, reject_reason = NULL "
                "WHERE id = ? AND status = 'rejected'",
                (str(event_id),),
            )
            if cursor.rowcount != 1:
                raise LookupError(f"no rejected event {event_id}")

    # -- pull side -----------------------------------------------------------------------
    def pull_cursor(self) -> int:
        """The server change number the cache holds everything up to (0 at first start)."""
        value = self._state("cursor")
        return int(value) if value is not None else 0

    def apply_pull_page(self, page: PullResponse) -> None:
        """Upsert every row of ``page`` and save ``page.cursor``, in one transaction.

        Each table is one ``executemany`` of a prepared upsert. The full-text index of
        products is kept here, in bulk (no per-row trigger, see migration 8). A page whose
        id range holds no stored product (a first download) is upserted and then indexed
        with one ``INSERT ... SELECT`` of that range; one whose ids are all new, by the
        list of its ids. Otherwise one query reads the stored name and SKU of the page's
        products; the entries of those whose name or SKU changes are dropped with their
        old values, the rows are upserted, and the new and changed products are indexed
        again with one ``INSERT ... SELECT``.
        A search between two pages finds exactly the products stored so far. Any failing
        row rolls the whole page back, cursor included.
        """
        rows = _product_rows(page.products) if page.products else None
        with self._write() as conn:
            if page.categories:
                conn.executemany(_UPSERT_CATEGORY, map(_CATEGORY_ROW, page.categories))
            if page.tax_rates:
                conn.executemany(_UPSERT_TAX, map(_TAX_ROW, page.tax_rates))
            if rows is not None:
                self._store_products(conn, rows)
            if page.vouchers:
                conn.executemany(_UPSERT_VOUCHER, map(_voucher_row, page.vouchers))
            if page.users:
                conn.executemany(_UPSERT_USER, map(_user_row, page.users))
            if page.stores:
                conn.executemany(_UPSERT_STORE, map(_STORE_ROW, page.stores))
            if page.stock:
                conn.executemany(_UPSERT_STOCK, [_STOCK_FIELDS(s.__dict__) for s in page.stock])
            self._set_state("cursor", str(page.cursor))

    @staticmethod
    def _store_products(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
        """Upsert the page's product rows and keep their full-text entries, in the
        caller's transaction."""
        ids = [row[0] for row in rows]
        low, high = min(ids), max(ids)
        if not conn.execute(_ANY_STORED_IN, (low, high)).fetchone()[0]:
            conn.executemany(_UPSERT_PRODUCT, rows)
            conn.execute(_FTS_ADD_RANGE, (low, high))
            return
        listed = dumps(ids)
        stored = {row[0]: row[1:] for row in conn.execute(_STORED_KEYS, (listed,))}
        if not stored:
            conn.executemany(_UPSERT_PRODUCT, rows)
            conn.execute(_FTS_ADD, (listed,))
            return
        stale = dumps([row[0] for row in rows if stored.get(row[0]) != (row[3], row[1])])
        conn.execute(_FTS_DROP, (stale,))
        conn.executemany(_UPSERT_PRODUCT, rows)
        conn.execute(_FTS_ADD, (stale,))

    # -- status --------------------------------------------------------------------------
    def record_sync_result(self, *, ok: bool, error: str | None, at: datetime) -> None:
        """Remember the last sync: success clears the error, failure keeps the last success."""
        with self._write():
            if ok:
                self._set_state("last_success_at", to_db_time(at))
                self._set_state("last_error", None)
            else:
                self._set_state("last_error", error or "sync failed")
                self._set_state("last_error_at", to_db_time(at))

    def sync_status(self) -> LocalSyncStatus:
        """Events waiting, stuck and rejected, last success, last error and the cursor."""
        counts: dict[str, int] = {}
        for status, stuck, count in self.conn.execute(
            "SELECT status, stuck_until IS NOT NULL, count(*) FROM outbox "
            "GROUP BY status, stuck_until IS NOT NULL"
        ).fetchall():
            key = "stuck" if status == "pending" and stuck else status
            counts[key] = counts.get(key, 0) + int(count)
        retry_times = [s.retry_at for s in self.stuck_events()] if counts.get("stuck") else []
        return LocalSyncStatus(
            pending=counts.get("pending", 0),
            rejected=counts.get("rejected", 0),
            last_success_at=from_db_time(self._state("last_success_at")),
            last_error=self._state("last_error"),
            cursor=self.pull_cursor(),
            stuck=counts.get("stuck", 0),
            next_stuck_retry_at=min(retry_times, default=None),
        )

    # -- enrollment ----------------------------------------------------------------------
    def device_token(self) -> str | None:
        """The bearer token this till got at enrollment, or None."""
        return self._state("device_token")

    def save_enrollment(
        self, *, device_token: str, terminal_id: int, terminal_code: str, store_id: int
    ) -> None:
        """Remember the enrollment answer (token, terminal and store) in one transaction."""
        with self._write():
            self._set_state("device_token", device_token)
            self._set_state("terminal_id", str(terminal_id))
            self._set_state("terminal_code", terminal_code)
            self._set_state("store_id", str(store_id))

    def forget_device_token(self) -> None:
        """Drop the device token (after the server said it was revoked)."""
        with self._write():
            self._set_state("device_token", None)

    def terminal_identity(self) -> TerminalIdentity:
        """Terminal id, code and store id saved at enrollment (None before)."""
        terminal_id = self._state("terminal_id")
        store_id = self._state("store_id")
        return TerminalIdentity(
            terminal_id=int(terminal_id) if terminal_id else None,
            terminal_code=self._state("terminal_code"),
            store_id=int(store_id) if store_id else None,
        )
