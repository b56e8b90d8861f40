"""The price history of each product: what it cost, and at what tax rate, from when.

Ingest checks a till's line price against it (a till may sell offline from an older
catalog). A row is written whenever a product's price or tax class changes, or the rate
of its tax class changes, by session events installed once when the app is made
(:func:`install_price_history`): ``after_flush`` sees ORM writes (the API, the web
pages, the demo seed), ``do_orm_execute`` sees statements run through a session (the
CSV import's bulk insert and update). Each row carries the change number a till must
have pulled to know that price, so "the price at the till's cursor" is the newest row
at or below it. Rows are compared with the newest stored row first, so a write that
changes nothing records nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    Table,
    event,
    func,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, UOWTransaction, mapped_column

from sync_server.catalog.models import Product, TaxRate
from sync_server.core.database import Base, BigId, UTCDateTime, utcnow


class PriceHistory(Base):
    """A product's price and tax rate from ``valid_from`` (and from change ``change_no``)."""

    __tablename__ = "price_history"
    __table_args__ = (Index("ix_price_history_product_id_change_no", "product_id", "change_no"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), nullable=False)
    price: Mapped[int] = mapped_column(BigInteger, nullable=False)
    tax_rate_bp: Mapped[int] = mapped_column(Integer, nullable=False)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    change_no: Mapped[int] = mapped_column(BigInteger, nullable=False)


HISTORY: Table = PriceHistory.__table__  # type: ignore[assignment]
PRODUCTS: Table = Product.__table__  # type: ignore[assignment]
TAX_RATES: Table = TaxRate.__table__  # type: ignore[assignment]

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class PricePoint:
    """One row of a product's history."""

    price: int
    tax_rate_bp: int
    valid_from: datetime
    change_no: int


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield list(ids[start : start + _CHUNK])


def record_prices(conn: Connection | Session, product_ids: Iterable[int] | None) -> int:
    """Write a history row for each product whose price or tax rate differs from its
    newest row (or that has none); ``None`` checks every product. How many were written.

    The row's change number is the newer of the product's and its tax class's: the one
    a till must have pulled to see this price and rate.
    """
    current = select(
        PRODUCTS.c.id,
        PRODUCTS.c.price,
        func.coalesce(TAX_RATES.c.rate_bp, 0),
        PRODUCTS.c.change_no,
        func.coalesce(TAX_RATES.c.change_no, 0),
    ).select_from(PRODUCTS.outerjoin(TAX_RATES, TAX_RATES.c.id == PRODUCTS.c.tax_rate_id))
    if product_ids is None:
        batches: Iterable[list[int] | None] = [None]
    else:
        batches = _chunks(sorted(set(product_ids)))
    now = utcnow()
    written = 0
    for ids in batches:
        query = current if ids is None else current.where(PRODUCTS.c.id.in_(ids))
        rows = conn.execute(query).all()
        if not rows:
            continue
        newest = (
            select(func.max(HISTORY.c.id))
            .where(HISTORY.c.product_id.in_([r[0] for r in rows]))
            .group_by(HISTORY.c.product_id)
        )
        known = {
            pid: (price, bp)
            for pid, price, bp in conn.execute(
                select(HISTORY.c.product_id, HISTORY.c.price, HISTORY.c.tax_rate_bp).where(
                    HISTORY.c.id.in_(newest)
                )
            )
        }
        new_rows = [
            {
                "product_id": pid,
                "price": price,
                "tax_rate_bp": bp,
                "valid_from": now,
                "change_no": max(p_change, t_change),
            }
            for pid, price, bp, p_change, t_change in rows
            if known.get(pid) != (price, bp)
        ]
        if new_rows:
            conn.execute(HISTORY.insert(), new_rows)
            written += len(new_rows)
    return written


def price_points(session: Session, product_ids: Iterable[int]) -> dict[int, list[PricePoint]]:
    """Every history row of ``product_ids``, oldest first, by product."""
    points: dict[int, list[PricePoint]] = {}
    ids = sorted(set(product_ids))
    for chunk in _chunks(ids):
        for pid, price, bp, valid_from, change_no in session.execute(
            select(
                HISTORY.c.product_id,
                HISTORY.c.price,
                HISTORY.c.tax_rate_bp,
                HISTORY.c.valid_from,
                HISTORY.c.change_no,
            )
            .where(HISTORY.c.product_id.in_(chunk))
            .order_by(HISTORY.c.product_id, HISTORY.c.id)
        ):
            points.setdefault(pid, []).append(PricePoint(price, bp, valid_from, change_no))
    return points


# ---------------------------------------------------------------- session events


def _after_flush(session: Session, _: UOWTransaction) -> None:
    # The new and dirty lists still show what this flush wrote.
    product_ids = {obj.id for obj in (*session.new, *session.dirty) if isinstance(obj, Product)}
    tax_ids = {obj.id for obj in session.dirty if isinstance(obj, TaxRate)}
    if tax_ids:
        product_ids.update(
            session.connection().scalars(
                select(PRODUCTS.c.id).where(PRODUCTS.c.tax_rate_id.in_(tax_ids))
            )
        )
    if product_ids:
        record_prices(session.connection(), product_ids)


def _target_table(state: ORMExecuteState) -> Table | None:
    if not (state.is_insert or state.is_update):
        return None
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name == PRODUCTS.name:
        return PRODUCTS
    if name == TAX_RATES.name:
        return TAX_RATES
    return None


def _do_orm_execute(state: ORMExecuteState) -> Any:
    table = _target_table(state)
    if table is None:
        return None
    params = state.parameters
    rows: list[dict[str, Any]] = (
        [params] if isinstance(params, dict) else list(params or [])  # type: ignore[arg-type]
    )
    result = state.invoke_statement()
    session = state.session
    product_ids: set[int] | None = None
    if rows and table is PRODUCTS and all("id" in r for r in rows):
        product_ids = {int(r["id"]) for r in rows}
    elif rows and table is PRODUCTS and all("sku" in r for r in rows):
        product_ids = set(
            session.scalars(
                select(PRODUCTS.c.id).where(PRODUCTS.c.sku.in_([r["sku"] for r in rows]))
            )
        )
    elif rows and table is TAX_RATES and all("id" in r for r in rows):
        product_ids = set(
            session.scalars(
                select(PRODUCTS.c.id).where(
                    PRODUCTS.c.tax_rate_id.in_([int(r["id"]) for r in rows])
                )
            )
        )
    # A statement with criteria instead of rows: check every product (rare; none today).
    record_prices(session, product_ids)
    return result


def install_price_history() -> None:
    """Record price history on every session of this process (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
    if not event.contains(Session, "do_orm_execute", _do_orm_execute):
        event.listen(Session, "do_orm_execute", _do_orm_execute)
