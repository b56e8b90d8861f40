"""Migrations build the whole schema from empty on both databases, and match the models."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from sync_server.migrate import downgrade, upgrade
from sync_server.models import Base
from tests.conftest import drop_mariadb_databases, fresh_mariadb_database, worker_id


@pytest.fixture(params=["sqlite", "mariadb"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with no tables at all."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    return fresh_mariadb_database(f"kasir_mig_{worker_id()}_{os.getpid()}")


def _drift(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(ctx, Base.metadata))
    finally:
        engine.dispose()


def test_migrations_from_empty_match_the_models(empty_url: str) -> None:
    upgrade(empty_url)
    engine = create_engine(empty_url)
    tables = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        counter = conn.execute(text("SELECT value FROM change_counter WHERE id = 1")).scalar()
    engine.dispose()
    assert set(Base.metadata.tables) <= tables
    assert counter == 0
    assert _drift(empty_url) == []


def test_downgrade_to_empty_and_up_again(empty_url: str) -> None:
    upgrade(empty_url)
    downgrade(empty_url, "base")
    engine = create_engine(empty_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade(empty_url)
    assert _drift(empty_url) == []


def test_upgrade_twice_is_harmless(empty_url: str) -> None:
    upgrade(empty_url)
    upgrade(empty_url)
    assert _drift(empty_url) == []


def test_cluster_lock_admits_one_holder_and_replaces_a_stale_one() -> None:
    """The row lock used on Galera, on plain MariaDB: one holder at a time; expiry frees it."""
    import threading

    from sync_server.migrate import cluster_lock

    url = fresh_mariadb_database(f"kasir_lock_{worker_id()}_{os.getpid()}")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    inside: list[str] = []
    overlaps: list[str] = []

    def take(name: str) -> None:
        with engine.connect() as conn, cluster_lock(conn, wait_seconds=60, owner=name):
            if inside:
                overlaps.append(f"{name} entered while {inside} held it")
            inside.append(name)
            threading.Event().wait(0.2)
            inside.remove(name)

    try:
        threads = [threading.Thread(target=take, args=(f"p{i}",)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=90)
        assert overlaps == []
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM kasir_migration_lock")).scalar() == 0
            # A holder that died long ago: its expired row does not block the next one.
            conn.execute(
                text(
                    "INSERT INTO kasir_migration_lock VALUES "
                    "(1, 'crashed', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) - INTERVAL 1 SECOND)"
                )
            )
            with cluster_lock(conn, wait_seconds=10, owner="next") as owner:
                held = conn.execute(text("SELECT owner FROM kasir_migration_lock")).scalar()
                assert (owner, held) == ("next", "next")
    finally:
        engine.dispose()
        drop_mariadb_databases(str(make_url(url).database))


def test_migration_heads_without_alembic_match_alembics(empty_url: str) -> None:
    from alembic.script import ScriptDirectory

    from sync_server.core.database import schema_revision
    from sync_server.migrate import alembic_config, migration_heads, upgrade_if_behind

    assert migration_heads() == set(
        ScriptDirectory.from_config(alembic_config(empty_url)).get_heads()
    )
    upgrade_if_behind(empty_url)  # an empty database: migrated
    assert schema_revision(empty_url) == migration_heads()
    upgrade_if_behind(empty_url)  # up to date: nothing to do, nothing breaks
    assert schema_revision(empty_url) == migration_heads()
