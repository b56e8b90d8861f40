"""No hot rows in ingest: a push writes its own terminal's stock deltas and rollup rows only.

On hand is ``stock_levels`` (the base a till pulls) plus every terminal's
``stock_deltas``; it must be exact at every read (before any fold, after a fold, in a
count), a fold running while tills push must lose nothing, and a till's pull delivers
the summed on hand.
"""

from __future__ import annotations

import random
import re
import threading
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Table, event, func, select, text

from shared.models import PushRequest
from sync_server.auth.models import Terminal
from sync_server.core.database import Database, run_in_transaction
from sync_server.core.models import ChangeCounter
from sync_server.reports import service as reports
from sync_server.reports.rollups import ROLLUPS
from sync_server.stock.models import StockLevel, StockMove
from sync_server.stock.service import (
    DELTAS,
    LEVELS,
    add_stock_deltas,
    fold_stock_deltas,
    stamp_stock_changes,
)
from sync_server.sync.service import push_events
from tests.server.conftest import World, detached_row
from tests.server.sync_helpers import (
    CatalogProduct,
    add_products,
    base_on_hand,
    on_hand,
    push,
    refund_event,
    sale_event,
    statuses,
    stock_up,
    void_event,
)


def _deltas(db: Database) -> dict[tuple[int, int], int]:
    """Non-zero delta rows: (product, terminal) to quantity."""
    with db.session() as s:
        return {
            (int(r.product_id), int(r.terminal_id)): int(r.quantity)
            for r in s.execute(select(DELTAS)).all()
            if r.quantity
        }


def _levels(client: TestClient, world: World, only: str | None = None) -> dict[int, tuple]:
    params = {"only": only} if only else {}
    resp = client.get("/api/v1/stock/levels", params=params, headers=world.manager_headers())
    assert resp.status_code == 200, resp.text
    return {r["product_id"]: (r["on_hand"], r["negative"], r["low"]) for r in resp.json()}


def _pulled_stock(client: TestClient, world: World, terminal: int) -> dict[int, int]:
    """What a till holds after pulling everything from cursor 0."""
    stock: dict[int, int] = {}
    cursor = 0
    while True:
        resp = client.get(
            "/api/v1/sync/pull",
            params={"cursor": cursor, "limit": 500},
            headers=world.terminal_headers(terminal),
        )
        assert resp.status_code == 200, resp.text
        page = resp.json()
        stock.update({row["product_id"]: row["on_hand"] for row in page["stock"]})
        cursor = page["cursor"]
        if not page["has_more"]:
            return stock


def _ledger(db: Database, store_id: int) -> dict[int, int]:
    with db.session() as s:
        return {
            int(pid): int(qty)
            for pid, qty in s.execute(
                select(StockMove.product_id, func.sum(StockMove.quantity))
                .where(StockMove.store_id == store_id)
                .group_by(StockMove.product_id)
            )
        }


def _sell(world: World, terminal: int, items: list[tuple[CatalogProduct, int]]) -> dict:
    return sale_event(
        terminal_code=f"T0{terminal + 1}", cashier_id=world.cashier_ids[terminal], items=items
    )


def test_on_hand_is_exact_after_a_push_before_and_after_the_fold(
    client: TestClient, db: Database, world: World
) -> None:
    a, b = add_products(db, 2, low_stock_threshold=5)
    stock_up(db, world.store_id, a.id, 10)
    stock_up(db, world.store_id, b.id, 3)
    t1, t2 = world.terminal_ids
    assert statuses(push(client, world.terminal_headers(0), [_sell(world, 0, [(a, 4), (b, 1)])]))
    assert statuses(push(client, world.terminal_headers(1), [_sell(world, 1, [(a, 2), (b, 3)])]))

    # Before any pull: the base is untouched, each till has its own deltas, and every
    # read of on hand (API, filters, dashboard) sums both.
    assert base_on_hand(db, world.store_id) == {a.id: 10, b.id: 3}
    assert _deltas(db) == {(a.id, t1): -4, (b.id, t1): -1, (a.id, t2): -2, (b.id, t2): -3}
    assert on_hand(db, world.store_id, a.id) == 4
    assert on_hand(db, world.store_id, b.id) == -1
    assert _levels(client, world) == {a.id: (4, False, True), b.id: (-1, True, True)}
    assert list(_levels(client, world, "negative")) == [b.id]
    assert list(_levels(client, world, "low")) == [a.id, b.id]
    alerts = reports.dashboard(db, store_id=world.store_id).alerts
    assert (alerts.negative_stock, alerts.low_stock) == (1, 2)

    # The fold moves the deltas into the base in one transaction; the sum never moves.
    with db.session() as s:
        assert fold_stock_deltas(s, store_id=world.store_id) == 4
    assert base_on_hand(db, world.store_id) == {a.id: 4, b.id: -1}
    assert _deltas(db) == {}
    assert _levels(client, world) == {a.id: (4, False, True), b.id: (-1, True, True)}
    with db.session() as s:
        assert set(s.scalars(select(StockLevel.change_no))) == {0}  # changed, to be numbered
        assert fold_stock_deltas(s, store_id=world.store_id) == 0
        assert stamp_stock_changes(s) == 2
    assert _ledger(db, world.store_id) == {a.id: 4, b.id: -1}


def test_a_pull_after_a_push_delivers_the_new_on_hand(
    client: TestClient, db: Database, world: World
) -> None:
    (a,) = add_products(db)
    stock_up(db, world.store_id, a.id, 30)
    assert _pulled_stock(client, world, 0) == {a.id: 30}
    assert statuses(push(client, world.terminal_headers(0), [_sell(world, 0, [(a, 5)])]))
    assert statuses(push(client, world.terminal_headers(1), [_sell(world, 1, [(a, 7)])]))
    # The pushing till and the other one both get the summed on hand at their next pull.
    assert _pulled_stock(client, world, 0) == {a.id: 18}
    assert _pulled_stock(client, world, 1) == {a.id: 18}
    assert _deltas(db) == {}


def _pull_pages(client: TestClient, world: World, terminal: int, limit: int) -> list[dict]:
    pages, cursor = [], 0
    while True:
        resp = client.get(
            "/api/v1/sync/pull",
            params={"cursor": cursor, "limit": limit},
            headers=world.terminal_headers(terminal),
        )
        assert resp.status_code == 200, resp.text
        pages.append(resp.json())
        cursor = pages[-1]["cursor"]
        if not pages[-1]["has_more"]:
            return pages


def test_only_the_last_page_folds_and_it_still_delivers_every_sale(
    client: TestClient, db: Database, world: World
) -> None:
    products = add_products(db, 12)
    for product in products:
        stock_up(db, world.store_id, product.id, 50)
    a, b = products[0], products[-1]
    assert statuses(push(client, world.terminal_headers(0), [_sell(world, 0, [(a, 5), (b, 2)])]))
    assert _deltas(db)  # sold, not folded yet

    pages = _pull_pages(client, world, 1, limit=5)  # a new till, several pages
    assert len(pages) > 2
    stock: dict[int, int] = {}
    for page in pages:
        stock.update({row["product_id"]: row["on_hand"] for row in page["stock"]})
    # The pages with more to come were served as numbered (no fold per page); the
    # last one folded first and was read again, so the till ends with the summed on hand.
    assert stock[a.id] == 45 and stock[b.id] == 48
    assert _deltas(db) == {}
    assert {row["product_id"] for row in pages[-1]["stock"]} >= {a.id, b.id}

    # A push while a till is mid-download is not lost: its next page is not the end,
    # so nothing folds, and its last page delivers it.
    assert statuses(push(client, world.terminal_headers(0), [_sell(world, 0, [(a, 1)])]))
    first = client.get(
        "/api/v1/sync/pull", params={"cursor": 0, "limit": 5}, headers=world.terminal_headers(1)
    ).json()
    assert first["has_more"] and _deltas(db) == {(a.id, world.terminal_ids[0]): -1}
    assert _pulled_stock(client, world, 1)[a.id] == 44 and _deltas(db) == {}


def test_a_count_while_deltas_exist_uses_the_summed_on_hand(
    client: TestClient, db: Database, world: World
) -> None:
    (a,) = add_products(db)
    stock_up(db, world.store_id, a.id, 20)
    assert statuses(push(client, world.terminal_headers(1), [_sell(world, 1, [(a, 3)])]))
    assert _deltas(db) == {(a.id, world.terminal_ids[1]): -3}

    resp = client.post(
        "/api/v1/stock/count",
        json={"lines": [{"product_id": a.id, "counted": 15}]},
        headers=world.manager_headers(),
    )
    assert resp.status_code == 200, resp.text
    assert [m["quantity"] for m in resp.json()["moves"]] == [15 - 17]
    assert [lvl["on_hand"] for lvl in resp.json()["levels"]] == [15]
    assert on_hand(db, world.store_id, a.id) == 15
    assert base_on_hand(db, world.store_id) == {a.id: 18}  # 20 - 2; the sale still a delta
    assert _pulled_stock(client, world, 0) == {a.id: 15}  # fold, stamp, pull
    assert base_on_hand(db, world.store_id) == {a.id: 15}
    assert _ledger(db, world.store_id) == {a.id: 15}


# --- a push touches no row another till writes -----------------------------------------------


SHARED_TABLES = ("stock_levels", "change_counter")
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


@contextmanager
def _statements(db: Database) -> Iterator[list[str]]:
    """Every SQL statement the engine runs inside the block."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _rows(db: Database, table: Table) -> dict[tuple, tuple]:
    """A table's rows by primary key."""
    keys = [c.name for c in table.primary_key.columns]
    with db.session() as s:
        return {tuple(r._mapping[k] for k in keys): tuple(r) for r in s.execute(select(table))}


def test_a_push_writes_only_rows_keyed_by_its_own_terminal(
    client: TestClient, db: Database, world: World
) -> None:
    a, b, c = add_products(db, 3)
    for p in (a, b, c):
        stock_up(db, world.store_id, p.id, 50)
    t1, t2 = world.terminal_ids
    # Both tills sold the same products on the same day already (rows of both exist),
    # and a pull folded and numbered part of it.
    earlier = [_sell(world, 0, [(a, 1), (b, 1)]) for _ in range(3)]
    assert set(statuses(push(client, world.terminal_headers(0), earlier))) == {"applied"}
    assert statuses(push(client, world.terminal_headers(1), [_sell(world, 1, [(a, 2), (c, 1)])]))
    _pulled_stock(client, world, 1)
    assert statuses(push(client, world.terminal_headers(1), [_sell(world, 1, [(b, 4)])]))

    watched: list[Table] = [DELTAS, LEVELS, ChangeCounter.__table__, *ROLLUPS]  # type: ignore[list-item]
    before = {t.name: _rows(db, t) for t in watched}
    batch = [
        _sell(world, 0, [(a, 2), (b, 1), (c, 3)]),
        refund_event(earlier[0], lines=[(0, 1)], approved_by=world.manager_id),
        void_event(earlier[1], approved_by=world.manager_id),
    ]
    with _statements(db) as seen:
        assert statuses(push(client, world.terminal_headers(0), batch)) == ["applied"] * 3
    after = {t.name: _rows(db, t) for t in watched}

    # No statement of the push wrote (or even read) the store's shared rows.
    assert seen
    touching = [s for s in seen if any(t in s for t in SHARED_TABLES)]
    assert touching == []
    assert [s for s in seen if WRITE.match(s) and "stock_deltas" in s]  # it did write deltas
    assert after["stock_levels"] == before["stock_levels"]
    assert after["change_counter"] == before["change_counter"]
    # Every row it added or changed is keyed by the pushing terminal.
    changed_terminals: dict[str, set[int]] = {}
    for table in [DELTAS, *ROLLUPS]:
        old, new = before[table.name], after[table.name]
        changed = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
        position = [c.name for c in table.primary_key.columns].index("terminal_id")
        changed_terminals[table.name] = {k[position] for k in changed}
    assert changed_terminals == {
        "stock_deltas": {t1},
        "report_sales_totals": {t1},
        "report_product_totals": {t1},
        "report_payment_totals": {t1},
    }
    # And on hand is still exact: 50 less what both tills sold, refunds and voids back.
    assert on_hand(db, world.store_id, a.id) == 50 - 3 - 2 - 2 + 1 + 1
    assert on_hand(db, world.store_id, b.id) == 50 - 3 - 4 - 1 + 1
    assert on_hand(db, world.store_id, c.id) == 50 - 1 - 3
    assert t2 not in changed_terminals["stock_deltas"]


# --- the fold while tills push -------------------------------------------------------------------


def test_fold_while_tills_push_loses_nothing(db: Database, world: World) -> None:
    """Two tills push in threads while two pullers fold and stamp in a loop each."""
    products = add_products(db, 4)
    for p in products:
        stock_up(db, world.store_id, p.id, 1_000)
    terminals = [detached_row(db, Terminal, tid) for tid in world.terminal_ids]
    rng = random.Random(13)
    batches = {
        index: [
            [
                _sell(world, index, [(rng.choice(products), rng.randint(1, 3))])
                for _ in range(rng.randint(1, 4))
            ]
            for _ in range(12)
        ]
        for index in range(2)
    }
    sold: dict[int, int] = defaultdict(int)
    for per_till in batches.values():
        for events in per_till:
            for e in events:
                for line in e["payload"]["lines"]:
                    sold[line["product_id"]] += line["quantity"]
    done = threading.Event()
    folds: list[int] = []

    def till(index: int) -> int:
        applied = 0
        for events in batches[index]:
            answer = push_events(
                db,
                terminal=terminals[index],
                request=PushRequest.model_validate({"events": events}),
            )
            applied += sum(r.status.value == "applied" for r in answer.results)
        return applied

    def folder() -> None:
        for _ in range(2_000):  # bounded; stops as soon as both tills are done
            if done.is_set():
                return
            folds.append(
                run_in_transaction(db, lambda s: fold_stock_deltas(s, store_id=world.store_id))
            )
            run_in_transaction(db, stamp_stock_changes)

    with ThreadPoolExecutor(4) as pool:
        folding = [pool.submit(folder) for _ in range(2)]
        applied = list(pool.map(till, range(2)))
        done.set()
        for f in folding:
            f.result()
    assert applied == [sum(len(b) for b in batches[i]) for i in range(2)]
    assert sum(folds) > 0  # the fold really ran against live deltas
    want = {p.id: 1_000 - sold[p.id] for p in products}
    assert {p.id: on_hand(db, world.store_id, p.id) for p in products} == want
    with db.session() as s:
        fold_stock_deltas(s)
    assert _deltas(db) == {}
    assert base_on_hand(db, world.store_id) == want == _ledger(db, world.store_id)


@pytest.mark.parametrize("db_url", ["mariadb"], indirect=True)  # SQLite: one writer at a time
def test_fold_skips_a_delta_a_push_holds_and_stays_exact(
    db_url: str, db: Database, world: World
) -> None:
    """MariaDB: a fold queues neither behind an open push nor behind another fold; it
    leaves the rows they hold for later, and on hand stays exact."""
    a, b = add_products(db, 2)
    stock_up(db, world.store_id, a.id, 10)
    stock_up(db, world.store_id, b.id, 10)
    t1, t2 = world.terminal_ids
    with db.session() as s:
        add_stock_deltas(s, store_id=world.store_id, terminal_id=t2, deltas={a.id: -1, b.id: -2})
    with db.sessions() as pushing, pushing.begin():
        # An ingest of till 1, not yet committed, holds its delta row of product a.
        add_stock_deltas(pushing, store_id=world.store_id, terminal_id=t1, deltas={a.id: -5})
        with db.sessions() as folding, folding.begin():
            folding.execute(text("SET SESSION innodb_lock_wait_timeout = 3"))
            # Till 2's rows are free and move; till 1's locked row is skipped, not waited on.
            assert fold_stock_deltas(folding, store_id=world.store_id) == 2
        assert base_on_hand(db, world.store_id) == {a.id: 9, b.id: 8}
        assert on_hand(db, world.store_id, a.id) == 9  # the open push is not visible yet
    assert on_hand(db, world.store_id, a.id) == 4
    assert _deltas(db) == {(a.id, t1): -5}
    # Two pullers at once: the second skips what the first is folding, neither waits,
    # and the quantity is moved once.
    with db.sessions() as first, first.begin():
        assert fold_stock_deltas(first, store_id=world.store_id) == 1
        with db.sessions() as second, second.begin():
            second.execute(text("SET SESSION innodb_lock_wait_timeout = 3"))
            assert fold_stock_deltas(second, store_id=world.store_id) == 0
    assert base_on_hand(db, world.store_id) == {a.id: 4, b.id: 8}
    assert on_hand(db, world.store_id, a.id) == 4
    assert _deltas(db) == {}
