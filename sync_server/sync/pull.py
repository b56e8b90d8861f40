"""Pull: every change a terminal should know about, above its cursor, oldest first.

Each synced row carries a change number unique across tables. A page takes the
``limit`` smallest numbers above the cursor across all kinds (one ``ORDER BY change_no
LIMIT`` per table, merged), and never goes above the counter's committed value read at
the start: change numbers are handed out under a lock held to commit, so every number
up to that value is already visible, and a page can never skip a change that commits
while it is being read.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, Table, and_, func, literal, or_, select, update
from sqlalchemy.orm import Session

from shared.models import (
    CategoryOut,
    ProductOut,
    PullResponse,
    Role,
    StockLevelOut,
    StoreOut,
    TaxRateOut,
    UserOut,
    VoucherOut,
)
from sync_server.auth.models import Terminal, User
from sync_server.catalog.models import Category, Product, TaxRate, Voucher
from sync_server.core.database import utcnow
from sync_server.core.models import ChangeCounter, Store
from sync_server.stock.models import StockLevel


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


@dataclass(frozen=True)
class Source:
    """One kind of synced row: its table, the columns a till gets, its wire schema."""

    field: str
    table: Table
    schema: type[BaseModel]
    columns: tuple[str, ...]
    scope: Callable[[Table, Terminal], ColumnElement[bool]] | None = None

    def where(self, terminal: Terminal) -> list[ColumnElement[bool]]:
        """Rows of this kind the terminal may see."""
        return [] if self.scope is None else [self.scope(self.table, terminal)]


def _fields(schema: type[BaseModel], table: Table) -> tuple[str, ...]:
    return tuple(name for name in schema.model_fields if name in table.c)


def _users_of(table: Table, terminal: Terminal) -> ColumnElement[bool]:
    # The store's people and the admins of no store; never another store's users.
    return or_(
        table.c.store_id == terminal.store_id,
        and_(table.c.store_id.is_(None), table.c.role == Role.ADMIN.value),
    )


def _source(
    name: str,
    model: type[Any],
    schema: type[BaseModel],
    scope: Callable[[Table, Terminal], ColumnElement[bool]] | None = None,
) -> Source:
    table = _table(model)
    return Source(name, table, schema, _fields(schema, table), scope)


SOURCES: tuple[Source, ...] = (
    _source("categories", Category, CategoryOut),
    _source("tax_rates", TaxRate, TaxRateOut),
    _source("products", Product, ProductOut),
    _source("vouchers", Voucher, VoucherOut),
    _source("users", User, UserOut, _users_of),
    _source("stores", Store, StoreOut, lambda t, term: t.c.id == term.store_id),
    # The base of on hand: pull_changes folds the tills' stock deltas into it and
    # numbers the changed levels before a page is read.
    _source("stock", StockLevel, StockLevelOut, lambda t, term: t.c.store_id == term.store_id),
)
"""Everything a till pulls, with the rows of it the till may see."""


def _numbers_query(
    source: Source, terminal: Terminal, cursor: int, high: int, limit: int
) -> Select[Any]:
    # Change numbers only: served from the change_no index, no row is read.
    table = source.table
    return (
        select(table.c.change_no)
        .where(table.c.change_no > cursor, table.c.change_no <= high, *source.where(terminal))
        .order_by(table.c.change_no)
        .limit(limit)
    )


def _rows_query(source: Source, terminal: Terminal, cursor: int, last: int) -> Select[Any]:
    table = source.table
    return (
        select(*(table.c[name] for name in source.columns))
        .where(table.c.change_no > cursor, table.c.change_no <= last, *source.where(terminal))
        .order_by(table.c.change_no)
    )


def count_after(session: Session, *, terminal: Terminal, cursor: int) -> int:
    """How many changes the terminal has yet to pull above ``cursor`` (one round trip)."""
    counts: Sequence[Any] = [
        select(func.count())
        .select_from(s.table)
        .where(s.table.c.change_no > cursor, *s.where(terminal))
        .scalar_subquery()
        for s in SOURCES
    ]
    total: Any = literal(0)
    for count in counts:
        total = total + count
    return int(session.execute(select(total)).scalar_one())


def pull_page(session: Session, *, terminal: Terminal, cursor: int, limit: int) -> PullResponse:
    """The next page of changes above ``cursor`` for ``terminal``, at most ``limit`` rows."""
    high = int(
        session.execute(select(ChangeCounter.value).where(ChangeCounter.id == 1)).scalar_one()
    )
    # First the page's last change number, from the indexes alone; then only the rows
    # up to it, so no table's rows are read beyond what the page carries.
    numbers = [
        session.execute(_numbers_query(source, terminal, cursor, high, limit)).scalars().all()
        for source in SOURCES
    ]
    picked = list(heapq.merge(*numbers))[:limit]
    grouped: dict[str, list[Any]] = {source.field: [] for source in SOURCES}
    if picked:
        for source in SOURCES:
            rows = session.execute(_rows_query(source, terminal, cursor, picked[-1])).mappings()
            grouped[source.field] = [source.schema.model_validate(dict(row)) for row in rows]
    new_cursor = picked[-1] if picked else cursor
    remaining = count_after(session, terminal=terminal, cursor=new_cursor)
    session.execute(
        update(_table(Terminal))
        .where(_table(Terminal).c.id == terminal.id)
        .values(last_seen_at=utcnow(), last_cursor=cursor)
    )
    return PullResponse(cursor=new_cursor, has_more=remaining > 0, remaining=remaining, **grouped)
