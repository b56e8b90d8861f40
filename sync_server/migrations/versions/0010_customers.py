"""Customers and the loyalty points ledger

Customers (canonical phone unique across the chain), the sales made to them, the signed
points moves (unique per event and kind: a re-pushed sale never earns twice), the log
tills page through for changed customers, and the chain's points rule.

Create Date: 2026-12-08 00:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("store_id", _ID, nullable=True),
        sa.Column("last_redeemed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_customers_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("phone", name=op.f("uq_customers_phone")),
    )
    op.create_table(
        "customer_sales",
        sa.Column("sale_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("store_id", _ID, nullable=False),
        sa.Column("terminal_id", _ID, nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("points_earned", sa.BigInteger(), nullable=False),
        sa.Column("points_redeemed", sa.BigInteger(), nullable=False),
        sa.Column("points_discount", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_customer_sales_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_customer_sales_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["terminal_id"], ["terminals.id"], name=op.f("fk_customer_sales_terminal_id_terminals")
        ),
        sa.PrimaryKeyConstraint("sale_id", name=op.f("pk_customer_sales")),
    )
    with op.batch_alter_table("customer_sales", schema=None) as batch_op:
        batch_op.create_index(
            "ix_customer_sales_customer_id_created_at", ["customer_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_customer_sales_store_id_business_date", ["store_id", "business_date"], unique=False
        )
    op.create_table(
        "points_moves",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("sale_id", sa.Uuid(), nullable=True),
        sa.Column("store_id", _ID, nullable=True),
        sa.Column("terminal_id", _ID, nullable=True),
        sa.Column("user_id", _ID, nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_points_moves_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_points_moves_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["terminal_id"], ["terminals.id"], name=op.f("fk_points_moves_terminal_id_terminals")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_points_moves_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_moves")),
        sa.UniqueConstraint("event_id", "kind", name=op.f("uq_points_moves_event_id_kind")),
    )
    with op.batch_alter_table("points_moves", schema=None) as batch_op:
        batch_op.create_index("ix_points_moves_customer_id_id", ["customer_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_points_moves_sale_id"), ["sale_id"], unique=False)
    op.create_table(
        "customer_changes",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_changes_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_changes")),
    )
    with op.batch_alter_table("customer_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_changes_customer_id"), ["customer_id"], unique=False
        )
    op.create_table(
        "loyalty_settings",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("earn_points", sa.BigInteger(), nullable=False),
        sa.Column("earn_per_rupiah", sa.BigInteger(), nullable=False),
        sa.Column("point_value", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", _ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_loyalty_settings_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_settings")),
    )


def downgrade() -> None:
    # Children first; the tables' indexes go with them.
    op.drop_table("loyalty_settings")
    op.drop_table("customer_changes")
    op.drop_table("points_moves")
    op.drop_table("customer_sales")
    op.drop_table("customers")
