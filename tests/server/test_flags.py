"""The server verifies what a till claims: what does not match is applied and flagged.

Every case goes through the real push endpoint, on SQLite and on MariaDB.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from shared.models import EventType, Role, SaleIn
from sync_server.auth.models import User
from sync_server.catalog.models import Product, Voucher
from sync_server.core.database import Database, next_change_numbers
from sync_server.core.security import hash_secret
from sync_server.flags.models import Flag
from sync_server.flags.service import flags_open_count
from sync_server.payments import service as payments_service
from sync_server.payments.models import PaymentOrder
from sync_server.sync.ingest.parse import event_digest
from sync_server.sync.models import Sale
from tests.server.conftest import World
from tests.server.sync_helpers import (
    CatalogProduct,
    add_products,
    push,
    sale_event,
    shift_open_event,
    statuses,
)


def _flags(db: Database) -> list[dict[str, Any]]:
    with db.session() as s:
        return [
            {
                "kind": f.kind,
                "sale_id": str(f.sale_id) if f.sale_id else None,
                "terminal_id": f.terminal_id,
                "cashier_id": f.cashier_id,
                "details": json.loads(f.details),
            }
            for f in s.scalars(select(Flag).order_by(Flag.id))
        ]


def _kinds(db: Database) -> list[str]:
    return [f["kind"] for f in _flags(db)]


def _sell(client: TestClient, world: World, event: dict, terminal: int = 0) -> None:
    resp = push(client, world.terminal_headers(terminal), [event])
    assert statuses(resp) == ["applied"], resp.text


def _sale(world: World, items: list[Any], terminal: int = 0, **kw: Any) -> dict:
    return sale_event(
        terminal_code=f"T0{terminal + 1}", cashier_id=world.cashier_ids[0], items=items, **kw
    )


def _sell_below_every_price(
    client: TestClient, db: Database, world: World
) -> tuple[CatalogProduct, dict]:
    """A product priced 3,500 sold for 1 (a price it never had): the product and the sale."""
    (product,) = add_products(db, price=3_500)
    event = _sale(world, [(replace(product, price=1), 1)])
    _sell(client, world, event)
    return product, event


def _set_price(db: Database, product_id: int, price: int) -> int:
    """Change a product's price the way the catalog does; its new change number."""
    with db.session() as s:
        number = next_change_numbers(s)  # first, as the catalog does: one flush of both
        row = s.get(Product, product_id)
        assert row is not None
        row.price = price
        row.change_no = number
        return number


def _user(db: Database, world: World, username: str, role: Role) -> int:
    with db.session() as s:
        user = User(
            username=username,
            full_name=username,
            role=role.value,
            store_id=world.store_id,
            password_hash=hash_secret("password123"),
            pin_hash=hash_secret("1234"),
            active=True,
        )
        s.add(user)
        s.flush()
        return user.id


def test_honest_sale_is_not_flagged(client: TestClient, db: Database, world: World) -> None:
    (product,) = add_products(db, price=3_500)
    _sell(client, world, _sale(world, [(product, 2)]))
    assert _flags(db) == []


def test_a_price_the_product_never_had_is_applied_and_flagged(
    client: TestClient, db: Database, world: World
) -> None:
    _, event = _sell_below_every_price(client, db, world)
    (flag,) = _flags(db)
    assert flag["kind"] == "price_mismatch"
    assert flag["sale_id"] == event["payload"]["id"]
    assert flag["cashier_id"] == world.cashier_ids[0]
    (line,) = flag["details"]["lines"]
    assert (line["claimed"], line["expected"]) == (1, 3_500)


def test_a_wrong_tax_rate_is_flagged(client: TestClient, db: Database, world: World) -> None:
    (product,) = add_products(db, price=3_500, tax_rate_bp=1100)
    _sell(client, world, _sale(world, [(replace(product, tax_rate_bp=0), 1)]))
    (flag,) = _flags(db)
    assert flag["kind"] == "tax_mismatch"
    (line,) = flag["details"]["lines"]
    assert (line["claimed"], line["expected"]) == (0, 1100)


def _repriced(db: Database, *, price: int, new_price: int) -> tuple[CatalogProduct, int, int]:
    """A product added at ``price``, then changed to ``new_price``: the product and its
    change numbers before and after the change."""
    (product,) = add_products(db, price=price)
    with db.session() as s:
        before = s.scalar(select(Product.change_no).where(Product.id == product.id))
    assert before is not None
    return product, before, _set_price(db, product.id, new_price)


def test_an_old_price_is_accepted_at_the_tills_cursor_only(
    client: TestClient, db: Database, world: World
) -> None:
    product, cursor_before, changed_at = _repriced(db, price=10_000, new_price=12_000)
    # Offline since before the change: the old price is what the till knew.
    _sell(client, world, _sale(world, [(product, 1)], catalog_cursor=cursor_before))
    assert _flags(db) == []
    # A till that had pulled the change has no excuse for the old price.
    _sell(client, world, _sale(world, [(product, 1)], catalog_cursor=changed_at))
    (flag,) = _flags(db)
    assert flag["kind"] == "price_mismatch"
    assert flag["details"]["lines"][0]["expected"] == 12_000
    # Without a cursor, a price of the last 7 days is accepted.
    _sell(client, world, _sale(world, [(product, 1)]))
    assert _kinds(db) == ["price_mismatch"]


def _with_override(event: dict, approved_by: int) -> dict:
    event["payload"]["lines"][0]["price_override"] = {"approved_by": approved_by}
    return event


def test_a_price_override_needs_a_supervisor_or_above(
    client: TestClient, db: Database, world: World
) -> None:
    (product,) = add_products(db, price=3_500)
    supervisor = _user(db, world, "spv", Role.SUPERVISOR)
    cheap = replace(product, price=3_000)
    _sell(client, world, _with_override(_sale(world, [(cheap, 1)]), supervisor))
    assert _flags(db) == []
    _sell(client, world, _with_override(_sale(world, [(cheap, 1)]), world.cashier_ids[1]))
    (flag,) = _flags(db)
    assert flag["kind"] == "price_mismatch"
    assert flag["details"]["lines"][0]["override_by"] == world.cashier_ids[1]
    assert flag["details"]["lines"][0]["override_refused"] is True


def test_the_same_event_pushed_twice_raises_one_flag(
    client: TestClient, db: Database, world: World
) -> None:
    _, event = _sell_below_every_price(client, db, world)
    assert statuses(push(client, world.terminal_headers(), [event])) == ["duplicate"]
    assert statuses(push(client, world.terminal_headers(), [event, event])) == [
        "duplicate",
        "duplicate",
    ]
    assert _kinds(db) == ["price_mismatch"]


def _voucher(db: Database, **kw: Any) -> None:
    values: dict[str, Any] = {
        "code": "HEMAT",
        "kind": "fixed",
        "value": 1_000,
        "min_spend": 0,
        "usage_limit": 5,
        "active": True,
    }
    values.update(kw)
    with db.session() as s:
        s.add(Voucher(**values, change_no=next_change_numbers(s)))


def test_voucher_uses_are_counted_and_the_sixth_of_five_is_flagged(
    client: TestClient, db: Database, world: World
) -> None:
    (product,) = add_products(db, price=10_000)
    _voucher(db)
    events = [
        _sale(world, [(product, 1)], order_discount=1_000, voucher_code="HEMAT", terminal=i % 2)
        for i in range(6)
    ]
    for i, event in enumerate(events):
        _sell(client, world, event, terminal=i % 2)
    with db.session() as s:
        assert s.scalar(select(Voucher.used_count).where(Voucher.code == "HEMAT")) == 6
    (flag,) = _flags(db)
    assert flag["kind"] == "voucher_overused"
    assert flag["sale_id"] == events[5]["payload"]["id"]
    assert flag["details"] == {"code": "HEMAT", "usage_limit": 5, "use_number": 6}


def test_unknown_and_invalid_vouchers_are_flagged(
    client: TestClient, db: Database, world: World
) -> None:
    (product,) = add_products(db, price=10_000)
    _voucher(db, code="LAMA", valid_until=datetime.now(UTC) - timedelta(days=1))
    _voucher(db, code="BESAR", min_spend=50_000)
    _sell(client, world, _sale(world, [(product, 1)], order_discount=1_000, voucher_code="NGAWUR"))
    _sell(client, world, _sale(world, [(product, 1)], order_discount=1_000, voucher_code="LAMA"))
    _sell(client, world, _sale(world, [(product, 1)], order_discount=1_000, voucher_code="BESAR"))
    flags = _flags(db)
    assert [f["kind"] for f in flags] == ["voucher_unknown", "voucher_invalid", "voucher_invalid"]
    assert flags[1]["details"]["problems"] == ["expired"]
    assert flags[2]["details"]["problems"] == ["below_min_spend"]


def _paid_order(db: Database, world: World, *, amount: int, order_id: str) -> None:
    with db.session() as s:
        s.add(
            PaymentOrder(
                order_id=order_id,
                store_id=world.store_id,
                terminal_id=world.terminal_ids[0],
                amount=amount,
                customer_name="Pelanggan",
                customer_email="kasir@example.com",
                status="PAID",
                reference=f"REF-{order_id}",
            )
        )


def _qris_sale(world: World, product: CatalogProduct, order_id: str | None) -> dict:
    event = _sale(world, [(product, 1)], method="qris")
    if order_id is not None:
        event["payload"]["payments"][0]["order_id"] = order_id
    return event


def test_qris_payments_must_match_a_paid_order_once(
    client: TestClient, db: Database, world: World
) -> None:
    (product,) = add_products(db, price=10_000)
    _paid_order(db, world, amount=10_000, order_id="ORD-1")
    _sell(client, world, _qris_sale(world, product, "ORD-1"))
    assert _flags(db) == []
    _sell(client, world, _qris_sale(world, product, None))
    _sell(client, world, _qris_sale(world, product, "ORD-1"))
    _paid_order(db, world, amount=5_000, order_id="ORD-2")
    _sell(client, world, _qris_sale(world, product, "ORD-2"))
    flags = _flags(db)
    assert [f["kind"] for f in flags] == ["qris_unverified"] * 3
    assert [f["details"]["payments"][0]["problem"] for f in flags] == [
        "no_reference",
        "already_used",
        "amount_mismatch",
    ]


def test_a_sale_into_another_tills_shift_is_flagged_and_kept_out_of_it(
    client: TestClient, db: Database, world: World
) -> None:
    (product,) = add_products(db, price=10_000)
    shift = shift_open_event(user_id=world.cashier_ids[0])
    assert statuses(push(client, world.terminal_headers(0), [shift])) == ["applied"]
    event = _sale(world, [(product, 1)], terminal=1, shift_id=shift["payload"]["id"])
    _sell(client, world, event, terminal=1)
    (flag,) = _flags(db)
    assert flag["kind"] == "shift_foreign"
    assert flag["details"]["shift_terminal_id"] == world.terminal_ids[0]
    with db.session() as s:
        stored = s.scalar(select(Sale.shift_id).where(Sale.receipt_number.like("T02-%")))
    assert stored is None


def test_sales_dated_far_ahead_or_before_the_store_are_flagged(
    client: TestClient, db: Database, world: World
) -> None:
    (product,) = add_products(db, price=10_000)
    ahead = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    _sell(client, world, _sale(world, [(product, 1)], created_at=ahead))
    _sell(client, world, _sale(world, [(product, 1)], created_at="2001-01-01T08:00:00+07:00"))
    flags = _flags(db)
    assert [f["kind"] for f in flags] == ["clock_skew", "clock_skew"]
    assert [f["details"]["problem"] for f in flags] == ["future", "before_store"]


def _flag_some(client: TestClient, db: Database, world: World) -> None:
    product, _ = _sell_below_every_price(client, db, world)
    _sell(
        client, world, _sale(world, [(replace(product, tax_rate_bp=0), 1)], terminal=1), terminal=1
    )


def test_managers_list_filter_and_resolve_flags(
    client: TestClient, db: Database, world: World
) -> None:
    _flag_some(client, db, world)
    headers = world.manager_headers()
    page = client.get("/api/v1/flags", headers=headers).json()
    assert page["total"] == 2
    assert {f["kind"] for f in page["items"]} == {"price_mismatch", "tax_mismatch"}
    only = client.get("/api/v1/flags", params={"kind": "tax_mismatch"}, headers=headers).json()
    assert [f["terminal_id"] for f in only["items"]] == [world.terminal_ids[1]]
    by_terminal = client.get(
        "/api/v1/flags", params={"terminal_id": world.terminal_ids[0]}, headers=headers
    ).json()
    assert [f["kind"] for f in by_terminal["items"]] == ["price_mismatch"]
    assert flags_open_count(db, store_id=world.store_id) == 2

    flag_id = by_terminal["items"][0]["id"]
    done = client.post(
        f"/api/v1/flags/{flag_id}/resolve",
        json={"note": "harga lama, sudah dicek"},
        headers=headers,
    )
    assert done.status_code == 200, done.text
    assert done.json()["resolved_by"] == world.manager_id
    assert done.json()["resolution"] == "harga lama, sudah dicek"
    again = client.post(f"/api/v1/flags/{flag_id}/resolve", json={"note": "x"}, headers=headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "flag_already_resolved"
    assert flags_open_count(db, store_id=world.store_id) == 1
    open_only = client.get("/api/v1/flags", params={"resolved": "false"}, headers=headers).json()
    assert [f["kind"] for f in open_only["items"]] == ["tax_mismatch"]
    paged = client.get("/api/v1/flags", params={"limit": 1, "offset": 1}, headers=headers).json()
    assert (paged["total"], len(paged["items"])) == (2, 1)
    assert client.get("/api/v1/flags", params={"limit": 10_000}, headers=headers).status_code == 422


def test_cashiers_and_terminals_may_not_see_flags(
    client: TestClient, db: Database, world: World
) -> None:
    _flag_some(client, db, world)
    for headers in (world.cashier_headers(), world.terminal_headers()):
        assert client.get("/api/v1/flags", headers=headers).status_code == 403
        resolve = client.post("/api/v1/flags/1/resolve", json={"note": "x"}, headers=headers)
        assert resolve.status_code == 403


def test_paid_qris_orders_no_sale_took_are_flagged_once_by_the_settle_job(
    app: FastAPI, client: TestClient, db: Database, world: World
) -> None:
    (product,) = add_products(db, price=10_000)
    now = datetime.now(UTC)
    for order_id in ("ORD-LOST", "ORD-USED", "ORD-NAMED", "ORD-FRESH"):
        _paid_order(db, world, amount=10_000, order_id=order_id)
    with db.session() as s:
        s.execute(update(PaymentOrder).values(paid_at=now - timedelta(hours=1)))
        s.execute(
            update(PaymentOrder)
            .where(PaymentOrder.order_id == "ORD-FRESH")
            .values(paid_at=now - timedelta(minutes=10))
        )
    _sell(client, world, _qris_sale(world, product, "ORD-USED"))  # verified: it took the order
    # Named by a sale that could not verify it (another amount): that sale carries the
    # qris_unverified flag, so the order is not an orphan.
    named = _qris_sale(world, replace(product, price=9_000), "ORD-NAMED")
    _sell(client, world, named)
    kinds_before = _kinds(db)
    tripay = app.state.tripay_client
    assert payments_service.settle_expired_orders(db, tripay, now=now) == 0
    orphans = [f for f in _flags(db) if f["kind"] == "qris_orphan"]
    assert [f["details"]["order_id"] for f in orphans] == ["ORD-LOST"]
    (orphan,) = orphans
    assert orphan["details"]["amount"] == 10_000
    assert (orphan["terminal_id"], orphan["sale_id"], orphan["cashier_id"]) == (
        world.terminal_ids[0],
        None,
        None,
    )
    # Again, and later: the lost one is flagged once; the fresh one once its grace is over.
    payments_service.settle_expired_orders(db, tripay, now=now)
    assert payments_service.flag_orphan_orders(db, now=now + timedelta(minutes=25)) == 1
    assert payments_service.flag_orphan_orders(db, now=now + timedelta(hours=2)) == 0
    orphans = [f["details"]["order_id"] for f in _flags(db) if f["kind"] == "qris_orphan"]
    assert sorted(orphans) == ["ORD-FRESH", "ORD-LOST"]
    assert [k for k in _kinds(db) if k != "qris_orphan"] == kinds_before
    listed = client.get(
        "/api/v1/flags", params={"kind": "qris_orphan"}, headers=world.manager_headers()
    ).json()
    assert listed["total"] == 2


def test_listed_flags_name_the_till_cashier_receipt_and_products(
    client: TestClient, db: Database, world: World
) -> None:
    product, event = _sell_below_every_price(client, db, world)
    (item,) = client.get("/api/v1/flags", headers=world.manager_headers()).json()["items"]
    line_id = event["payload"]["lines"][0]["id"]
    assert item["terminal_code"] == "T01"
    assert item["receipt_number"] == event["payload"]["receipt_number"]
    assert item["line_names"] == {line_id: product.name}
    with db.session() as s:
        cashier = s.get(User, world.cashier_ids[0])
        assert cashier is not None and item["cashier_name"] == cashier.full_name


def test_static_qris_payments_are_applied_flagged_and_reported_apart(
    client: TestClient, db: Database, world: World
) -> None:
    (product,) = add_products(db, price=10_000)
    static = _sale(world, [(product, 1)], method="qris_static")
    _sell(client, world, static)
    _sell(client, world, _sale(world, [(product, 2)], tendered=50_000))  # cash, not flagged
    resp = push(client, world.terminal_headers(0), [static])
    assert statuses(resp) == ["duplicate"]  # a retried copy raises no second flag

    (flag,) = _flags(db)
    assert flag["kind"] == "qris_static"
    assert flag["sale_id"] == static["payload"]["id"]
    assert (flag["terminal_id"], flag["cashier_id"]) == (
        world.terminal_ids[0],
        world.cashier_ids[0],
    )
    assert flag["details"]["amount"] == 10_000
    assert flag["details"]["confirmed_by"] == world.cashier_ids[0]
    assert flag["details"]["receipt_number"] == static["payload"]["receipt_number"]
    with db.session() as s:
        stored = s.get(Sale, uuid.UUID(static["payload"]["id"]))
    assert stored is not None  # applied: the money was taken

    listed = client.get("/api/v1/flags?kind=qris_static", headers=world.manager_headers())
    assert listed.status_code == 200, listed.text
    assert [f["kind"] for f in listed.json()["items"]] == ["qris_static"]
    report = client.get("/api/v1/reports/payment-methods", headers=world.manager_headers())
    assert report.status_code == 200, report.text
    rows = {r["method"]: (r["payments_count"], r["amount"]) for r in report.json()}
    assert rows == {"cash": (1, 20_000), "qris_static": (1, 10_000)}


# ---------------------------------------------------------------- in-store labels


def _label_sale(world: World, lines: list[tuple[CatalogProduct, int, dict | None]]) -> dict:
    """A sale of label lines: (product, unit price, measure), each quantity 1."""
    event = _sale(world, [(replace(product, price=price), 1) for product, price, _ in lines])
    for wire, (_, _, measure) in zip(event["payload"]["lines"], lines, strict=True):
        if measure is not None:
            wire["measure"] = measure
    return event


def _weight(grams: int, base_price: int) -> dict:
    return {"kind": "weight", "value": grams, "base_price": base_price}


def test_honest_weight_and_price_label_lines_are_not_flagged(
    client: TestClient, db: Database, world: World
) -> None:
    apel, kue = add_products(db, count=2, price=32_990)
    event = _label_sale(
        world,
        [
            (apel, 40_710, _weight(1234, 32_990)),  # 32.990/kg × 1,234 kg, half up
            (apel, 8248, _weight(250, 32_990)),
            # The store's scale printed Rp15.500: trusted, whatever the catalog price.
            (kue, 15_500, {"kind": "price", "value": 15_500, "base_price": 32_990}),
        ],
    )
    _sell(client, world, event)
    assert _flags(db) == []
    with db.session() as s:
        stored = s.get(Sale, uuid.UUID(event["payload"]["id"]))
        assert stored is not None and stored.total == 40_710 + 8248 + 15_500


@pytest.mark.parametrize(
    ("catalog_price", "claimed", "measure", "expected", "problem"),
    [
        # 1,234 kg at 32.990/kg is 40.710; the line claims 40.000.
        pytest.param(
            32_990, 40_000, _weight(1234, 32_990), 40_710, "weighed_price", id="weighed_price"
        ),
        # The multiplication is right, but from Rp10.000/kg, a price the apples never had.
        pytest.param(32_990, 12_340, _weight(1234, 10_000), 40_710, "base_price", id="base_price"),
        # A price label's line must carry the label's price.
        pytest.param(
            1,
            15_000,
            {"kind": "price", "value": 15_500, "base_price": 1},
            15_500,
            "label_price",
            id="label_price",
        ),
    ],
)
def test_a_label_line_at_a_price_its_label_does_not_give_is_flagged(
    client: TestClient,
    db: Database,
    world: World,
    catalog_price: int,
    claimed: int,
    measure: dict,
    expected: int,
    problem: str,
) -> None:
    (product,) = add_products(db, price=catalog_price)
    _sell(client, world, _label_sale(world, [(product, claimed, measure)]))
    (flag,) = _flags(db)
    assert flag["kind"] == "price_mismatch"
    (line,) = flag["details"]["lines"]
    assert (line["claimed"], line["expected"], line["problems"]) == (claimed, expected, [problem])
    assert (line["measure"], line["accepted"]) == (measure, [catalog_price])


def test_a_price_per_kg_the_till_had_at_its_cursor_is_accepted(
    client: TestClient, db: Database, world: World
) -> None:
    apel, cursor, changed_at = _repriced(db, price=30_000, new_price=32_990)
    old = _label_sale(world, [(apel, 37_020, _weight(1234, 30_000))])
    old["payload"]["catalog_cursor"] = cursor
    _sell(client, world, old)
    assert _flags(db) == []
    stale = _label_sale(world, [(apel, 37_020, _weight(1234, 30_000))])
    stale["payload"]["catalog_cursor"] = changed_at
    _sell(client, world, stale)
    (flag,) = _flags(db)
    assert flag["details"]["lines"][0]["problems"] == ["base_price"]


def test_a_label_line_without_its_measure_is_checked_like_any_line(
    client: TestClient, db: Database, world: World
) -> None:
    # What a till from before the field sends: the label's price, nothing else.
    (apel,) = add_products(db, price=32_990)
    _sell(client, world, _label_sale(world, [(apel, 40_710, None)]))
    (flag,) = _flags(db)
    assert flag["kind"] == "price_mismatch"
    assert "measure" not in flag["details"]["lines"][0]


def test_a_label_sale_pushed_twice_is_a_duplicate(
    client: TestClient, db: Database, world: World
) -> None:
    (apel,) = add_products(db, price=32_990)
    event = _label_sale(world, [(apel, 40_000, _weight(1234, 32_990))])
    _sell(client, world, event)
    assert statuses(push(client, world.terminal_headers(), [event])) == ["duplicate"]
    # The same id with another weight is other content: never taken as a retry.
    other = json.loads(json.dumps(event))
    other["payload"]["lines"][0]["measure"]["value"] = 1233
    assert statuses(push(client, world.terminal_headers(), [other])) == ["conflict"]
    assert _kinds(db) == ["price_mismatch"]


def test_label_measures_are_bounded(client: TestClient, db: Database, world: World) -> None:
    (apel,) = add_products(db, price=32_990)
    for measure in (
        _weight(0, 32_990),
        _weight(1_000_000_000, 32_990),
        {"kind": "volume", "value": 1, "base_price": 1},
        {"kind": "weight", "value": "1234", "base_price": 32_990},
        {"kind": "weight", "value": 1234, "base_price": -1},
    ):
        event = _label_sale(world, [(apel, 40_710, measure)])
        assert statuses(push(client, world.terminal_headers(), [event])) == ["rejected"]
    assert _flags(db) == []


OLD_STYLE_SALE = {
    "id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
    "receipt_number": "T01-20250301-000001",
    "shift_id": None,
    "cashier_id": 3,
    "created_at": "2025-03-01T10:15:00+07:00",
    "lines": [
        {
            "id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c",
            "product_id": 7,
            "sku": "APEL-FUJI",
            "name": "Apel Fuji 1,234 kg",
            "quantity": 1,
            "unit_price": 40710,
            "tax": 0,
            "total": 40710,
        }
    ],
    "subtotal": 40710,
    "discount_total": 0,
    "tax_total": 0,
    "total": 40710,
    "payments": [{"id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d", "method": "cash", "amount": 40710}],
}
OLD_STYLE_DIGEST = "26ed7bf80b6bfdfa7aeeebe4ce5d526c4ea8f7bed8d4db82c5431371e49a59d3"
"""The digest of OLD_STYLE_SALE as stored by the server before lines had a ``measure``."""


def test_an_event_without_measure_keeps_the_digest_it_had_before_the_field() -> None:
    created = datetime.fromisoformat("2025-03-01T10:15:01+07:00")
    sale = SaleIn.model_validate(OLD_STYLE_SALE)
    assert event_digest(EventType.SALE, created, sale) == OLD_STYLE_DIGEST
    # Sent with an explicit null it is the same event; with a measure it is another.
    explicit = json.loads(json.dumps(OLD_STYLE_SALE))
    explicit["lines"][0]["measure"] = None
    assert event_digest(EventType.SALE, created, SaleIn.model_validate(explicit)) == (
        OLD_STYLE_DIGEST
    )
    explicit["lines"][0]["measure"] = _weight(1234, 32_990)
    assert event_digest(EventType.SALE, created, SaleIn.model_validate(explicit)) != (
        OLD_STYLE_DIGEST
    )
