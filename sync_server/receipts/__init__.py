"""E-receipt keys (signed links to a sale's digital receipt)."""
