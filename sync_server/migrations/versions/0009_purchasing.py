"""Suppliers, purchase orders, receiving, stock requests and moving-average cost

Create Date: 2026-12-08 00:20:00.000000
"""

revision: str = "0009"
down_revision: str | None = "0008"


def upgrade() -> None:
    pass  # filled in with this revision's tables


def downgrade() -> None:
    pass
