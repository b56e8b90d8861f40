"""Receipts: plain text at 32/42/48 columns, ESC/POS bytes, and printer transports."""
