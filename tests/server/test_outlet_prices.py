"""Per-outlet prices: set and cleared by the outlet's manager or an admin, pulled by that
outlet's tills only (never missed while a till pulls in pages), and checked by ingest
like the chain's price history. Runs on SQLite and MariaDB."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shared.models import PROTOCOL_HEADER, PROTOCOL_VERSION
from sync_server.core.database import Database
from sync_server.flags.models import Flag
from sync_server.outlets.models import OutletPrice, OutletPriceHistory
from tests.server.conftest import StoreStaff, World
from tests.server.sync_helpers import CatalogProduct, add_products, push, sale_event, statuses


def till_headers(staff: StoreStaff) -> dict[str, str]:
    """Headers of the other store's enrolled till."""
    return {
        "Authorization": f"Bearer {staff.terminal_token}",
        PROTOCOL_HEADER: str(PROTOCOL_VERSION),
    }


def pull_all(
    client: TestClient, headers: dict[str, str], cursor: int = 0, limit: int = 500
) -> tuple[dict[int, dict[str, Any]], int]:
    """Every product row pulled above ``cursor`` (the last version of each) and the end cursor."""
    products: dict[int, dict[str, Any]] = {}
    while True:
        resp = client.get(
            "/api/v1/sync/pull", params={"cursor": cursor, "limit": limit}, headers=headers
        )
        assert resp.status_code == 200, resp.text
        page = resp.json()
        for row in page["products"]:
            products[row["id"]] = row
        cursor = page["cursor"]
        if not page["has_more"]:
            return products, cursor


def set_price(
    client: TestClient, headers: dict[str, str], store_id: int, product_id: int, price: int
) -> Any:
    return client.put(
        f"/api/v1/outlets/{store_id}/prices",
        json={"product_id": product_id, "price": price},
        headers=headers,
    )


def flags_of(db: Database, sale: dict[str, Any]) -> list[str]:
    with db.session() as s:
        return sorted(
            s.scalars(select(Flag.kind).where(Flag.sale_id == uuid.UUID(sale["payload"]["id"])))
        )


def test_an_override_reaches_its_outlets_tills_only(
    client: TestClient, db: Database, world: World, other_staff: StoreStaff
) -> None:
    kopi, teh = add_products(db, 2, price=10_000)
    resp = set_price(client, world.manager_headers(), world.store_id, kopi.id, 12_500)
    assert resp.status_code == 200, resp.text
    assert resp.json()["effective_price"] == 12_500
    assert resp.json()["chain_price"] == 10_000

    ours, our_cursor = pull_all(client, world.terminal_headers(0))
    theirs, their_cursor = pull_all(client, till_headers(other_staff))
    assert (ours[kopi.id]["price"], ours[teh.id]["price"]) == (12_500, 10_000)
    assert (theirs[kopi.id]["price"], theirs[teh.id]["price"]) == (10_000, 10_000)

    # A change set later reaches our next pull, and nothing of it the other outlet's.
    assert (
        set_price(client, world.admin_headers(), world.store_id, teh.id, 9_000).status_code == 200
    )
    ours, our_cursor = pull_all(client, world.terminal_headers(1), cursor=our_cursor)
    assert {pid: row["price"] for pid, row in ours.items()} == {teh.id: 9_000}
    theirs, _ = pull_all(client, till_headers(other_staff), cursor=their_cursor)
    assert theirs == {}

    listed = client.get(f"/api/v1/outlets/{world.store_id}/prices", headers=world.manager_headers())
    assert [(r["product_id"], r["price"]) for r in listed.json()] == [
        (kopi.id, 12_500),
        (teh.id, 9_000),
    ]
    other_list = client.get(
        f"/api/v1/outlets/{world.other_store_id}/prices", headers=world.admin_headers()
    )
    assert other_list.json() == []


def test_a_cleared_override_gives_the_chain_price_back_at_the_next_pull(
    client: TestClient, db: Database, world: World
) -> None:
    (kopi,) = add_products(db, 1, price=10_000)
    set_price(client, world.manager_headers(), world.store_id, kopi.id, 12_500)
    _, cursor = pull_all(client, world.terminal_headers(0))
    resp = client.delete(
        f"/api/v1/outlets/{world.store_id}/prices/{kopi.id}", headers=world.manager_headers()
    )
    assert resp.status_code == 200, resp.text
    assert (resp.json()["price"], resp.json()["effective_price"]) == (None, 10_000)
    pulled, cursor = pull_all(client, world.terminal_headers(0), cursor=cursor)
    assert pulled[kopi.id]["price"] == 10_000
    # Clearing again, or setting the same price twice, numbers nothing new.
    client.delete(
        f"/api/v1/outlets/{world.store_id}/prices/{kopi.id}", headers=world.manager_headers()
    )
    assert pull_all(client, world.terminal_headers(0), cursor=cursor)[0] == {}
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutletPriceHistory)) == 2


def test_an_override_set_while_a_till_pulls_in_pages_is_not_missed(
    client: TestClient, db: Database, world: World
) -> None:
    products = add_products(db, 30, price=5_000)
    headers = world.terminal_headers(0)
    first = client.get("/api/v1/sync/pull", params={"cursor": 0, "limit": 10}, headers=headers)
    page = first.json()
    assert page["has_more"]
    seen = {row["id"] for row in page["products"]}
    early = next(p for p in products if p.id in seen)  # already delivered
    late = products[-1]  # not yet delivered
    assert late.id not in seen
    set_price(client, world.manager_headers(), world.store_id, early.id, 6_000)
    set_price(client, world.manager_headers(), world.store_id, late.id, 7_000)
    rest, _ = pull_all(client, headers, cursor=page["cursor"], limit=10)
    final = {row["id"]: row["price"] for row in page["products"]} | {
        pid: row["price"] for pid, row in rest.items()
    }
    assert final[early.id] == 6_000
    assert final[late.id] == 7_000
    assert {final[p.id] for p in products if p not in (early, late)} == {5_000}


def test_ingest_checks_a_line_against_the_outlets_price(
    client: TestClient, db: Database, world: World, other_staff: StoreStaff
) -> None:
    (kopi,) = add_products(db, 1, price=10_000)
    _, before = pull_all(client, world.terminal_headers(0))
    set_price(client, world.manager_headers(), world.store_id, kopi.id, 12_000)
    _, after = pull_all(client, world.terminal_headers(0), cursor=before)
    at_override = dataclasses.replace(kopi, price=12_000)

    def sale(item: CatalogProduct, cursor: int | None, staff: StoreStaff | None = None) -> Any:
        return sale_event(
            terminal_code="T01" if staff is None else "S02T1",
            cashier_id=world.cashier_ids[0] if staff is None else staff.cashier_id,
            items=[(item, 1)],
            catalog_cursor=cursor,
        )

    ok_override = sale(at_override, after)
    flagged_chain = sale(kopi, after)
    ok_chain_before = sale(kopi, before)
    # The price at the moment of the sale is accepted too (the till may have pulled since).
    ok_override_at_sale_time = sale(at_override, before)
    events = [ok_override, flagged_chain, ok_chain_before, ok_override_at_sale_time]
    assert statuses(push(client, world.terminal_headers(0), events)) == ["applied"] * 4
    assert flags_of(db, ok_override) == []
    assert flags_of(db, flagged_chain) == ["price_mismatch"]
    assert flags_of(db, ok_chain_before) == []
    assert flags_of(db, ok_override_at_sale_time) == []

    # Another outlet keeps the chain price: its till is checked against that.
    theirs_ok = sale(kopi, after, other_staff)
    theirs_flagged = sale(at_override, after, other_staff)
    resp = push(client, till_headers(other_staff), [theirs_ok, theirs_flagged])
    assert statuses(resp) == ["applied"] * 2
    assert flags_of(db, theirs_ok) == []
    assert flags_of(db, theirs_flagged) == ["price_mismatch"]

    # Cleared: a till that pulled the clearing sells at the chain price again.
    client.delete(
        f"/api/v1/outlets/{world.store_id}/prices/{kopi.id}", headers=world.manager_headers()
    )
    _, cleared = pull_all(client, world.terminal_headers(0), cursor=after)
    back_to_chain = sale(kopi, cleared)
    stale_override = sale(at_override, after)
    resp = push(client, world.terminal_headers(0), [back_to_chain, stale_override])
    assert statuses(resp) == ["applied"] * 2
    assert flags_of(db, back_to_chain) == []
    assert flags_of(db, stale_override) == []


def test_a_manager_of_s02_cannot_set_or_clear_s01s_price(
    client: TestClient, db: Database, world: World, other_staff: StoreStaff
) -> None:
    (kopi,) = add_products(db, 1, price=10_000)
    set_price(client, world.manager_headers(), world.store_id, kopi.id, 11_000)
    theirs = {"Authorization": f"Bearer {other_staff.manager_token}"}
    resp = set_price(client, theirs, world.store_id, kopi.id, 1)
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "other_store"
    resp = client.delete(f"/api/v1/outlets/{world.store_id}/prices/{kopi.id}", headers=theirs)
    assert resp.status_code == 403
    assert client.get(f"/api/v1/outlets/{world.store_id}/prices", headers=theirs).status_code == 403
    cashier = client.put(
        f"/api/v1/outlets/{world.store_id}/prices",
        json={"product_id": kopi.id, "price": 1},
        headers=world.cashier_headers(),
    )
    assert cashier.status_code == 403
    # Bad input is refused, never a 500, and changes nothing either.
    for method, path, body in BAD_REQUESTS:
        url = path.replace("{s}", str(world.store_id))
        sent = (
            None if body is None else {k: (kopi.id if v == "{p}" else v) for k, v in body.items()}
        )
        resp = client.request(method, url, json=sent, headers=world.admin_headers())
        assert 400 <= resp.status_code < 500, (method, url, resp.status_code, resp.text)
        assert "error" in resp.json()
    with db.session() as s:
        rows = s.execute(select(OutletPrice.store_id, OutletPrice.price)).all()
    assert [tuple(r) for r in rows] == [(world.store_id, 11_000)]
    # Their own outlet is theirs to price.
    assert set_price(client, theirs, other_staff.store_id, kopi.id, 9_500).status_code == 200


BAD_REQUESTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("PUT", "/api/v1/outlets/{s}/prices", {"product_id": "{p}", "price": -1}),
    ("PUT", "/api/v1/outlets/{s}/prices", {"product_id": "{p}", "price": 10**13}),
    ("PUT", "/api/v1/outlets/{s}/prices", {"product_id": "{p}", "price": "mahal"}),
    ("PUT", "/api/v1/outlets/{s}/prices", {"product_id": 2**63, "price": 1}),
    ("PUT", "/api/v1/outlets/{s}/prices", {"product_id": 999_999, "price": 1}),
    ("PUT", "/api/v1/outlets/{s}/prices", {"product_id": "{p}", "price": 1, "x": 1}),
    ("PUT", "/api/v1/outlets/999999/prices", {"product_id": "{p}", "price": 1}),
    ("PUT", "/api/v1/outlets/99999999999999999999/prices", {"product_id": "{p}", "price": 1}),
    ("PUT", "/api/v1/outlets/abc/prices", {"product_id": "{p}", "price": 1}),
    ("DELETE", "/api/v1/outlets/{s}/prices/0", None),
    ("DELETE", "/api/v1/outlets/{s}/prices/999999", None),
    ("GET", "/api/v1/outlets/{s}/prices?limit=0", None),
    ("GET", "/api/v1/outlets/{s}/prices?offset=-1", None),
    ("GET", "/api/v1/outlets/stock/999999", None),
    ("GET", "/api/v1/outlets/stock/-1", None),
]


def test_a_product_changed_with_its_override_comes_once_per_page(
    client: TestClient, db: Database, world: World
) -> None:
    kopi, teh = add_products(db, 2, price=10_000)
    _, cursor = pull_all(client, world.terminal_headers(0))
    set_price(client, world.manager_headers(), world.store_id, kopi.id, 12_000)
    renamed = client.patch(
        f"/api/v1/products/{kopi.id}",
        json={"name": "Kopi Susu Gula Aren"},
        headers=world.admin_headers(),
    )
    assert renamed.status_code == 200, renamed.text
    set_price(client, world.manager_headers(), world.store_id, teh.id, 8_000)
    for limit in (1, 2, 3, 500):
        ids: list[int] = []
        rows: dict[int, dict[str, Any]] = {}
        at = cursor
        while True:
            page = client.get(
                "/api/v1/sync/pull",
                params={"cursor": at, "limit": limit},
                headers=world.terminal_headers(0),
            ).json()
            page_ids = [row["id"] for row in page["products"]]
            assert len(page_ids) == len(set(page_ids)), page_ids
            ids += page_ids
            rows |= {row["id"]: row for row in page["products"]}
            at = page["cursor"]
            if not page["has_more"]:
                break
        assert rows[kopi.id]["price"] == 12_000, limit
        assert rows[kopi.id]["name"] == "Kopi Susu Gula Aren", limit
        assert rows[teh.id]["price"] == 8_000, limit
