"""E-receipt keys (signed links to a sale's digital receipt): no table

E-receipts need no table: a terminal's receipt key is derived from the server's secret
and the terminal id (``sync_server.receipts.service.terminal_receipt_key``) and a link is
verified by its signature, then the sale is read by its primary key. This revision is
kept, empty, so the numbering of the issue's revisions stays fixed.

Create Date: 2026-12-08 00:20:00.000000
"""

revision: str = "0012"
down_revision: str | None = "0011"


def upgrade() -> None:
    pass  # nothing to create: see the docstring


def downgrade() -> None:
    pass
