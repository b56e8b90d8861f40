"""Exactly-once ingest: check a batch of outbox events and write it in one transaction.

A batch goes through four steps, with one query per kind of thing it refers to rather
than one per event, one module each:

1. :mod:`.parse`, :func:`parse_events` (outside any transaction): each payload against
   its schema.
2. :mod:`.context`, :meth:`BatchContext.load`: which event ids are already applied,
   which products, receipt numbers, users, sales (locked, for refunds and voids) and
   shifts exist.
3. :mod:`.plans`, the checkers: totals recomputed with :mod:`shared.pricing`, payments,
   receipts, refunds, voids and shifts, in the order the till sent them, so a refund may
   refer to a sale earlier in the same batch. An accepted event becomes an
   :class:`EventPlan` (rows to insert, rows to update, stock moves); a refused one a
   :class:`Rejection`.
4. :mod:`.write`, :func:`ingest_batch`: writes all plans with one bulk insert per table,
   records the rejections, and last of all brings stock levels up to date.

The ``sync_events`` row of an event is inserted in the same transaction as what the
event creates; its primary key is the till's event id, so a second copy can never be
applied, whether it arrives later, in the same batch, or at the same moment through
another server process.
"""

from sync_server.sync.ingest.parse import parse_events
from sync_server.sync.ingest.write import ingest_batch

__all__ = ["ingest_batch", "parse_events"]
