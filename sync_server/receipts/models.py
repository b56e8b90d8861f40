"""Tables of e-receipt keys (signed links to a sale's digital receipt): none.

A terminal's receipt key is derived from the server's secret and the terminal id
(:func:`sync_server.receipts.service.terminal_receipt_key`), so nothing is stored; the
page reads the sale's own tables (``sync_server.sync.models``).
"""

from __future__ import annotations
