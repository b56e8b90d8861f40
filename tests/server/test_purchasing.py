"""Purchasing: suppliers, purchase orders through every transition, receiving with the
moving-average cost, idempotent receipts, no over-receiving under concurrency, stock
requests and reorder suggestions (SQLite and MariaDB)."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sync_server.auth.models import User
from sync_server.core.database import Database
from sync_server.core.errors import AppError
from sync_server.purchasing import service
from sync_server.purchasing.models import ProductCost, PurchaseOrderLine
from sync_server.purchasing.schemas import OrderReceiptIn, ReceiptLineIn
from sync_server.stock.models import StockMove
from sync_server.stock.service import moving_average
from tests.server.conftest import World, assert_refused, detached_row
from tests.server.sync_helpers import add_products, all_at_once, on_hand


def _supplier(client: TestClient, world: World, name: str = "CV Sumber Rejeki") -> int:
    resp = client.post(
        "/api/v1/suppliers",
        json={"name": name, "phone": "0812-3456-7890", "address": "Jl. Pasar 3"},
        headers=world.manager_headers(),
    )
    assert resp.status_code == 201, resp.text
    return int(resp.json()["id"])


def _order(
    client: TestClient, world: World, supplier_id: int, lines: list[tuple[int, int, int]]
) -> dict[str, Any]:
    resp = client.post(
        "/api/v1/purchase-orders",
        json={
            "supplier_id": supplier_id,
            "lines": [{"product_id": p, "quantity": q, "unit_cost": c} for p, q, c in lines],
        },
        headers=world.manager_headers(),
    )
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _act(client: TestClient, world: World, order_id: int, action: str) -> Any:
    return client.post(
        f"/api/v1/purchase-orders/{order_id}/{action}", headers=world.manager_headers()
    )


def _receive(
    client: TestClient,
    world: World,
    order_id: int,
    lines: list[tuple[int, int, int | None]],
    receipt_id: str | None = None,
) -> Any:
    return client.post(
        f"/api/v1/purchase-orders/{order_id}/receive",
        json={
            "receipt_id": receipt_id or str(uuid.uuid4()),
            "lines": [
                {"product_id": p, "quantity": q, **({} if c is None else {"unit_cost": c})}
                for p, q, c in lines
            ],
        },
        headers=world.manager_headers(),
    )


def _avg(db: Database, store_id: int, product_id: int) -> int | None:
    with db.session() as s:
        row = s.get(ProductCost, (store_id, product_id))
        return None if row is None else row.avg_cost


def test_suppliers_are_kept_and_checked(client: TestClient, world: World) -> None:
    sid = _supplier(client, world)
    resp = client.put(
        f"/api/v1/suppliers/{sid}",
        json={"name": "  CV Sumber Rejeki  ", "phone": "+62 812 1", "active": False},
        headers=world.manager_headers(),
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["name"] == "CV Sumber Rejeki"
    assert resp.json()["active"] is False
    listed = client.get("/api/v1/suppliers", headers=world.manager_headers()).json()
    assert [s["id"] for s in listed] == [sid]
    for bad in (
        {"name": ""},
        {"name": "   "},
        {"name": "A", "phone": "call me"},
        {"name": "x" * 121},
    ):
        resp = client.post("/api/v1/suppliers", json=bad, headers=world.manager_headers())
        assert resp.status_code == 422, (bad, resp.text)
    assert_refused(
        client.get("/api/v1/suppliers/999999", headers=world.manager_headers()),
        404,
        "supplier_not_found",
    )
    assert (
        client.post(
            "/api/v1/suppliers", json={"name": "X"}, headers=world.cashier_headers()
        ).status_code
        == 403
    )
    # An inactive supplier takes no new orders.
    (product,) = add_products(client.app.state.db)  # type: ignore[attr-defined]
    resp = client.post(
        "/api/v1/purchase-orders",
        json={
            "supplier_id": sid,
            "lines": [{"product_id": product.id, "quantity": 1, "unit_cost": 1}],
        },
        headers=world.manager_headers(),
    )
    assert_refused(resp, 422, "supplier_inactive")


def test_order_lifecycle_every_transition(client: TestClient, db: Database, world: World) -> None:
    a, b = add_products(db, 2)
    sid = _supplier(client, world)
    order = _order(client, world, sid, [(a.id, 10, 1_000), (b.id, 4, 2_500)])
    assert order["status"] == "draft"
    assert order["total_cost"] == 10 * 1_000 + 4 * 2_500
    oid = order["id"]
    # A draft cannot be received.
    assert_refused(_receive(client, world, oid, [(a.id, 1, None)]), 409, "po_bad_transition")
    assert _act(client, world, oid, "send").json()["status"] == "sent"
    assert_refused(_act(client, world, oid, "send"), 409, "po_bad_transition")
    resp = _receive(client, world, oid, [(a.id, 4, None)])
    assert resp.status_code == 200, resp.text
    assert resp.json()["order"]["status"] == "partial"
    # Partly received: no cancel, no send.
    assert_refused(_act(client, world, oid, "cancel"), 409, "po_bad_transition")
    assert_refused(_act(client, world, oid, "send"), 409, "po_bad_transition")
    resp = _receive(client, world, oid, [(a.id, 6, None), (b.id, 4, None)])
    assert resp.json()["order"]["status"] == "received"
    assert resp.json()["order"]["closed_at"] is not None
    assert_refused(_receive(client, world, oid, [(a.id, 1, None)]), 409, "po_bad_transition")
    assert_refused(_act(client, world, oid, "cancel"), 409, "po_bad_transition")
    assert on_hand(db, world.store_id, a.id) == 10
    assert on_hand(db, world.store_id, b.id) == 4
    # Cancel from draft and from sent; a cancelled order does nothing more.
    draft = _order(client, world, sid, [(a.id, 1, 1)])
    assert _act(client, world, draft["id"], "cancel").json()["status"] == "cancelled"
    assert_refused(_act(client, world, draft["id"], "send"), 409, "po_bad_transition")
    sent = _order(client, world, sid, [(a.id, 1, 1)])
    _act(client, world, sent["id"], "send")
    assert _act(client, world, sent["id"], "cancel").json()["status"] == "cancelled"
    assert_refused(_receive(client, world, sent["id"], [(a.id, 1, None)]), 409, "po_bad_transition")
    listed = client.get(
        "/api/v1/purchase-orders?status=cancelled", headers=world.manager_headers()
    ).json()
    assert {o["id"] for o in listed} == {draft["id"], sent["id"]}


def test_receiving_moves_on_hand_and_average_cost_exactly(
    client: TestClient, db: Database, world: World
) -> None:
    """Worked example: 10 @ 1.000 onto an empty shelf, then 5 @ 1.300, then 3 @ 1.001.

    avg = 1.000 (nothing on hand: the receipt's cost); then (10×1.000 + 5×1.300)/15 =
    16.500/15 = 1.100; then (15×1.100 + 3×1.001)/18 = 19.503/18 = 1.083,5 → 1.084 (half up).
    """
    (p,) = add_products(db)
    sid = _supplier(client, world)
    resp = client.post(
        "/api/v1/stock/receive",
        json={"lines": [{"product_id": p.id, "quantity": 10, "unit_cost": 1_000}]},
        headers=world.manager_headers(),
    )
    assert resp.status_code == 200, resp.text
    assert _avg(db, world.store_id, p.id) == 1_000
    order = _order(client, world, sid, [(p.id, 8, 1_300)])
    _act(client, world, order["id"], "send")
    resp = _receive(client, world, order["id"], [(p.id, 5, None)])
    assert resp.status_code == 200, resp.text
    assert resp.json()["costs"] == [{"product_id": p.id, "avg_cost": 1_100}]
    assert on_hand(db, world.store_id, p.id) == 15
    resp = _receive(client, world, order["id"], [(p.id, 3, 1_001)])
    assert resp.json()["costs"] == [{"product_id": p.id, "avg_cost": 1_084}]
    assert on_hand(db, world.store_id, p.id) == 18
    with db.session() as s:
        moves = s.execute(
            select(StockMove.kind, StockMove.quantity, StockMove.unit_cost)
            .where(StockMove.product_id == p.id)
            .order_by(StockMove.created_at, StockMove.quantity)
        ).all()
    assert sorted(tuple(m) for m in moves) == [
        ("receive", 3, 1_001),
        ("receive", 5, 1_300),
        ("receive", 10, 1_000),
    ]
    # Sold short (on hand ≤ 0): the next receipt's cost is the average.
    assert moving_average(on_hand_before=-2, avg_before=900, quantity=5, unit_cost=1_200) == 1_200
    assert moving_average(on_hand_before=3, avg_before=None, quantity=5, unit_cost=700) == 700
    assert moving_average(on_hand_before=1, avg_before=1, quantity=1, unit_cost=2) == 2  # 1,5 up


def test_receipts_are_idempotent(client: TestClient, db: Database, world: World) -> None:
    (p,) = add_products(db)
    sid = _supplier(client, world)
    order = _order(client, world, sid, [(p.id, 10, 500)])
    _act(client, world, order["id"], "send")
    rid = str(uuid.uuid4())
    first = _receive(client, world, order["id"], [(p.id, 4, None)], receipt_id=rid)
    again = _receive(client, world, order["id"], [(p.id, 4, None)], receipt_id=rid)
    assert first.status_code == again.status_code == 200
    assert first.json()["duplicate"] is False
    assert again.json()["duplicate"] is True
    assert again.json()["moves"] == first.json()["moves"]
    assert on_hand(db, world.store_id, p.id) == 4
    assert_refused(
        _receive(client, world, order["id"], [(p.id, 5, None)], receipt_id=rid),
        409,
        "receipt_conflict",
    )
    # A free receipt with an id: once as well; its id may not be reused for an order.
    body = {"receipt_id": str(uuid.uuid4()), "lines": [{"product_id": p.id, "quantity": 2}]}
    for _ in range(2):
        assert (
            client.post(
                "/api/v1/stock/receive", json=body, headers=world.manager_headers()
            ).status_code
            == 200
        )
    assert on_hand(db, world.store_id, p.id) == 6
    assert_refused(
        _receive(client, world, order["id"], [(p.id, 2, None)], receipt_id=body["receipt_id"]),
        409,
        "receipt_conflict",
    )


def test_no_over_receiving_and_unknown_lines(
    client: TestClient, db: Database, world: World
) -> None:
    a, b = add_products(db, 2)
    sid = _supplier(client, world)
    order = _order(client, world, sid, [(a.id, 3, 100)])
    _act(client, world, order["id"], "send")
    assert_refused(_receive(client, world, order["id"], [(a.id, 4, None)]), 409, "po_over_receive")
    assert_refused(
        _receive(client, world, order["id"], [(b.id, 1, None)]), 422, "po_product_not_ordered"
    )
    assert_refused(
        _receive(client, world, order["id"], [(a.id, 1, None), (a.id, 1, None)]),
        422,
        "duplicate_product",
    )
    assert on_hand(db, world.store_id, a.id) == 0


def test_concurrent_receipts_never_over_receive(
    client: TestClient, db: Database, world: World
) -> None:
    """Two receipts of 6 against 10 ordered, at once: one lands, the other is refused."""
    (p,) = add_products(db)
    sid = _supplier(client, world)
    order = _order(client, world, sid, [(p.id, 10, 1_000)])
    _act(client, world, order["id"], "send")
    manager = detached_row(db, User, world.manager_id)
    bodies = [
        OrderReceiptIn(receipt_id=uuid.uuid4(), lines=[ReceiptLineIn(product_id=p.id, quantity=6)])
        for _ in range(2)
    ]

    def receive(body: OrderReceiptIn) -> str:
        try:
            service.receive_order(db, user=manager, order_id=order["id"], body=body)
            return "ok"
        except AppError as exc:
            return exc.message_code

    outcomes = all_at_once([partial(receive, body) for body in bodies])
    assert sorted(outcomes) == ["ok", "po_over_receive"]
    with db.session() as s:
        received = s.scalar(
            select(PurchaseOrderLine.quantity_received).where(
                PurchaseOrderLine.order_id == order["id"]
            )
        )
    assert received == 6
    assert on_hand(db, world.store_id, p.id) == 6


def test_stock_requests_become_orders(client: TestClient, db: Database, world: World) -> None:
    a, b = add_products(db, 2)
    sid = _supplier(client, world)
    h = world.manager_headers()
    made = client.post(
        "/api/v1/stock-requests",
        json={"lines": [{"product_id": a.id, "quantity": 5}, {"product_id": b.id, "quantity": 2}]},
        headers=h,
    )
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    assert made.json()["status"] == "requested"
    assert_refused(
        client.post(f"/api/v1/stock-requests/{rid}/to-po", json={"supplier_id": sid}, headers=h),
        409,
        "request_bad_transition",
    )
    assert client.post(f"/api/v1/stock-requests/{rid}/approve", headers=h).json()["status"] == (
        "approved"
    )
    assert_refused(
        client.post(f"/api/v1/stock-requests/{rid}/reject", headers=h),
        409,
        "request_bad_transition",
    )
    order = client.post(f"/api/v1/stock-requests/{rid}/to-po", json={"supplier_id": sid}, headers=h)
    assert order.status_code == 201, order.text
    assert order.json()["status"] == "draft"
    assert order.json()["request_id"] == rid
    assert [(ln["product_id"], ln["quantity_ordered"]) for ln in order.json()["lines"]] == [
        (a.id, 5),
        (b.id, 2),
    ]
    got = client.get(f"/api/v1/stock-requests/{rid}", headers=h).json()
    assert got["status"] == "ordered"
    assert got["order_id"] == order.json()["id"]
    assert_refused(
        client.post(f"/api/v1/stock-requests/{rid}/to-po", json={"supplier_id": sid}, headers=h),
        409,
        "request_bad_transition",
    )
    other = client.post(
        "/api/v1/stock-requests", json={"lines": [{"product_id": a.id, "quantity": 1}]}, headers=h
    ).json()
    assert (
        client.post(f"/api/v1/stock-requests/{other['id']}/reject", headers=h).json()["status"]
        == "rejected"
    )
    assert_refused(
        client.post(f"/api/v1/stock-requests/{other['id']}/approve", headers=h),
        409,
        "request_bad_transition",
    )


def test_low_stock_suggests_an_order(client: TestClient, db: Database, world: World) -> None:
    low, fine = add_products(db, 2, low_stock_threshold=5)
    h = world.manager_headers()
    client.post(
        "/api/v1/stock/receive",
        json={
            "lines": [{"product_id": low.id, "quantity": 2}, {"product_id": fine.id, "quantity": 9}]
        },
        headers=h,
    )
    rows = client.get("/api/v1/stock/suggestions", headers=h).json()
    mine = {r["product_id"]: r for r in rows}
    assert low.id in mine and fine.id not in mine
    assert mine[low.id]["suggested_quantity"] == 2 * 5 - 2
    sid = _supplier(client, world)
    order = client.post("/api/v1/stock/suggestions/to-po", json={"supplier_id": sid}, headers=h)
    assert order.status_code == 201, order.text
    lines = {ln["product_id"]: ln["quantity_ordered"] for ln in order.json()["lines"]}
    assert lines[low.id] == 8
    # What is on order counts: nothing more to suggest for that product.
    again = {r["product_id"] for r in client.get("/api/v1/stock/suggestions", headers=h).json()}
    assert low.id not in again


def test_other_stores_orders_are_out_of_reach(
    client: TestClient, db: Database, world: World
) -> None:
    (p,) = add_products(db)
    sid = _supplier(client, world)
    resp = client.post(
        "/api/v1/purchase-orders",
        json={
            "store_id": world.other_store_id,
            "supplier_id": sid,
            "lines": [{"product_id": p.id, "quantity": 1, "unit_cost": 1}],
        },
        headers=world.admin_headers(),
    )
    assert resp.status_code == 201, resp.text
    oid = resp.json()["id"]
    assert_refused(
        client.get(f"/api/v1/purchase-orders/{oid}", headers=world.manager_headers()),
        403,
        "other_store",
    )
    assert_refused(_act(client, world, oid, "send"), 403, "other_store")
    assert (
        client.get(f"/api/v1/purchase-orders/{oid}", headers=world.admin_headers()).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/purchase-orders", {"supplier_id": 2**70, "lines": []}),
        (
            "post",
            "/api/v1/purchase-orders",
            {"supplier_id": 1, "lines": [{"product_id": 1, "quantity": -1, "unit_cost": 1}]},
        ),
        (
            "post",
            "/api/v1/purchase-orders",
            {"supplier_id": 1, "lines": [{"product_id": 1, "quantity": 1, "unit_cost": 10**20}]},
        ),
        ("post", "/api/v1/purchase-orders", {"supplier_id": "x", "lines": "y"}),
        (
            "post",
            "/api/v1/purchase-orders",
            {
                "supplier_id": 999999,
                "lines": [{"product_id": 999999, "quantity": 1, "unit_cost": 1}],
            },
        ),
        ("get", "/api/v1/purchase-orders/99999999999999999999", None),
        ("get", "/api/v1/purchase-orders/0", None),
        ("post", "/api/v1/purchase-orders/999999/receive", {"receipt_id": "nope", "lines": []}),
        (
            "post",
            "/api/v1/purchase-orders/999999/receive",
            {"receipt_id": str(uuid.uuid4()), "lines": [{"product_id": 1, "quantity": 1}]},
        ),
        ("post", "/api/v1/stock-requests", {"lines": [{"product_id": 1, "quantity": 2**40}]}),
        (
            "post",
            "/api/v1/stock-requests",
            {"note": "\x00", "lines": [{"product_id": 1, "quantity": 1}]},
        ),
        ("post", "/api/v1/stock-requests/999999/to-po", {"supplier_id": 0}),
        ("post", "/api/v1/suppliers", {"name": "a\x07b"}),
        ("put", "/api/v1/suppliers/999999", {"name": "b"}),
        ("get", "/api/v1/stock/suggestions?store_id=99999999", None),
        (
            "post",
            "/api/v1/stock/receive",
            {
                "receipt_id": str(uuid.uuid4()),
                "lines": [{"product_id": 2**62, "quantity": 1, "unit_cost": -5}],
            },
        ),
        ("get", "/api/v1/stock/levels?after=-1", None),
    ],
)
def test_bad_input_is_never_a_500(
    client: TestClient, world: World, method: str, path: str, body: Any
) -> None:
    kwargs: dict[str, Any] = {"headers": world.admin_headers()}
    if body is not None:
        kwargs["json"] = body
    resp = getattr(client, method)(path, **kwargs)
    assert 400 <= resp.status_code < 500, resp.text


def test_concurrent_receipts_of_one_product_average_exactly(
    client: TestClient, db: Database, world: World
) -> None:
    """10 @ 1.000 and 10 @ 2.000 at once onto an empty shelf: in either order the average
    is (10×1.000 + 10×2.000)/20 = 1.500 (each receipt reads on hand under the lock)."""
    from sync_server.stock.schemas import ReceiveIn, ReceiveLine

    (p,) = add_products(db)
    manager = detached_row(db, User, world.manager_id)
    bodies = [
        ReceiveIn(
            receipt_id=uuid.uuid4(),
            lines=[ReceiveLine(product_id=p.id, quantity=10, unit_cost=cost)],
        )
        for cost in (1_000, 2_000)
    ]
    failures: list[BaseException] = []

    def receive(body: ReceiveIn) -> None:
        try:
            service.receive_free(db, user=manager, body=body)
        except BaseException as exc:
            failures.append(exc)

    all_at_once([partial(receive, body) for body in bodies])
    assert failures == []
    assert on_hand(db, world.store_id, p.id) == 20
    assert _avg(db, world.store_id, p.id) == 1_500
