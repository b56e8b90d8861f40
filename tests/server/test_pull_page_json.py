"""The cheap pull page is the same JSON, byte for byte, as the page built by validating
every row (the way :func:`sync_server.sync.pull.pull_page` worked before rows were made
into models without validation and the page's last number came from one statement).

``reference_pull_page`` below is that earlier function, kept as the reference; both are
serialised the way the route does it and compared for many cursors and limits, over
every kind of row with their change numbers interleaved, users of several scopes and
stock of two stores, for a terminal of each store.
"""

from __future__ import annotations

import gc
import heapq
import random
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Select, func, literal, select, update
from sqlalchemy.orm import Session

from shared.models import PullResponse, Role, VoucherKind
from sync_server.auth.models import Terminal, User
from sync_server.catalog.models import Category, Product, TaxRate, Voucher
from sync_server.core.database import Database, next_change_numbers, utcnow
from sync_server.core.models import ChangeCounter, Store
from sync_server.core.security import token_hash
from sync_server.stock.models import StockLevel
from sync_server.sync import pull
from sync_server.sync.pull import SOURCES, Source, _table, pull_page
from tests.server.conftest import World, detached_row
from tests.server.sync_helpers import add_products

# --- the reference: pull_page as it was, validating each row ---------------------------


def _ref_where(source: Source, terminal: Terminal) -> list[Any]:
    # As it was: stock scoped by ``store_id ==`` (now ``store_id + 0 ==``, the same rows).
    if source.field == "stock":
        return [source.table.c.store_id == terminal.store_id]
    return source.where(terminal)


def _ref_numbers_query(
    source: Source, terminal: Terminal, cursor: int, high: int, limit: int
) -> Select[Any]:
    table = source.table
    return (
        select(table.c.change_no)
        .where(table.c.change_no > cursor, table.c.change_no <= high, *_ref_where(source, terminal))
        .order_by(table.c.change_no)
        .limit(limit)
    )


def _ref_rows_query(source: Source, terminal: Terminal, cursor: int, last: int) -> Select[Any]:
    table = source.table
    return (
        select(*(table.c[name] for name in source.columns))
        .where(table.c.change_no > cursor, table.c.change_no <= last, *_ref_where(source, terminal))
        .order_by(table.c.change_no)
    )


def _ref_count_after(session: Session, *, terminal: Terminal, cursor: int) -> int:
    counts: Sequence[Any] = [
        select(func.count())
        .select_from(s.table)
        .where(s.table.c.change_no > cursor, *_ref_where(s, terminal))
        .scalar_subquery()
        for s in SOURCES
    ]
    total: Any = literal(0)
    for count in counts:
        total = total + count
    return int(session.execute(select(total)).scalar_one())


def reference_pull_page(
    session: Session, *, terminal: Terminal, cursor: int, limit: int
) -> PullResponse:
    """The page as it was built before: numbers merged in Python, every row validated."""
    high = int(
        session.execute(select(ChangeCounter.value).where(ChangeCounter.id == 1)).scalar_one()
    )
    numbers = [
        session.execute(_ref_numbers_query(source, terminal, cursor, high, limit)).scalars().all()
        for source in SOURCES
    ]
    picked = list(heapq.merge(*numbers))[:limit]
    grouped: dict[str, list[Any]] = {source.field: [] for source in SOURCES}
    if picked:
        for source in SOURCES:
            rows = session.execute(_ref_rows_query(source, terminal, cursor, picked[-1])).mappings()
            grouped[source.field] = [source.schema.model_validate(dict(row)) for row in rows]
    new_cursor = picked[-1] if picked else cursor
    remaining = _ref_count_after(session, terminal=terminal, cursor=new_cursor)
    session.execute(
        update(_table(Terminal))
        .where(_table(Terminal).c.id == terminal.id)
        .values(last_seen_at=utcnow(), last_cursor=cursor)
    )
    return PullResponse(cursor=new_cursor, has_more=remaining > 0, remaining=remaining, **grouped)


# --- the data ---------------------------------------------------------------------------


def _arrange(db: Database, world: World) -> list[int]:
    """Every kind of row, in both stores, change numbers shuffled across the tables.

    Returns the terminals to pull for: one of each store."""
    products = add_products(db, 60, prefix="J") + add_products(db, 5, tax_rate_bp=0, prefix="K")
    start = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
    with db.session() as s:
        s.add_all([Category(name="Minuman"), Category(name="Snack", active=False)])
        s.add(TaxRate(code="PB1", name="Pajak resto", rate_bp=1000, inclusive=False))
        for i, product in enumerate(s.scalars(select(Product).order_by(Product.id))):
            product.updated_at = start + timedelta(days=i, microseconds=i * 7919)
            product.barcode = None if i % 3 else f"89{i:011d}"
            product.name = (
                f'Kopi \u00e9 \u2018susu\u2019 "{i}" \\ \U0001f600' if i == 4 else product.name
            )
            product.active = i % 5 != 0
        s.add_all(
            [
                Voucher(code="HEMAT10", kind=VoucherKind.PERCENT.value, value=1000),
                Voucher(
                    code="POTONG5K",
                    kind=VoucherKind.FIXED.value,
                    value=5000,
                    valid_from=start,
                    valid_until=start + timedelta(days=30, seconds=1),
                    min_spend=50_000,
                    usage_limit=100,
                    used_count=3,
                    active=False,
                ),
            ]
        )
        s.add_all(
            [
                User(
                    username="tetangga",
                    full_name="Tetangga",
                    role=Role.MANAGER.value,
                    store_id=world.other_store_id,
                    pin_hash="$argon2id$x",
                ),
                User(
                    username="regional",
                    full_name="Regional",
                    role=Role.SUPERVISOR.value,
                    store_id=None,
                ),
                User(
                    username="root2",
                    full_name="Admin Dua",
                    role=Role.ADMIN.value,
                    store_id=None,
                    active=False,
                ),
            ]
        )
        other_terminal = Terminal(
            store_id=world.other_store_id,
            code="T09",
            name="Kasir sebelah",
            token_hash=token_hash("another-terminal-token"),
            enrolled_at=utcnow(),
        )
        s.add(other_terminal)
        s.flush()
        store = s.get(Store, world.store_id)
        assert store is not None
        store.receipt_header, store.npwp = "Terima kasih\nSelamat datang", "01.234.567.8-901.000"
        for k, item in enumerate(products):
            for store_id, on_hand in ((world.store_id, k - 5), (world.other_store_id, 3 * k)):
                if (k + store_id) % 4:
                    s.add(StockLevel(store_id=store_id, product_id=item.id, on_hand=on_hand))
        s.flush()
        # Renumber every synced row, the kinds interleaved at random.
        rows: list[Any] = []
        for model in (Category, TaxRate, Product, Voucher, User, Store, StockLevel):
            rows.extend(s.scalars(select(model)))
        random.Random(15).shuffle(rows)
        first = next_change_numbers(s, len(rows))
        for offset, row in enumerate(rows):
            row.change_no = first + offset
        return [world.terminal_ids[0], other_terminal.id]


def _json(page: PullResponse) -> bytes:
    # Exactly as the route serialises a page; a serialiser warning would be a difference.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return page.__pydantic_serializer__.to_json(page)


def _both(db: Database, terminal: Terminal, cursor: int, limit: int) -> tuple[bytes, bytes]:
    with db.session() as s:
        old = _json(reference_pull_page(s, terminal=terminal, cursor=cursor, limit=limit))
        new = _json(pull_page(s, terminal=terminal, cursor=cursor, limit=limit))
    return old, new


def test_pages_are_the_same_json_as_validated_pages(db: Database, world: World) -> None:
    terminal_ids = _arrange(db, world)
    with db.session() as s:
        high = int(s.scalar(select(ChangeCounter.value)) or 0)
    rng = random.Random(13)
    compared = kinds_seen = 0
    for terminal_id in terminal_ids:
        terminal = detached_row(db, Terminal, terminal_id)
        seen: set[str] = set()
        # Whole downloads at several page sizes, then a few pages from random cursors.
        walks = [(0, limit, 10**6) for limit in (3, 7, 50, 1000)]
        walks += [(rng.randrange(0, high + 2), rng.choice([1, 2, 16, 64]), 4) for _ in range(20)]
        for cursor, limit, pages in walks:
            for _ in range(pages):
                old, new = _both(db, terminal, cursor, limit)
                assert new == old, (terminal_id, cursor, limit)
                compared += 1
                page = PullResponse.model_validate_json(new)
                seen.update(f.field for f in SOURCES if getattr(page, f.field))
                if not page.has_more:
                    break
                cursor = page.cursor
        kinds_seen += len(seen)
        assert seen == {f.field for f in SOURCES}
    assert compared > 100
    assert kinds_seen == 2 * len(SOURCES)


def test_an_empty_page_and_a_cursor_past_the_end_are_the_same(db: Database, world: World) -> None:
    terminal_ids = _arrange(db, world)
    terminal = detached_row(db, Terminal, terminal_ids[1])
    with db.session() as s:
        high = int(s.scalar(select(ChangeCounter.value)) or 0)
    for cursor in (high, high + 1, 2**62):
        old, new = _both(db, terminal, cursor, 5)
        assert new == old
        assert PullResponse.model_validate_json(new).has_more is False


@pytest.mark.parametrize("limit", [1, 4])
def test_the_last_number_never_goes_above_the_counter(
    db: Database, world: World, limit: int
) -> None:
    """A row numbered above the counter (a change committing while the page is read) waits
    for the next page, in both builds."""
    terminal_ids = _arrange(db, world)
    terminal = detached_row(db, Terminal, terminal_ids[0])
    with db.session() as s:
        high = int(s.scalar(select(ChangeCounter.value)) or 0)
        product = s.scalars(select(Product).order_by(Product.id)).first()
        assert product is not None
        product.change_no = high + 5  # not yet visible to a page read before it commits
    cursor = high - 3
    old, new = _both(db, terminal, cursor, limit)
    assert new == old
    page = PullResponse.model_validate_json(new)
    assert page.cursor <= high
    assert all(p.change_no <= high for p in page.products)
    assert page.remaining >= 1  # the row above the counter is still to come


def test_times_stored_without_fractions_or_by_hand_read_the_same(
    db: Database, world: World
) -> None:
    """Rows are read through the driver's raw cursor, so times come as the driver gives
    them (SQLite: text; MariaDB: naive datetimes): whole seconds, one microsecond and a
    time written by plain SQL are the same JSON as the validated page (no time at all is
    covered by the vouchers of ``_arrange``)."""
    products = add_products(db, 3, prefix="W")
    times = {
        products[0].id: datetime(2026, 5, 1, 7, 0, 0, tzinfo=UTC),
        products[1].id: datetime(2026, 5, 1, 7, 0, 0, 1, tzinfo=UTC),
    }
    with db.session() as s:
        for row in s.scalars(select(Product).where(Product.id.in_(list(times)))):
            row.updated_at = times[row.id]
        s.execute(
            update(Product)
            .where(Product.id == products[2].id)
            .values(updated_at=literal("2026-05-02 23:59:59"))  # text, as plain SQL writes it
        )
    terminal = detached_row(db, Terminal, world.terminal_ids[0])
    old, new = _both(db, terminal, 0, 1000)
    assert new == old
    got = {p.id: p.updated_at for p in PullResponse.model_validate_json(new).products}
    assert got[products[0].id] == times[products[0].id]
    assert got[products[1].id] in (times[products[1].id], times[products[0].id])  # MariaDB: s
    assert got[products[2].id] == datetime(2026, 5, 2, 23, 59, 59, tzinfo=UTC)
    assert b'"updated_at":"2026-05-01T07:00:00Z"' in new


def test_a_page_read_in_a_transaction_sees_what_it_wrote(db: Database, world: World) -> None:
    """The raw cursor runs in the session's own transaction: a row written and not yet
    committed there is on the page (as through the ORM), and nothing is left open."""
    terminal = detached_row(db, Terminal, world.terminal_ids[0])
    with db.session() as s:
        before = pull_page(s, terminal=terminal, cursor=0, limit=1000)
        s.add(
            Product(
                sku="TX-1",
                name="Dalam transaksi",
                price=1500,
                change_no=next_change_numbers(s),
            )
        )
        s.flush()
        after = pull_page(s, terminal=terminal, cursor=before.cursor, limit=1000)
        s.rollback()
    assert [p.sku for p in after.products] == ["TX-1"]
    with db.session() as s:
        again = pull_page(s, terminal=terminal, cursor=before.cursor, limit=1000)
    assert again.products == []


def test_the_collector_is_paused_only_while_a_page_is_built(
    db: Database, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows become models with the garbage collector paused (it costs a page as much as
    making them), and it is back on after the page, also after one that failed."""
    add_products(db, 3, prefix="G")
    terminal = detached_row(db, Terminal, world.terminal_ids[0])
    seen: list[bool] = []
    builder = pull._BUILDERS["products"]
    real = builder.build

    def build(rows: Sequence[Sequence[Any]]) -> list[Any]:
        seen.append(gc.isenabled())
        return real(rows)

    monkeypatch.setattr(builder, "build", build)
    with db.session() as s:
        page = pull_page(s, terminal=terminal, cursor=0, limit=1000)
    assert len(page.products) == 3 and seen == [False]
    assert gc.isenabled()

    def broken(rows: Sequence[Sequence[Any]]) -> list[Any]:
        raise RuntimeError("disk gone")

    monkeypatch.setattr(builder, "build", broken)
    with db.session() as s, pytest.raises(RuntimeError):
        pull_page(s, terminal=terminal, cursor=0, limit=1000)
    assert gc.isenabled()
