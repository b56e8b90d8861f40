"""Pull: every change a terminal should know about, above its cursor, oldest first.

Each synced row carries a change number unique across tables. A page takes the
``limit`` smallest numbers above the cursor across all kinds (one ``ORDER BY change_no
LIMIT`` per table from the change_no indexes, merged and cut by the database in one
statement that answers only the page's last number), and never goes above the
counter's committed value read at the start: change numbers are handed out under a lock
held to commit, so every number up to that value is already visible, and a page can
never skip a change that commits while it is being read.

A page's statements (its last number, each kind's rows, the count still to come) are
compiled once per database dialect (:class:`_Statements`) and run on the session's raw
DBAPI cursor: the rows come back as the driver's tuples, with no SQLAlchemy result
processing, and are made into wire models without validating them again
(:class:`_Builder`): they come from our own tables in the schema's types, and only what
the driver gives in another form is converted (SQLite's booleans as 0/1 and datetimes
as text, MariaDB's naive UTC datetimes). The JSON is the same bytes as a page of
validated models (``tests/server/test_pull_page_json.py``);
``benches/catalog_download.py --server-pages`` prints what a page costs, before and now.

An outlet's own prices (``outlets.models.OutletPrice``) reach only its tills: a product
row carries the outlet's override when there is one (an outer join on the override's
primary key), and setting or clearing an override numbers the override's row, which the
page's last number and count follow like a kind of their own (from the index
``(store_id, change_no)``); a product whose override is in the page and whose own
number is not goes out again, with the price the outlet has now
(:func:`_product_rows_query`). Another outlet's tills never see those numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum, StrEnum
from types import UnionType
from typing import Annotated, Any, Union, cast, get_args, get_origin

from pydantic import BaseModel
from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Dialect,
    Select,
    Table,
    and_,
    bindparam,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from shared.collector import collector_paused
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
from sync_server.outlets.models import OutletPrice
from sync_server.stock.models import StockLevel


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


Scope = Callable[[Table, ColumnElement[Any]], ColumnElement[bool]]
"""The rows of a kind a terminal may see, given its store id (a bound parameter)."""


def _store_of(terminal: Terminal) -> BindParameter[int]:
    return bindparam("store_id", terminal.store_id, type_=BigInteger)


@dataclass(frozen=True)
class Source:
    """One kind of synced row: its table, the columns a till gets, its wire schema."""

    field: str
    table: Table
    schema: type[BaseModel]
    columns: tuple[str, ...]
    scope: Scope | None = None

    def where(self, terminal: Terminal) -> list[ColumnElement[bool]]:
        """Rows of this kind the terminal may see."""
        return self.where_store(_store_of(terminal))

    def where_store(self, store: ColumnElement[Any]) -> list[ColumnElement[bool]]:
        """Rows of this kind the terminals of ``store`` (a store id expression) may see."""
        return [] if self.scope is None else [self.scope(self.table, store)]


def _fields(schema: type[BaseModel], table: Table) -> tuple[str, ...]:
    return tuple(name for name in schema.model_fields if name in table.c)


def _users_of(table: Table, store: ColumnElement[Any]) -> ColumnElement[bool]:
    # The store's people and the admins of no store; never another store's users.
    return or_(
        table.c.store_id == store,
        and_(table.c.store_id.is_(None), table.c.role == Role.ADMIN.value),
    )


def _stock_of(table: Table, store: ColumnElement[Any]) -> ColumnElement[bool]:
    # ``store_id + 0``: the store's levels are found through the change_no index (every
    # query here is a change_no range), never by scanning all the store's levels through
    # the primary key (store_id, product_id), which SQLite otherwise picks for the
    # equality; 16 ms a page on 100k levels even for a page with no stock at all. On
    # InnoDB the change_no index holds the primary key, so the filter reads no row.
    return table.c.store_id + 0 == store


def _source(
    name: str, model: type[Any], schema: type[BaseModel], scope: Scope | None = None
) -> Source:
    table = _table(model)
    return Source(name, table, schema, _fields(schema, table), scope)


SOURCES: tuple[Source, ...] = (
    _source("categories", Category, CategoryOut),
    _source("tax_rates", TaxRate, TaxRateOut),
    _source("products", Product, ProductOut),
    _source("vouchers", Voucher, VoucherOut),
    _source("users", User, UserOut, _users_of),
    _source("stores", Store, StoreOut, lambda t, store: t.c.id == store),
    # The base of on hand: pull_changes folds the tills' stock deltas into it and
    # numbers the changed levels before a page is read.
    _source("stock", StockLevel, StockLevelOut, _stock_of),
)
"""Everything a till pulls, with the rows of it the till may see."""

Bound = int | ColumnElement[Any]
"""A value in a page's statements: a number, or the bound parameter standing for it."""


def _numbers_query(
    source: Source, store: ColumnElement[Any], cursor: Bound, high: Bound, limit: Bound
) -> Select[Any]:
    # Change numbers only: served from the change_no index, no row is read.
    table = source.table
    return (
        select(table.c.change_no.label("change_no"))
        .where(table.c.change_no > cursor, table.c.change_no <= high, *source.where_store(store))
        .order_by(table.c.change_no)
        .limit(limit)
    )


OUTLET_PRICES = _table(OutletPrice)
"""Outlets' own prices: numbered per outlet, pulled as their products' rows."""

_PRODUCTS = next(source for source in SOURCES if source.field == "products")


def _outlet_numbers_query(
    store: ColumnElement[Any], cursor: Bound, high: Bound, limit: Bound
) -> Select[Any]:
    # The outlet's override changes, from the index (store_id, change_no) alone.
    table = OUTLET_PRICES
    return (
        select(table.c.change_no.label("change_no"))
        .where(table.c.store_id == store, table.c.change_no > cursor, table.c.change_no <= high)
        .order_by(table.c.change_no)
        .limit(limit)
    )


def _product_rows_query(store: ColumnElement[Any], cursor: Bound, last: Bound) -> CompoundSelect:
    """The page's product rows with the outlet's prices: the products numbered in the
    page (their outlet override, if any, joined by primary key), then the products whose
    override was set or cleared in the page and whose own number is not in it."""
    product, override = _PRODUCTS.table, OUTLET_PRICES
    joined = product.outerjoin(
        override, and_(override.c.product_id == product.c.id, override.c.store_id == store)
    )

    def columns(change_no: ColumnElement[Any]) -> list[ColumnElement[Any]]:
        chosen: list[ColumnElement[Any]] = []
        for name in _PRODUCTS.columns:
            if name == "price":
                chosen.append(func.coalesce(override.c.price, product.c.price).label(name))
            elif name == "change_no":
                chosen.append(change_no.label(name))
            else:
                chosen.append(product.c[name])
        return chosen

    own = (
        select(*columns(product.c.change_no))
        .select_from(joined)
        .where(product.c.change_no > cursor, product.c.change_no <= last)
    )
    repriced = (
        select(*columns(override.c.change_no))
        .select_from(override.join(product, product.c.id == override.c.product_id))
        .where(
            override.c.store_id == store,
            override.c.change_no > cursor,
            override.c.change_no <= last,
            not_(and_(product.c.change_no > cursor, product.c.change_no <= last)),
        )
    )
    return union_all(own, repriced).order_by(literal_column("change_no"))


def _last_number_query(
    store: ColumnElement[Any], cursor: Bound, high: Bound, limit: Bound
) -> Select[Any]:
    """The page's last change number in one statement: the ``limit`` smallest numbers
    of each kind (index only), merged and cut to ``limit`` by the database; NULL when
    nothing is above ``cursor``."""
    parts = [_numbers_query(source, store, cursor, high, limit) for source in SOURCES]
    parts.append(_outlet_numbers_query(store, cursor, high, limit))
    each = [select(part.c.change_no) for part in (query.subquery() for query in parts)]
    merged = union_all(*each).subquery()
    first = select(merged.c.change_no).order_by(merged.c.change_no).limit(limit).subquery()
    return select(func.max(first.c.change_no))


def _rows_query(
    source: Source, store: ColumnElement[Any], cursor: Bound, last: Bound
) -> Select[Any]:
    table = source.table
    return (
        select(*(table.c[name] for name in source.columns))
        .where(table.c.change_no > cursor, table.c.change_no <= last, *source.where_store(store))
        .order_by(table.c.change_no)
    )


def _count_query(store: ColumnElement[Any], cursor: Bound) -> Select[Any]:
    counts: list[Any] = [
        select(func.count())
        .select_from(s.table)
        .where(s.table.c.change_no > cursor, *s.where_store(store))
        .scalar_subquery()
        for s in SOURCES
    ]
    counts.append(
        select(func.count())
        .select_from(OUTLET_PRICES)
        .where(OUTLET_PRICES.c.store_id == store, OUTLET_PRICES.c.change_no > cursor)
        .scalar_subquery()
    )
    total: Any = literal(0)
    for count in counts:
        total = total + count
    return select(total)


class _Compiled:
    """One statement compiled for one dialect, run on the session's raw DBAPI cursor.

    Its named parameters are given per run (``cursor``, ``high``, ``limit``, ``last``,
    ``store_id``); the anonymous ones (the ``0`` of ``store_id + 0``) keep their values.
    """

    def __init__(self, statement: Select[Any] | CompoundSelect, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        if "POSTCOMPILE" in self.sql:  # a parameter the dialect renders per run
            raise TypeError(f"pull statement not reusable on {dialect.name}: {self.sql}")
        self._fixed = dict(compiled.params)
        self._order = tuple(compiled.positiontup or ()) if compiled.positional else None

    def _params(self, values: dict[str, int]) -> Sequence[Any] | dict[str, Any]:
        merged = {**self._fixed, **values}
        return merged if self._order is None else tuple(merged[name] for name in self._order)

    def all(self, session: Session, values: dict[str, int]) -> list[tuple[Any, ...]]:
        """Every row, as the driver's tuples, in the session's transaction."""
        cursor = session.connection().connection.cursor()
        try:
            cursor.execute(self.sql, self._params(values))
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def scalar(self, session: Session, values: dict[str, int]) -> Any:
        """The first column of the one row."""
        return self.all(session, values)[0][0]


_CURSOR = bindparam("cursor", type_=BigInteger)
_HIGH = bindparam("high", type_=BigInteger)
_LAST = bindparam("last", type_=BigInteger)
_LIMIT = bindparam("limit", type_=BigInteger)
_STORE = bindparam("store_id", type_=BigInteger)


@dataclass(frozen=True)
class _Statements:
    """A page's statements compiled for one dialect (once per process)."""

    last: _Compiled
    rows: dict[str, _Compiled]
    count: _Compiled

    @classmethod
    def for_dialect(cls, dialect: Dialect) -> _Statements:
        key = (dialect.name, dialect.driver, dialect.paramstyle)
        made = _STATEMENTS.get(key)
        if made is None:
            made = cls(
                last=_Compiled(_last_number_query(_STORE, _CURSOR, _HIGH, _LIMIT), dialect),
                rows={
                    s.field: _Compiled(
                        _product_rows_query(_STORE, _CURSOR, _LAST)
                        if s is _PRODUCTS
                        else _rows_query(s, _STORE, _CURSOR, _LAST),
                        dialect,
                    )
                    for s in SOURCES
                },
                count=_Compiled(_count_query(_STORE, _CURSOR), dialect),
            )
            _STATEMENTS[key] = made  # made twice at worst, the same both times
        return made


_STATEMENTS: dict[tuple[str, str, str], _Statements] = {}

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


def _utc(value: Any) -> datetime:
    """A stored datetime as the model holds it: aware, UTC (SQLite gives text; MariaDB a
    naive datetime, UTC by the schema's ``UTCDateTime``)."""
    if isinstance(value, str):
        try:  # naive text, as SQLAlchemy stores it: parsed as UTC in one call
            return _from_text(value + "+00:00")
        except ValueError:  # text with an offset of its own
            value = _from_text(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_from_text = datetime.fromisoformat


def _converter(annotation: Any) -> Callable[[Any], Any] | None:
    """How a driver's value becomes the field's (None: it already is)."""
    kinds = {_strip(arg) for arg in get_args(annotation)} - {type(None)}
    kind = kinds.pop() if len(kinds) == 1 else _strip(annotation)
    if kind is datetime:
        return _utc
    if kind is bool:
        return bool  # SQLite answers 0/1
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind
    return None


class _Builder:
    """Makes one kind's wire models straight from its rows, without validating them.

    The rows come from our own tables, whose column types are the schema's (integers,
    strings, booleans, UTC datetimes through ``UTCDateTime``); validation would only
    turn the enum columns' strings into their enums, which this does too, with the
    driver's booleans and datetimes (see :func:`_converter`). The model's ``__dict__``
    holds the fields in the schema's order, as validation leaves it, so the serialised
    JSON is the same byte for byte (``tests/server/test_pull_page_json.py`` compares it
    with pages built by validation).
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
        self.convert: list[tuple[int, str, Callable[[Any], Any]]] = [
            (i, name, convert)
            for i, (name, info) in enumerate(fields.items())
            if (convert := _converter(info.annotation)) is not None
        ]

    def build(self, rows: Sequence[Sequence[Any]]) -> list[BaseModel]:
        """One model per row, the row's values in the schema's field order."""
        schema, names, convert = self.schema, self.names, self.convert
        # Every field is set, so the models of a page share one set of their names: an
        # assignment would only add a name it holds already (one object fewer per row for
        # the garbage collector, which otherwise costs as much as making the models).
        new, fields_set = schema.__new__, set(names)
        models: list[BaseModel] = []
        append = models.append
        for row in rows:
            values = dict(zip(names, row, strict=False))  # same length: checked in __init__
            for i, name, to_field in convert:
                value = row[i]
                if value is not None:
                    values[name] = to_field(value)
            model = new(schema)
            _set_attr(model, "__dict__", values)
            _set_attr(model, "__pydantic_fields_set__", fields_set)
            _set_attr(model, "__pydantic_extra__", None)
            _set_attr(model, "__pydantic_private__", None)
            append(model)
        return models


_BUILDERS: dict[str, _Builder] = {source.field: _Builder(source) for source in SOURCES}


def _statements(session: Session) -> _Statements:
    return _Statements.for_dialect(session.get_bind().dialect)


def count_after(session: Session, *, terminal: Terminal, cursor: int) -> int:
    """How many changes the terminal has yet to pull above ``cursor`` (one round trip)."""
    values = {"cursor": cursor, "store_id": terminal.store_id}
    return int(_statements(session).count.scalar(session, values))


def pull_page(session: Session, *, terminal: Terminal, cursor: int, limit: int) -> PullResponse:
    """The next page of changes above ``cursor`` for ``terminal``, at most ``limit`` rows."""
    statements = _statements(session)
    high = int(
        session.execute(select(ChangeCounter.value).where(ChangeCounter.id == 1)).scalar_one()
    )
    # First the page's last change number, from the indexes alone; then only the rows
    # up to it, so no table's rows are read beyond what the page carries.
    values = {"cursor": cursor, "high": high, "limit": limit, "store_id": terminal.store_id}
    last = statements.last.scalar(session, values)
    grouped: dict[str, list[Any]] = {source.field: [] for source in SOURCES}
    if last is not None:
        values["last"] = int(last)
        with collector_paused():
            for source in SOURCES:
                rows = statements.rows[source.field].all(session, values)
                if rows:
                    grouped[source.field] = _BUILDERS[source.field].build(rows)
    new_cursor = cursor if last is None else int(last)
    remaining = count_after(session, terminal=terminal, cursor=new_cursor)
    session.execute(
        update(_table(Terminal))
        .where(_table(Terminal).c.id == terminal.id)
        .values(last_seen_at=utcnow(), last_cursor=cursor)
    )
    # The rows are models already (see _Builder); the page itself is not validated again.
    page: dict[str, Any] = {
        "cursor": new_cursor,
        "has_more": remaining > 0,
        "remaining": remaining,
        **grouped,
    }
    return PullResponse.model_construct(None, **page)
