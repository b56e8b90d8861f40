"""Migration 10: the tables a sale writes to, rebuilt so that a sale touches fewer B-trees.

A till in the field upgrades in place: every row stays as it was (sales, lines, payments,
refunds, voids, stock moves, the outbox in every state), the references hold, the queue
keeps its order, every query the till runs on these tables still finds its rows through
an index, and a sale now writes to exactly the B-trees listed here.
"""

from __future__ import annotations

import sqlite3
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from pos_client.config import ClientSettings
from pos_client.store import LocalStore
from pos_client.store.base import to_db_time
from pos_client.store.migrations import (
    _FEWER_BTREES_COPY,
    MIGRATIONS,
    _v12_sale_writes_fewer_btrees,
    migrate,
)
from pos_client.store.ports import PushFailure
from shared.ids import new_id
from shared.models import (
    EventResult,
    EventStatus,
    EventType,
    RefundIn,
    RefundLineIn,
    SaleIn,
    StockMoveKind,
)
from shared.pricing import refund_amount
from tests.client.conftest import (
    BERAS,
    CASHIER,
    INDOMIE,
    MANAGER,
    PINS,
    TEH,
    FakeClock,
    Till,
    make_till,
    ring,
    seed,
)

T0 = datetime(2025, 6, 15, 3, 0, tzinfo=UTC)
KEPT = (
    *("sales", "sale_lines", "payments", "refunds", "refund_lines", "voids", "stock_moves"),
    *("outbox", "receipt_sequences", "shifts"),
)


Snapshot = dict[str, tuple[list[str], list[tuple[Any, ...]]]]


def snapshot(conn: sqlite3.Connection, like: Snapshot | None = None) -> Snapshot:
    """Every table's column names and rows, in a fixed order (only the columns of ``like``
    when given: a migration may add a column, such as refund_lines.sale_id)."""
    found = {}
    for table in KEPT:
        names = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
        if like is not None:
            names = [name for name in names if name in like[table][0]]
        columns = ", ".join(names)
        cursor = conn.execute(f"SELECT {columns} FROM {table} ORDER BY {columns}")
        found[table] = ([c[0] for c in cursor.description], cursor.fetchall())
    return found


def refund_as_a_v9_till_wrote_it(store: LocalStore, sale: SaleIn, at: datetime) -> None:
    """One unit of the sale's first line back, written as ``record_refund`` wrote it before
    refund lines named their sale (today's code needs the column a v9 till lacks)."""
    line = sale.lines[0]
    amount = refund_amount(
        line_total=line.total, sold_quantity=line.quantity, refunded_before=0, quantity=1
    )
    refund = RefundIn(
        id=new_id(),
        sale_id=sale.id,
        shift_id=sale.shift_id,
        cashier_id=CASHIER,
        approved_by=MANAGER,
        reason="rusak",
        created_at=at,
        lines=[RefundLineIn(id=new_id(), sale_line_id=line.id, quantity=1, amount=amount)],
        total=amount,
    )
    event_id = str(new_id())
    with store._write() as conn:
        conn.execute(
            "INSERT INTO refunds (id, sale_id, shift_id, cashier_id, approved_by, reason, "
            "created_at, total, method, event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                str(refund.id),
                str(sale.id),
                str(sale.shift_id),
                CASHIER,
                MANAGER,
                refund.reason,
                to_db_time(at),
                amount,
                refund.method.value,
                event_id,
            ),
        )
        conn.execute(
            "INSERT INTO refund_lines (id, refund_id, sale_line_id, quantity, amount) "
            "VALUES (?, ?, ?, ?, ?)",
            (str(refund.lines[0].id), str(refund.id), str(line.id), 1, amount),
        )
        store._insert_stock_moves(
            [(line.product_id, 1)],
            kind=StockMoveKind.REFUND,
            ref_id=str(refund.id),
            event_id=event_id,
            created=to_db_time(at),
        )
        store._insert_outbox_event(event_id, EventType.REFUND, at, refund)


def a_day_at_a_v9_till(path: Path, clock: FakeClock) -> Till:
    """Sales, a refund, a void, and events acknowledged, rejected and stuck, at version 9."""
    store = seed(LocalStore(path))
    assert store.schema_version == 9
    till = make_till(store, ClientSettings(data_dir=path.parent, terminal_code="T01"), clock)
    till.auth.login(CASHIER, PINS[CASHIER])
    till.shifts.open(200_000)
    sales = []
    for codes in ((INDOMIE, INDOMIE, TEH), (TEH, BERAS), (INDOMIE,), (BERAS, TEH, INDOMIE)):
        clock.advance(minutes=3)
        sales.append(ring(till, *codes))
    clock.advance(minutes=1)
    refund_as_a_v9_till_wrote_it(store, sales[0], clock())
    till.refunds.void(sales[1].id, manager_id=MANAGER, manager_pin=PINS[MANAGER], reason="x")
    first, second, third, *_ = store.pending_events(100)
    store.acknowledge(
        [
            EventResult(id=first.id, status=EventStatus.APPLIED),
            EventResult(id=second.id, status=EventStatus.REJECTED, code="bad", reason="nope"),
        ]
    )
    store.mark_stuck(
        third.id,
        PushFailure(status_code=503, code="unavailable", message="later"),
        at=clock(),
        retry_at=clock() + timedelta(minutes=1),
    )
    return till


def test_a_till_at_version_9_upgrades_in_place_and_keeps_every_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "till.sqlite3"
    clock = FakeClock(T0)
    monkeypatch.setattr("pos_client.store.migrations.MIGRATIONS", MIGRATIONS[:9])
    till = a_day_at_a_v9_till(path, clock)
    store = till.store
    assert store.conn.execute("SELECT name FROM sqlite_sequence").fetchall() == [("outbox",)]
    before = snapshot(store.conn)
    pending = store.pending_events(100)
    status = store.sync_status()
    rejected, stuck = store.rejected_events(), store.stuck_events()
    sale_ids = [row[0] for row in before["sales"][1]]
    # Today's reader also looks for a sale's customer (a table of migration 11): on this
    # connection only, an empty temporary one stands in for it at version 9.
    store.conn.execute("CREATE TEMP TABLE sale_customers (sale_id TEXT, customer TEXT)")
    sales = [store.sale(UUID(i)) for i in sale_ids]
    store.close()
    monkeypatch.undo()

    upgraded = LocalStore(path)
    assert upgraded.schema_version == len(MIGRATIONS)
    assert upgraded.integrity_check() == "ok"
    assert upgraded.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert upgraded.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert snapshot(upgraded.conn, like=before) == before
    # Each refund line now names its sale: its refund's.
    assert (
        upgraded.conn.execute(
            "SELECT count(*) FROM refund_lines rl JOIN refunds r ON r.id = rl.refund_id "
            "WHERE rl.sale_id = r.sale_id"
        ).fetchone()[0]
        == len(before["refund_lines"][1])
        > 0
    )
    assert [upgraded.sale(s.id) for s in sales if s] == sales
    assert upgraded.pending_events(100) == pending
    assert (upgraded.sync_status(), upgraded.rejected_events()) == (status, rejected)
    assert upgraded.stuck_events() == stuck
    assert upgraded.conn.execute("SELECT count(*) FROM sqlite_sequence").fetchone()[0] == 0

    # The till sells on: the new sale's event queues behind every event kept.
    till = make_till(upgraded, ClientSettings(data_dir=tmp_path, terminal_code="T01"), clock)
    till.auth.login(CASHIER, PINS[CASHIER])
    clock.advance(minutes=5)
    sale = ring(till, TEH)
    assert [e.id for e in upgraded.pending_events(100)][:-1] == [e.id for e in pending]
    assert upgraded.pending_events(100)[-1].payload["id"] == str(sale.id)
    assert upgraded.sale(sale.id) == sale
    # References are enforced again on the rebuilt tables.
    for statement in (
        "INSERT INTO payments (id, sale_id, method, amount, change) "
        "VALUES ('p', 'no-such-sale', 'cash', 1, 0)",
        "INSERT INTO refund_lines (id, refund_id, sale_id, sale_line_id, quantity, amount) "
        "SELECT 'r', id, sale_id, 'no-such-line', 1, 1 FROM refunds LIMIT 1",
        # A line of another sale is not a line of this refund's sale.
        "INSERT INTO refund_lines (id, refund_id, sale_id, sale_line_id, quantity, amount) "
        "SELECT 'r', r.id, r.sale_id, l.id, 1, 1 FROM refunds r "
        "JOIN sale_lines l ON l.sale_id <> r.sale_id LIMIT 1",
    ):
        with pytest.raises(sqlite3.IntegrityError):
            upgraded.conn.execute(statement)
    upgraded.close()


def test_a_rebuild_that_would_leave_a_dangling_reference_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "till.sqlite3"
    clock = FakeClock(T0)
    monkeypatch.setattr("pos_client.store.migrations.MIGRATIONS", MIGRATIONS[:9])
    store = a_day_at_a_v9_till(path, clock).store
    before = snapshot(store.conn)
    store.close()
    monkeypatch.undo()
    # A copy that lost the first sale line (the one refunded) would orphan its refund
    # line: the step refuses, and the till stays at version 9.
    monkeypatch.setattr(
        "pos_client.store.migrations._V10_COPY",
        "INSERT INTO v10_{table} ({columns}) SELECT {columns} FROM {table} "
        "WHERE '{table}' <> 'sale_lines' OR rowid > 1",
    )
    with pytest.raises(RuntimeError, match="dangling"):
        LocalStore(path)
    monkeypatch.undo()
    again = LocalStore(path)  # the failed step left version 9 whole; it runs again
    assert again.schema_version == len(MIGRATIONS)
    assert snapshot(again.conn, like=before) == before
    again.close()


def test_the_fewer_btrees_rebuild_refuses_to_orphan_a_refund_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "till.sqlite3"
    step = MIGRATIONS.index(_v12_sale_writes_fewer_btrees)
    monkeypatch.setattr("pos_client.store.migrations.MIGRATIONS", MIGRATIONS[:9])
    store = a_day_at_a_v9_till(path, FakeClock(T0)).store
    store.close()
    monkeypatch.setattr("pos_client.store.migrations.MIGRATIONS", MIGRATIONS[:step])
    LocalStore(path).close()
    before = snapshot(sqlite3.connect(path))
    monkeypatch.setattr("pos_client.store.migrations.MIGRATIONS", MIGRATIONS)
    # A copy that lost the refunded sale line would orphan its refund line.
    lines_copy, refunds_copy = _FEWER_BTREES_COPY
    monkeypatch.setattr(
        "pos_client.store.migrations._FEWER_BTREES_COPY",
        (lines_copy.replace("FROM sale_lines", "FROM sale_lines WHERE line_no > 1"), refunds_copy),
    )
    with pytest.raises(RuntimeError, match="dangling"):
        LocalStore(path)
    monkeypatch.undo()
    again = LocalStore(path)  # nothing of the failed step stayed; it runs again
    assert again.schema_version == len(MIGRATIONS)
    assert snapshot(again.conn, like=before) == before
    again.close()


def test_migrations_run_with_foreign_keys_off_and_leave_them_on_even_when_one_fails() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    seen: list[int] = []

    def step(c: sqlite3.Connection) -> None:
        seen.append(c.execute("PRAGMA foreign_keys").fetchone()[0])
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        migrate(conn, [step])
    assert seen == [0]
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


# -- what a sale costs -----------------------------------------------------------------------
QUERIES = {
    # The queries the till runs on the rebuilt tables (pos_client/store/*.py), each with
    # the table (or its alias) whose rows it must find through an index.
    "SELECT * FROM sales WHERE id = ?": "sales",
    "SELECT id FROM sales WHERE receipt_number = ?": "sales",
    "SELECT count(*), sum(total) FROM sales WHERE shift_id = ?": "sales",
    "SELECT created_at, total FROM sales WHERE status = 'completed' AND created_at >= ? "
    "AND created_at < ? ORDER BY created_at": "sales",
    "SELECT * FROM sale_lines WHERE sale_id = ? ORDER BY line_no": "sale_lines",
    "SELECT product_id FROM sale_lines WHERE sale_id = ? AND id = ?": "sale_lines",
    "SELECT l.name FROM refund_lines rl JOIN sale_lines l "
    "ON l.sale_id = rl.sale_id AND l.id = rl.sale_line_id "
    "WHERE rl.refund_id = ? ORDER BY l.line_no": "l",
    "SELECT l.id, COALESCE(sum(r.quantity), 0) FROM sale_lines l LEFT JOIN refund_lines r "
    "ON r.sale_id = l.sale_id AND r.sale_line_id = l.id WHERE l.sale_id = ? "
    "GROUP BY l.id": "r",
    "SELECT l.name, SUM(l.total) FROM sale_lines l JOIN sales s ON s.id = l.sale_id "
    "WHERE s.status = 'completed' AND s.created_at >= ? AND s.created_at < ? "
    "GROUP BY l.product_id": "l",
    "SELECT * FROM payments WHERE sale_id = ? ORDER BY id": "payments",
    "SELECT p.method, sum(p.amount) FROM payments p JOIN sales s ON s.id = p.sale_id "
    "WHERE s.shift_id = ? GROUP BY p.method": "p",
    "SELECT p.method, sum(p.amount) FROM voids v JOIN payments p ON p.sale_id = v.sale_id "
    "WHERE v.shift_id = ? GROUP BY p.method": "p",
    "SELECT COALESCE(sum(quantity), 0) FROM stock_moves WHERE product_id = ?": "stock_moves",
    "SELECT product_id, sum(quantity) FROM stock_moves WHERE product_id IN (?, ?) "
    "GROUP BY product_id": "stock_moves",
    "DELETE FROM outbox WHERE id = ?": "outbox",
    "UPDATE outbox SET status = 'pending' WHERE id = ? AND status = 'rejected'": "outbox",
}
SCANS = {
    # Queries that read their table in order on purpose (an index there would be one more
    # B-tree for every sale to write): the pending moves are only what is not yet synced,
    # deleted once per acknowledged batch; the queue is read oldest first, nearly every row
    # pending, so the read stops after ``limit`` rows.
    "DELETE FROM stock_moves WHERE event_id IN (SELECT value FROM json_each(?))": "stock_moves",
    "SELECT id FROM outbox WHERE status = 'pending' AND stuck_until IS NULL "
    "ORDER BY seq LIMIT ?": "outbox",
    "SELECT id FROM outbox WHERE status = 'rejected' ORDER BY seq": "outbox",
}


def test_every_query_on_the_rebuilt_tables_still_searches_an_index(store: LocalStore) -> None:
    for query, table in QUERIES.items():
        marks = (None,) * query.count("?")
        plan = [row[3] for row in store.conn.execute(f"EXPLAIN QUERY PLAN {query}", marks)]
        steps = [step for step in plan if f" {table} " in f" {step} "]
        assert steps, (query, plan)
        assert all(step.startswith("SEARCH") for step in steps), (query, plan)
    for query, table in SCANS.items():
        marks = (None,) * query.count("?")
        plan = [row[3] for row in store.conn.execute(f"EXPLAIN QUERY PLAN {query}", marks)]
        # In seq (rowid) order or one pass, never a sort of the whole queue.
        assert f"SCAN {table}" in plan, (query, plan)
        assert not any("TEMP B-TREE" in step for step in plan), (query, plan)


def written_btrees(conn: sqlite3.Connection, wal: Path, start: int) -> list[str]:
    """The B-trees of the pages the WAL received from byte ``start`` on (frame headers)."""
    data = wal.read_bytes()
    page_size = struct.unpack(">I", data[8:12])[0]
    pages = [
        struct.unpack(">I", data[offset : offset + 4])[0]
        for offset in range(max(32, start), len(data) - page_size - 23, page_size + 24)
    ]
    names = dict(conn.execute("SELECT pageno, name FROM dbstat"))
    return sorted(names[page] for page in pages)


def test_a_sale_writes_one_page_to_each_btree_it_needs_and_nothing_else(tmp_path: Path) -> None:
    store = seed(LocalStore(tmp_path / "till.sqlite3"))
    try:
        store.conn.execute("SELECT count(*) FROM dbstat").fetchone()
    except sqlite3.OperationalError:
        pytest.skip("this SQLite has no dbstat table")
    till = make_till(store, ClientSettings(data_dir=tmp_path, terminal_code="T01"), FakeClock(T0))
    till.auth.login(CASHIER, PINS[CASHIER])
    till.shifts.open(200_000)
    ring(till, INDOMIE)  # the first sale of the day creates its receipt sequence
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    wal = tmp_path / "till.sqlite3-wal"
    start = wal.stat().st_size
    ring(till, INDOMIE, TEH, BERAS, "GULA-1KG", INDOMIE)
    # One page each (the tables are small): the sale, its number, lines, payment, moves
    # and outbox row in 12 B-trees. Before migration 10 there were 20: sqlite_sequence
    # (the outbox's AUTOINCREMENT), sale_lines_sale, the payments' id index and
    # payments_sale, and the stock moves' id index as well; before "fewer B-trees", 15:
    # the sale lines' id index, stock_moves_event and outbox_status.
    assert written_btrees(store.conn, wal, start) == sorted(
        [
            "receipt_sequences",
            "sales",
            "sqlite_autoindex_sales_1",  # id
            "sqlite_autoindex_sales_2",  # receipt_number
            "sales_shift",
            "sales_created",
            "sale_lines",  # keyed by (sale_id, id)
            "payments",  # keyed by (sale_id, id)
            "stock_moves",
            "stock_moves_product",
            "outbox",
            "sqlite_autoindex_outbox_1",  # id
        ]
    )
    store.close()
