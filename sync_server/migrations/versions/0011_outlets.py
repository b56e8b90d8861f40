"""Per-outlet prices and stock transfers between outlets

Create Date: 2026-12-08 00:20:00.000000
"""

revision: str = "0011"
down_revision: str | None = "0010"


def upgrade() -> None:
    pass  # filled in with this revision's tables


def downgrade() -> None:
    pass
