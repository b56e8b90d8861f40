"""Revision 0007 keeps every figure: product totals move under terminal 0 and back, and
on downgrade the stock deltas are folded into the levels."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from sync_server.core.database import Database
from sync_server.migrate import downgrade, upgrade
from sync_server.stock.service import add_stock_deltas
from tests.conftest import fresh_mariadb_database, worker_id
from tests.server.conftest import build_world
from tests.server.sync_helpers import add_products, on_hand, stock_up

VALUES = "quantity, revenue, refunded_quantity, refunded_amount"


@pytest.fixture(params=["sqlite", "mariadb"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'mig0007.sqlite3'}"
    return fresh_mariadb_database(f"kasir_mig7_{worker_id()}_{os.getpid()}")


def _sql(url: str, statement: str, **params: object) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()


def _product_totals(url: str) -> list[tuple]:
    """Rows as (store, grain, period as text, product, values...)."""
    rows = _sql(
        url,
        f"SELECT store_id, grain, period, product_id, {VALUES} FROM report_product_totals"
        " ORDER BY store_id, grain, period, product_id",
    )
    return [(r[0], r[1], str(r[2]), *(int(v) for v in r[3:])) for r in rows]


def test_0007_up_and_down_keeps_every_figure(empty_url: str) -> None:
    upgrade(empty_url, "0006")
    day, month = date(2025, 1, 31), date(2025, 1, 1)
    for grain, period, qty in (("D", day, 3), ("M", month, 5)):
        _sql(
            empty_url,
            f"INSERT INTO report_product_totals (store_id, grain, period, product_id, {VALUES})"
            " VALUES (1, :grain, :period, 7, :qty, :revenue, 1, 900)",
            grain=grain,
            period=period,
            qty=qty,
            revenue=qty * 1000,
        )
    before = _product_totals(empty_url)

    upgrade(empty_url)
    assert _product_totals(empty_url) == before
    assert {r[0] for r in _sql(empty_url, "SELECT terminal_id FROM report_product_totals")} == {0}

    # At head: a till's rows next to the old ones, a level and two tills' deltas.
    db = Database(empty_url)
    try:
        world = build_world(db)
        (product,) = add_products(db)
        stock_up(db, world.store_id, product.id, 10)
        (other,) = add_products(db)  # only ever sold: a delta and no level
        with db.session() as s:
            for terminal, qty in zip(world.terminal_ids, (-3, -4), strict=True):
                add_stock_deltas(
                    s,
                    store_id=world.store_id,
                    terminal_id=terminal,
                    deltas={product.id: qty, other.id: -1},
                )
        assert on_hand(db, world.store_id, product.id) == 3
        assert on_hand(db, world.store_id, other.id) == -2
    finally:
        db.dispose()
    _sql(
        empty_url,
        f"INSERT INTO report_product_totals (store_id, grain, period, terminal_id, product_id,"
        f" {VALUES}) VALUES (1, 'D', :day, 2, 7, 2, 2000, 0, 0)",
        day=day,
    )

    downgrade(empty_url, "0006")
    assert _product_totals(empty_url) == [
        (1, "D", str(day), 7, 5, 5000, 1, 900),
        (1, "M", str(month), 7, 5, 5000, 1, 900),
    ]
    levels = _sql(
        empty_url,
        "SELECT product_id, on_hand, change_no FROM stock_levels WHERE store_id = :store"
        " ORDER BY product_id",
        store=world.store_id,
    )
    # Folded: the summed on hand is now the level, marked changed so tills get it.
    assert [tuple(int(v) for v in r) for r in levels] == [(product.id, 3, 0), (other.id, -2, 0)]

    upgrade(empty_url)
    assert _product_totals(empty_url) == [
        (1, "D", str(day), 7, 5, 5000, 1, 900),
        (1, "M", str(month), 7, 5, 5000, 1, 900),
    ]
