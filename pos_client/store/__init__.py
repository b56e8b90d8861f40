"""The till's local database: migrations, catalog cache, ledger, outbox and sync state."""

from pos_client.store.ledger import HeldCart, SaleSummary, ShiftRow
from pos_client.store.local import LocalStore
from pos_client.store.ports import LocalSyncStatus, RejectedLocal, SyncStore
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
