"""flags, price history, voucher and QRIS uses

``flags``: what an applied event claimed that the server could not verify (a price
that is not in the product's history, a tax rate, a voucher, a QRIS payment, a shift of
another till, a date out of range), one row per (event, kind), resolved by a manager
with a note. ``price_history``: each product's price and tax rate from a moment and a
change number on; filled here with every product's current price. ``voucher_uses`` and
``qris_payment_uses``: one row per use, so a voucher's use count is counted, never kept
on a row every till updates, and a PAID QRIS order pays one sale only.

Create Date: 2026-12-20 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"


def upgrade() -> None:
    op.create_table(
        "flags",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "terminal_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("sale_id", sa.Uuid(), nullable=True),
        sa.Column(
            "cashier_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column(
            "resolved_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("resolution", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["cashier_id"], ["users.id"], name=op.f("fk_flags_cashier_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"], ["users.id"], name=op.f("fk_flags_resolved_by_users")
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_flags_store_id_stores")),
        sa.ForeignKeyConstraint(
            ["terminal_id"], ["terminals.id"], name=op.f("fk_flags_terminal_id_terminals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flags")),
        sa.UniqueConstraint("event_id", "kind", name=op.f("uq_flags_event_id_kind")),
    )
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flags_sale_id"), ["sale_id"], unique=False)
        batch_op.create_index(
            "ix_flags_store_id_business_date", ["store_id", "business_date"], unique=False
        )
        batch_op.create_index(
            "ix_flags_store_id_resolved_at", ["store_id", "resolved_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_flags_terminal_id"), ["terminal_id"], unique=False)

    op.create_table(
        "price_history",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("tax_rate_bp", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.DateTime(), nullable=False),
        sa.Column("change_no", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_price_history_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_history")),
    )
    with op.batch_alter_table("price_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_price_history_product_id_change_no", ["product_id", "change_no"], unique=False
        )

    op.create_table(
        "voucher_uses",
        sa.Column("sale_id", sa.Uuid(), nullable=False),
        sa.Column(
            "voucher_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "terminal_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("used_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["terminal_id"], ["terminals.id"], name=op.f("fk_voucher_uses_terminal_id_terminals")
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"], ["vouchers.id"], name=op.f("fk_voucher_uses_voucher_id_vouchers")
        ),
        sa.PrimaryKeyConstraint("sale_id", name=op.f("pk_voucher_uses")),
    )
    with op.batch_alter_table("voucher_uses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voucher_uses_voucher_id"), ["voucher_id"], unique=False
        )

    op.create_table(
        "qris_payment_uses",
        sa.Column(
            "payment_order_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("sale_id", sa.Uuid(), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column(
            "terminal_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("used_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_order_id"],
            ["payment_orders.id"],
            name=op.f("fk_qris_payment_uses_payment_order_id_payment_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["terminal_id"],
            ["terminals.id"],
            name=op.f("fk_qris_payment_uses_terminal_id_terminals"),
        ),
        sa.PrimaryKeyConstraint("payment_order_id", name=op.f("pk_qris_payment_uses")),
        sa.UniqueConstraint("payment_id", name=op.f("uq_qris_payment_uses_payment_id")),
    )
    with op.batch_alter_table("qris_payment_uses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qris_payment_uses_sale_id"), ["sale_id"], unique=False)

    # Every product's current price and rate is its first history row, valid from its
    # last change, so sales made before this revision are checked against it.
    op.execute(
        "INSERT INTO price_history (product_id, price, tax_rate_bp, valid_from, change_no) "
        "SELECT p.id, p.price, COALESCE(t.rate_bp, 0), p.updated_at, "
        "CASE WHEN COALESCE(t.change_no, 0) > p.change_no THEN t.change_no ELSE p.change_no END "
        "FROM products p LEFT JOIN tax_rates t ON t.id = p.tax_rate_id"
    )


def downgrade() -> None:
    # Indexes go with their tables (MariaDB refuses to drop one a foreign key uses).
    op.drop_table("qris_payment_uses")
    op.drop_table("voucher_uses")
    op.drop_table("price_history")
    op.drop_table("flags")
