"""Round trips of a push: a typical batch costs a bounded number of statements (a
regression guard; ``benches/ingest.py`` measures what they cost)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from shared.ids import new_id
from sync_server.core.database import Database
from tests.server.conftest import World
from tests.server.sync_helpers import (
    add_products,
    push,
    refund_event,
    row_counts,
    sale_event,
    shift_open_event,
    statuses,
    void_event,
)

MOST_STATEMENTS_PER_PUSH = 12
"""Statements a push of five sales (two lines each, in an open shift, no customer) may
send, from the terminal's token to the commit, on either database: 21 before ingest's
lookups were combined (the store with its first till's date, applied ids with receipts,
users and shifts in one UNION ALL, products with their price history), 16 before the
flags metric was counted from the rows written instead of read back after the commit, 15
before the store joined that UNION ALL and the refusals an applied event resolves were
read there too (no UPDATE of ``rejected_events`` when the batch's ids had none open), 13
before a till the server already knows was checked in that UNION ALL instead of being
looked up by its token first. Issue 14 kept it at 12: the sale lines' costs come with the
first lookup, the margin figures ride in the product rollup's upsert (no table of their
own), and the points ledger sends nothing for a batch without customers."""

MOST_STATEMENTS_EARNING = 18
"""The same push with every sale to a new customer earning points: 6 more (the points
rule, one lookup of the customers by id and phone, and one bulk insert each of
customers, customer_sales, points_moves and customer_changes), never one per sale."""

MOST_STATEMENTS_REDEEMING = 19
"""The same push with every sale to a known customer redeeming points: 7 more (the
rule, the lookup, the customers' rows touched so that redemptions serialise, their
balances summed, and the bulk inserts of customer_sales, points_moves and
customer_changes)."""

MOST_STATEMENTS_REVERSALS = 16
"""A refund and a void of sales without customers (pushed earlier): the sales read and
locked with their lines (and whether they had a customer), no read of the points
ledger."""

CUSTOMER_TABLES = ("customers", "customer_sales", "points_moves", "customer_changes")


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every statement sent through ``engine`` meanwhile (an executemany counts once)."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        seen.append(" ".join(sql.split())[:160])

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _counted(sent: list[str]) -> list[str]:
    return [s for s in sent if not s.upper().startswith(("BEGIN", "SAVEPOINT"))]


def _five_sales(
    world: World, products: list[Any], shift: dict[str, Any], order_discount: int = 0
) -> list[dict]:
    return [
        sale_event(
            terminal_code="T01",
            cashier_id=world.cashier_ids[0],
            items=[(products[2 * i], 1), (products[2 * i + 1], 2)],
            shift_id=shift["payload"]["id"],
            tendered=100_000,
            order_discount=order_discount,
        )
        for i in range(5)
    ]


def _open_shift(client: TestClient, world: World) -> dict[str, Any]:
    shift = shift_open_event(user_id=world.cashier_ids[0])
    assert statuses(push(client, world.terminal_headers(0), [shift])) == ["applied"]
    return shift


def test_a_push_of_five_sales_takes_few_round_trips(
    client: TestClient, db: Database, world: World
) -> None:
    products = add_products(db, 10)
    shift = _open_shift(client, world)
    sales = _five_sales(world, products, shift)
    with statements(db.engine) as sent:
        resp = push(client, world.terminal_headers(0), sales)
    assert statuses(resp) == ["applied"] * 5
    assert row_counts(db, ("sales", "sale_lines")) == {"sales": 5, "sale_lines": 10}
    counted = _counted(sent)
    print(f"FIGURE statements per 5-sale push without customers: {len(counted)}")
    assert len(counted) <= MOST_STATEMENTS_PER_PUSH, "\n".join(counted)
    assert not [s for s in counted if any(t in s for t in CUSTOMER_TABLES)]


def test_customers_add_a_bounded_number_of_statements(
    client: TestClient, db: Database, world: World
) -> None:
    rule = {"enabled": True, "earn_points": 1, "earn_per_rupiah": 10_000, "point_value": 100}
    assert client.put("/api/v1/loyalty", json=rule, headers=world.admin_headers()).is_success
    products = add_products(db, 10)
    shift = _open_shift(client, world)

    def to_customers(events: list[dict], redeem: int) -> list[dict]:
        for i, sale in enumerate(events):
            sale["payload"]["customer"] = {
                "id": str(new_id()),
                "phone": f"0812 0000 {i:04d}",
                "name": f"Pelanggan {i}",
                "points_redeemed": redeem,
                "points_discount": redeem * rule["point_value"],
            }
        return events

    figures = {}
    for kind, redeem, most in (
        ("earning", 0, MOST_STATEMENTS_EARNING),
        ("redeeming", 1, MOST_STATEMENTS_REDEEMING),
    ):
        batch = to_customers(
            _five_sales(world, products, shift, order_discount=redeem * rule["point_value"]),
            redeem,
        )
        with statements(db.engine) as sent:
            resp = push(client, world.terminal_headers(0), batch)
        assert statuses(resp) == ["applied"] * 5, (kind, resp.json())
        counted = _counted(sent)
        figures[kind] = len(counted)
        assert len(counted) <= most, "\n".join(counted)
    print(f"FIGURE statements per 5-sale push to customers: {figures}")


def test_reversals_of_sales_without_customers_cost_the_ledger_nothing(
    client: TestClient, db: Database, world: World
) -> None:
    products = add_products(db, 10)
    shift = _open_shift(client, world)
    sales = _five_sales(world, products, shift)
    assert statuses(push(client, world.terminal_headers(0), sales)) == ["applied"] * 5
    batch = [
        refund_event(sales[0], lines=[(0, 1)], approved_by=world.manager_id),
        void_event(sales[1], approved_by=world.manager_id),
    ]
    with statements(db.engine) as sent:
        assert statuses(push(client, world.terminal_headers(0), batch)) == ["applied"] * 2
    counted = _counted(sent)
    print(f"FIGURE statements for a refund and a void without customers: {len(counted)}")
    assert len(counted) <= MOST_STATEMENTS_REVERSALS, "\n".join(counted)
    on_customers = [s for s in counted if any(f" {t} " in f"{s} " for t in CUSTOMER_TABLES)]
    assert [s for s in on_customers if not s.startswith("SELECT sales.id")] == []
