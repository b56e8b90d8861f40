"""Sync services: push (exactly-once ingest of a batch) and pull (changes since a cursor).

The transaction handling lives here; the checks live in :mod:`sync_server.sync.ingest`
and the change feed in :mod:`sync_server.sync.pull`.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from shared.models import EventStatus, PullResponse, PushRequest, PushResponse
from sync_server.auth.models import Terminal
from sync_server.core.database import Database, run_in_transaction, utcnow
from sync_server.sync.ingest import ingest_batch, parse_events
from sync_server.sync.pull import pull_page

log = logging.getLogger("kasir.sync")

FAST_ATTEMPTS = 2
"""Bulk attempts before falling back to one savepoint per event."""


def push_events(db: Database, *, terminal: Terminal, request: PushRequest) -> PushResponse:
    """Apply a pushed batch exactly once and say what became of each event.

    The whole batch is one transaction. Another server committing the same event ids
    between our read and our insert makes the insert fail on the primary key: the
    batch is rolled back and run again, and then sees those events as duplicates.
    Deadlocks are retried by :func:`run_in_transaction`. If a clash remains (an id the
    till reused for something else), the last attempt writes event by event so only
    the clashing event is refused.
    """
    parsed = parse_events(request.events)
    for attempt in range(FAST_ATTEMPTS + 1):
        careful = attempt == FAST_ATTEMPTS
        try:
            results = run_in_transaction(
                db,
                lambda session, careful=careful: ingest_batch(  # type: ignore[misc]
                    session,
                    terminal=terminal,
                    parsed=parsed,
                    waiting=request.waiting,
                    careful=careful,
                ),
            )
        except IntegrityError as exc:
            if careful:
                raise
            log.info("push from terminal %s clashed (%s); retrying", terminal.code, exc.orig)
            continue
        rejected = sum(1 for r in results if r.status is EventStatus.REJECTED)
        if rejected:
            log.info("terminal %s: %d of %d events rejected", terminal.code, rejected, len(results))
        return PushResponse(results=results, server_time=utcnow())
    raise AssertionError("unreachable")


def pull_changes(db: Database, *, terminal: Terminal, cursor: int, limit: int) -> PullResponse:
    """One page of catalog, user, store and stock changes above ``cursor``."""
    return run_in_transaction(
        db, lambda session: pull_page(session, terminal=terminal, cursor=cursor, limit=limit)
    )
