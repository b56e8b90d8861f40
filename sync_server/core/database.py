"""Engines, sessions and the declarative base (with a naming convention for MySQL's 64 chars).

SQLite (the embedded default) runs in WAL mode with ``BEGIN IMMEDIATE`` so concurrent
writers queue instead of failing; MySQL/MariaDB uses InnoDB under READ COMMITTED.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Concatenate, ParamSpec, TypeVar

from fastapi import Depends, Request
from sqlalchemy import (
    BigInteger,
    DateTime,
    Engine,
    Integer,
    MetaData,
    TypeDecorator,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT that is still an auto-increment INTEGER PRIMARY KEY on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime stored naive (MySQL DATETIME has no zone)."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not allowed; use UTC-aware ones")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base of every server table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Now, timezone-aware, in UTC."""
    return datetime.now(UTC)


def _sqlite_on_connect(dbapi_conn: Any, _: Any) -> None:
    # Take over transaction control from pysqlite so BEGIN IMMEDIATE and SAVEPOINT work.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_on_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_on_begin_read(conn: Any) -> None:
    # A reader's transaction takes no write lock: under WAL it never waits for ingest.
    conn.exec_driver_sql("BEGIN")


CONNECT_TIMEOUT_SECONDS = 5
"""How long a new MySQL/MariaDB connection may take before the request answers 503."""

QUERY_TIMEOUT_SECONDS = 10
"""How long one MySQL/MariaDB read or write on a connection may block: a frozen database
node (or a partitioned one) fails the request with 503 instead of hanging it. Every query
of a request is far below this; maintenance jobs over whole tables pass ``None``."""


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 20,
    query_timeout: float | None = QUERY_TIMEOUT_SECONDS,
    read_only: bool = False,
) -> Engine:
    """Create an engine with the settings Kasir needs on SQLite or MySQL/MariaDB.

    ``read_only`` (the reports' engine) begins SQLite transactions without taking the
    write lock, so reading never queues behind writers.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin_read if read_only else _sqlite_on_begin)
        return engine
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=3600,
        isolation_level="READ COMMITTED",
        connect_args=_mysql_args(url, query_timeout),
    )
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", _ping_if_idle(engine.dialect))
    return engine


PING_AFTER_IDLE_SECONDS = 1.0
"""A pooled connection that rested at least this long is pinged before it is handed out
(a dead one is replaced, as ``pool_pre_ping`` would): after a database restart or a
failover every stale connection has rested longer than this. One passed from request to
request under load is not pinged: should it have died meanwhile, its first statement
fails, the pool drops every connection older than the failure and the request answers
503 (``database_unavailable``, retryable), as it would if the database died mid-request."""

_CHECKED_IN = "kasir_checked_in"


def _note_checkin(_dbapi_conn: Any, record: Any) -> None:
    record.info[_CHECKED_IN] = time.monotonic()


def _ping_if_idle(dialect: Dialect) -> Callable[[Any, Any, Any], None]:
    """The pool's checkout hook: ping a connection that rested, replace a dead one."""

    def ping(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        rested = record.info.get(_CHECKED_IN)
        if rested is None or time.monotonic() - rested < PING_AFTER_IDLE_SECONDS:
            return  # a new connection, or one just used
        try:
            dialect.do_ping(dbapi_conn)
        except Exception as exc:
            # The pool throws this connection away and checks out (or opens) another.
            raise DisconnectionError(f"pooled connection is dead: {exc}") from exc

    return ping


def _mysql_args(url: str, query_timeout: float | None) -> dict[str, Any]:
    if not url.startswith("mysql"):
        return {}
    args: dict[str, Any] = {"charset": "utf8mb4", "connect_timeout": CONNECT_TIMEOUT_SECONDS}
    if query_timeout is not None:
        args["read_timeout"] = args["write_timeout"] = query_timeout
    return args


PROBE_TIMEOUT_SECONDS = 5
"""How long the readiness probe waits to connect to, or hear from, the database."""


def schema_revision(url: str) -> set[str]:
    """The Alembic revisions the database at ``url`` is stamped with, read over a
    connection of its own (no pool), so a busy or exhausted pool never delays the probe.

    Raises the database's error when it does not answer within
    :data:`PROBE_TIMEOUT_SECONDS`.
    """
    if url.startswith("sqlite"):
        connect_args: dict[str, Any] = {"timeout": PROBE_TIMEOUT_SECONDS}
    elif url.startswith("mysql"):
        connect_args = {
            "connect_timeout": PROBE_TIMEOUT_SECONDS,
            "read_timeout": PROBE_TIMEOUT_SECONDS,
        }
    else:  # pragma: no cover - the two databases Kasir runs on
        connect_args = {}
    engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
    try:
        with engine.connect() as conn:
            return set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    finally:
        engine.dispose()


class Database:
    """An engine and its session factory; the app holds one for writes, one for reports."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int = 20,
        query_timeout: float | None = QUERY_TIMEOUT_SECONDS,
        read_only: bool = False,
    ) -> None:
        self.url = url
        self.engine = make_engine(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            query_timeout=query_timeout,
            read_only=read_only,
        )
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        """True on the embedded SQLite default."""
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


T = TypeVar("T")
P = ParamSpec("P")

_RETRYABLE_MYSQL = {1205, 1213}  # lock wait timeout, deadlock


def is_retryable(exc: BaseException) -> bool:
    """True for transient lock errors after which the whole transaction may be retried."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        args = getattr(exc.orig, "args", ())
        if args and args[0] in _RETRYABLE_MYSQL:
            return True
        if isinstance(exc, OperationalError) and "database is locked" in str(exc.orig):
            return True
    return False


def run_in_transaction(db: Database, work: Callable[[Session], T], *, attempts: int = 6) -> T:
    """Run ``work`` in one transaction and commit it; retry it whole after a lock error.

    The commit happens here, before the caller answers, so a failed commit is an
    exception the caller sees (the API answers 503, nothing saved), never a write
    acknowledged and then lost. Deadlocks (1213, also Galera's certification failure at
    COMMIT), lock wait timeouts (1205) and SQLite's "database is locked" roll back and
    run ``work`` again from the start, so ``work`` must not have effects outside the
    session.
    """
    for attempt in range(1, attempts + 1):
        try:
            with db.session() as session:
                return work(session)
        except DBAPIError as exc:
            if attempt == attempts or not is_retryable(exc):
                raise
            time.sleep(random.uniform(0, 0.02 * 2**attempt))
    raise AssertionError("unreachable")


def unit_of_work(
    work: Callable[Concatenate[Session, P], T],
) -> Callable[Concatenate[Database | Session, P], T]:
    """Make a service function that takes a session one unit of work.

    Called with the app's :class:`Database` (what routers do), it runs in a transaction
    of its own through :func:`run_in_transaction`: committed before it returns, retried
    after transient lock errors. Called with a :class:`Session`, it joins that
    session's transaction and the caller commits (one service composed into another's
    unit of work). Keyword-only arguments after the first, as every service has.
    """

    @functools.wraps(work)
    def run(target: Database | Session, /, *args: P.args, **kwargs: P.kwargs) -> T:
        if isinstance(target, Session):
            return work(target, *args, **kwargs)
        return run_in_transaction(target, lambda session: work(session, *args, **kwargs))

    return run


# The two dependencies below do no I/O: ``async`` keeps FastAPI from sending each to a
# worker thread of its own (a thread hop per request).


async def get_db(request: Request) -> Database:
    """The app's main database (dependency)."""
    db: Database = request.app.state.db
    return db


async def get_reports_db(request: Request) -> Database:
    """The database reports read from: the replica when configured, else the main
    database through a small pool of its own (never waiting for ingest's connections)."""
    db: Database = request.app.state.reports_db
    return db


DbDep = Annotated[Database, Depends(get_db)]
ReportsDbDep = Annotated[Database, Depends(get_reports_db)]


def next_change_numbers(session: Session, count: int = 1) -> int:
    """Reserve ``count`` consecutive change numbers; returns the first.

    The counter row stays locked until this transaction commits, so change numbers
    become visible in the order they were handed out: a pull that saw number N has
    seen every change below N. Call it as late as possible in a transaction.
    """
    if count <= 0:
        raise ValueError("count must be positive")
    session.execute(text("UPDATE change_counter SET value = value + :n WHERE id = 1"), {"n": count})
    last = session.execute(text("SELECT value FROM change_counter WHERE id = 1")).scalar_one()
    return int(last) - count + 1


@dataclass(frozen=True, slots=True)
class _Insert:
    """A bulk insert's driver-level statement for one table, column list and dialect."""

    sql: str
    key_procs: tuple[tuple[str, Callable[[Any], Any] | None], ...]
    defaults: tuple[tuple[Any, bool, Callable[[Any], Any] | None], ...]
    """(value or callable, is callable, bind processor) of each defaulted column."""


_INSERTS: dict[tuple[Any, tuple[str, ...], type[Dialect], str], _Insert] = {}
"""Built once per table, column list and dialect: building them on every push cost
more Python than the round trip."""


def _insert_for(table: Any, keys: tuple[str, ...], dialect: Dialect) -> _Insert:
    cache_key = (table, keys, type(dialect), dialect.paramstyle)
    found = _INSERTS.get(cache_key)
    if found is not None:
        return found
    defaults: list[tuple[str, Any, bool]] = []
    for col in table.columns:
        if col.name not in keys and col.default is not None and col.autoincrement is not True:
            default = col.default
            if default.is_scalar:
                defaults.append((col.name, default.arg, False))
            elif default.is_callable:
                defaults.append((col.name, default.arg, True))
    columns = [*keys, *(name for name, _, _ in defaults)]
    procs = [table.c[name].type._cached_bind_processor(dialect) for name in columns]
    preparer = dialect.identifier_preparer
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {preparer.format_table(table)} "  # noqa: S608 - names from metadata
        f"({', '.join(preparer.quote(name) for name in columns)}) "
        f"VALUES ({', '.join([marker] * len(columns))})"
    )
    found = _INSERTS[cache_key] = _Insert(
        sql=sql,
        key_procs=tuple(zip(keys, procs, strict=False)),
        defaults=tuple(
            (value, is_callable, proc)
            for (_, value, is_callable), proc in zip(defaults, procs[len(keys) :], strict=True)
        ),
    )
    return found


def bulk_insert(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts keyed by column name) into ``table`` in one executemany.

    Values go through each column type's own bind processing, then straight to the
    driver as positional tuples: with PyMySQL that is a multi-row INSERT without
    SQLAlchemy's per-row dict handling, the cost that dominated batched ingest.
    Python-side column defaults fill the columns the rows leave out (a callable default
    is called once per call). The statement is built once per table and column list.
    """
    if not rows:
        return
    first = rows[0].keys()
    if any(row.keys() != first for row in rows):
        session.execute(table.insert(), rows)  # ragged rows: let SQLAlchemy sort them out
        return
    conn = session.connection()
    insert = _insert_for(table, tuple(first), conn.dialect)
    extra_values = tuple(
        (proc(value) if proc is not None else value)
        for value, proc in (
            (arg(None) if is_callable else arg, proc) for arg, is_callable, proc in insert.defaults
        )
    )
    key_procs = insert.key_procs
    params = [
        tuple(proc(row[name]) if proc is not None else row[name] for name, proc in key_procs)
        + extra_values
        for row in rows
    ]
    conn.exec_driver_sql(insert.sql, params)


@dataclass(frozen=True, slots=True)
class DriverStatement:
    """A Core statement compiled once for a dialect, run as the driver's own SQL with
    positional rows: no per-row dict handling and no statement cache lookup per call."""

    sql: str
    procs: tuple[tuple[int, Callable[[Any], Any]], ...]
    """(position, bind processor) of each column whose type converts its values."""
    names: tuple[str, ...] | None = None
    """The columns by name when the driver binds by name (PyMySQL's ``pyformat``): rows
    then go as dicts."""

    def execute_many(self, session: Session, rows: Sequence[Sequence[Any]]) -> None:
        """Run the statement once per row (one ``executemany``) in ``session``."""
        if not rows:
            return
        params: list[Any] = list(rows)
        if self.procs:
            converted = []
            for row in params:
                values = list(row)
                for i, proc in self.procs:
                    values[i] = proc(values[i])
                converted.append(tuple(values))
            params = converted
        if self.names is not None:
            params = [dict(zip(self.names, row, strict=True)) for row in params]
        session.connection().exec_driver_sql(self.sql, params)


_DRIVER_STATEMENTS: dict[tuple[Any, tuple[str, ...], tuple[Any, ...]], DriverStatement] = {}


def driver_statement(stmt: Any, columns: Sequence[str], dialect: Dialect) -> DriverStatement:
    """``stmt`` (an INSERT or upsert of ``stmt.table``) compiled for ``dialect`` with its
    values bound positionally in the order of ``columns``; built once per statement,
    column list and dialect."""
    # What the compiled SQL depends on: the dialect, its paramstyle and, on MySQL and
    # MariaDB, the server (how an upsert names the inserted values).
    key = (
        stmt,
        tuple(columns),
        (dialect.name, dialect.paramstyle, dialect.server_version_info),
    )
    found = _DRIVER_STATEMENTS.get(key)
    if found is not None:
        return found
    compiled = stmt.compile(dialect=dialect, column_keys=list(columns))
    names: tuple[str, ...] | None = None
    if compiled.positional:
        if list(compiled.positiontup or ()) != list(columns):
            raise ValueError(f"{stmt} does not bind exactly {columns} in this order")
    elif dialect.paramstyle == "pyformat" and set(compiled.binds) == set(columns):
        names = tuple(columns)
    else:
        raise ValueError(f"{stmt} does not bind exactly {columns}")
    table = stmt.table
    procs = tuple(
        (i, proc)
        for i, name in enumerate(columns)
        if (proc := table.c[name].type._cached_bind_processor(dialect)) is not None
    )
    found = _DRIVER_STATEMENTS[key] = DriverStatement(sql=compiled.string, procs=procs, names=names)
    return found
