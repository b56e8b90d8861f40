"""web feature (later issues)."""
