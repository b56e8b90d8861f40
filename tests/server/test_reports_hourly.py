"""The busy-hours report equals a brute-force recomputation from the pushed sales.

Sales (some voided) rung up at generated minutes of days either side of a month end go
through the real push endpoint; the report is then compared with plain Python putting
each raw sale in the store-local hour of its ``created_at``. The store runs on Jakarta
time (UTC+7, whole-hour buckets in SQL) and on Kathmandu time (UTC+5:45, quarter-hour
buckets), on SQLite and MariaDB.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from sync_server.core.database import Database
from sync_server.core.models import Store
from sync_server.reports import service
from sync_server.sync.models import Sale
from tests.server.conftest import World
from tests.server.sync_helpers import add_products, push, sale_event, statuses, void_event

DAYS = [date(2025, 1, 30), date(2025, 1, 31), date(2025, 2, 1)]
RANGES = [
    (date(2025, 1, 30), date(2025, 2, 1)),
    (date(2025, 1, 31), date(2025, 1, 31)),
    (date(2025, 2, 1), date(2025, 2, 28)),
]

sale_spec = st.fixed_dictionaries(
    {
        "terminal": st.integers(0, 1),
        "day": st.sampled_from(DAYS),
        "minute": st.integers(0, 24 * 60 - 1),
        "quantity": st.integers(1, 4),
        "void": st.booleans(),
    }
)


def _brute_force(db: Database, store_id: int, zone: ZoneInfo, start: date, end: date) -> dict:
    """Per local hour: (transactions, net) of the store's sales not voided, by hand."""
    with db.session() as s:
        sales = [r._asdict() for r in s.execute(select(Sale.__table__))]
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for sale in sales:
        if sale["store_id"] != store_id or sale["voided"]:
            continue
        local = sale["created_at"].astimezone(zone)
        if start <= local.date() <= end:
            out[local.hour][0] += 1
            out[local.hour][1] += sale["total"]
    return {hour: tuple(v) for hour, v in out.items()}


def _check(db: Database, store_id: int, zone: ZoneInfo) -> None:
    for start, end in RANGES:
        report = service.hourly_sales(db, store_id=store_id, start=start, end=end)
        assert [h.hour for h in report.hours] == list(range(24))
        got = {h.hour: (h.sales_count, h.net) for h in report.hours if h.sales_count}
        want = _brute_force(db, store_id, zone, start, end)
        assert got == want, (start, end)
        assert report.totals.sales_count == sum(c for c, _ in want.values())
        assert report.totals.net == sum(n for _, n in want.values())
        for h in report.hours:
            assert h.average_basket == (h.net // h.sales_count if h.sales_count else 0)
            assert h.label == f"{h.hour:02d}:00"
        if want:
            busiest = max(want, key=lambda hour: (want[hour][0], want[hour][1], -hour))
            assert report.totals.busiest_hour == busiest
        else:
            assert report.totals.busiest_hour is None


@pytest.mark.parametrize("timezone", ["Asia/Jakarta", "Asia/Kathmandu"])
def test_hourly_report_equals_brute_force_over_generated_sales(
    client: TestClient, db: Database, world: World, timezone: str
) -> None:
    with db.session() as s:
        s.execute(update(Store).where(Store.id == world.store_id).values(timezone=timezone))
    zone = ZoneInfo(timezone)
    products = add_products(db, 2, price=12_500)

    @settings(max_examples=8, deadline=None, derandomize=True)
    @given(specs=st.lists(sale_spec, min_size=1, max_size=6))
    def run(specs: list[dict[str, Any]]) -> None:
        sales: dict[int, list[dict]] = {0: [], 1: []}
        voids: dict[int, list[dict]] = {0: [], 1: []}
        for spec in specs:
            day = spec["day"]
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
                minutes=spec["minute"]
            )
            sale = sale_event(
                terminal_code=f"T0{spec['terminal'] + 1}",
                cashier_id=world.cashier_ids[spec["terminal"]],
                items=[(products[spec["terminal"]], spec["quantity"])],
                created_at=moment.isoformat(),
            )
            sales[spec["terminal"]].append(sale)
            if spec["void"]:
                voids[spec["terminal"]].append(void_event(sale, approved_by=world.manager_id))
        for group in (sales, voids):
            for terminal, events in group.items():
                if events:
                    resp = push(client, world.terminal_headers(terminal), events)
                    assert set(statuses(resp)) == {"applied"}, resp.json()
        _check(db, world.store_id, zone)

    run()
    # The generated sales hit many hours, and some were voided.
    with db.session() as s:
        rows = s.execute(select(Sale.created_at, Sale.voided)).all()
    assert len({moment.astimezone(zone).hour for moment, _ in rows}) > 5
    assert any(voided for _, voided in rows)


def test_hourly_api_answers_json_and_an_empty_period(client: TestClient, world: World) -> None:
    resp = client.get(
        "/api/v1/reports/hourly?start=2020-01-01&end=2020-12-31", headers=world.manager_headers()
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["timezone"] == "Asia/Jakarta"
    assert len(body["hours"]) == 24
    assert body["hours"][13] == {
        "hour": 13,
        "label": "13:00",
        "sales_count": 0,
        "net": 0,
        "average_basket": 0,
    }
    assert body["totals"]["busiest_hour"] is None and body["totals"]["busiest_label"] == "—"
    too_long = client.get(
        "/api/v1/reports/hourly?start=2000-01-01&end=2025-01-01", headers=world.manager_headers()
    )
    assert too_long.status_code == 422
