"""drawer_opens: the cash drawer opened with no sale

One row per ``no_sale`` event a till pushes: the drawer opened outside a sale with a
supervisor's PIN (cashier, approver, shift, time, reason). The reports count them per
cashier. Refunds given back outside the till arrive as ``method = 'external'`` in the
existing ``refunds.method`` column (no change needed there).

Create Date: 2026-12-22 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "drawer_opens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("store_id", _ID, nullable=False),
        sa.Column("terminal_id", _ID, nullable=False),
        sa.Column("shift_id", sa.Uuid(), nullable=True),
        sa.Column("cashier_id", _ID, nullable=False),
        sa.Column("approved_by", _ID, nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_drawer_opens_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["terminal_id"], ["terminals.id"], name=op.f("fk_drawer_opens_terminal_id_terminals")
        ),
        sa.ForeignKeyConstraint(
            ["cashier_id"], ["users.id"], name=op.f("fk_drawer_opens_cashier_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["users.id"], name=op.f("fk_drawer_opens_approved_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drawer_opens")),
        sa.UniqueConstraint("event_id", name=op.f("uq_drawer_opens_event_id")),
    )
    with op.batch_alter_table("drawer_opens", schema=None) as batch_op:
        batch_op.create_index(
            "ix_drawer_opens_store_business_date", ["store_id", "business_date"], unique=False
        )


def downgrade() -> None:
    # The table's indexes go with it (MariaDB refuses to drop one a foreign key uses).
    op.drop_table("drawer_opens")
