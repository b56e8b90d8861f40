"""Gross margin (laba kotor) and cost of goods sold (HPP): per product, per category and
per period.

Every figure comes from the product rollup ``report_product_totals`` (its units and
its cost columns, kept in the ingest transaction by :mod:`sync_server.reports.rollups`
in the same upsert as the rest of those rows), so a year reads twelve month rows per
product and terminal plus the ragged days, whatever the number of sales. Each sale line
carries the outlet's moving-average cost at the moment it was ingested
(``sale_lines.unit_cost``); a refund takes its units back out at that same cost, on the
refund's own business day. Lines whose cost was unknown are counted (``unknown_lines``)
and left out of the margin, never counted as free goods.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Subquery, func, select

from sync_server.catalog.models import Category, Product
from sync_server.core.database import Database
from sync_server.reports.rollups import PRODUCT_TOTALS
from sync_server.reports.schemas import (
    Granularity,
    MarginByCategory,
    MarginByProduct,
    MarginCategoryRow,
    MarginFigures,
    MarginOverTime,
    MarginPeriod,
    MarginProductRow,
)
from sync_server.reports.service import _check_range, _period_filter, _period_of

MARGIN_FIELDS = ("quantity", "revenue", "costed_revenue", "cost", "unknown_lines")
"""The stored parts of :class:`MarginFigures`, as :func:`figures_of` computes them."""

_T = PRODUCT_TOTALS
_SUMS = (
    (func.sum(_T.c.quantity) - func.sum(_T.c.refunded_quantity)).label("quantity"),
    (func.sum(_T.c.net_revenue) - func.sum(_T.c.refunded_net_revenue)).label("revenue"),
    (func.sum(_T.c.costed_revenue) - func.sum(_T.c.refunded_costed_revenue)).label(
        "costed_revenue"
    ),
    (func.sum(_T.c.cost) - func.sum(_T.c.refunded_cost)).label("cost"),
    (func.sum(_T.c.unknown_lines) + func.sum(_T.c.refunded_unknown_lines)).label("unknown_lines"),
)
"""Sold less refunded, summed over the rollup rows of a group."""


def figures_of(row: Any) -> dict[str, int]:
    """A result row's margin sums by name (0 for an empty sum)."""
    return {name: int(getattr(row, name) or 0) for name in MARGIN_FIELDS}


def _total(rows: list[Mapping[str, int]]) -> MarginFigures:
    return MarginFigures(**{n: sum(r[n] for r in rows) for n in MARGIN_FIELDS})


def _product_sums(store_id: int, start: date, end: date) -> Subquery:
    """The period's figures summed per product (the period checked first)."""
    _check_range(start, end)
    return (
        select(_T.c.product_id, *_SUMS)
        .where(_period_filter(_T, store_id, start, end))
        .group_by(_T.c.product_id)
        .subquery("sums")
    )


def margin_by_product(db: Database, *, store_id: int, start: date, end: date) -> MarginByProduct:
    """HPP and gross margin of each product sold (or refunded) in the period, largest
    margin first."""
    sums = _product_sums(store_id, start, end)
    stmt = (
        select(sums, Product.sku, Product.name, Category.name.label("category"))
        .join(Product, Product.id == sums.c.product_id)
        .outerjoin(Category, Category.id == Product.category_id)
        .order_by(sums.c.product_id)
    )
    with db.session() as session:
        rows = [
            MarginProductRow(
                product_id=r.product_id,
                sku=r.sku,
                name=r.name,
                category=r.category or "Tanpa kategori",
                **figures_of(r),
            )
            for r in session.execute(stmt)
        ]
    rows.sort(key=lambda r: (-r.gross_margin, r.product_id))
    return MarginByProduct(
        store_id=store_id,
        start=start,
        end=end,
        rows=rows,
        totals=_total([r.model_dump() for r in rows]),
    )


def margin_by_category(db: Database, *, store_id: int, start: date, end: date) -> MarginByCategory:
    """HPP and gross margin per product category, largest margin first (category 0:
    products with no category)."""
    sums = _product_sums(store_id, start, end)
    category = func.coalesce(Product.category_id, 0)
    stmt = (
        select(
            category.label("category_id"),
            func.max(Category.name).label("category"),
            *(func.sum(sums.c[n]).label(n) for n in MARGIN_FIELDS),
        )
        .select_from(sums)
        .join(Product, Product.id == sums.c.product_id)
        .outerjoin(Category, Category.id == Product.category_id)
        .group_by(category)
    )
    with db.session() as session:
        rows = [
            MarginCategoryRow(
                category_id=int(r.category_id),
                category=r.category or "Tanpa kategori",
                **figures_of(r),
            )
            for r in session.execute(stmt)
        ]
    rows.sort(key=lambda r: (-r.gross_margin, r.category_id))
    return MarginByCategory(
        store_id=store_id,
        start=start,
        end=end,
        rows=rows,
        totals=_total([r.model_dump() for r in rows]),
    )


def margin_over_time(
    db: Database, *, store_id: int, start: date, end: date, granularity: Granularity = "day"
) -> MarginOverTime:
    """HPP and gross margin per day, ISO week, month or year; every period of the range
    is listed (empty ones with zeros), the first and last cut to the range."""
    _check_range(start, end)
    months = granularity in ("month", "year")
    stmt = (
        select(_T.c.period, *_SUMS)
        .where(_period_filter(_T, store_id, start, end, months=months))
        .group_by(_T.c.period)
    )
    buckets: dict[date, dict[str, int]] = {}
    labels: dict[date, tuple[date, date, str]] = {}
    day = start
    while day <= end:
        first, last, label = _period_of(day, granularity)
        labels[first] = (max(first, start), min(last, end), label)
        buckets[first] = dict.fromkeys(MARGIN_FIELDS, 0)
        day = last + timedelta(days=1)
    with db.session() as session:
        for r in session.execute(stmt):
            bucket = buckets[_period_of(r.period, granularity)[0]]
            for name, value in figures_of(r).items():
                bucket[name] += value
    periods = [
        MarginPeriod(period_start=labels[k][0], period_end=labels[k][1], label=labels[k][2], **v)
        for k, v in sorted(buckets.items())
    ]
    return MarginOverTime(
        store_id=store_id,
        granularity=granularity,
        start=start,
        end=end,
        periods=periods,
        totals=_total(list(buckets.values())),
    )
