"""Tables of suppliers, purchase orders, receiving, stock requests and moving-average cost."""

from __future__ import annotations
