"""Margin (laba kotor) and HPP: the cost recorded on sale lines at ingest, the cost
rollup kept with the sales, refunds taking their cost back out, unknown costs counted,
and the three reports against a brute-force recomputation (SQLite and MariaDB)."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from shared.models import PROTOCOL_HEADER
from sync_server.core.database import Database
from sync_server.core.models import Store
from sync_server.reports import margin
from sync_server.reports.rollups import PRODUCT_TOTALS, rebuild_rollups
from sync_server.sync.models import SaleLine
from tests.server.conftest import World, build_staff
from tests.server.sync_helpers import (
    add_products,
    push,
    refund_event,
    sale_event,
    statuses,
    void_event,
)
from tests.server.test_reports import rollup_snapshot

FAR = (date(2020, 1, 1), date(2029, 12, 31))
_stores = itertools.count(1)


def _receive(
    client: TestClient, token: str, product_id: int, quantity: int, cost: int | None
) -> None:
    line: dict[str, Any] = {"product_id": product_id, "quantity": quantity}
    if cost is not None:
        line["unit_cost"] = cost
    resp = client.post(
        "/api/v1/stock/receive",
        json={"lines": [line]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status_code == 200, resp.text


def _line_net(line: dict[str, Any]) -> int:
    return int(line["total"] - line["tax"])


def test_sale_lines_carry_cost_refunds_take_it_out_unknown_is_counted(
    client: TestClient, db: Database, world: World
) -> None:
    known, unknown = add_products(db, 2, price=2_000)
    _receive(client, world.manager_token, known.id, 10, 1_000)
    _receive(client, world.manager_token, unknown.id, 10, None)
    sale = sale_event(
        terminal_code="T01",
        cashier_id=world.cashier_ids[0],
        items=[(known, 3), (unknown, 1)],
    )
    assert statuses(push(client, world.terminal_headers(0), [sale])) == ["applied"]
    with db.session() as s:
        costs = dict(s.execute(select(SaleLine.product_id, SaleLine.unit_cost)).all())
    assert costs == {known.id: 1_000, unknown.id: None}
    lines = sale["payload"]["lines"]
    answer = margin.margin_by_product(db, store_id=world.store_id, start=FAR[0], end=FAR[1])
    rows = {r.product_id: r for r in answer.rows}
    assert rows[known.id].cost == 3_000
    assert rows[known.id].revenue == _line_net(lines[0])
    assert rows[known.id].gross_margin == _line_net(lines[0]) - 3_000
    assert rows[unknown.id].unknown_lines == 1
    assert rows[unknown.id].cost == 0
    assert rows[unknown.id].gross_margin == 0  # not counted as free goods
    assert answer.totals.unknown_lines == 1
    # A refund of one unit takes one unit's cost back out, at the cost it was sold at.
    _receive(client, world.manager_token, known.id, 10, 4_000)  # the average moves on
    refund = refund_event(sale, lines=[(0, 1)], approved_by=world.manager_id)
    assert statuses(push(client, world.terminal_headers(0), [refund])) == ["applied"]
    after = margin.margin_by_product(db, store_id=world.store_id, start=FAR[0], end=FAR[1])
    row = next(r for r in after.rows if r.product_id == known.id)
    assert row.cost == 2_000
    assert row.quantity == 2
    amount = refund["payload"]["lines"][0]["amount"]
    tax_share = amount * lines[0]["tax"] // lines[0]["total"]
    assert row.revenue == _line_net(lines[0]) - (amount - tax_share)
    # A refund of a line of unknown cost is counted too.
    refund2 = refund_event(sale, lines=[(1, 1)], approved_by=world.manager_id)
    assert statuses(push(client, world.terminal_headers(0), [refund2])) == ["applied"]
    totals = margin.margin_over_time(
        db, store_id=world.store_id, start=FAR[0], end=FAR[1], granularity="year"
    ).totals
    assert totals.unknown_lines == 2
    assert totals.cost == 2_000
    # The pages' words and the rollup rebuilt from the raw rows say the same.
    assert totals.margin_label.endswith("%")
    incremental = rollup_snapshot(db)
    rebuild_rollups(db)
    assert rollup_snapshot(db) == incremental


@dataclass
class Sim:
    """The brute force: on hand and moving average per product, replayed in Python."""

    on_hand: dict[int, int] = field(default_factory=dict)
    avg: dict[int, int | None] = field(default_factory=dict)
    expected: dict[int, dict[str, int]] = field(default_factory=dict)

    def figures(self, pid: int) -> dict[str, int]:
        return self.expected.setdefault(
            pid,
            dict.fromkeys(("quantity", "revenue", "costed_revenue", "cost", "unknown_lines"), 0),
        )

    def receive(self, pid: int, qty: int, cost: int | None) -> None:
        before = self.on_hand.get(pid, 0)
        if cost is not None:
            old = self.avg.get(pid)
            if old is None or before <= 0:
                self.avg[pid] = cost
            else:
                # Half up, done with exact fractions: a second way to the same rule.
                from fractions import Fraction

                exact = Fraction(before * old + qty * cost, before + qty)
                self.avg[pid] = int(exact + Fraction(1, 2)) if exact >= 0 else int(exact)
        self.on_hand[pid] = before + qty

    def sell(self, line: dict[str, Any], sign: int = 1) -> None:
        pid, qty = line["product_id"], line["quantity"]
        cost = line["cost"]
        f = self.figures(pid)
        f["quantity"] += sign * qty
        f["revenue"] += sign * _line_net(line)
        if cost is None:
            f["unknown_lines"] += sign
        else:
            f["costed_revenue"] += sign * _line_net(line)
            f["cost"] += sign * cost * qty
        self.on_hand[pid] = self.on_hand.get(pid, 0) - sign * qty

    def refund(self, line: dict[str, Any], qty: int, amount: int) -> None:
        pid, cost = line["product_id"], line["cost"]
        net = amount - (amount * line["tax"] // line["total"] if line["total"] else 0)
        f = self.figures(pid)
        f["quantity"] -= qty
        f["revenue"] -= net
        if cost is None:
            f["unknown_lines"] += 1
        else:
            f["costed_revenue"] -= net
            f["cost"] -= cost * qty
        self.on_hand[pid] = self.on_hand.get(pid, 0) + qty


op = st.one_of(
    st.tuples(
        st.just("receive"),
        st.integers(0, 2),
        st.integers(1, 20),
        st.one_of(st.none(), st.integers(0, 50_000)),
    ),
    st.tuples(
        st.just("sell"),
        st.lists(st.tuples(st.integers(0, 2), st.integers(1, 5)), min_size=1, max_size=3),
    ),
    st.tuples(st.just("refund"), st.integers(0, 9), st.integers(0, 2), st.integers(1, 3)),
    st.tuples(st.just("void"), st.integers(0, 9)),
)


def test_margin_reports_equal_brute_force(client: TestClient, db: Database) -> None:
    """Receipts with and without cost, sales, refunds and voids in any order; the three
    reports equal a replay in Python (each example in a store of its own)."""
    products = add_products(db, 2, price=12_500) + add_products(
        db, 1, price=7_000, tax_inclusive=False
    )

    seen = dict.fromkeys(("costed", "unknown", "refund", "void"), 0)

    @settings(max_examples=25, deadline=None, derandomize=True)
    @given(ops=st.lists(op, min_size=1, max_size=10))
    def run(ops: list[tuple[Any, ...]]) -> None:
        n = next(_stores)
        with db.session() as s:
            store = Store(code=f"M{n:03d}", name=f"Toko margin {n}")
            s.add(store)
            s.flush()
            store_id = store.id
        staff = build_staff(db, store_id=store_id, prefix=f"m{n}")
        till = {
            "Authorization": f"Bearer {staff.terminal_token}",
            PROTOCOL_HEADER: "1",
        }
        code = f"M{n}T1"
        sim = Sim()
        sales: list[dict[str, Any]] = []  # the event, its lines with cost, refunded, voided
        for step in ops:
            if step[0] == "receive":
                _, index, qty, cost = step
                _receive(client, staff.manager_token, products[index].id, qty, cost)
                sim.receive(products[index].id, qty, cost)
            elif step[0] == "sell":
                items = [(products[i], q) for i, q in step[1] if q]
                merged: dict[int, int] = {}
                for p, q in items:
                    merged[p.id] = merged.get(p.id, 0) + q
                by_id = {p.id: p for p in products}
                event = sale_event(
                    terminal_code=code,
                    cashier_id=staff.cashier_id,
                    items=[(by_id[pid], q) for pid, q in merged.items()],
                )
                assert statuses(push(client, till, [event])) == ["applied"]
                lines = [
                    {**line, "cost": sim.avg.get(line["product_id"])}
                    for line in event["payload"]["lines"]
                ]
                for line in lines:
                    sim.sell(line)
                    seen["unknown" if line["cost"] is None else "costed"] += 1
                sales.append({"event": event, "lines": lines, "refunded": {}, "voided": False})
            elif step[0] == "refund" and sales:
                _, s_index, l_index, qty = step
                sale = sales[s_index % len(sales)]
                l_index %= len(sale["lines"])
                line = sale["lines"][l_index]
                before = sale["refunded"].get(l_index, 0)
                if sale["voided"] or before + qty > line["quantity"]:
                    continue
                event = refund_event(
                    sale["event"],
                    lines=[(l_index, qty)],
                    approved_by=staff.manager_id,
                    refunded_before=dict(sale["refunded"]),
                )
                assert statuses(push(client, till, [event])) == ["applied"]
                sale["refunded"][l_index] = before + qty
                seen["refund"] += 1
                sim.refund(line, qty, event["payload"]["lines"][0]["amount"])
            elif step[0] == "void" and sales:
                sale = sales[step[1] % len(sales)]
                if sale["voided"] or sale["refunded"]:
                    continue
                event = void_event(sale["event"], approved_by=staff.manager_id)
                assert statuses(push(client, till, [event])) == ["applied"]
                sale["voided"] = True
                seen["void"] += 1
                for line in sale["lines"]:
                    sim.sell(line, sign=-1)
        expected = {pid: f for pid, f in sim.expected.items() if any(f.values())}
        by_product = margin.margin_by_product(db, store_id=store_id, start=FAR[0], end=FAR[1])
        got = {
            r.product_id: {k: getattr(r, k) for k in margin.MARGIN_FIELDS}
            for r in by_product.rows
            if any(getattr(r, k) for k in margin.MARGIN_FIELDS)
        }
        assert got == expected
        total = {k: sum(f[k] for f in expected.values()) for k in margin.MARGIN_FIELDS}
        assert by_product.totals.model_dump(include=set(margin.MARGIN_FIELDS)) == total
        by_category = margin.margin_by_category(db, store_id=store_id, start=FAR[0], end=FAR[1])
        assert by_category.totals.model_dump(include=set(margin.MARGIN_FIELDS)) == total
        today = date.today()
        for granularity in ("day", "month"):
            over_time = margin.margin_over_time(
                db,
                store_id=store_id,
                start=today - timedelta(days=40),
                end=today + timedelta(days=1),
                granularity=granularity,  # type: ignore[arg-type]
            )
            assert over_time.totals.model_dump(include=set(margin.MARGIN_FIELDS)) == total

    run()
    assert all(seen.values()), seen  # every kind of line was exercised


def test_a_year_of_margin_answers_in_milliseconds(db: Database, world: World) -> None:
    """365 days × 100 products × 2 tills of cost rollup rows (plus their months): the
    three reports over the year, timed and printed (no timed assertion)."""
    products = add_products(db, 100)
    start = date(2025, 1, 1)
    rows: list[dict[str, Any]] = []
    months: dict[tuple[date, int, int], dict[str, Any]] = {}
    for offset in range(365):
        day = start + timedelta(days=offset)
        for terminal in world.terminal_ids:
            for i, p in enumerate(products):
                figures = {
                    "quantity": 1 + i % 3,
                    "revenue": 9_990,
                    "net_revenue": 9_000,
                    "costed_revenue": 9_000 if i % 10 else 0,
                    "cost": 6_000 if i % 10 else 0,
                    "unknown_lines": 0 if i % 10 else 1,
                    "refunded_quantity": 0,
                    "refunded_amount": 0,
                    "refunded_net_revenue": 0,
                    "refunded_costed_revenue": 0,
                    "refunded_cost": 0,
                    "refunded_unknown_lines": 0,
                }
                key = {"store_id": world.store_id, "terminal_id": terminal, "product_id": p.id}
                rows.append({**key, "grain": "D", "period": day, **figures})
                month = months.setdefault(
                    (day.replace(day=1), terminal, p.id),
                    {**key, "grain": "M", "period": day.replace(day=1)} | dict.fromkeys(figures, 0),
                )
                for name, value in figures.items():
                    month[name] += value
    table = PRODUCT_TOTALS
    with db.session() as s:
        for chunk in range(0, len(rows), 5_000):
            s.execute(insert(table), rows[chunk : chunk + 5_000])
        s.execute(insert(table), list(months.values()))
    end = start + timedelta(days=364)
    timings = {}
    for name, call in (
        (
            "year by month",
            lambda: margin.margin_over_time(
                db, store_id=world.store_id, start=start, end=end, granularity="month"
            ),
        ),
        (
            "year by product",
            lambda: margin.margin_by_product(db, store_id=world.store_id, start=start, end=end),
        ),
        (
            "year by category",
            lambda: margin.margin_by_category(db, store_id=world.store_id, start=start, end=end),
        ),
        (
            "ragged year by week",
            lambda: margin.margin_over_time(
                db,
                store_id=world.store_id,
                start=start + timedelta(days=10),
                end=end - timedelta(days=10),
                granularity="week",
            ),
        ),
    ):
        began = time.perf_counter()
        answer = call()
        timings[name] = (time.perf_counter() - began) * 1000
        assert answer.totals.cost == 365 * 2 * 90 * 6_000 or "ragged" in name
    print(
        f"\nmargin over 365 days, {len(rows)} day rows ({db.engine.dialect.name}): "
        + ", ".join(f"{name} {ms:.1f} ms" for name, ms in timings.items())
    )


def test_the_margin_api_groups_by_the_granularity_asked(client: TestClient, world: World) -> None:
    """The API takes ``granularity`` for every report grouped by period (as its page does)."""
    period = {"start": "2025-01-01", "end": "2025-03-31"}
    by_month = client.get(
        "/api/v1/reports/margin",
        params={**period, "granularity": "month"},
        headers=world.manager_headers(),
    )
    by_day = client.get("/api/v1/reports/margin", params=period, headers=world.manager_headers())
    assert by_month.status_code == by_day.status_code == 200
    assert len(by_month.json()["periods"]) == 3 and len(by_day.json()["periods"]) == 90
    refused = client.get(
        "/api/v1/reports/margin",
        params={**period, "granularity": "decade"},
        headers=world.manager_headers(),
    )
    assert refused.status_code == 422
