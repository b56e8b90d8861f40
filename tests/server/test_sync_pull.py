"""Pull: pages of changes above a cursor, each delivered once, none missed between pages."""

from __future__ import annotations

import random
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from shared.ids import new_id
from shared.models import MAX_PULL_LIMIT, StockMoveKind
from sync_server.auth.models import Terminal, User
from sync_server.catalog.models import Product
from sync_server.core.database import Database, next_change_numbers, utcnow
from sync_server.core.models import Store
from sync_server.stock.models import StockLevel
from sync_server.stock.service import NewStockMove, apply_stock_moves, on_hand_rows
from tests.server.conftest import World
from tests.server.sync_helpers import (
    add_products,
    base_on_hand,
    on_hand,
    push,
    sale_event,
    statuses,
    stock_up,
)


def _stamp_people(db: Database) -> None:
    """Give the fixture's users and stores change numbers, as the auth/catalog APIs do."""
    with db.session() as s:
        for model in (User, Store):
            for row in s.scalars(select(model).order_by(model.id)):
                row.change_no = next_change_numbers(s)


def _pull(client: TestClient, world: World, cursor: int, limit: int, terminal: int = 0) -> dict:
    resp = client.get(
        "/api/v1/sync/pull",
        params={"cursor": cursor, "limit": limit},
        headers=world.terminal_headers(terminal),
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


KINDS = ("categories", "tax_rates", "products", "vouchers", "users", "stores", "stock")


def _rows(page: dict) -> list[tuple[str, dict]]:
    return [(kind, row) for kind in KINDS for row in page[kind]]


def _apply(state: dict[tuple[str, Any], dict], page: dict) -> None:
    """What a till does with a page: upsert every row by its key."""
    for kind, row in _rows(page):
        key = row["product_id"] if kind == "stock" else row["id"]
        state[(kind, key)] = row


def _drain(
    client: TestClient, world: World, cursor: int, limit: int, state: dict, terminal: int = 0
) -> int:
    while True:
        page = _pull(client, world, cursor, limit, terminal)
        _apply(state, page)
        assert page["cursor"] >= cursor
        cursor = page["cursor"]
        if not page["has_more"]:
            return cursor


def _db_products_and_stock(db: Database, store_id: int) -> tuple[dict, dict]:
    with db.session() as s:
        products = {p.id: (p.price, p.name, p.change_no) for p in s.scalars(select(Product))}
        found = on_hand_rows(store_id=store_id)  # base plus deltas, as the server reads it
        stock = {
            int(pid): int(qty)
            for pid, qty in s.execute(select(found.c.product_id, found.c.on_hand))
        }
    return products, stock


def _state_products_and_stock(state: dict) -> tuple[dict, dict]:
    products = {
        key: (row["price"], row["name"], row["change_no"])
        for (kind, key), row in state.items()
        if kind == "products"
    }
    stock = {key: row["on_hand"] for (kind, key), row in state.items() if kind == "stock"}
    return products, stock


def test_paging_delivers_every_product_once(client: TestClient, db: Database, world: World) -> None:
    _stamp_people(db)
    add_products(db, 2500)
    seen: list[int] = []
    change_nos: list[int] = []
    cursor, pages = 0, []
    while True:
        page = _pull(client, world, cursor, 1000)
        pages.append(page)
        seen.extend(p["id"] for p in page["products"])
        change_nos.extend(row["change_no"] for _, row in _rows(page))
        assert all(row["change_no"] > cursor for _, row in _rows(page))
        assert page["cursor"] == max(row["change_no"] for _, row in _rows(page))
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    # 2,500 products, a tax rate, a category, 3 store users, 1 admin and the store.
    total = 2500 + 2 + 4 + 1
    assert [len(_rows(p)) for p in pages] == [1000, 1000, total - 2000]
    assert [p["remaining"] for p in pages] == [total - 1000, total - 2000, 0]
    assert len(seen) == len(set(seen)) == 2500
    assert len(change_nos) == len(set(change_nos)) == total
    assert _pull(client, world, cursor, 1000)["products"] == []


def test_scope_is_the_terminals_store(client: TestClient, db: Database, world: World) -> None:
    products = add_products(db, 2)
    stock_up(db, world.store_id, products[0].id, 5)
    stock_up(db, world.other_store_id, products[1].id, 7)
    with db.session() as s:
        s.add(
            User(
                username="tetangga",
                full_name="Tetangga",
                role="manager",
                store_id=world.other_store_id,
                pin_hash="x",
            )
        )
        s.add(User(username="regional", full_name="Regional", role="supervisor", store_id=None))
    _stamp_people(db)
    state: dict = {}
    _drain(client, world, 0, 3, state)
    users = {row["username"]: row for (kind, _), row in state.items() if kind == "users"}
    assert set(users) == {"manager", "admin", "kasir1", "kasir2"}
    assert users["kasir1"]["pin_hash"].startswith("$argon2id$")
    stores = [row for (kind, _), row in state.items() if kind == "stores"]
    assert [s["id"] for s in stores] == [world.store_id]
    stock = [row for (kind, _), row in state.items() if kind == "stock"]
    assert [(r["product_id"], r["store_id"], r["on_hand"]) for r in stock] == [
        (products[0].id, world.store_id, 5)
    ]


def test_changes_between_pages_are_not_missed(
    client: TestClient, db: Database, world: World
) -> None:
    _stamp_people(db)
    products = add_products(db, 120)
    state: dict = {}
    first = _pull(client, world, 0, 50)
    _apply(state, first)
    cursor = first["cursor"]
    delivered = {p["id"] for p in first["products"]}
    early = [p for p in products if p.id in delivered][:5]
    late = [p for p in products if p.id not in delivered][:5]
    with db.session() as s:
        # Rows before the cursor (already delivered) and after it (not yet) both change.
        for p in early + late:
            s.execute(
                update(Product)
                .where(Product.id == p.id)
                .values(
                    price=p.price + 500,
                    name=f"baru {p.id}",
                    change_no=next_change_numbers(s),
                    updated_at=utcnow(),
                )
            )
    add_products(db, 10, prefix="NEW")
    sale = sale_event(
        terminal_code="T01", cashier_id=world.cashier_ids[0], items=[(early[0], 2), (late[0], 1)]
    )
    assert statuses(push(client, world.terminal_headers(0), [sale])) == ["applied"]

    _drain(client, world, cursor, 50, state)
    want_products, want_stock = _db_products_and_stock(db, world.store_id)
    got_products, got_stock = _state_products_and_stock(state)
    assert got_products == want_products
    assert got_stock == want_stock == {early[0].id: -2, late[0].id: -1}
    assert got_products[early[1].id][:2] == (early[1].price + 500, f"baru {early[1].id}")


@pytest.mark.parametrize("seed", [7, 2024])
def test_random_writes_between_pages(
    client: TestClient, db: Database, world: World, seed: int
) -> None:
    rng = random.Random(seed)
    _stamp_people(db)
    products = add_products(db, 30)
    state: dict = {}
    cursor = 0
    for _ in range(40):
        action = rng.random()
        if action < 0.35:
            cursor_page = _pull(client, world, cursor, rng.randint(1, 25))
            _apply(state, cursor_page)
            cursor = cursor_page["cursor"]
        elif action < 0.6:
            p = rng.choice(products)
            with db.session() as s:
                s.execute(
                    update(Product)
                    .where(Product.id == p.id)
                    .values(price=rng.randint(1, 99) * 100, change_no=next_change_numbers(s))
                )
        elif action < 0.85:
            p = rng.choice(products)
            with db.session() as s:
                apply_stock_moves(
                    s,
                    store_id=world.store_id,
                    moves=[
                        NewStockMove(
                            id=new_id(),
                            product_id=p.id,
                            kind=StockMoveKind.ADJUST,
                            quantity=rng.randint(-5, 9),
                            created_at=utcnow(),
                        )
                    ],
                )
        else:
            products.extend(add_products(db, rng.randint(1, 4)))
    _drain(client, world, cursor, rng.randint(1, 25), state)
    assert _state_products_and_stock(state) == _db_products_and_stock(db, world.store_id)


def test_pull_records_the_cursor_and_checks_its_input(
    client: TestClient, db: Database, world: World
) -> None:
    _stamp_people(db)
    page = _pull(client, world, 0, 2)
    _pull(client, world, page["cursor"], 2)
    with db.session() as s:
        terminal = s.get(Terminal, world.terminal_ids[0])
        assert terminal is not None
        assert terminal.last_cursor == page["cursor"] and terminal.last_seen_at is not None
    headers = world.terminal_headers(0)
    too_big = client.get("/api/v1/sync/pull", params={"limit": MAX_PULL_LIMIT + 1}, headers=headers)
    assert too_big.status_code == 422
    assert (
        client.get("/api/v1/sync/pull", params={"cursor": -1}, headers=headers).status_code == 422
    )
    # A user token is refused as a user (403) before the protocol is looked at.
    assert client.get("/api/v1/sync/pull", headers=world.manager_headers()).status_code == 403


def test_stock_sold_by_one_till_reaches_the_other_on_its_next_pull(
    client: TestClient, db: Database, world: World
) -> None:
    """Ingest writes only the pushing till's delta (no shared level, no counter lock);
    the next pull folds it into the level and numbers it, so the other till gets it."""
    (product,) = add_products(db, 1)
    stock_up(db, world.store_id, product.id, 50)
    state: dict = {}
    cursor = _drain(client, world, 0, 100, state, terminal=1)
    assert state[("stock", product.id)]["on_hand"] == 50
    for quantity, left in ((3, 47), (4, 43)):
        sale = sale_event(
            terminal_code="T01", cashier_id=world.cashier_ids[0], items=[(product, quantity)]
        )
        assert statuses(push(client, world.terminal_headers(0), [sale])) == ["applied"]
        # Sold: exact on hand at once, but the level (what tills pull) is untouched.
        assert on_hand(db, world.store_id, product.id) == left
        assert base_on_hand(db, world.store_id)[product.id] == left + quantity
        with db.session() as s:
            level = s.scalar(select(StockLevel).where(StockLevel.product_id == product.id))
            assert level is not None and level.change_no > 0
        new_cursor = _drain(client, world, cursor, 100, state, terminal=1)
        assert new_cursor > cursor
        assert state[("stock", product.id)]["on_hand"] == left
        assert state[("stock", product.id)]["change_no"] > cursor
        assert base_on_hand(db, world.store_id)[product.id] == left
        assert on_hand(db, world.store_id, product.id) == left
        cursor = new_cursor
