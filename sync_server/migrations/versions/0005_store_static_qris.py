"""stores keep their static QRIS payload for tills that are offline

A manager pastes the store's static QRIS (the payload of its printed QR sticker) in the
back office; tills pull it with the store and show it when they are offline. Every
payment taken that way is recorded as ``qris_static`` and flagged for reconciliation.

Create Date: 2026-12-09 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"


def upgrade() -> None:
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("static_qris", sa.String(length=512), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.drop_column("static_qris")
