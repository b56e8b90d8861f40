"""The local SQLite store: catalog cache, sales, outbox, sync state."""
