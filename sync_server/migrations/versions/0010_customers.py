"""Customers and the loyalty points ledger

Create Date: 2026-12-08 00:20:00.000000
"""

revision: str = "0010"
down_revision: str | None = "0009"


def upgrade() -> None:
    pass  # filled in with this revision's tables


def downgrade() -> None:
    pass
