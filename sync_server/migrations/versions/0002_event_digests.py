"""applied events keep a digest; a rejected-event record belongs to its sender

``sync_events.digest`` is the sha256 (hex) of an applied event's canonical form, so the
same id pushed again with other content is answered ``conflict`` instead of
``duplicate``. Rows applied before this revision keep NULL (unknown: any copy of such an
event counts as a duplicate).

``rejected_events`` was unique on ``event_id`` alone, so one terminal's push could
overwrite another terminal's record; it is now unique on ``(terminal_id, event_id)``.
Downgrading fails if two terminals have a record for the same event id.

Create Date: 2026-12-14 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"


def upgrade() -> None:
    with op.batch_alter_table("sync_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest", sa.String(length=64), nullable=True))
    with op.batch_alter_table("rejected_events", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_rejected_events_terminal_id_event_id"), ["terminal_id", "event_id"]
        )
        batch_op.drop_constraint(batch_op.f("uq_rejected_events_event_id"), type_="unique")


def downgrade() -> None:
    with op.batch_alter_table("rejected_events", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_rejected_events_event_id"), ["event_id"])
        batch_op.drop_constraint(
            batch_op.f("uq_rejected_events_terminal_id_event_id"), type_="unique"
        )
    with op.batch_alter_table("sync_events", schema=None) as batch_op:
        batch_op.drop_column("digest")
