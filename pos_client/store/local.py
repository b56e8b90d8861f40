"""``LocalStore``: the till's database, the one truth on the till."""

from __future__ import annotations

from pos_client.config import ClientSettings
from pos_client.store.catalog import CatalogMixin
from pos_client.store.ledger import LedgerMixin
from pos_client.store.sync import SyncMixin


class LocalStore(SyncMixin, LedgerMixin, CatalogMixin):
    """The till's SQLite database (via sqlite-utils): catalog cache, ledger and outbox.

    One instance per thread; never share it across threads (the connection refuses).
    Implements :class:`pos_client.store.ports.SyncStore` for the sync worker.
    """

    @classmethod
    def open(cls, settings: ClientSettings) -> LocalStore:
        """Open the database in ``settings.data_dir`` (created and migrated if needed)."""
        return cls(settings.database_path)

    @classmethod
    def memory(cls) -> LocalStore:
        """A fresh in-memory database (tests)."""
        return cls(None)
