"""Versioned schema of the till's database: a list of migrations and a tiny runner.

Each migration runs once, in its own transaction, and bumps ``schema_version``. Add new
migrations at the end of :data:`MIGRATIONS`; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator

Migration = Callable[[sqlite3.Connection], None]

_V1 = """
CREATE TABLE sync_state (
    key TEXT PRIMARY KEY,
    value TEXT
);

CREATE TABLE categories (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    active INTEGER NOT NULL,
    change_no INTEGER NOT NULL
);

CREATE TABLE tax_rates (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    rate_bp INTEGER NOT NULL,
    inclusive INTEGER NOT NULL,
    active INTEGER NOT NULL,
    change_no INTEGER NOT NULL
);

CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL,
    barcode TEXT,
    name TEXT NOT NULL,
    category_id INTEGER,
    unit TEXT NOT NULL,
    price INTEGER NOT NULL,
    tax_rate_id INTEGER,
    active INTEGER NOT NULL,
    low_stock_threshold INTEGER NOT NULL DEFAULT 0,
    change_no INTEGER NOT NULL,
    updated_at TEXT
);
CREATE INDEX products_barcode ON products(barcode);
CREATE INDEX products_sku ON products(sku);

CREATE VIRTUAL TABLE products_fts USING fts5(
    name, sku,
    content='products', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2',
    prefix='2'
);
CREATE TRIGGER products_fts_insert AFTER INSERT ON products BEGIN
    INSERT INTO products_fts(rowid, name, sku) VALUES (new.id, new.name, new.sku);
END;
CREATE TRIGGER products_fts_delete AFTER DELETE ON products BEGIN
    INSERT INTO products_fts(products_fts, rowid, name, sku)
    VALUES ('delete', old.id, old.name, old.sku);
END;
CREATE TRIGGER products_fts_update AFTER UPDATE OF name, sku ON products
WHEN old.name IS NOT new.name OR old.sku IS NOT new.sku BEGIN
    INSERT INTO products_fts(products_fts, rowid, name, sku)
    VALUES ('delete', old.id, old.name, old.sku);
    INSERT INTO products_fts(rowid, name, sku) VALUES (new.id, new.name, new.sku);
END;

CREATE TABLE vouchers (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL,
    kind TEXT NOT NULL,
    value INTEGER NOT NULL,
    valid_from TEXT,
    valid_until TEXT,
    min_spend INTEGER NOT NULL,
    usage_limit INTEGER,
    used_count INTEGER NOT NULL,
    active INTEGER NOT NULL,
    change_no INTEGER NOT NULL
);
CREATE INDEX vouchers_code ON vouchers(code);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    full_name TEXT NOT NULL,
    role TEXT NOT NULL,
    store_id INTEGER,
    pin_hash TEXT,
    active INTEGER NOT NULL,
    change_no INTEGER NOT NULL
);

CREATE TABLE stores (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    npwp TEXT NOT NULL,
    phone TEXT NOT NULL,
    timezone TEXT NOT NULL,
    receipt_header TEXT NOT NULL,
    receipt_footer TEXT NOT NULL,
    logo_text TEXT NOT NULL,
    change_no INTEGER NOT NULL
);

CREATE TABLE stock_levels (
    product_id INTEGER NOT NULL,
    store_id INTEGER NOT NULL,
    on_hand INTEGER NOT NULL,
    change_no INTEGER NOT NULL,
    PRIMARY KEY (product_id, store_id)
) WITHOUT ROWID;

CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    created_at TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'rejected')),
    reject_code TEXT,
    reject_reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_status ON outbox(status, seq);

CREATE TABLE shifts (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL,
    opening_float INTEGER NOT NULL,
    opened_at TEXT NOT NULL,
    closed_at TEXT,
    closed_by INTEGER,
    counted_cash INTEGER,
    expected_cash INTEGER,
    open_event_id TEXT NOT NULL,
    close_event_id TEXT
);
-- At most one open shift per till: every open row has the same indexed value.
CREATE UNIQUE INDEX shifts_one_open ON shifts((closed_at IS NULL)) WHERE closed_at IS NULL;

CREATE TABLE sales (
    id TEXT PRIMARY KEY,
    receipt_number TEXT NOT NULL UNIQUE,
    shift_id TEXT REFERENCES shifts(id),
    cashier_id INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    order_discount INTEGER NOT NULL,
    voucher_code TEXT,
    subtotal INTEGER NOT NULL,
    discount_total INTEGER NOT NULL,
    tax_total INTEGER NOT NULL,
    total INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'completed' CHECK (status IN ('completed', 'voided')),
    event_id TEXT NOT NULL
);
CREATE INDEX sales_shift ON sales(shift_id);
CREATE INDEX sales_created ON sales(created_at);

CREATE TABLE sale_lines (
    id TEXT PRIMARY KEY,
    sale_id TEXT NOT NULL REFERENCES sales(id),
    line_no INTEGER NOT NULL,
    product_id INTEGER NOT NULL,
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    unit_price INTEGER NOT NULL,
    discount INTEGER NOT NULL,
    order_discount INTEGER NOT NULL,
    tax_rate_bp INTEGER NOT NULL,
    tax_inclusive INTEGER NOT NULL,
    tax INTEGER NOT NULL,
    total INTEGER NOT NULL
);
CREATE INDEX sale_lines_sale ON sale_lines(sale_id);

CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    sale_id TEXT NOT NULL REFERENCES sales(id),
    method TEXT NOT NULL,
    amount INTEGER NOT NULL,
    tendered INTEGER,
    change INTEGER NOT NULL,
    reference TEXT,
    order_id TEXT
);
CREATE INDEX payments_sale ON payments(sale_id);

CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    sale_id TEXT NOT NULL REFERENCES sales(id),
    shift_id TEXT REFERENCES shifts(id),
    cashier_id INTEGER NOT NULL,
    approved_by INTEGER NOT NULL,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL,
    total INTEGER NOT NULL,
    method TEXT NOT NULL,
    event_id TEXT NOT NULL
);
CREATE INDEX refunds_sale ON refunds(sale_id);
CREATE INDEX refunds_shift ON refunds(shift_id);

CREATE TABLE refund_lines (
    id TEXT PRIMARY KEY,
    refund_id TEXT NOT NULL REFERENCES refunds(id),
    sale_line_id TEXT NOT NULL REFERENCES sale_lines(id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    amount INTEGER NOT NULL
);
CREATE INDEX refund_lines_refund ON refund_lines(refund_id);
CREATE INDEX refund_lines_sale_line ON refund_lines(sale_line_id);

CREATE TABLE voids (
    sale_id TEXT PRIMARY KEY REFERENCES sales(id),
    shift_id TEXT REFERENCES shifts(id),
    cashier_id INTEGER NOT NULL,
    approved_by INTEGER NOT NULL,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL,
    event_id TEXT NOT NULL
);
CREATE INDEX voids_shift ON voids(shift_id);

CREATE TABLE cash_moves (
    id TEXT PRIMARY KEY,
    shift_id TEXT NOT NULL REFERENCES shifts(id),
    user_id INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL,
    event_id TEXT NOT NULL
);
CREATE INDEX cash_moves_shift ON cash_moves(shift_id);

-- Stock moved on this till whose event the server has not acknowledged yet.
CREATE TABLE stock_moves (
    id TEXT PRIMARY KEY,
    product_id INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    kind TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX stock_moves_product ON stock_moves(product_id);
CREATE INDEX stock_moves_event ON stock_moves(event_id);

CREATE TABLE held_carts (
    id TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    cashier_id INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    payload TEXT NOT NULL
);

CREATE TABLE receipt_sequences (
    terminal_code TEXT NOT NULL,
    day TEXT NOT NULL,
    last_seq INTEGER NOT NULL,
    PRIMARY KEY (terminal_code, day)
) WITHOUT ROWID;

CREATE TABLE pin_lockouts (
    user_id INTEGER PRIMARY KEY,
    failures INTEGER NOT NULL,
    lockouts INTEGER NOT NULL,
    locked_until TEXT
);
"""


def statements(script: str) -> Iterator[str]:
    """Split a SQL script into complete statements (trigger bodies stay whole)."""
    pending: list[str] = []
    for line in script.splitlines():
        if not pending and (not line.strip() or line.strip().startswith("--")):
            continue
        pending.append(line)
        text = "\n".join(pending)
        if sqlite3.complete_statement(text):
            yield text
            pending = []
    if "".join(pending).strip():
        raise ValueError("migration script ends in an incomplete statement")


def _v1_initial(conn: sqlite3.Connection) -> None:
    for statement in statements(_V1):
        conn.execute(statement)


_V2_STUCK = """
ALTER TABLE outbox ADD COLUMN stuck_until TEXT;
ALTER TABLE outbox ADD COLUMN stuck_since TEXT;
ALTER TABLE outbox ADD COLUMN stuck_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN stuck_status INTEGER;
ALTER TABLE outbox ADD COLUMN stuck_code TEXT;
ALTER TABLE outbox ADD COLUMN stuck_message TEXT;
"""


def _v2_stuck_events(conn: sqlite3.Connection) -> None:
    # A pending event the server keeps failing on is set aside (stuck_until = its next
    # try) so the queue behind it keeps flowing; the server's answer is kept with it.
    for statement in statements(_V2_STUCK):
        conn.execute(statement)


_V3_GTIN = """
ALTER TABLE products ADD COLUMN gtin TEXT GENERATED ALWAYS AS (
    CASE WHEN length(barcode) IN (8, 12, 13, 14) AND barcode NOT GLOB '*[^0-9]*'
    THEN substr('00000000000000' || barcode, -14) END
) VIRTUAL;
CREATE INDEX products_gtin ON products(gtin);
"""


def _v3_gtin_key(conn: sqlite3.Connection) -> None:
    # A scanner sends one UPC-A as 12, 13 or 14 digits: products are matched on the
    # GTIN-14 form (shared.barcodes.gtin14). The key is computed by SQLite as each pulled
    # row is written and kept in an index, so a scan stays one index lookup.
    for statement in statements(_V3_GTIN):
        conn.execute(statement)


def _v4_sale_catalog_cursor(conn: sqlite3.Connection) -> None:
    # Each sale keeps the pull cursor it was rung up under (the catalog its prices came
    # from), so a reprint or a refund reads the sale exactly as it was sent.
    conn.execute("ALTER TABLE sales ADD COLUMN catalog_cursor INTEGER")


def _v5_favourites(conn: sqlite3.Connection) -> None:
    # The products this till's cashier pinned to the sale screen's "Favorit" tab: a
    # local list per till (never synced), so a product the server deletes simply drops
    # out of the tab when it is no longer in the catalog.
    conn.execute(
        "CREATE TABLE favourites (product_id INTEGER PRIMARY KEY, pinned_at TEXT NOT NULL)"
    )


def _v6_store_static_qris(conn: sqlite3.Connection) -> None:
    # The store's static QRIS payload (set in the back office, pulled with the store), so
    # an offline till can show it; "" when the store has none.
    conn.execute("ALTER TABLE stores ADD COLUMN static_qris TEXT NOT NULL DEFAULT ''")


def _v7_sale_line_measure(conn: sqlite3.Connection) -> None:
    # A line rung up from an in-store label keeps what the label said (weight in grams or
    # price in rupiah, and the catalog price it was priced from), so a reprint or a refund
    # reads the sale exactly as it was sent. NULL on every other line.
    for statement in (
        "ALTER TABLE sale_lines ADD COLUMN measure_kind TEXT",
        "ALTER TABLE sale_lines ADD COLUMN measure_value INTEGER",
        "ALTER TABLE sale_lines ADD COLUMN measure_base_price INTEGER",
    ):
        conn.execute(statement)


def _v8_fts_kept_by_pull(conn: sqlite3.Connection) -> None:
    # Pull writes products a page at a time; a trigger per row made indexing them cost
    # more than storing them (and far more than one INSERT ... SELECT of the page's rows,
    # benches/pull_page_store.py). The index is now kept by
    # SyncMixin.apply_pull_page in bulk, in the page's transaction (the only writer of
    # products): it drops the entries of the page's rows, upserts the rows, and indexes
    # them again with one INSERT ... SELECT each. The index already matches the table
    # (the triggers kept it), so nothing is rebuilt.
    for trigger in ("products_fts_insert", "products_fts_update", "products_fts_delete"):
        conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")


_V9_GTIN = """
DROP INDEX products_gtin;
ALTER TABLE products DROP COLUMN gtin;
ALTER TABLE products ADD COLUMN gtin TEXT GENERATED ALWAYS AS (
    CASE WHEN (length(barcode) = 8 OR length(barcode) BETWEEN 12 AND 14)
    AND barcode NOT GLOB '*[^0-9]*'
    THEN substr('00000000000000' || barcode, -14) END
) VIRTUAL;
CREATE INDEX products_gtin ON products(gtin);
"""


def _v9_cheaper_gtin_key(conn: sqlite3.Connection) -> None:
    # The same GTIN-14 key as v3, written without "IN (8, 12, 13, 14)": for that list
    # SQLite opened a temporary table for every product row it wrote (OpenEphemeral in
    # the INSERT's plan), which cost more than storing the row. The column is virtual:
    # dropping and adding it rewrites nothing but the index.
    for statement in statements(_V9_GTIN):
        conn.execute(statement)


# Migration 10 rebuilds four of the tables a sale writes to so that the sale touches
# fewer B-trees, each one at least a page that the commit's fsync has to cover: 15 instead
# of 20 (a 5-line sale wrote 34 WAL pages on a till with 1,000 sales waiting, 27 now; see
# benches/checkout_commit.py). Every column keeps its name, type, default, check and
# place; only keys and indexes change, and every query the till runs on these tables
# still searches an index (tests/client/store/test_checkout_commit_schema.py):
#
# * sale_lines: WITHOUT ROWID on (sale_id, line_no), which is how a sale's lines are read
#   and joined, so sale_lines_sale goes; the line's id keeps its unique index (refunds
#   and refund_lines look lines up by it).
# * payments: WITHOUT ROWID on (sale_id, id): a payment is only ever read through its
#   sale, in id order, so one B-tree holds it; its id index and payments_sale go.
# * stock_moves: a move's id is never looked up, so its unique index goes; moves are
#   found by event (acknowledgement) and by product (stock on hand), as before.
# * outbox: seq without AUTOINCREMENT, so no sqlite_sequence row is rewritten per event.
#   A new row still gets a seq above every row in the table, so "ORDER BY seq" stays the
#   order events were queued in (a seq is never kept anywhere else).
#
# sales stays as it is: WITHOUT ROWID there would put its 36-character id into each of
# its three other indexes in place of the rowid, and they would split more often than
# the id index it saves (measured: more pages, not fewer).
_V10_TABLES = """
CREATE TABLE v10_sale_lines (
    id TEXT NOT NULL UNIQUE,
    sale_id TEXT NOT NULL REFERENCES sales(id),
    line_no INTEGER NOT NULL,
    product_id INTEGER NOT NULL,
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    unit_price INTEGER NOT NULL,
    discount INTEGER NOT NULL,
    order_discount INTEGER NOT NULL,
    tax_rate_bp INTEGER NOT NULL,
    tax_inclusive INTEGER NOT NULL,
    tax INTEGER NOT NULL,
    total INTEGER NOT NULL,
    measure_kind TEXT,
    measure_value INTEGER,
    measure_base_price INTEGER,
    PRIMARY KEY (sale_id, line_no)
) WITHOUT ROWID;

CREATE TABLE v10_payments (
    id TEXT NOT NULL,
    sale_id TEXT NOT NULL REFERENCES sales(id),
    method TEXT NOT NULL,
    amount INTEGER NOT NULL,
    tendered INTEGER,
    change INTEGER NOT NULL,
    reference TEXT,
    order_id TEXT,
    PRIMARY KEY (sale_id, id)
) WITHOUT ROWID;

CREATE TABLE v10_stock_moves (
    id TEXT NOT NULL,
    product_id INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    kind TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE v10_outbox (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    created_at TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'rejected')),
    reject_code TEXT,
    reject_reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    stuck_until TEXT,
    stuck_since TEXT,
    stuck_attempts INTEGER NOT NULL DEFAULT 0,
    stuck_status INTEGER,
    stuck_code TEXT,
    stuck_message TEXT
);
"""

_V10_INDEXES = """
CREATE INDEX stock_moves_product ON stock_moves(product_id);
CREATE INDEX stock_moves_event ON stock_moves(event_id);
CREATE INDEX outbox_status ON outbox(status, seq);
"""

_V10_COPY = "INSERT INTO v10_{table} ({columns}) SELECT {columns} FROM {table}"
_V10_REBUILT = ("sale_lines", "payments", "stock_moves", "outbox")
# The tables with a foreign key into a rebuilt table, or rebuilt with one.
_V10_CHILDREN = ("sale_lines", "payments", "refund_lines")


def _fk_problems(conn: sqlite3.Connection) -> list[tuple[object, ...]]:
    return [
        tuple(row)
        for table in _V10_CHILDREN
        for row in conn.execute(f"PRAGMA foreign_key_check({table})").fetchall()
    ]


def _v10_sale_writes_fewer_pages(conn: sqlite3.Connection) -> None:
    # SQLite changes a table's key only by rebuilding it: create it under a new name, copy
    # the rows, drop the old table (its indexes go with it), rename, index again. The
    # runner has foreign keys off (dropping sale_lines, which refund_lines refers to,
    # would fail otherwise), so the references are checked here: the rebuild must not
    # leave a single one dangling that was not dangling before.
    before = _fk_problems(conn)
    for statement in statements(_V10_TABLES):
        conn.execute(statement)
    for table in _V10_REBUILT:
        columns = ", ".join(
            row[1] for row in conn.execute(f"PRAGMA table_info({table})").fetchall()
        )
        conn.execute(_V10_COPY.format(table=table, columns=columns))
        conn.execute(f"DROP TABLE {table}")
        conn.execute(f"ALTER TABLE v10_{table} RENAME TO {table}")
    for statement in statements(_V10_INDEXES):
        conn.execute(statement)
    if _fk_problems(conn) != before:
        raise RuntimeError("migration 10 would leave a dangling reference")


_V11_CUSTOMERS = """
CREATE TABLE customers (
    id TEXT PRIMARY KEY,
    phone TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    email TEXT,
    points INTEGER NOT NULL DEFAULT 0,
    synced INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX customers_name ON customers(name);

CREATE TABLE customer_redeems (
    sale_id TEXT PRIMARY KEY,
    phone TEXT NOT NULL,
    points INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX customer_redeems_phone ON customer_redeems(phone);

-- A sale's customer block (JSON of SaleCustomerIn), for reprints and history: a row only
-- for a sale with a customer, so a sale without one writes nothing more.
CREATE TABLE sale_customers (
    sale_id TEXT PRIMARY KEY REFERENCES sales(id),
    customer TEXT NOT NULL
) WITHOUT ROWID;
"""


def _v11_customers(conn: sqlite3.Connection) -> None:
    # Customers pulled from the server (``points``: the balance as last pulled) or made
    # here (``synced`` 0 until the server sends them back), and the points this till
    # redeemed that the pulled balances may not show yet (pos_client/store/customers.py);
    # a sale with a customer keeps its customer block for reprints and history.
    for statement in statements(_V11_CUSTOMERS):
        conn.execute(statement)


# Migration 12, "fewer B-trees": a sale wrote 15 B-trees (24 WAL frames a sale, counted with
# dbstat over 50 sales), and each frame is two writes to the WAL before the fsync. Three
# of them are gone:
# * sale_lines' unique index on id (2.3 frames a sale): the table is keyed by
#   (sale_id, id) instead of (sale_id, line_no), and refund_lines, which referred to the
#   line id alone, now carries its sale and refers to (sale_id, sale_line_id), so the
#   reference is still enforced by the database;
# * stock_moves_event (2.0 frames): a move is deleted when the server acknowledges its
#   event, and the acknowledgement now deletes a whole batch's moves in one pass over the
#   pending moves (only what is not yet synced is there);
# * outbox_status (1.0 frame): the queue is read oldest first, and nearly every row is
#   pending, so a read in seq order stops after ``limit`` rows without the index.
_FEWER_BTREES_TABLES = """
CREATE TABLE new_sale_lines (
    id TEXT NOT NULL,
    sale_id TEXT NOT NULL REFERENCES sales(id),
    line_no INTEGER NOT NULL,
    product_id INTEGER NOT NULL,
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    unit_price INTEGER NOT NULL,
    discount INTEGER NOT NULL,
    order_discount INTEGER NOT NULL,
    tax_rate_bp INTEGER NOT NULL,
    tax_inclusive INTEGER NOT NULL,
    tax INTEGER NOT NULL,
    total INTEGER NOT NULL,
    measure_kind TEXT,
    measure_value INTEGER,
    measure_base_price INTEGER,
    PRIMARY KEY (sale_id, id)
) WITHOUT ROWID;

CREATE TABLE new_refund_lines (
    id TEXT PRIMARY KEY,
    refund_id TEXT NOT NULL REFERENCES refunds(id),
    sale_id TEXT NOT NULL,
    sale_line_id TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    amount INTEGER NOT NULL,
    FOREIGN KEY (sale_id, sale_line_id) REFERENCES sale_lines(sale_id, id)
);
"""

_FEWER_BTREES_COPY = (
    "INSERT INTO new_sale_lines SELECT id, sale_id, line_no, product_id, sku, name, "
    "quantity, unit_price, discount, order_discount, tax_rate_bp, tax_inclusive, tax, total, "
    "measure_kind, measure_value, measure_base_price FROM sale_lines",
    # A refund line's sale is its refund's sale (a refund line without its refund was a
    # dangling reference before and stays one: the check below compares them).
    "INSERT INTO new_refund_lines (id, refund_id, sale_id, sale_line_id, quantity, amount) "
    "SELECT rl.id, rl.refund_id, COALESCE(r.sale_id, ''), rl.sale_line_id, rl.quantity, "
    "rl.amount FROM refund_lines rl LEFT JOIN refunds r ON r.id = rl.refund_id",
)

_FEWER_BTREES_SWAP = """
DROP TABLE sale_lines;
ALTER TABLE new_sale_lines RENAME TO sale_lines;
DROP TABLE refund_lines;
ALTER TABLE new_refund_lines RENAME TO refund_lines;
CREATE INDEX refund_lines_refund ON refund_lines(refund_id);
CREATE INDEX refund_lines_sale_line ON refund_lines(sale_id, sale_line_id);
DROP INDEX stock_moves_event;
DROP INDEX outbox_status;
"""


def _dangling(conn: sqlite3.Connection) -> int:
    """How many rows refer to a row that is not there, over the sale's child tables."""
    return sum(
        len(conn.execute(f"PRAGMA foreign_key_check({table})").fetchall())
        for table in _V10_CHILDREN
    )


def _v12_sale_writes_fewer_btrees(conn: sqlite3.Connection) -> None:
    # Rebuilt as in migration 10 (foreign keys off in the runner); the count of dangling
    # references is compared, since a refund line's reference changes shape here.
    before = _dangling(conn)
    for statement in statements(_FEWER_BTREES_TABLES):
        conn.execute(statement)
    for statement in _FEWER_BTREES_COPY:
        conn.execute(statement)
    for statement in statements(_FEWER_BTREES_SWAP):
        conn.execute(statement)
    if _dangling(conn) != before:
        raise RuntimeError("the sale tables' rebuild would leave a dangling reference")


MIGRATIONS: list[Migration] = [
    _v1_initial,
    _v2_stuck_events,
    _v3_gtin_key,
    _v4_sale_catalog_cursor,
    _v5_favourites,
    _v6_store_static_qris,
    _v7_sale_line_measure,
    _v8_fts_kept_by_pull,
    _v9_cheaper_gtin_key,
    _v10_sale_writes_fewer_pages,
    _v11_customers,
    _v12_sale_writes_fewer_btrees,
]
"""Every schema change in order; version N is ``MIGRATIONS[N - 1]``."""


def schema_version(conn: sqlite3.Connection) -> int:
    """The version the database is at (0 for a new file)."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection, migrations: list[Migration] | None = None) -> int:
    """Bring the database up to date, one transaction per migration; returns the version.

    ``conn`` must be in autocommit mode (``isolation_level=None``). The version is re-read
    inside each write transaction, so two connections opening a new file at once are safe.
    """
    steps = MIGRATIONS if migrations is None else migrations
    # A step may rebuild a table (SQLite's only way to change its key), which needs
    # foreign keys off while the old table is dropped; the pragma does nothing inside a
    # transaction, so it is switched off here around the steps and back on after them.
    # A step that rebuilds a table checks the references itself before it commits.
    enforced = bool(conn.execute("PRAGMA foreign_keys").fetchone()[0])
    if enforced:
        conn.execute("PRAGMA foreign_keys=OFF")
    try:
        return _run(conn, steps)
    finally:
        if enforced:
            conn.execute("PRAGMA foreign_keys=ON")


def _run(conn: sqlite3.Connection, steps: list[Migration]) -> int:
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = schema_version(conn)
            if version > len(steps):
                raise RuntimeError(
                    f"database schema {version} is newer than this app ({len(steps)}); "
                    "update the app"
                )
            if version == len(steps):
                conn.execute("COMMIT")
                return version
            steps[version](conn)
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version + 1,))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
