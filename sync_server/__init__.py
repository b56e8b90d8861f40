"""Kasir sync server: catalog, stock ledger, exactly-once sales ingest, QRIS, reports."""
