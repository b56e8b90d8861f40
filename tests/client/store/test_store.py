"""The local store: migrations, one-transaction writes, outbox acknowledgement, pull pages."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pos_client.domain import Cart, CashTender, build_sale_draft, settle
from pos_client.store import LocalStore
from pos_client.store.migrations import MIGRATIONS, migrate
from shared.models import (
    EventResult,
    EventStatus,
    ProductOut,
    PullResponse,
    SaleIn,
    StockLevelOut,
)
from tests.client.conftest import (
    CASHIER,
    INDOMIE,
    PINS,
    STORE_ID,
    TEH,
    FakeClock,
    Till,
    make_till,
    ring,
    seed,
)

T0 = datetime(2025, 6, 15, 3, 0, tzinfo=UTC)


def counts(store: LocalStore) -> dict[str, int]:
    tables = ["sales", "sale_lines", "payments", "stock_moves", "outbox", "receipt_sequences"]
    return {t: store.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


# -- schema --------------------------------------------------------------------------------
def test_file_database_is_durable_and_migrated_once(tmp_path: Path) -> None:
    path = tmp_path / "data" / "kasir.sqlite3"
    store = LocalStore(path)
    assert store.schema_version == len(MIGRATIONS)
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    store.close()
    again = LocalStore(path)
    rows = again.conn.execute("SELECT version FROM schema_version").fetchall()
    assert rows == [(v,) for v in range(1, len(MIGRATIONS) + 1)]
    assert again.integrity_check() == "ok"


def test_a_failing_migration_changes_nothing() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)

    def good(c: sqlite3.Connection) -> None:
        c.execute("CREATE TABLE a (x)")

    def bad(c: sqlite3.Connection) -> None:
        c.execute("CREATE TABLE b (x)")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        migrate(conn, [good, bad])
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "a" in names and "b" not in names

    def fixed(c: sqlite3.Connection) -> None:
        c.execute("CREATE TABLE b (x)")

    assert migrate(conn, [good, fixed]) == 2


def test_newer_schema_is_refused() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrate(conn, [lambda c: None, lambda c: None])
    with pytest.raises(RuntimeError, match="newer"):
        migrate(conn, [lambda c: None])


# -- a sale is one transaction -------------------------------------------------------------
def test_checkout_writes_every_row_and_the_outbox_event(till: Till) -> None:
    sale = ring(till, INDOMIE, INDOMIE, TEH)
    store = till.store
    assert counts(store)["sales"] == 1
    assert counts(store)["sale_lines"] == 2
    assert counts(store)["payments"] == 1
    assert store.conn.execute(
        "SELECT product_id, quantity, kind FROM stock_moves ORDER BY product_id"
    ).fetchall() == [(1, -2, "sale"), (2, -1, "sale")]
    [event] = [e for e in store.pending_events(10) if e.type == "sale"]
    assert event.payload == json.loads(sale.model_dump_json())
    assert SaleIn.model_validate(event.payload) == sale
    assert store.sale(sale.id) == sale


def test_a_failure_inside_the_sale_transaction_leaves_nothing(till: Till) -> None:
    before = counts(till.store)
    till.checkout.scan(INDOMIE)
    # The last statement of the sale (its outbox row) fails, after every other row went in.
    till.store.conn.execute(
        "CREATE TEMP TRIGGER outbox_fails BEFORE INSERT ON outbox "
        "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
    )
    with pytest.raises(sqlite3.IntegrityError, match="disk I/O error"):
        till.checkout.checkout_cash(10_000)
    assert counts(till.store) == before  # not even the receipt sequence moved
    assert not till.checkout.cart.is_empty  # the cashier can try again
    till.store.conn.execute("DROP TRIGGER outbox_fails")
    sale = till.checkout.checkout_cash(10_000).sale
    assert sale.receipt_number == "T01-20250615-0001"


def test_foreign_keys_are_enforced(store: LocalStore) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        store.conn.execute(
            "INSERT INTO payments (id, sale_id, method, amount, change) "
            "VALUES ('p', 'no-such-sale', 'cash', 1, 0)"
        )


# -- receipt numbers -----------------------------------------------------------------------
def test_receipt_numbers_per_day_and_across_restarts(tmp_path: Path, settings, clock) -> None:
    path = tmp_path / "till.sqlite3"
    store = seed(LocalStore(path))
    till = make_till(store, settings, clock)
    till.auth.login(CASHIER, PINS[CASHIER])
    till.shifts.open(0)
    first = [ring(till, INDOMIE).receipt_number for _ in range(2)]
    clock.advance(hours=14)  # 00:00 next day in Jakarta (UTC+7)
    next_day = ring(till, INDOMIE).receipt_number
    store.close()

    reopened = LocalStore(path)
    till = make_till(reopened, settings, clock)
    till.auth.login(CASHIER, PINS[CASHIER])
    after_restart = ring(till, INDOMIE).receipt_number
    assert first == ["T01-20250615-0001", "T01-20250615-0002"]
    assert next_day == "T01-20250616-0001"
    assert after_restart == "T01-20250616-0002"


def test_receipt_day_is_the_store_local_day(till: Till, clock: FakeClock) -> None:
    clock.moment = datetime(2025, 6, 15, 16, 59, tzinfo=UTC)  # 23:59 in Jakarta
    assert ring(till, INDOMIE).receipt_number.startswith("T01-20250615-")
    clock.moment = datetime(2025, 6, 15, 17, 0, tzinfo=UTC)  # 00:00 on the 16th
    assert ring(till, INDOMIE).receipt_number == "T01-20250616-0001"


# -- outbox --------------------------------------------------------------------------------
def test_acknowledge_semantics(till: Till) -> None:
    store = till.store
    sales = [ring(till, INDOMIE) for _ in range(3)]
    events = store.pending_events(100)
    assert [e.type for e in events] == ["shift_open", "sale", "sale", "sale"]
    assert [e.payload["id"] for e in events[1:]] == [str(s.id) for s in sales]
    opened, applied, duplicate, rejected = events
    from uuid import uuid4

    store.acknowledge(
        [
            EventResult(id=applied.id, status=EventStatus.APPLIED),
            EventResult(id=duplicate.id, status=EventStatus.DUPLICATE),
            EventResult(
                id=rejected.id,
                status=EventStatus.REJECTED,
                code="totals_mismatch",
                reason="total is 3.500, not 3.600",
            ),
            EventResult(id=uuid4(), status=EventStatus.APPLIED),  # unknown: ignored
        ]
    )
    assert [e.id for e in store.pending_events(100)] == [opened.id]
    assert store.pending_count() == 1
    [kept] = store.rejected_events()
    assert (kept.id, kept.type, kept.code) == (rejected.id, "sale", "totals_mismatch")
    assert kept.payload == rejected.payload
    status = store.sync_status()
    assert (status.pending, status.rejected) == (1, 1)
    # Newer events queue behind nothing: the rejected one never blocks.
    later = ring(till, TEH)
    later_event = store.pending_events(100)[-1]
    assert later_event.payload["id"] == str(later.id)
    # Stock moves of acknowledged events are dropped; the rejected sale's move stays.
    assert store.conn.execute("SELECT count(*) FROM stock_moves").fetchone()[0] == 2
    store.retry_rejected(rejected.id)
    assert [e.id for e in store.pending_events(100)] == [
        opened.id,
        rejected.id,
        later_event.id,
    ]
    assert store.rejected_events() == []
    with pytest.raises(LookupError):
        store.retry_rejected(rejected.id)


def test_pending_events_limit_and_order(till: Till) -> None:
    for _ in range(5):
        ring(till, TEH)
    events = till.store.pending_events(3)
    assert len(events) == 3 and events[0].type == "shift_open"
    assert till.store.pending_count() == 6


# -- pull ----------------------------------------------------------------------------------
def test_pull_page_saves_rows_and_cursor_together(
    store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert store.pull_cursor() == 100
    page = PullResponse(
        cursor=150,
        has_more=False,
        remaining=0,
        products=[
            ProductOut(id=50, sku="NEW-1", name="Kopi Susu Gula Aren", price=8000, change_no=150)
        ],
    )

    def fail(key: str, value: str | None) -> None:
        raise sqlite3.OperationalError("disk full")

    monkeypatch.setattr(store, "_set_state", fail)
    with pytest.raises(sqlite3.OperationalError):
        store.apply_pull_page(page)
    monkeypatch.undo()
    assert store.product(50) is None and store.pull_cursor() == 100
    assert store.search_products("kopi") == []
    store.apply_pull_page(page)
    assert store.pull_cursor() == 150
    assert [p.id for p in store.search_products("kopi aren")] == [50]


def test_pulled_changes_update_search_and_prices(store: LocalStore) -> None:
    store.apply_pull_page(
        PullResponse(
            cursor=200,
            has_more=False,
            remaining=0,
            products=[
                ProductOut(
                    id=1,
                    sku="IDM-001",
                    barcode=INDOMIE,
                    name="Mie Sedaap Soto",
                    price=3200,
                    tax_rate_id=1,
                    change_no=200,
                )
            ],
        )
    )
    assert store.search_products("indomie") == []
    assert [p.id for p in store.search_products("sedaap")] == [1]
    product = store.product_by_barcode(INDOMIE)
    assert product is not None and product.price == 3200 and product.tax_rate_bp == 1100


def test_stock_on_hand_is_server_level_plus_unsynced_moves(till: Till) -> None:
    store = till.store
    assert store.stock_on_hand(1) == 100
    sale = ring(till, INDOMIE, INDOMIE, INDOMIE)
    assert store.stock_on_hand(1) == 97
    [event] = [e for e in store.pending_events(10) if e.payload.get("id") == str(sale.id)]
    store.acknowledge([EventResult(id=event.id, status=EventStatus.APPLIED)])
    assert store.stock_on_hand(1) == 100  # until the next pull brings the server's level
    store.apply_pull_page(
        PullResponse(
            cursor=300,
            has_more=False,
            remaining=0,
            stock=[StockLevelOut(product_id=1, store_id=STORE_ID, on_hand=97, change_no=300)],
        )
    )
    assert store.stock_on_hand(1) == 97
    assert store.stock_on_hand(5) == 0  # never synced, never sold


def test_sync_status_and_enrollment(store: LocalStore) -> None:
    assert store.device_token() == "tok-test"
    assert store.terminal_identity().store_id == STORE_ID
    store.record_sync_result(ok=False, error="server unreachable", at=T0)
    status = store.sync_status()
    assert status.last_error == "server unreachable" and status.last_success_at is None
    store.record_sync_result(ok=True, error=None, at=T0)
    status = store.sync_status()
    assert status.last_error is None and status.last_success_at == T0 and status.cursor == 100
    store.forget_device_token()
    assert store.device_token() is None


def test_a_second_thread_with_its_own_connection(tmp_path: Path, settings, clock) -> None:
    path = tmp_path / "till.sqlite3"
    till = make_till(seed(LocalStore(path)), settings, clock)
    till.auth.login(CASHIER, PINS[CASHIER])
    till.shifts.open(0)
    errors: list[BaseException] = []
    acked = 0

    def worker() -> None:
        nonlocal acked
        own = LocalStore(path)
        try:
            for _ in range(200):
                events = own.pending_events(50)
                own.acknowledge([EventResult(id=e.id, status=EventStatus.APPLIED) for e in events])
                acked += len(events)
        except BaseException as exc:
            errors.append(exc)
        finally:
            own.close()

    thread = threading.Thread(target=worker)
    thread.start()
    for _ in range(30):
        ring(till, TEH)
    thread.join()
    assert errors == []
    leftover = till.store.pending_count()
    assert acked + leftover == 31
    with pytest.raises(sqlite3.ProgrammingError):
        _other_thread(till.store)


def _other_thread(store: LocalStore) -> None:
    caught: list[BaseException] = []

    def use() -> None:
        try:
            store.pending_count()
        except BaseException as exc:
            caught.append(exc)

    t = threading.Thread(target=use)
    t.start()
    t.join()
    raise caught[0]


def test_held_carts_survive_and_are_taken_once(store: LocalStore) -> None:
    cart = Cart()
    payload = cart.to_dict()
    store.hold_cart(cart.id, label="Bu Ani", cashier_id=CASHIER, created_at=T0, payload=payload)
    [held] = store.held_carts()
    assert held.label == "Bu Ani" and held.payload == payload
    assert store.take_held_cart(cart.id) == payload
    assert store.take_held_cart(cart.id) is None


def test_record_sale_from_a_draft(store: LocalStore) -> None:
    product = store.product_by_barcode(TEH)
    assert product is not None
    cart = Cart()
    cart.add(product, 2)
    totals = cart.totals()
    draft = build_sale_draft(
        cart,
        totals,
        settle(totals.total, [CashTender(20_000)]),
        cashier_id=CASHIER,
        shift_id=None,
        created_at=T0,
    )
    sale = store.record_sale(draft, terminal_code="T09", day=T0.date())
    assert sale.receipt_number == "T09-20250615-0001"
    assert sale.total == 10_000 and sale.payments[0].change == 10_000
    assert store.sale_id_by_receipt("t09-20250615-0001") == sale.id
