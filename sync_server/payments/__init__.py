"""payments feature (later issues)."""
