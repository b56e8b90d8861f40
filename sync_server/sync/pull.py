"""Pull: every change a terminal should know about, above its cursor, oldest first.

Each synced row carries a change number unique across tables. A page takes the
``limit`` smallest numbers above the cursor across all kinds (one ``ORDER BY change_no
LIMIT`` per table from the change_no indexes, merged and cut by the database in one
statement that answers only the page's last number), and never goes above the
counter's committed value read at the start: change numbers are handed out under a lock
held to commit, so every number up to that value is already visible, and a page can
never skip a change that commits while it is being read.

The rows are read as tuples and made into wire models without validating them again
(:class:`_Builder`): they come from our own tables in the schema's types. The JSON is
the same bytes as a page of validated models (``tests/server/test_pull_page_json.py``);
``benches/catalog_download.py --server-pages`` prints what a page costs, before and now.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum
from types import UnionType
from typing import Annotated, Any, Union, cast, get_args, get_origin

from pydantic import BaseModel
from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    func,
    literal,
    or_,
    select,
    union_all,
    update,
)
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


def _stock_of(table: Table, terminal: Terminal) -> ColumnElement[bool]:
    # ``store_id + 0``: the store's levels are found through the change_no index (every
    # query here is a change_no range), never by scanning all the store's levels through
    # the primary key (store_id, product_id), which SQLite otherwise picks for the
    # equality; 16 ms a page on 100k levels even for a page with no stock at all. On
    # InnoDB the change_no index holds the primary key, so the filter reads no row.
    return table.c.store_id + 0 == terminal.store_id


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
    _source("stock", StockLevel, StockLevelOut, _stock_of),
)
"""Everything a till pulls, with the rows of it the till may see."""


def _numbers_query(
    source: Source, terminal: Terminal, cursor: int, high: int, limit: int
) -> Select[Any]:
    # Change numbers only: served from the change_no index, no row is read.
    table = source.table
    return (
        select(table.c.change_no.label("change_no"))
        .where(table.c.change_no > cursor, table.c.change_no <= high, *source.where(terminal))
        .order_by(table.c.change_no)
        .limit(limit)
    )


def _last_number_query(terminal: Terminal, cursor: int, high: int, limit: int) -> Select[Any]:
    """The page's last change number in one statement: the ``limit`` smallest numbers
    of each kind (index only), merged and cut to ``limit`` by the database; NULL when
    nothing is above ``cursor``."""
    each = [
        select(part.c.change_no)
        for part in (
            _numbers_query(source, terminal, cursor, high, limit).subquery() for source in SOURCES
        )
    ]
    merged = union_all(*each).subquery()
    first = select(merged.c.change_no).order_by(merged.c.change_no).limit(limit).subquery()
    return select(func.max(first.c.change_no))


def _rows_query(source: Source, terminal: Terminal, cursor: int, last: int) -> Select[Any]:
    table = source.table
    return (
        select(*(table.c[name] for name in source.columns))
        .where(table.c.change_no > cursor, table.c.change_no <= last, *source.where(terminal))
        .order_by(table.c.change_no)
    )


_set_attr = object.__setattr__

_PLAIN = (int, str, bool, datetime, type(None))


def _plain(annotation: Any) -> bool:
    """A type a column gives as the model holds it (or a str enum, converted below)."""
    origin = get_origin(annotation)
    if origin is Annotated:  # constraints only check, never convert
        return _plain(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return all(arg in _PLAIN for arg in map(_strip, get_args(annotation)))
    return isinstance(annotation, type) and (
        annotation in _PLAIN or issubclass(annotation, StrEnum)
    )


def _strip(annotation: Any) -> Any:
    return get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation


class _Builder:
    """Makes one kind's wire models straight from its rows, without validating them.

    The rows come from our own tables, whose column types are the schema's (integers,
    strings, booleans, UTC datetimes through ``UTCDateTime``); validation would only
    turn the enum columns' strings into their enums, which this does too. The model's
    ``__dict__`` holds the fields in the schema's order, as validation leaves it, so the
    serialised JSON is the same byte for byte (``tests/server/test_pull_page_json.py``
    compares it with pages built by validation).
    """

    def __init__(self, source: Source) -> None:
        fields = source.schema.model_fields
        missing = [name for name in fields if name not in source.columns]
        if missing or tuple(fields) != source.columns:
            raise TypeError(f"{source.schema.__name__} fields not all columns: {missing}")
        odd = [name for name, info in fields.items() if not _plain(info.annotation)]
        if odd:  # a field validation would convert: build this kind by validating instead
            raise TypeError(f"{source.schema.__name__} fields not plain: {odd}")
        self.schema = source.schema
        self.names = source.columns
        self.enums: list[tuple[int, type[Enum]]] = [
            (i, info.annotation)
            for i, info in enumerate(fields.values())
            if isinstance(info.annotation, type) and issubclass(info.annotation, Enum)
        ]

    def build(self, rows: Sequence[Sequence[Any]]) -> list[BaseModel]:
        """One model per row, the row's values in the schema's field order."""
        schema, names, enums = self.schema, self.names, self.enums
        new, fields_set = schema.__new__, set(names)
        models: list[BaseModel] = []
        append, copy = models.append, fields_set.copy
        for row in rows:
            values = dict(zip(names, row, strict=False))  # same length: checked in __init__
            for i, enum in enums:
                values[names[i]] = enum(row[i])
            model = new(schema)
            _set_attr(model, "__dict__", values)
            _set_attr(model, "__pydantic_fields_set__", copy())
            _set_attr(model, "__pydantic_extra__", None)
            _set_attr(model, "__pydantic_private__", None)
            append(model)
        return models


_BUILDERS: dict[str, _Builder] = {source.field: _Builder(source) for source in SOURCES}


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
    last = session.execute(_last_number_query(terminal, cursor, high, limit)).scalar_one()
    grouped: dict[str, list[Any]] = {source.field: [] for source in SOURCES}
    if last is not None:
        for source in SOURCES:
            rows = session.execute(_rows_query(source, terminal, cursor, int(last))).all()
            grouped[source.field] = _BUILDERS[source.field].build(rows)
    new_cursor = cursor if last is None else int(last)
    remaining = count_after(session, terminal=terminal, cursor=new_cursor)
    session.execute(
        update(_table(Terminal))
        .where(_table(Terminal).c.id == terminal.id)
        .values(last_seen_at=utcnow(), last_cursor=cursor)
    )
    # The rows are models already (see _Builder); the page itself is not validated again.
    values: dict[str, Any] = {
        "cursor": new_cursor,
        "has_more": remaining > 0,
        "remaining": remaining,
        **grouped,
    }
    return PullResponse.model_construct(None, **values)
