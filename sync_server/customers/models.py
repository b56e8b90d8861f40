"""Tables of customers and the loyalty points ledger."""

from __future__ import annotations
