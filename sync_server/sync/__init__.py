"""Sync protocol v1: exactly-once push of till events, paged pull of changes."""
