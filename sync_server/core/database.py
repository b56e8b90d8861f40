"""Engines, sessions and the declarative base (with a naming convention for MySQL's 64 chars).

SQLite (the embedded default) runs in WAL mode with ``BEGIN IMMEDIATE`` so concurrent
writers queue instead of failing; MySQL/MariaDB uses InnoDB under READ COMMITTED.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
from sqlalchemy.exc import DBAPIError, OperationalError
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
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        pool_recycle=3600,
        isolation_level="READ COMMITTED",
        connect_args=_mysql_args(url, query_timeout),
    )


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


def get_db(request: Request) -> Database:
    """The app's main database (dependency)."""
    db: Database = request.app.state.db
    return db


def get_reports_db(request: Request) -> Database:
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


def bulk_insert(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts keyed by column name) into ``table`` in one executemany.

    Values go through each column type's own bind processing, then straight to the
    driver as positional tuples: with PyMySQL that is a multi-row INSERT without
    SQLAlchemy's per-row dict handling, the cost that dominated batched ingest.
    Python-side column defaults fill the columns the rows leave out.
    """
    if not rows:
        return
    keys = list(rows[0].keys())
    if any(row.keys() != rows[0].keys() for row in rows):
        session.execute(table.insert(), rows)  # ragged rows: let SQLAlchemy sort them out
        return
    defaults: dict[str, Any] = {}
    for col in table.columns:
        if col.name not in rows[0] and col.default is not None and col.autoincrement is not True:
            default = col.default
            if default.is_scalar:
                defaults[col.name] = default.arg
            elif default.is_callable:
                defaults[col.name] = default.arg(None)
    conn = session.connection()
    dialect = conn.dialect
    columns = keys + list(defaults)
    procs = [table.c[name].type._cached_bind_processor(dialect) for name in columns]
    preparer = dialect.identifier_preparer
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {preparer.format_table(table)} "  # noqa: S608 - names from metadata
        f"({', '.join(preparer.quote(name) for name in columns)}) "
        f"VALUES ({', '.join([marker] * len(columns))})"
    )
    extra = tuple(defaults.values())
    key_procs = list(zip(keys, procs, strict=False))
    extra_procs = procs[len(keys) :]
    extra_values = tuple(
        proc(value) if proc is not None else value
        for proc, value in zip(extra_procs, extra, strict=True)
    )
    params = [
        tuple(proc(row[name]) if proc is not None else row[name] for name, proc in key_procs)
        + extra_values
        for row in rows
    ]
    conn.exec_driver_sql(sql, params)
