"""terminals keep how many events their till has set aside as stuck

A till keeps an event the server keeps failing on aside ("stuck") and pushes the rest;
it reports how many it holds so, next to ``events_waiting``, the terminal health report
shows ``events_stuck``.

Create Date: 2026-12-07 16:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"


def upgrade() -> None:
    with op.batch_alter_table("terminals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("events_stuck", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("terminals", schema=None) as batch_op:
        batch_op.drop_column("events_stuck")
