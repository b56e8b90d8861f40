"""Stock transfers between outlets: draft, sent, received (in part, the rest a loss with
its reason) or cancelled; stock exact on both outlets at every step, in transit visible,
applied once under the client's id; the other outlet's manager refused. Runs on SQLite
and MariaDB."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sync_server.auth.models import User
from sync_server.core.database import Database
from sync_server.outlets import service as outlets_service
from sync_server.outlets.models import StockTransfer
from sync_server.outlets.schemas import TransferIn, TransferReceiveIn
from sync_server.stock.models import StockMove
from tests.server.conftest import StoreStaff, World, detached_row
from tests.server.sync_helpers import add_products, all_at_once, on_hand, stock_up

API = "/api/v1/outlets"


def theirs(staff: StoreStaff) -> dict[str, str]:
    """Headers of the other store's manager."""
    return {"Authorization": f"Bearer {staff.manager_token}"}


def transfer_body(
    world: World, lines: list[tuple[int, int]], *, send: bool = False, note: str = ""
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "from_store_id": world.store_id,
        "to_store_id": world.other_store_id,
        "lines": [{"product_id": pid, "quantity": qty} for pid, qty in lines],
        "note": note,
        "send": send,
    }


def stock(db: Database, world: World, product_id: int) -> tuple[int, int]:
    """(on hand at S01, on hand at S02)."""
    return on_hand(db, world.store_id, product_id), on_hand(db, world.other_store_id, product_id)


def moves_of(db: Database, transfer_id: str) -> list[tuple[int, str, int, str]]:
    with db.session() as s:
        rows = s.execute(
            select(StockMove.store_id, StockMove.kind, StockMove.quantity, StockMove.note)
            .where(StockMove.ref_id == transfer_id)
            .order_by(StockMove.store_id, StockMove.quantity)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_a_transfer_moves_stock_exactly_at_each_step(
    client: TestClient, db: Database, world: World, other_staff: StoreStaff
) -> None:
    kopi, teh = add_products(db, 2)
    stock_up(db, world.store_id, kopi.id, 10)
    stock_up(db, world.store_id, teh.id, 4)
    stock_up(db, world.other_store_id, kopi.id, 1)
    body = transfer_body(world, [(kopi.id, 3), (teh.id, 4)], note="Stok akhir pekan")
    made = client.post(f"{API}/transfers", json=body, headers=world.manager_headers())
    assert made.status_code == 200, made.text
    assert made.json()["status"] == "draft"
    assert stock(db, world, kopi.id) == (10, 1)  # a draft moves nothing

    tid = body["id"]
    sent = client.post(f"{API}/transfers/{tid}/send", headers=world.manager_headers())
    assert sent.json()["status"] == "sent"
    assert stock(db, world, kopi.id) == (7, 1)
    assert stock(db, world, teh.id) == (0, 0)

    # In transit: per product and per outlet, both ways.
    incoming = client.get(
        f"{API}/{world.other_store_id}/in-transit", headers=theirs(other_staff)
    ).json()
    assert {r["product_id"]: (r["incoming"], r["outgoing"]) for r in incoming} == {
        kopi.id: (3, 0),
        teh.id: (4, 0),
    }
    across = client.get(f"{API}/stock/{kopi.id}", headers=world.admin_headers()).json()
    by_store = {o["store_id"]: o for o in across["outlets"]}
    assert (by_store[world.store_id]["on_hand"], by_store[world.store_id]["in_transit_out"]) == (
        7,
        3,
    )
    assert (
        by_store[world.other_store_id]["on_hand"],
        by_store[world.other_store_id]["in_transit_in"],
    ) == (1, 3)
    # A manager sees their own outlet only.
    mine = client.get(f"{API}/stock/{kopi.id}", headers=world.manager_headers()).json()
    assert [o["store_id"] for o in mine["outlets"]] == [world.store_id]

    # Only the destination receives.
    refused = client.post(
        f"{API}/transfers/{tid}/receive", json={}, headers=world.manager_headers()
    )
    assert refused.status_code == 403
    got = client.post(f"{API}/transfers/{tid}/receive", json={}, headers=theirs(other_staff))
    assert got.status_code == 200, got.text
    assert got.json()["status"] == "received"
    assert [line["received"] for line in got.json()["lines"]] == [3, 4]
    assert stock(db, world, kopi.id) == (7, 4)
    assert stock(db, world, teh.id) == (0, 4)
    assert (
        client.get(f"{API}/{world.store_id}/in-transit", headers=world.manager_headers()).json()
        == []
    )
    # Received is final: it cannot be cancelled, and receiving again changes nothing.
    late = client.post(f"{API}/transfers/{tid}/cancel", headers=world.manager_headers())
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "transfer_state"
    again = client.post(f"{API}/transfers/{tid}/receive", json={}, headers=theirs(other_staff))
    assert again.status_code == 200
    assert stock(db, world, kopi.id) == (7, 4)
    listed = client.get(f"{API}/{world.other_store_id}/transfers", headers=theirs(other_staff))
    assert [t["id"] for t in listed.json()] == [tid]


def test_a_partial_receipt_records_the_shortfall_as_a_loss_with_its_reason(
    client: TestClient, db: Database, world: World, other_staff: StoreStaff
) -> None:
    (kopi,) = add_products(db, 1)
    stock_up(db, world.store_id, kopi.id, 10)
    body = transfer_body(world, [(kopi.id, 5)], send=True)
    assert (
        client.post(f"{API}/transfers", json=body, headers=world.manager_headers()).json()["status"]
        == "sent"
    )
    tid = body["id"]
    short = {"lines": [{"product_id": kopi.id, "received": 3}]}
    refused = client.post(f"{API}/transfers/{tid}/receive", json=short, headers=theirs(other_staff))
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "transfer_loss_reason"
    too_many = {"lines": [{"product_id": kopi.id, "received": 6}], "loss_reason": "x"}
    resp = client.post(f"{API}/transfers/{tid}/receive", json=too_many, headers=theirs(other_staff))
    assert resp.status_code == 422
    assert stock(db, world, kopi.id) == (5, 0)

    short["loss_reason"] = "2 botol pecah di jalan"
    got = client.post(f"{API}/transfers/{tid}/receive", json=short, headers=theirs(other_staff))
    assert got.status_code == 200, got.text
    assert got.json()["loss_reason"] == "2 botol pecah di jalan"
    assert stock(db, world, kopi.id) == (5, 3)
    moves = moves_of(db, tid)
    assert [(store, kind, qty) for store, kind, qty, _ in moves] == [
        (world.store_id, "adjust", -5),
        (world.other_store_id, "adjust", -2),
        (world.other_store_id, "receive", 5),
    ]
    assert "2 botol pecah di jalan" in moves[1][3]


def test_cancelling_a_sent_transfer_gives_the_source_its_stock_back(
    client: TestClient, db: Database, world: World, other_staff: StoreStaff
) -> None:
    (kopi,) = add_products(db, 1)
    stock_up(db, world.store_id, kopi.id, 8)
    body = transfer_body(world, [(kopi.id, 6)], send=True)
    client.post(f"{API}/transfers", json=body, headers=world.manager_headers())
    assert stock(db, world, kopi.id) == (2, 0)
    tid = body["id"]
    # Not the destination's to cancel.
    assert (
        client.post(f"{API}/transfers/{tid}/cancel", headers=theirs(other_staff)).status_code == 403
    )
    done = client.post(f"{API}/transfers/{tid}/cancel", headers=world.manager_headers())
    assert done.json()["status"] == "cancelled"
    assert stock(db, world, kopi.id) == (8, 0)
    # Cancelling again changes nothing; a cancelled transfer can be neither sent nor received.
    assert (
        client.post(f"{API}/transfers/{tid}/cancel", headers=world.manager_headers()).json()[
            "status"
        ]
        == "cancelled"
    )
    assert (
        client.post(f"{API}/transfers/{tid}/send", headers=world.manager_headers()).status_code
        == 409
    )
    resp = client.post(f"{API}/transfers/{tid}/receive", json={}, headers=theirs(other_staff))
    assert resp.status_code == 409
    assert stock(db, world, kopi.id) == (8, 0)
    # A draft cancelled never moved anything.
    draft = transfer_body(world, [(kopi.id, 1)])
    client.post(f"{API}/transfers", json=draft, headers=world.manager_headers())
    client.post(f"{API}/transfers/{draft['id']}/cancel", headers=world.manager_headers())
    assert stock(db, world, kopi.id) == (8, 0)
    assert moves_of(db, draft["id"]) == []


def test_the_same_transfer_twice_is_applied_once(
    client: TestClient, db: Database, world: World
) -> None:
    (kopi,) = add_products(db, 1)
    stock_up(db, world.store_id, kopi.id, 10)
    body = transfer_body(world, [(kopi.id, 4)], send=True)
    first = client.post(f"{API}/transfers", json=body, headers=world.manager_headers())
    second = client.post(f"{API}/transfers", json=body, headers=world.manager_headers())
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert (
        client.post(f"{API}/transfers/{body['id']}/send", headers=world.manager_headers()).json()[
            "status"
        ]
        == "sent"
    )
    assert stock(db, world, kopi.id) == (6, 0)
    assert len(moves_of(db, body["id"])) == 1
    other = {**body, "lines": [{"product_id": kopi.id, "quantity": 5}]}
    clash = client.post(f"{API}/transfers", json=other, headers=world.manager_headers())
    assert clash.status_code == 409
    assert clash.json()["error"]["code"] == "transfer_conflict"
    assert stock(db, world, kopi.id) == (6, 0)


def test_a_manager_of_s02_cannot_move_s01s_stock(
    client: TestClient, db: Database, world: World, other_staff: StoreStaff
) -> None:
    (kopi,) = add_products(db, 1)
    stock_up(db, world.store_id, kopi.id, 10)
    body = transfer_body(world, [(kopi.id, 4)], send=True)
    resp = client.post(f"{API}/transfers", json=body, headers=theirs(other_staff))
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "other_store"
    draft = transfer_body(world, [(kopi.id, 4)])
    client.post(f"{API}/transfers", json=draft, headers=world.manager_headers())
    for step in ("send", "cancel"):
        resp = client.post(f"{API}/transfers/{draft['id']}/{step}", headers=theirs(other_staff))
        assert resp.status_code == 403, step
    supervisor = {"Authorization": f"Bearer {other_staff.supervisor_token}"}
    assert client.post(f"{API}/transfers", json=body, headers=supervisor).status_code == 403
    assert (
        client.get(f"{API}/{world.store_id}/transfers", headers=theirs(other_staff)).status_code
        == 403
    )
    assert stock(db, world, kopi.id) == (10, 0)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(StockTransfer)) == 1
        assert s.scalar(select(StockTransfer.status)) == "draft"


def test_bad_transfer_input_is_refused_never_500(
    client: TestClient, db: Database, world: World
) -> None:
    (kopi,) = add_products(db, 1)
    good = transfer_body(world, [(kopi.id, 1)])
    bad_bodies: list[Any] = [
        {},
        [],
        {**good, "id": "bukan-uuid"},
        {**good, "to_store_id": world.store_id},
        {**good, "to_store_id": 999_999},
        {**good, "to_store_id": 2**63},
        {**good, "from_store_id": 0},
        {**good, "lines": []},
        {**good, "lines": [{"product_id": kopi.id, "quantity": 0}]},
        {**good, "lines": [{"product_id": kopi.id, "quantity": 10**7}]},
        {**good, "lines": [{"product_id": kopi.id, "quantity": "3"}]},
        {**good, "lines": [{"product_id": kopi.id, "quantity": 1}] * 2},
        {**good, "lines": [{"product_id": 999_999, "quantity": 1}]},
        {**good, "note": "x" * 201},
        {**good, "extra": True},
    ]
    for body in bad_bodies:
        if isinstance(body, dict) and "id" in body and body["id"] != "bukan-uuid":
            body = {**body, "id": str(uuid.uuid4())}
        resp = client.post(f"{API}/transfers", json=body, headers=world.admin_headers())
        assert 400 <= resp.status_code < 500, (body, resp.status_code, resp.text)
    unknown = uuid.uuid4()
    for method, url, payload in [
        ("POST", f"{API}/transfers/{unknown}/send", None),
        ("POST", f"{API}/transfers/{unknown}/receive", {}),
        ("POST", f"{API}/transfers/{unknown}/cancel", None),
        ("GET", f"{API}/transfers/{unknown}", None),
        ("GET", f"{API}/transfers/not-a-uuid", None),
        ("POST", f"{API}/transfers/not-a-uuid/send", None),
        ("GET", f"{API}/{world.store_id}/transfers?status=lost", None),
        ("GET", f"{API}/{world.store_id}/transfers?limit=0", None),
        ("GET", f"{API}/999999/in-transit", None),
    ]:
        resp = client.request(method, url, json=payload, headers=world.admin_headers())
        assert 400 <= resp.status_code < 500, (url, resp.status_code, resp.text)
    sent = transfer_body(world, [(kopi.id, 2)], send=True)
    client.post(f"{API}/transfers", json=sent, headers=world.admin_headers())
    for payload in [
        {"lines": [{"product_id": 999_999, "received": 1}]},
        {"lines": [{"product_id": kopi.id, "received": -1}]},
        {"lines": [{"product_id": kopi.id, "received": 1}], "loss_reason": "x" * 201},
        {"lines": "semua"},
    ]:
        resp = client.post(
            f"{API}/transfers/{sent['id']}/receive", json=payload, headers=world.admin_headers()
        )
        assert 400 <= resp.status_code < 500, (payload, resp.status_code, resp.text)
    assert stock(db, world, kopi.id) == (-2, 0)


def test_the_same_step_at_once_from_several_threads_moves_stock_once(
    client: TestClient, db: Database, world: World, other_staff: StoreStaff
) -> None:
    (kopi,) = add_products(db, 1)
    stock_up(db, world.store_id, kopi.id, 10)
    manager = detached_row(db, User, world.manager_id)
    receiver = detached_row(db, User, other_staff.manager_id)
    body = TransferIn.model_validate(transfer_body(world, [(kopi.id, 4)]))

    def make() -> str:
        return outlets_service.create_transfer(db, user=manager, body=body).status.value

    def send() -> str:
        return outlets_service.send_transfer(db, user=manager, transfer_id=body.id).status.value

    def receive() -> str:
        done = outlets_service.receive_transfer(
            db, user=receiver, transfer_id=body.id, body=TransferReceiveIn()
        )
        return done.status.value

    assert set(all_at_once([make] * 4)) == {"draft"}
    assert set(all_at_once([send] * 4)) == {"sent"}
    assert stock(db, world, kopi.id) == (6, 0)
    assert set(all_at_once([receive] * 4)) == {"received"}
    assert stock(db, world, kopi.id) == (6, 4)
    assert len(moves_of(db, str(body.id))) == 2
