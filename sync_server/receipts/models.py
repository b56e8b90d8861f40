"""Tables of e-receipt keys (signed links to a sale's digital receipt)."""

from __future__ import annotations
