"""Push: every event applied exactly once, bad events refused with a reason, nothing half-done."""

from __future__ import annotations

import copy
import json
from datetime import date
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from shared.models import MAX_PUSH_EVENTS, PROTOCOL_HEADER
from sync_server.auth.models import Terminal, User
from sync_server.catalog.models import Product
from sync_server.core.database import Database, utcnow
from sync_server.stock.models import StockMove
from sync_server.sync.models import RejectedEvent, Sale, SaleLine, Shift
from tests.server.conftest import World
from tests.server.sync_helpers import (
    add_products,
    cash_move_event,
    envelope,
    on_hand,
    push,
    refund_event,
    row_counts,
    sale_event,
    shift_close_event,
    shift_open_event,
    statuses,
    stock_up,
    void_event,
)


def _results(resp):
    assert resp.status_code == 200, resp.text
    return resp.json()["results"]


def _sale(world: World, products, qty: int = 1, **kw) -> dict:
    return sale_event(
        terminal_code="T01",
        cashier_id=world.cashier_ids[0],
        items=[(p, qty) for p in products],
        **kw,
    )


def test_same_batch_twice_is_all_duplicate(client: TestClient, db: Database, world: World) -> None:
    products = add_products(db, 3)
    stock_up(db, world.store_id, products[0].id, 20)
    shift = shift_open_event(user_id=world.cashier_ids[0])
    sale = sale_event(
        terminal_code="T01",
        cashier_id=world.cashier_ids[0],
        items=[(products[0], 3), (products[1], 2, 1000)],
        order_discount=2500,
        tendered=100_000,
        shift_id=shift["payload"]["id"],
    )
    refund = refund_event(sale, lines=[(0, 1)], approved_by=world.manager_id)
    batch = [
        shift,
        sale,
        _sale(world, products[2:], qty=4, method="qris"),
        refund,
        cash_move_event(shift, user_id=world.cashier_ids[0], amount=-50_000, reason="setor"),
        shift_close_event(shift, user_id=world.cashier_ids[0], counted_cash=1, expected_cash=2),
    ]
    headers = world.terminal_headers(0)

    assert statuses(push(client, headers, batch, waiting=0)) == ["applied"] * 6
    counts = row_counts(db)
    assert counts["sync_events"] == 6
    assert counts["sales"] == 2 and counts["sale_lines"] == 3 and counts["refunds"] == 1
    assert on_hand(db, world.store_id, products[0].id) == 20 - 3 + 1
    assert on_hand(db, world.store_id, products[1].id) == -2  # negative is allowed

    again = push(client, headers, batch)
    assert statuses(again) == ["duplicate"] * 6
    assert [r["id"] for r in again.json()["results"]] == [e["id"] for e in batch]
    assert row_counts(db) == counts
    assert on_hand(db, world.store_id, products[0].id) == 18


def test_sale_is_stored_as_checked(client: TestClient, db: Database, world: World) -> None:
    (product,) = add_products(db, price=12_345, tax_rate_bp=1100, tax_inclusive=False)
    # 20:30 UTC on 1 January is already 2 January in Jakarta (UTC+7).
    sale = sale_event(
        terminal_code="T01",
        cashier_id=world.cashier_ids[1],
        items=[(product, 3, 345)],
        order_discount=1000,
        tendered=50_000,
        created_at="2024-01-01T20:30:00+00:00",
    )
    assert statuses(push(client, world.terminal_headers(0), [sale], waiting=7)) == ["applied"]
    payload = sale["payload"]
    with db.session() as s:
        stored = s.get(Sale, UUID(payload["id"]))
        assert stored is not None
        assert stored.receipt_number == payload["receipt_number"]
        assert stored.business_date == date(2024, 1, 2)
        assert stored.terminal_id == world.terminal_ids[0]
        assert stored.store_id == world.store_id
        assert (stored.subtotal, stored.discount_total, stored.tax_total, stored.total) == (
            payload["subtotal"],
            payload["discount_total"],
            payload["tax_total"],
            payload["total"],
        )
        line = s.scalar(select(SaleLine))
        assert line is not None and line.order_discount == 1000
        move = s.scalar(select(StockMove))
        assert move is not None
        assert str(move.id) == payload["lines"][0]["id"]
        assert (move.kind, move.quantity, move.ref_id) == ("sale", -3, payload["id"])
        terminal = s.get(Terminal, world.terminal_ids[0])
        assert terminal is not None
        assert terminal.events_waiting == 7 and terminal.last_seen_at is not None


def test_two_offline_terminals_merge_stock(client: TestClient, db: Database, world: World) -> None:
    (product,) = add_products(db)
    stock_up(db, world.store_id, product.id, 10)
    first = sale_event(terminal_code="T01", cashier_id=world.cashier_ids[0], items=[(product, 3)])
    second = sale_event(terminal_code="T02", cashier_id=world.cashier_ids[1], items=[(product, 9)])
    assert statuses(push(client, world.terminal_headers(1), [second])) == ["applied"]
    assert statuses(push(client, world.terminal_headers(0), [first])) == ["applied"]
    assert on_hand(db, world.store_id, product.id) == 10 - 3 - 9


@pytest.mark.parametrize(
    ("path", "delta", "mentions"),
    [
        (("lines", 0, "tax"), 1, "line 1 tax: expected"),
        (("lines", 1, "total"), -1, "line 2 total: expected"),
        (("subtotal",), 100, "subtotal: expected"),
        (("discount_total",), 1, "discount_total: expected"),
        (("tax_total",), -1, "tax_total: expected"),
        (("total",), 1, "total: expected"),
    ],
)
def test_wrong_totals_are_rejected(
    client: TestClient, db: Database, world: World, path: tuple, delta: int, mentions: str
) -> None:
    products = add_products(db, 2, price=7_777)
    sale = sale_event(
        terminal_code="T01",
        cashier_id=world.cashier_ids[0],
        items=[(products[0], 2), (products[1], 1, 77)],
        order_discount=500,
    )
    target = sale["payload"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] += delta
    if path == ("total",):
        sale["payload"]["payments"][0]["amount"] += delta
    before = row_counts(db)
    (result,) = _results(push(client, world.terminal_headers(0), [sale]))
    assert result["status"] == "rejected"
    assert result["code"] == "totals_mismatch"
    assert mentions in result["reason"]
    assert row_counts(db) == before


def test_payments_must_cover_the_total(client: TestClient, db: Database, world: World) -> None:
    (product,) = add_products(db)
    short = _sale(world, [product])
    short["payload"]["payments"][0]["amount"] -= 1
    wrong_change = _sale(world, [product], tendered=20_000)
    wrong_change["payload"]["payments"][0]["change"] += 500
    results = _results(push(client, world.terminal_headers(0), [short, wrong_change]))
    assert [(r["status"], r["code"]) for r in results] == [("rejected", "payments_mismatch")] * 2


def test_bad_events_are_refused_and_the_rest_applied(
    client: TestClient, db: Database, world: World
) -> None:
    (product,) = add_products(db)
    (inactive,) = add_products(db, active=False)
    good = _sale(world, [product])
    unknown_product = _sale(world, [product])
    unknown_product["payload"]["lines"][0]["product_id"] = 987_654
    other_prefix = sale_event(
        terminal_code="T02", cashier_id=world.cashier_ids[0], items=[(product, 1)]
    )
    duplicate_receipt = _sale(world, [product], receipt=good["payload"]["receipt_number"])
    float_money = _sale(world, [product])
    float_money["payload"]["total"] = 10000.5
    naive_time = _sale(world, [product])
    naive_time["payload"]["created_at"] = "2024-05-01T10:00:00"
    unknown_type = envelope("teleport", {"anything": 1})
    stranger = _sale(world, [product])
    with db.session() as s:
        other_user = User(
            username="orang", full_name="Orang", role="cashier", store_id=world.other_store_id
        )
        s.add(other_user)
        s.flush()
        stranger["payload"]["cashier_id"] = other_user.id
    inactive_sale = _sale(world, [inactive])
    batch = [
        good,
        unknown_product,
        other_prefix,
        duplicate_receipt,
        float_money,
        naive_time,
        unknown_type,
        stranger,
        inactive_sale,
    ]
    results = _results(push(client, world.terminal_headers(0), batch))
    assert [(r["status"], r["code"]) for r in results] == [
        ("applied", None),
        ("rejected", "unknown_product"),
        ("rejected", "receipt_terminal_mismatch"),
        ("rejected", "duplicate_receipt"),
        ("rejected", "invalid_payload"),
        ("rejected", "invalid_payload"),
        ("rejected", "unknown_event_type"),
        ("rejected", "unknown_cashier"),
        ("applied", None),  # inactive products still sell offline
    ]
    assert "987654" in results[1]["reason"]
    assert "total" in results[4]["reason"]
    assert row_counts(db)["sales"] == 2

    with db.session() as s:
        rejected = {r.event_id.hex: r for r in s.scalars(select(RejectedEvent))}
    assert {e["id"].replace("-", "") for e in batch[1:8]} == set(rejected)
    listed = rejected[unknown_product["id"].replace("-", "")]
    assert (listed.code, listed.attempts, listed.terminal_id) == (
        "unknown_product",
        1,
        world.terminal_ids[0],
    )
    assert json.loads(listed.payload)["payload"]["lines"][0]["product_id"] == 987_654
    assert listed.resolved_at is None


def test_rejected_event_applies_once_its_cause_is_fixed(
    client: TestClient, db: Database, world: World
) -> None:
    (product,) = add_products(db)
    sale = _sale(world, [product])
    sale["payload"]["lines"][0]["product_id"] = 424_242
    headers = world.terminal_headers(0)
    for _ in range(2):
        (result,) = _results(push(client, headers, [sale]))
        assert result["code"] == "unknown_product"
    with db.session() as s:
        row = s.scalar(select(RejectedEvent))
        assert row is not None and row.attempts == 2
        # The manager creates the missing product (the catalog API does this in real life).
        s.add(
            Product(
                id=424_242, sku="LATE-1", name="Barang telat", price=product.price, tax_rate_id=None
            )
        )
    assert statuses(push(client, headers, [sale])) == ["applied"]
    with db.session() as s:
        row = s.scalar(select(RejectedEvent))
        assert row is not None and row.resolved_at is not None
    assert on_hand(db, world.store_id, 424_242) == -1
    assert statuses(push(client, headers, [sale])) == ["duplicate"]


def test_refunds_never_exceed_the_sale(client: TestClient, db: Database, world: World) -> None:
    products = add_products(db, 2, price=3_333)
    sale = sale_event(
        terminal_code="T01",
        cashier_id=world.cashier_ids[0],
        items=[(products[0], 3), (products[1], 1)],
        order_discount=1001,
    )
    headers = world.terminal_headers(0)
    first = refund_event(sale, lines=[(0, 2)], approved_by=world.manager_id)
    # Sale and first refund in one batch: the refund sees the sale made just before it.
    assert statuses(push(client, headers, [sale, first])) == ["applied", "applied"]

    too_many = refund_event(
        sale, lines=[(0, 2)], approved_by=world.manager_id, refunded_before={0: 2}
    )
    in_one = refund_event(sale, lines=[(1, 2)], approved_by=world.manager_id)
    wrong_amount = refund_event(
        sale, lines=[(0, 1)], approved_by=world.manager_id, refunded_before={0: 2}
    )
    wrong_amount["payload"]["lines"][0]["amount"] += 1
    wrong_amount["payload"]["total"] += 1
    no_approval = refund_event(
        sale, lines=[(0, 1)], approved_by=world.cashier_ids[1], refunded_before={0: 2}
    )
    unknown = refund_event(sale, lines=[(0, 1)], approved_by=world.manager_id)
    unknown["payload"]["sale_id"] = envelope("x", {})["id"]
    before = row_counts(db)
    results = _results(
        push(client, headers, [too_many, in_one, wrong_amount, no_approval, unknown])
    )
    assert [r["code"] for r in results] == [
        "refund_exceeds_sale",
        "refund_exceeds_sale",
        "refund_amount_mismatch",
        "approval_required",
        "unknown_sale",
    ]
    assert row_counts(db) == before

    last = refund_event(
        sale, lines=[(0, 1), (1, 1)], approved_by=world.admin_id, refunded_before={0: 2}
    )
    assert statuses(push(client, headers, [last])) == ["applied"]
    with db.session() as s:
        lines = {line.product_id: line for line in s.scalars(select(SaleLine))}
    # Refunding every unit in steps returns exactly the line totals, not a rupiah more.
    for line in lines.values():
        assert line.refunded_quantity == line.quantity
        assert line.refunded_amount == line.total
    assert on_hand(db, world.store_id, products[0].id) == 0
    again = refund_event(sale, lines=[(1, 1)], approved_by=world.manager_id, refunded_before={1: 1})
    assert _results(push(client, headers, [again]))[0]["code"] == "refund_exceeds_sale"


def test_two_refunds_in_one_batch_add_up(client: TestClient, db: Database, world: World) -> None:
    (product,) = add_products(db)
    sale = _sale(world, [product], qty=3)
    headers = world.terminal_headers(0)
    assert statuses(push(client, headers, [sale])) == ["applied"]
    one = refund_event(sale, lines=[(0, 2)], approved_by=world.manager_id)
    two = refund_event(sale, lines=[(0, 2)], approved_by=world.manager_id, refunded_before={0: 2})
    results = _results(push(client, headers, [one, two]))
    assert [(r["status"], r["code"]) for r in results] == [
        ("applied", None),
        ("rejected", "refund_exceeds_sale"),
    ]


def test_void_puts_stock_back_once(client: TestClient, db: Database, world: World) -> None:
    products = add_products(db, 2)
    headers = world.terminal_headers(0)
    sale = sale_event(
        terminal_code="T01",
        cashier_id=world.cashier_ids[0],
        items=[(products[0], 2), (products[1], 5)],
    )
    void = void_event(sale, approved_by=world.manager_id)
    void_again = void_event(sale, approved_by=world.manager_id)
    results = _results(push(client, headers, [sale, void, void_again]))
    assert [(r["status"], r["code"]) for r in results] == [
        ("applied", None),
        ("applied", None),
        ("rejected", "already_voided"),
    ]
    assert on_hand(db, world.store_id, products[0].id) == 0
    assert on_hand(db, world.store_id, products[1].id) == 0
    with db.session() as s:
        stored = s.scalar(select(Sale))
        assert stored is not None and stored.voided and stored.voided_by == world.manager_id
        kinds = sorted((m.kind, m.quantity) for m in s.scalars(select(StockMove)))
    assert kinds == [("sale", -5), ("sale", -2), ("void", 2), ("void", 5)]

    refunded = _sale(world, products[:1], qty=2)
    refund = refund_event(refunded, lines=[(0, 1)], approved_by=world.manager_id)
    cashier_void = void_event(refunded, approved_by=world.cashier_ids[0])
    void_after_refund = void_event(refunded, approved_by=world.manager_id)
    refund_after_void = refund_event(sale, lines=[(0, 1)], approved_by=world.manager_id)
    results = _results(
        push(
            client, headers, [refunded, cashier_void, refund, void_after_refund, refund_after_void]
        )
    )
    assert [r["code"] for r in results] == [
        None,
        "approval_required",
        None,
        "sale_has_refunds",
        "sale_voided",
    ]


def test_shifts_belong_to_their_terminal(client: TestClient, db: Database, world: World) -> None:
    cashier = world.cashier_ids[0]
    shift = shift_open_event(user_id=cashier, opening_float=150_000)
    results = _results(
        push(
            client,
            world.terminal_headers(0),
            [shift, copy.deepcopy(shift) | {"id": envelope("x", {})["id"]}],
        )
    )
    assert [(r["status"], r["code"]) for r in results] == [
        ("applied", None),
        ("rejected", "duplicate_shift"),
    ]

    other_close = shift_close_event(
        shift, user_id=cashier, counted_cash=150_000, expected_cash=150_000
    )
    other_move = cash_move_event(shift, user_id=cashier, amount=10_000)
    results = _results(push(client, world.terminal_headers(1), [other_close, other_move]))
    assert [r["code"] for r in results] == ["shift_terminal_mismatch"] * 2

    unknown = shift_open_event(user_id=cashier)
    results = _results(
        push(
            client,
            world.terminal_headers(0),
            [
                cash_move_event(unknown, user_id=cashier, amount=5),
                shift_close_event(unknown, user_id=cashier, counted_cash=0, expected_cash=0),
                shift_close_event(
                    shift, user_id=cashier, counted_cash=149_000, expected_cash=150_000
                ),
                shift_close_event(
                    shift, user_id=cashier, counted_cash=149_000, expected_cash=150_000
                ),
            ],
        )
    )
    assert [r["code"] for r in results] == ["unknown_shift", "unknown_shift", None, "shift_closed"]
    with db.session() as s:
        stored = s.scalar(select(Shift))
        assert stored is not None
        assert (stored.opening_float, stored.counted_cash, stored.expected_cash) == (
            150_000,
            149_000,
            150_000,
        )
        assert stored.terminal_id == world.terminal_ids[0] and stored.closed_at is not None


def test_reused_id_refuses_only_that_event(client: TestClient, db: Database, world: World) -> None:
    (product,) = add_products(db)
    headers = world.terminal_headers(0)
    first = _sale(world, [product])
    assert statuses(push(client, headers, [first])) == ["applied"]
    # A buggy till reuses a line id in a new sale: the database refuses the row, and the
    # server falls back to writing event by event so the neighbours still go through.
    clash = _sale(world, [product])
    clash["payload"]["lines"][0]["id"] = first["payload"]["lines"][0]["id"]
    fine = _sale(world, [product], qty=2)
    results = _results(push(client, headers, [clash, fine]))
    assert [(r["status"], r["code"]) for r in results] == [
        ("rejected", "id_conflict"),
        ("applied", None),
    ]
    assert row_counts(db)["sales"] == 2
    assert on_hand(db, world.store_id, product.id) == -3


def test_batch_limits(client: TestClient, db: Database, world: World) -> None:
    (product,) = add_products(db)
    headers = world.terminal_headers(0)
    sale = _sale(world, [product])
    too_many = push(client, headers, [sale] * (MAX_PUSH_EVENTS + 1))
    assert too_many.status_code == 422
    assert too_many.json()["error"]["code"] == "batch_too_large"

    padded = _sale(world, [product])
    padded["payload"]["pad"] = "x" * (4 * 1024 * 1024 + 10)
    big = push(client, headers, [padded])
    assert big.status_code == 413
    assert big.json()["error"]["code"] == "payload_too_large"

    broken = client.post(
        "/api/v1/sync/push",
        content=b'{"events": [',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "malformed_json"
    assert row_counts(db)["sync_events"] == 0


def test_who_may_push(client: TestClient, db: Database, world: World) -> None:
    (product,) = add_products(db)
    sale = _sale(world, [product])
    old_protocol = {**world.terminal_headers(0), PROTOCOL_HEADER: "0"}
    resp = push(client, old_protocol, [sale])
    assert resp.status_code == 426
    assert resp.json()["error"]["code"] == "protocol_mismatch"
    as_manager = {**world.manager_headers(), PROTOCOL_HEADER: "1"}
    assert push(client, as_manager, [sale]).status_code == 403
    assert push(client, {PROTOCOL_HEADER: "1"}, [sale]).status_code == 401
    with db.session() as s:
        s.execute(
            update(Terminal).where(Terminal.id == world.terminal_ids[0]).values(revoked_at=utcnow())
        )
    revoked = push(client, world.terminal_headers(0), [sale])
    assert revoked.status_code == 401
    assert revoked.json()["error"]["code"] == "token_revoked"
    assert row_counts(db)["sync_events"] == 0


def test_numbers_beyond_any_column_are_refused(
    client: TestClient, db: Database, world: World
) -> None:
    (product,) = add_products(db)
    huge_id = _sale(world, [product])
    huge_id["payload"]["lines"][0]["product_id"] = 10**20
    huge_cashier = _sale(world, [product])
    huge_cashier["payload"]["cashier_id"] = 2**70
    results = _results(push(client, world.terminal_headers(0), [huge_id, huge_cashier]))
    assert [(r["status"], r["code"]) for r in results] == [("rejected", "invalid_payload")] * 2
    assert row_counts(db)["sales"] == 0


def _no_sale(*, cashier_id: int, approved_by: int, shift: dict | None = None) -> dict:
    from tests.server.sync_helpers import now_iso

    payload = {
        "id": envelope("x", {})["id"],
        "shift_id": shift["payload"]["id"] if shift else None,
        "cashier_id": cashier_id,
        "approved_by": approved_by,
        "reason": "tukar uang kecil",
        "created_at": now_iso(),
    }
    return envelope("no_sale", payload)


def test_no_sale_drawer_open_is_applied_once(
    client: TestClient, db: Database, world: World
) -> None:
    from sync_server.reports import service
    from sync_server.sync.models import DrawerOpen

    cashier = world.cashier_ids[0]
    headers = world.terminal_headers(0)
    shift = shift_open_event(user_id=cashier)
    opened = _no_sale(cashier_id=cashier, approved_by=world.manager_id, shift=shift)
    no_shift = _no_sale(cashier_id=cashier, approved_by=world.manager_id)
    by_cashier = _no_sale(cashier_id=cashier, approved_by=cashier)
    results = _results(push(client, headers, [shift, opened, no_shift, by_cashier]))
    assert [(r["status"], r["code"]) for r in results] == [
        ("applied", None),
        ("applied", None),
        ("applied", None),
        ("rejected", "approval_required"),
    ]
    # pushed again (the answer was lost): duplicates, nothing written twice
    assert statuses(push(client, headers, [opened, no_shift])) == ["duplicate", "duplicate"]
    # another terminal cannot name this terminal's shift
    foreign = _no_sale(cashier_id=cashier, approved_by=world.manager_id, shift=shift)
    assert [r["code"] for r in _results(push(client, world.terminal_headers(1), [foreign]))] == [
        "shift_terminal_mismatch"
    ]
    with db.session() as s:
        rows = s.scalars(select(DrawerOpen).order_by(DrawerOpen.created_at)).all()
        assert [(r.id, r.event_id) for r in rows] == [
            (UUID(opened["payload"]["id"]), UUID(opened["id"])),
            (UUID(no_shift["payload"]["id"]), UUID(no_shift["id"])),
        ]
        first = rows[0]
        assert first.shift_id == UUID(shift["payload"]["id"])
        assert (first.cashier_id, first.approved_by, first.reason) == (
            cashier,
            world.manager_id,
            "tukar uang kecil",
        )
        assert first.terminal_id == world.terminal_ids[0] and first.store_id == world.store_id
        assert rows[1].shift_id is None
    today = service.store_today(db, store_id=world.store_id)
    cashiers = service.by_cashier(db, store_id=world.store_id, start=today, end=today)
    assert [(c.cashier_id, c.no_sale_opens, c.sales_count) for c in cashiers] == [(cashier, 2, 0)]
    resp = client.get(
        "/api/v1/reports/cashiers",
        params={"store_id": world.store_id, "start": str(today), "end": str(today)},
        headers=world.manager_headers(),
    )
    assert resp.status_code == 200, resp.text
    assert [(c["cashier_id"], c["no_sale_opens"]) for c in resp.json()] == [(cashier, 2)]
