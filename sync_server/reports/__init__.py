"""reports feature (later issues)."""
