"""Per-outlet prices and stock transfers between outlets

``outlet_prices``: a product's price at one outlet (a store), NULL once cleared, numbered
by a change number the outlet's tills pull (indexed by store and change number, like
``stock_levels``). ``outlet_price_history``: each override set or cleared, with the
change number a till must have pulled to know it (ingest checks line prices against
it). ``stock_transfers`` and ``stock_transfer_lines``: goods moving between outlets
(draft, sent, received, cancelled), keyed by the client's id.

Create Date: 2026-12-08 00:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"


def upgrade() -> None:
    op.create_table(
        "outlet_price_history",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("price", sa.BigInteger(), nullable=True),
        sa.Column("valid_from", sa.DateTime(), nullable=False),
        sa.Column("change_no", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_outlet_price_history_product_id_products"),
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_outlet_price_history_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outlet_price_history")),
    )
    op.create_index(
        "ix_outlet_price_history_store_product",
        "outlet_price_history",
        ["store_id", "product_id", "change_no"],
        unique=False,
    )
    op.create_table(
        "outlet_prices",
        sa.Column("store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("price", sa.BigInteger(), nullable=True),
        sa.Column("change_no", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column(
            "updated_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_outlet_prices_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_outlet_prices_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_outlet_prices_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("store_id", "product_id", name=op.f("pk_outlet_prices")),
    )
    op.create_index(
        "ix_outlet_prices_store_change", "outlet_prices", ["store_id", "change_no"], unique=False
    )
    op.create_table(
        "stock_transfers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "from_store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "to_store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column(
            "created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column(
            "received_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("received_at", sa.DateTime(), nullable=True),
        sa.Column(
            "cancelled_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.Column("loss_reason", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["cancelled_by"], ["users.id"], name=op.f("fk_stock_transfers_cancelled_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_stock_transfers_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["from_store_id"], ["stores.id"], name=op.f("fk_stock_transfers_from_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["received_by"], ["users.id"], name=op.f("fk_stock_transfers_received_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["sent_by"], ["users.id"], name=op.f("fk_stock_transfers_sent_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["to_store_id"], ["stores.id"], name=op.f("fk_stock_transfers_to_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_transfers")),
    )
    op.create_index(
        "ix_stock_transfers_from_status",
        "stock_transfers",
        ["from_store_id", "status"],
        unique=False,
    )
    op.create_index(
        "ix_stock_transfers_to_status", "stock_transfers", ["to_store_id", "status"], unique=False
    )
    op.create_table(
        "stock_transfer_lines",
        sa.Column("transfer_id", sa.Uuid(), nullable=False),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_stock_transfer_lines_product_id_products"),
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["stock_transfers.id"],
            name=op.f("fk_stock_transfer_lines_transfer_id_stock_transfers"),
        ),
        sa.PrimaryKeyConstraint("transfer_id", "product_id", name=op.f("pk_stock_transfer_lines")),
    )


def downgrade() -> None:
    # Dropping a table drops its indexes (MariaDB refuses to drop one a foreign key uses).
    for table in (
        "stock_transfer_lines",
        "stock_transfers",
        "outlet_prices",
        "outlet_price_history",
    ):
        op.drop_table(table)
