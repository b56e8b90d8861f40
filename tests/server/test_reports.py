"""Every report equals a brute-force recomputation from the raw sales tables.

Sales with line and order discounts (vouchers), split cash+QRIS tenders, partial
refunds (cash or QRIS, at either till) and voids, rung up around midnight in Jakarta
(16:30-17:30 UTC) on days either side of month ends, go through the real push endpoint;
then each report is checked against plain Python over the raw rows, and the rollups
the ingest maintained against a full :func:`rebuild_rollups`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from shared.ids import new_id
from sync_server.core.database import Database
from sync_server.reports import service
from sync_server.reports.rollups import (
    PRODUCT_TOTALS,
    PRODUCT_VALUES,
    ROLLUPS,
    SALES_VALUES,
    VALUE_COLUMNS,
    rebuild_rollups,
)
from sync_server.sync.models import Refund, RefundLine, Sale, SaleLine, SalePayment
from tests.server.conftest import World
from tests.server.sync_helpers import (
    CatalogProduct,
    add_products,
    push,
    refund_event,
    sale_event,
    statuses,
    void_event,
)

DAYS = [date(2025, 1, 30), date(2025, 1, 31), date(2025, 2, 1), date(2025, 2, 28), date(2025, 3, 1)]
RANGES = [
    (date(2024, 12, 20), date(2025, 3, 10)),  # ragged days, whole Jan and Feb, ragged days
    (date(2025, 1, 31), date(2025, 2, 28)),  # one day, then the whole of February
    (date(2025, 1, 30), date(2025, 1, 31)),  # days only
]

line_spec = st.tuples(
    st.integers(0, 3), st.integers(1, 5), st.sampled_from([0, 0, 250, 1_000, 99_999])
)
sale_spec = st.fixed_dictionaries(
    {
        "terminal": st.integers(0, 1),
        "cashier": st.integers(0, 1),
        "lines": st.lists(line_spec, min_size=1, max_size=3),
        "order_discount": st.sampled_from([0, 0, 500, 2_000, 10**9]),
        "voucher": st.booleans(),
        "qris_part": st.one_of(st.none(), st.floats(0, 1)),
        "day": st.sampled_from(DAYS),
        "minute": st.integers(16 * 60 + 30, 17 * 60 + 30),
        "after": st.one_of(
            st.none(),
            st.just("void"),
            st.tuples(
                st.lists(st.tuples(st.integers(0, 2), st.integers(1, 3)), min_size=1, max_size=2),
                st.sampled_from(["cash", "qris"]),
                st.integers(0, 1),
                st.integers(0, 90),
            ),
        ),
    }
)


def _at(day: date, minute: int) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=minute)


def _build_sale(spec: dict[str, Any], products: list[CatalogProduct], world: World) -> dict:
    items = []
    for index, qty, discount in spec["lines"]:
        product = products[index]
        items.append((product, qty, min(discount, product.price * qty)))
    nets = sum(p.price * q - d for p, q, d in items)
    created = _at(spec["day"], spec["minute"])
    event = sale_event(
        terminal_code=f"T0{spec['terminal'] + 1}",
        cashier_id=world.cashier_ids[spec["cashier"]],
        items=items,
        order_discount=min(spec["order_discount"], nets),
        created_at=created.isoformat(),
    )
    payload = event["payload"]
    if spec["voucher"] and payload["order_discount"]:
        payload["voucher_code"] = "HEMAT10"
    if spec["qris_part"] is not None:
        total = payload["total"]
        qris = int(total * spec["qris_part"])
        payload["payments"] = [
            p
            for p in (
                {"id": str(new_id()), "method": "cash", "amount": total - qris},
                {"id": str(new_id()), "method": "qris", "amount": qris, "reference": "T123"},
            )
            if p["amount"] or total == 0
        ] or [{"id": str(new_id()), "method": "cash", "amount": 0}]
    return event


def _after_events(spec: dict[str, Any], sale: dict, world: World) -> list[tuple[int, dict]]:
    """The void or refund following a sale, with the index of the till that sends it."""
    after = spec["after"]
    created = datetime.fromisoformat(sale["payload"]["created_at"])
    if after is None:
        return []
    if after == "void":
        event = void_event(sale, approved_by=world.manager_id)
        event["payload"]["created_at"] = (created + timedelta(minutes=5)).isoformat()
        return [(spec["terminal"], event)]
    lines, method, terminal, minutes = after
    n_lines = len(sale["payload"]["lines"])
    wanted: dict[int, int] = defaultdict(int)
    for index, qty in lines:
        wanted[index % n_lines] += qty
    fitting = [
        (i, min(q, sale["payload"]["lines"][i]["quantity"])) for i, q in sorted(wanted.items())
    ]
    event = refund_event(
        sale, lines=fitting, approved_by=world.manager_id, cashier_id=world.cashier_ids[terminal]
    )
    event["payload"]["method"] = method
    event["payload"]["created_at"] = (created + timedelta(minutes=minutes)).isoformat()
    return [(terminal, event)]


# --- brute force over the raw rows -----------------------------------------------------------


class Raw:
    """Every raw row of the sales tables, read plainly."""

    def __init__(self, db: Database, store_id: int) -> None:
        with db.session() as s:
            self.sales = [r._asdict() for r in s.execute(select(Sale.__table__))]
            self.sales = [r for r in self.sales if r["store_id"] == store_id]
            ids = {r["id"] for r in self.sales}
            self.lines = [
                r._asdict() for r in s.execute(select(SaleLine.__table__)) if r.sale_id in ids
            ]
            self.payments = [
                r._asdict() for r in s.execute(select(SalePayment.__table__)) if r.sale_id in ids
            ]
            self.refunds = [
                r._asdict() for r in s.execute(select(Refund.__table__)) if r.store_id == store_id
            ]
            refund_ids = {r["id"] for r in self.refunds}
            self.refund_lines = [
                r._asdict()
                for r in s.execute(select(RefundLine.__table__))
                if r.refund_id in refund_ids
            ]
        self.sale_by_id = {s["id"]: s for s in self.sales}
        self.refund_by_id = {r["id"]: r for r in self.refunds}

    def figures(self, start: date, end: date, key: Callable[[dict], Any]) -> dict[Any, dict]:
        """Sales figures per ``key(row)`` of sales and refunds on days start..end."""
        out: dict[Any, dict[str, int]] = defaultdict(lambda: dict.fromkeys(SALES_VALUES, 0))
        for sale in self.sales:
            if not start <= sale["business_date"] <= end:
                continue
            f = out[key(sale)]
            if sale["voided"]:
                f["voids_count"] += 1
                f["voids_amount"] += sale["total"]
            else:
                f["sales_count"] += 1
                f["gross"] += sale["subtotal"]
                f["discounts"] += sale["discount_total"]
                f["tax"] += sale["tax_total"]
                f["net"] += sale["total"]
        for refund in self.refunds:
            if start <= refund["business_date"] <= end:
                f = out[key(refund)]
                f["refunds_count"] += 1
                f["refunds_amount"] += refund["total"]
        return dict(out)

    def products(
        self, start: date, end: date, by_terminal: bool = False
    ) -> dict[Any, tuple[int, int, int, int]]:
        """Units and money per product (per ``(terminal, product)`` with ``by_terminal``:
        a sale's lines under the sale's till, a refund's under the refunding till)."""
        out: dict[Any, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for line in self.lines:
            sale = self.sale_by_id[line["sale_id"]]
            key = (sale["terminal_id"], line["product_id"]) if by_terminal else line["product_id"]
            if start <= sale["business_date"] <= end and not sale["voided"]:
                out[key][0] += line["quantity"]
                out[key][1] += line["total"]
        for line in self.refund_lines:
            refund = self.refund_by_id[line["refund_id"]]
            key = (refund["terminal_id"], line["product_id"]) if by_terminal else line["product_id"]
            if start <= refund["business_date"] <= end:
                out[key][2] += line["quantity"]
                out[key][3] += line["amount"]
        return {k: (v[0], v[1], v[2], v[3]) for k, v in out.items() if any(v)}

    def methods(self, start: date, end: date) -> dict[str, tuple[int, int, int, int]]:
        out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for pay in self.payments:
            sale = self.sale_by_id[pay["sale_id"]]
            if start <= sale["business_date"] <= end and not sale["voided"]:
                out[pay["method"]][0] += 1
                out[pay["method"]][1] += pay["amount"]
        for refund in self.refunds:
            if start <= refund["business_date"] <= end:
                out[refund["method"]][2] += 1
                out[refund["method"]][3] += refund["total"]
        return {k: (v[0], v[1], v[2], v[3]) for k, v in out.items()}


def _label(day: date, granularity: str) -> str:
    if granularity == "day":
        return day.isoformat()
    if granularity == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day:%Y-%m}" if granularity == "month" else str(day.year)


def _figs(model: Any) -> dict[str, int]:
    return {n: getattr(model, n) for n in SALES_VALUES}


def _nonzero(d: dict[Any, dict[str, int]]) -> dict[Any, dict[str, int]]:
    return {k: v for k, v in d.items() if any(v.values())}


def check_reports(db: Database, store_id: int) -> None:
    """Assert every rollup-based report equals the brute force over the raw rows."""
    raw = Raw(db, store_id)
    for start, end in RANGES:
        by_day = raw.figures(start, end, lambda r: r["business_date"])
        for granularity in ("day", "week", "month", "year"):
            report = service.sales_over_time(
                db,
                store_id=store_id,
                granularity=granularity,
                start=start,
                end=end,
            )
            want: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(SALES_VALUES, 0))
            for day, figures in by_day.items():
                for name, value in figures.items():
                    want[_label(day, granularity)][name] += value
            got = {p.label: _figs(p) for p in report.periods}
            assert _nonzero(got) == _nonzero(dict(want)), (granularity, start, end)
            assert len(got) == len(
                {_label(start + timedelta(d), granularity) for d in range((end - start).days + 1)}
            )
        total = raw.figures(start, end, lambda r: 0).get(0, dict.fromkeys(SALES_VALUES, 0))
        assert _figs(report.totals) == total
        assert _figs(service.sales_summary(db, store_id=store_id, start=start, end=end)) == total

        products = service.top_products(db, store_id=store_id, start=start, end=end, limit=1000)
        got_products = {
            p.product_id: (p.quantity, p.revenue, p.refunded_quantity, p.refunded_amount)
            for p in products
        }
        assert {k: v for k, v in got_products.items() if any(v)} == raw.products(start, end)
        # The rollup is kept per terminal; each till's shard equals its own raw lines.
        assert product_shards(db, store_id, start, end) == raw.products(start, end, True)
        revenues = [p.revenue for p in products]
        assert revenues == sorted(revenues, reverse=True)
        top2 = service.top_products(db, store_id=store_id, start=start, end=end, limit=2)
        assert [p.product_id for p in top2] == [p.product_id for p in products[:2]]

        methods = service.by_payment_method(db, store_id=store_id, start=start, end=end)
        got_methods = {
            m.method: (m.payments_count, m.amount, m.refunds_count, m.refunds_amount)
            for m in methods
        }
        assert {k: v for k, v in got_methods.items() if any(v)} == {
            k: v for k, v in raw.methods(start, end).items() if any(v)
        }

        cashiers = service.by_cashier(db, store_id=store_id, start=start, end=end)
        assert _nonzero({c.cashier_id: _figs(c) for c in cashiers}) == _nonzero(
            raw.figures(start, end, lambda r: r["cashier_id"])
        )
        terminals = service.by_terminal(db, store_id=store_id, start=start, end=end)
        assert _nonzero({t.terminal_id: _figs(t) for t in terminals}) == _nonzero(
            raw.figures(start, end, lambda r: r["terminal_id"])
        )
        rvd = service.refunds_voids_discounts(db, store_id=store_id, start=start, end=end)
        assert _figs(rvd.totals) == total
        assert _nonzero({d.day: _figs(d) for d in rvd.days}) == _nonzero(by_day)


def product_shards(
    db: Database, store_id: int, start: date, end: date
) -> dict[tuple[int, int], tuple[int, int, int, int]]:
    """The non-zero day rows of ``report_product_totals`` in start..end, summed per
    (terminal, product)."""
    t = PRODUCT_TOTALS
    with db.session() as s:
        rows = s.execute(
            select(
                t.c.terminal_id,
                t.c.product_id,
                *(func.sum(t.c[v]) for v in PRODUCT_VALUES),
            )
            .where(t.c.store_id == store_id, t.c.grain == "D", t.c.period.between(start, end))
            .group_by(t.c.terminal_id, t.c.product_id)
        ).all()
    out = {(int(r[0]), int(r[1])): (int(r[2]), int(r[3]), int(r[4]), int(r[5])) for r in rows}
    return {k: v for k, v in out.items() if any(v)}


def rollup_snapshot(db: Database) -> dict[str, set[tuple[Any, ...]]]:
    """Every non-zero rollup row (a void can leave an all-zero row behind)."""
    out = {}
    with db.session() as s:
        for table in ROLLUPS:
            values = VALUE_COLUMNS[table]
            out[table.name] = {
                tuple(row)
                for row in s.execute(select(table))
                if any(getattr(row, v) for v in values)
            }
    return out


def test_reports_equal_brute_force_over_generated_sales(
    client: TestClient, db: Database, world: World
) -> None:
    products = add_products(db, 2, price=10_000) + add_products(
        db, 2, price=7_500, tax_inclusive=False
    )

    @settings(max_examples=15, deadline=None, derandomize=True)
    @given(specs=st.lists(sale_spec, min_size=1, max_size=8))
    def run(specs: list[dict[str, Any]]) -> None:
        batches: dict[int, list[dict]] = {0: [], 1: []}
        later: dict[int, list[dict]] = {0: [], 1: []}
        for spec in specs:
            sale = _build_sale(spec, products, world)
            batches[spec["terminal"]].append(sale)
            for terminal, event in _after_events(spec, sale, world):
                later[terminal].append(event)
        for group in (batches, later):
            for terminal, events in group.items():
                if events:
                    resp = push(client, world.terminal_headers(terminal), events)
                    assert set(statuses(resp)) == {"applied"}, resp.json()
        check_reports(db, world.store_id)

    run()
    raw = Raw(db, world.store_id)
    assert any(s["voided"] for s in raw.sales) and raw.refunds
    assert {p["method"] for p in raw.payments} == {"cash", "qris"}
    assert any(s["order_discount"] and s["voucher_code"] for s in raw.sales)
    # Both sides of midnight in Jakarta: the local day differs from the UTC day or not.
    assert {s["business_date"] == s["created_at"].date() for s in raw.sales} == {True, False}
    # Both tills sold, so the product rollup really is split between them.
    shards = product_shards(db, world.store_id, date(2024, 1, 1), date(2026, 1, 1))
    assert {terminal for terminal, _ in shards} == set(world.terminal_ids)
    incremental = rollup_snapshot(db)
    assert incremental["report_sales_totals"]
    rebuild_rollups(db)
    assert rollup_snapshot(db) == incremental
    check_reports(db, world.store_id)
