"""stock_deltas, and report_product_totals per terminal: no row shared by tills at ingest

Ingest used to add every sale to ``stock_levels`` and ``report_product_totals`` rows
that all tills of a store write, which serialised pushes on one MariaDB node and
aborted them across Galera nodes. Now a push writes only its own terminal's rows:

* ``stock_deltas`` (store, product, terminal): what a terminal's pushes changed on hand
  by, folded into ``stock_levels`` before each pull. On hand is the level plus the
  deltas; existing levels stay as they are (no delta yet).
* ``report_product_totals`` gets ``terminal_id`` in its primary key. The existing rows
  are kept under terminal 0, so every report sums exactly as before;
  ``rebuild_rollups`` spreads them over the real terminals when run.

The table is rebuilt by copy (rename, create, insert, drop), which works alike on
SQLite and MariaDB and never leaves a table without a primary key (Galera needs one).
Downgrade folds the deltas into the levels and sums the product rows over terminals,
so no figure changes either way.

Create Date: 2026-12-07 19:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_KEYS = ("store_id", "grain", "period", "terminal_id", "product_id")
_VALUES = ("quantity", "revenue", "refunded_quantity", "refunded_amount")
_OLD = "report_product_totals_0006"


def _create_product_totals(keys: Sequence[str]) -> None:
    op.create_table(
        "report_product_totals",
        sa.Column("store_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("grain", sa.String(length=1), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        *(
            [sa.Column("terminal_id", sa.Integer(), autoincrement=False, nullable=False)]
            if "terminal_id" in keys
            else []
        ),
        sa.Column("product_id", sa.Integer(), autoincrement=False, nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in _VALUES),
        sa.PrimaryKeyConstraint(*keys, name=op.f("pk_report_product_totals")),
    )


def _table(name: str, *columns: str) -> sa.TableClause:
    return sa.table(name, *(sa.column(c) for c in columns))


def upgrade() -> None:
    op.create_table(
        "stock_deltas",
        sa.Column("store_id", _ID, nullable=False),
        sa.Column("product_id", _ID, nullable=False),
        sa.Column("terminal_id", _ID, nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_stock_deltas_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_stock_deltas_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["terminal_id"], ["terminals.id"], name=op.f("fk_stock_deltas_terminal_id_terminals")
        ),
        sa.PrimaryKeyConstraint(
            "store_id", "product_id", "terminal_id", name=op.f("pk_stock_deltas")
        ),
    )
    op.rename_table("report_product_totals", _OLD)
    _create_product_totals(_KEYS)
    old = _table(_OLD, *(k for k in _KEYS if k != "terminal_id"), *_VALUES)
    new = _table("report_product_totals", *_KEYS, *_VALUES)
    op.execute(
        new.insert().from_select(
            [*_KEYS, *_VALUES],
            sa.select(
                old.c.store_id,
                old.c.grain,
                old.c.period,
                sa.literal(0),
                old.c.product_id,
                *(old.c[v] for v in _VALUES),
            ),
        )
    )
    op.drop_table(_OLD)


def downgrade() -> None:
    levels = _table("stock_levels", "store_id", "product_id", "on_hand", "change_no", "updated_at")
    deltas = _table("stock_deltas", "store_id", "product_id", "terminal_id", "quantity")
    same_level = sa.and_(
        deltas.c.store_id == levels.c.store_id, deltas.c.product_id == levels.c.product_id
    )
    op.execute(
        levels.insert().from_select(
            ["store_id", "product_id", "on_hand", "change_no", "updated_at"],
            sa.select(
                deltas.c.store_id,
                deltas.c.product_id,
                sa.literal(0),
                sa.literal(0),
                sa.literal(datetime.now(UTC).replace(tzinfo=None), sa.DateTime()),
            )
            .where(~sa.exists().where(same_level))
            .distinct(),
        )
    )
    op.execute(
        levels.update()
        .where(sa.exists().where(same_level, deltas.c.quantity != 0))
        .values(
            change_no=0,
            on_hand=levels.c.on_hand
            + sa.select(sa.func.sum(deltas.c.quantity)).where(same_level).scalar_subquery(),
        )
    )
    op.drop_table("stock_deltas")
    op.rename_table("report_product_totals", _OLD)
    keys = [k for k in _KEYS if k != "terminal_id"]
    _create_product_totals(keys)
    old = _table(_OLD, *_KEYS, *_VALUES)
    new = _table("report_product_totals", *keys, *_VALUES)
    op.execute(
        new.insert().from_select(
            [*keys, *_VALUES],
            sa.select(
                *(old.c[k] for k in keys), *(sa.func.sum(old.c[v]) for v in _VALUES)
            ).group_by(*(old.c[k] for k in keys)),
        )
    )
    op.drop_table(_OLD)
