"""``LocalStore``: the till's database, the one truth on the till."""

from __future__ import annotations

from pos_client.config import ClientSettings
from pos_client.store.catalog import CatalogMixin
from pos_client.store.held_carts import HeldCartsMixin
from pos_client.store.refunds import RefundsMixin
from pos_client.store.reports import ReportsMixin
from pos_client.store.sales import SalesMixin
from pos_client.store.shifts import ShiftsMixin
from pos_client.store.sync import SyncMixin


class LocalStore(
    SyncMixin, SalesMixin, RefundsMixin, ShiftsMixin, HeldCartsMixin, CatalogMixin, ReportsMixin
):
    """The till's SQLite database: catalog cache, sales, refunds, shifts, held carts, outbox.

    Each mixin owns the tables of one part of the till's day and shares one connection
    (:class:`~pos_client.store.base.StoreBase`). One instance per thread; never share it
    across threads (the connection refuses). Implements
    :class:`pos_client.store.ports.SyncStore` for the sync worker.
    """

    @classmethod
    def open(cls, settings: ClientSettings) -> LocalStore:
        """Open the database in ``settings.data_dir`` (created and migrated if needed)."""
        return cls(settings.database_path)

    @classmethod
    def memory(cls) -> LocalStore:
        """A fresh in-memory database (tests)."""
        return cls(None)
