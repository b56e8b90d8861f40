"""The till's local database: migrations, catalog cache, sales, refunds, shifts, outbox.

Modules: ``base`` (connection, pragmas, the write transaction), ``migrations`` (versioned
schema), ``catalog`` (lookups and search), ``sales``, ``refunds``, ``shifts``,
``held_carts``, ``sync`` (outbox, pull pages, sync state), ``ports`` (what the sync
worker may ask) and ``local`` (:class:`LocalStore`, all of them on one connection).
"""

from pos_client.store.held_carts import HeldCart
from pos_client.store.local import LocalStore
from pos_client.store.ports import LocalSyncStatus, RejectedLocal, SyncStore
from pos_client.store.sales import SaleSummary
from pos_client.store.shifts import ShiftRow
from pos_client.store.sync import TerminalIdentity

__all__ = [
    "HeldCart",
    "LocalStore",
    "LocalSyncStatus",
    "RejectedLocal",
    "SaleSummary",
    "ShiftRow",
    "SyncStore",
    "TerminalIdentity",
]
