"""Alembic environment: driven from the models' metadata, type changes compared."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from sync_server.models import Base

config = context.config
target_metadata = Base.metadata

NOT_MODELLED = frozenset({"kasir_migration_lock"})
"""Tables Kasir keeps outside the models (the cluster-safe migration lock of
:mod:`sync_server.migrate`): autogenerate must not offer to drop them."""


def include_object(obj: object, name: str | None, type_: str, reflected: bool, _: object) -> bool:
    """Leave the tables in :data:`NOT_MODELLED` out of comparisons."""
    return not (type_ == "table" and reflected and name in NOT_MODELLED)


def run_migrations_offline() -> None:
    """Emit SQL without a database connection."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        compare_type=True,
        render_as_batch=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Apply migrations over a real connection."""
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            compare_type=True,
            render_as_batch=connection.dialect.name == "sqlite",
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
