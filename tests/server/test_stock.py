"""Stock: receive, adjust and count change on hand by ledger moves; negative and low are flagged."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shared.models import Role
from sync_server.auth.models import User
from sync_server.core.database import Database
from sync_server.core.security import new_token
from sync_server.stock.models import StockLevel, StockMove
from sync_server.stock.service import on_hand_of
from tests.server.conftest import World, _api_token
from tests.server.sync_helpers import add_products, on_hand, push, sale_event, statuses


def _token_for(db: Database, role: Role, store_id: int | None) -> dict[str, str]:
    with db.session() as s:
        user = User(
            username=f"{role.value}-{new_token()[:6]}",
            full_name="X",
            role=role.value,
            store_id=store_id,
        )
        s.add(user)
        s.flush()
        token = _api_token(s, user)
    return {"Authorization": f"Bearer {token}"}


def _ledger_matches_levels(db: Database) -> None:
    """On hand (base plus the tills' deltas) is always the sum of the moves."""
    with db.session() as s:
        sums = {
            (int(store), int(product)): int(qty)
            for store, product, qty in s.execute(
                select(
                    StockMove.store_id, StockMove.product_id, func.sum(StockMove.quantity)
                ).group_by(StockMove.store_id, StockMove.product_id)
            )
        }
        stores = {store for store, _ in sums} | set(s.scalars(select(StockLevel.store_id)))
        levels = {
            (store, product): qty
            for store in stores
            for product, qty in on_hand_of(
                s,
                store_id=store,
                product_ids=sorted({p for st, p in sums if st == store}),
            ).items()
        }
        base_only = {
            (lvl.store_id, lvl.product_id)
            for lvl in s.scalars(select(StockLevel))
            if (lvl.store_id, lvl.product_id) not in sums
        }
    assert levels == sums
    assert not base_only, f"levels with no moves: {base_only}"


def test_receive_adjust_count_arithmetic(client: TestClient, db: Database, world: World) -> None:
    a, b = add_products(db, 2)
    headers = world.manager_headers()
    resp = client.post(
        "/api/v1/stock/receive",
        json={
            "lines": [{"product_id": a.id, "quantity": 24}, {"product_id": b.id, "quantity": 6}],
            "note": "PO-17",
        },
        headers=headers,
    )
    assert resp.status_code == 200, resp.text
    assert {lvl["product_id"]: lvl["on_hand"] for lvl in resp.json()["levels"]} == {
        a.id: 24,
        b.id: 6,
    }
    assert [m["kind"] for m in resp.json()["moves"]] == ["receive", "receive"]

    resp = client.post(
        "/api/v1/stock/adjust",
        json={"lines": [{"product_id": a.id, "quantity": -4}], "reason": "pecah"},
        headers=headers,
    )
    assert resp.status_code == 200, resp.text
    assert on_hand(db, world.store_id, a.id) == 20

    # A sale lands between the adjustment and the count: the count sees it.
    sale = sale_event(terminal_code="T01", cashier_id=world.cashier_ids[0], items=[(a, 3)])
    assert statuses(push(client, world.terminal_headers(0), [sale])) == ["applied"]
    resp = client.post(
        "/api/v1/stock/count",
        json={"lines": [{"product_id": a.id, "counted": 15}, {"product_id": b.id, "counted": 6}]},
        headers=headers,
    )
    assert resp.status_code == 200, resp.text
    moves = {m["product_id"]: m["quantity"] for m in resp.json()["moves"]}
    assert moves == {a.id: 15 - 17, b.id: 0}
    assert on_hand(db, world.store_id, a.id) == 15
    assert on_hand(db, world.store_id, b.id) == 6
    _ledger_matches_levels(db)

    history = client.get("/api/v1/stock/moves", params={"product_id": a.id}, headers=headers)
    assert history.status_code == 200
    assert sorted(m["kind"] for m in history.json()) == ["adjust", "count", "receive", "sale"]


def test_negative_and_low_stock_are_flagged(client: TestClient, db: Database, world: World) -> None:
    plenty, low, negative = add_products(db, 3, low_stock_threshold=5)
    headers = world.manager_headers()
    client.post(
        "/api/v1/stock/receive",
        json={
            "lines": [
                {"product_id": plenty.id, "quantity": 50},
                {"product_id": low.id, "quantity": 5},
            ]
        },
        headers=headers,
    )
    sale = sale_event(terminal_code="T01", cashier_id=world.cashier_ids[0], items=[(negative, 2)])
    assert statuses(push(client, world.terminal_headers(0), [sale])) == ["applied"]

    levels = client.get("/api/v1/stock/levels", headers=headers).json()
    flags = {lvl["product_id"]: (lvl["on_hand"], lvl["negative"], lvl["low"]) for lvl in levels}
    assert flags == {
        plenty.id: (50, False, False),
        low.id: (5, False, True),
        negative.id: (-2, True, True),
    }
    only_negative = client.get(
        "/api/v1/stock/levels", params={"only": "negative"}, headers=headers
    ).json()
    assert [lvl["product_id"] for lvl in only_negative] == [negative.id]
    only_low = client.get("/api/v1/stock/levels", params={"only": "low"}, headers=headers).json()
    assert [lvl["product_id"] for lvl in only_low] == [low.id, negative.id]


def test_bad_stock_input_changes_nothing(client: TestClient, db: Database, world: World) -> None:
    (a,) = add_products(db)
    headers = world.manager_headers()
    cases = [
        ("/api/v1/stock/receive", {"lines": [{"product_id": a.id, "quantity": 0}]}, 422, "invalid"),
        ("/api/v1/stock/adjust", {"lines": [{"product_id": a.id, "quantity": 3}]}, 422, "invalid"),
        (
            "/api/v1/stock/adjust",
            {"lines": [{"product_id": a.id, "quantity": 3}], "reason": ""},
            422,
            "invalid",
        ),
        (
            "/api/v1/stock/receive",
            {"lines": [{"product_id": 99_999, "quantity": 1}]},
            422,
            "unknown_product",
        ),
        (
            "/api/v1/stock/count",
            {"lines": [{"product_id": a.id, "counted": 1}, {"product_id": a.id, "counted": 2}]},
            422,
            "duplicate_product",
        ),
        (
            "/api/v1/stock/receive",
            {"store_id": world.other_store_id, "lines": [{"product_id": a.id, "quantity": 1}]},
            403,
            "other_store",
        ),
    ]
    for path, body, status, code in cases:
        resp = client.post(path, json=body, headers=headers)
        assert resp.status_code == status, (path, body, resp.text)
        assert resp.json()["error"]["code"] == code
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(StockMove)) == 0


def test_who_may_change_stock(client: TestClient, db: Database, world: World) -> None:
    (a,) = add_products(db)
    receive = {"lines": [{"product_id": a.id, "quantity": 2}]}
    line = {**receive, "reason": "ketemu"}
    supervisor = _token_for(db, Role.SUPERVISOR, world.store_id)
    admin = _token_for(db, Role.ADMIN, None)
    assert (
        client.post(
            "/api/v1/stock/receive", json=receive, headers=world.cashier_headers()
        ).status_code
        == 403
    )
    assert client.post("/api/v1/stock/receive", json=receive, headers=supervisor).status_code == 200
    assert client.post("/api/v1/stock/adjust", json=line, headers=supervisor).status_code == 403
    # A store-less admin names the store; without it there is nothing to act on.
    assert (
        client.post("/api/v1/stock/adjust", json=line, headers=admin).json()["error"]["code"]
        == "store_required"
    )
    other = {**line, "store_id": world.other_store_id}
    assert client.post("/api/v1/stock/adjust", json=other, headers=admin).status_code == 200
    assert on_hand(db, world.store_id, a.id) == 2
    assert on_hand(db, world.other_store_id, a.id) == 2
    assert client.get("/api/v1/stock/levels", headers=world.terminal_headers(0)).status_code == 403
