"""E-receipt keys (signed links to a sale's digital receipt)

Create Date: 2026-12-08 00:20:00.000000
"""

revision: str = "0012"
down_revision: str | None = "0011"


def upgrade() -> None:
    pass  # filled in with this revision's tables


def downgrade() -> None:
    pass
