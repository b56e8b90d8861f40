"""Kasir cashier app: offline-first till (domain, store, sync, scanner, printing, ui)."""
