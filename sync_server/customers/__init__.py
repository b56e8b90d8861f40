"""Customers and the loyalty points ledger."""
