"""Suppliers, purchase orders, receiving, stock requests and moving-average cost

New tables: ``suppliers``, ``purchase_orders`` and their lines (status and received
quantities guarded by CHECK constraints), ``goods_receipts`` (a receipt applied once
per sender's id), ``product_costs`` (moving-average cost per outlet and product),
``stock_requests`` and their lines. New columns: ``stock_moves.unit_cost`` (the cost a
receive named), ``sale_lines.unit_cost`` (the outlet's average cost when the sale was
ingested; NULL: unknown) and, in the product rollup ``report_product_totals``, HPP and
the revenue without PPN it stands against (sold and refunded; 0 for the rows already
there until ``rebuild_rollups`` runs).

Create Date: 2026-12-08 00:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_COST_COLUMNS = (
    "net_revenue",
    "costed_revenue",
    "cost",
    "unknown_lines",
    "refunded_net_revenue",
    "refunded_costed_revenue",
    "refunded_cost",
    "refunded_unknown_lines",
)
"""What ``report_product_totals`` gains for the margin reports (HPP and the revenue
without PPN it stands against)."""


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "suppliers",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppliers")),
    )
    op.create_table(
        "purchase_orders",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("store_id", _ID, nullable=False),
        sa.Column("supplier_id", _ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_by", _ID, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'sent', 'partial', 'received', 'cancelled')",
            name=op.f("ck_purchase_orders_status"),
        ),
        _fk("purchase_orders", "store_id", "stores"),
        _fk("purchase_orders", "supplier_id", "suppliers"),
        _fk("purchase_orders", "created_by", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_orders")),
    )
    op.create_index(
        "ix_purchase_orders_store_status", "purchase_orders", ["store_id", "status"], unique=False
    )
    op.create_index(
        op.f("ix_purchase_orders_supplier_id"), "purchase_orders", ["supplier_id"], unique=False
    )
    op.create_table(
        "purchase_order_lines",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("order_id", _ID, nullable=False),
        sa.Column("product_id", _ID, nullable=False),
        sa.Column("quantity_ordered", sa.Integer(), nullable=False),
        sa.Column("unit_cost", sa.BigInteger(), nullable=False),
        sa.Column("quantity_received", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "quantity_ordered > 0", name=op.f("ck_purchase_order_lines_ordered_positive")
        ),
        sa.CheckConstraint(
            "unit_cost >= 0", name=op.f("ck_purchase_order_lines_cost_not_negative")
        ),
        sa.CheckConstraint(
            "quantity_received >= 0 AND quantity_received <= quantity_ordered",
            name=op.f("ck_purchase_order_lines_received_within_ordered"),
        ),
        _fk("purchase_order_lines", "order_id", "purchase_orders"),
        _fk("purchase_order_lines", "product_id", "products"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_order_lines")),
        sa.UniqueConstraint(
            "order_id", "product_id", name=op.f("uq_purchase_order_lines_order_id_product_id")
        ),
    )
    op.create_table(
        "goods_receipts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("store_id", _ID, nullable=False),
        sa.Column("order_id", _ID, nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("goods_receipts", "store_id", "stores"),
        _fk("goods_receipts", "order_id", "purchase_orders"),
        _fk("goods_receipts", "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goods_receipts")),
    )
    op.create_index(
        op.f("ix_goods_receipts_order_id"), "goods_receipts", ["order_id"], unique=False
    )
    op.create_table(
        "product_costs",
        sa.Column("store_id", _ID, nullable=False),
        sa.Column("product_id", _ID, nullable=False),
        sa.Column("avg_cost", sa.BigInteger(), nullable=False),
        sa.Column("last_cost", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        _fk("product_costs", "store_id", "stores"),
        _fk("product_costs", "product_id", "products"),
        sa.PrimaryKeyConstraint("store_id", "product_id", name=op.f("pk_product_costs")),
    )
    op.create_table(
        "stock_requests",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("store_id", _ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("requested_by", _ID, nullable=False),
        sa.Column("decided_by", _ID, nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("order_id", _ID, nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('requested', 'approved', 'rejected', 'ordered')",
            name=op.f("ck_stock_requests_status"),
        ),
        _fk("stock_requests", "store_id", "stores"),
        _fk("stock_requests", "requested_by", "users"),
        _fk("stock_requests", "decided_by", "users"),
        _fk("stock_requests", "order_id", "purchase_orders"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_requests")),
    )
    op.create_index(
        "ix_stock_requests_store_status", "stock_requests", ["store_id", "status"], unique=False
    )
    op.create_table(
        "stock_request_lines",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("request_id", _ID, nullable=False),
        sa.Column("product_id", _ID, nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_stock_request_lines_quantity_positive")),
        _fk("stock_request_lines", "request_id", "stock_requests"),
        _fk("stock_request_lines", "product_id", "products"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_request_lines")),
        sa.UniqueConstraint(
            "request_id", "product_id", name=op.f("uq_stock_request_lines_request_id_product_id")
        ),
    )
    # The cost of goods sold rides in the product rollup (same key), so a push upserts
    # one table for both; rows from before this revision hold 0 until rebuild_rollups.
    with op.batch_alter_table("report_product_totals", schema=None) as batch_op:
        for name in _COST_COLUMNS:
            batch_op.add_column(
                sa.Column(name, sa.BigInteger(), nullable=False, server_default="0")
            )
    with op.batch_alter_table("stock_moves", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_cost", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("sale_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_cost", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("report_product_totals", schema=None) as batch_op:
        for name in reversed(_COST_COLUMNS):
            batch_op.drop_column(name)
    with op.batch_alter_table("sale_lines", schema=None) as batch_op:
        batch_op.drop_column("unit_cost")
    with op.batch_alter_table("stock_moves", schema=None) as batch_op:
        batch_op.drop_column("unit_cost")
    for table in (
        "stock_request_lines",
        "stock_requests",
        "product_costs",
        "goods_receipts",
        "purchase_order_lines",
        "purchase_orders",
        "suppliers",
    ):
        op.drop_table(table)
