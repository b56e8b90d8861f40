"""Sync services: push (exactly-once ingest of a batch) and pull (changes since a cursor).

The transaction handling lives here; the checks live in :mod:`sync_server.sync.ingest`
and the change feed in :mod:`sync_server.sync.pull`.
"""

from __future__ import annotations

import logging
from collections import Counter

from sqlalchemy.exc import DBAPIError, IntegrityError

from shared.models import (
    EventResult,
    EventStatus,
    EventType,
    PullResponse,
    PushRequest,
    PushResponse,
    SaleIn,
)
from sync_server.auth.known import forget_terminal
from sync_server.auth.models import Terminal
from sync_server.core.database import Database, run_in_transaction, utcnow
from sync_server.core.errors import Unauthorized
from sync_server.core.metrics import (
    EVENTS_INGESTED,
    EVENTS_WAITING,
    FLAGS,
    LAST_PUSH,
    PUSH_BATCH_SIZE,
    SYNC_LAG,
)
from sync_server.flags.service import refresh_voucher_use_counts
from sync_server.stock.service import fold_stock_deltas, stamp_stock_changes
from sync_server.sync.ingest import ingest_batch, parse_events
from sync_server.sync.ingest.parse import time_problem
from sync_server.sync.pull import pull_page

log = logging.getLogger("kasir.sync")

FAST_ATTEMPTS = 2
"""Bulk attempts before falling back to one savepoint per event."""


def push_events(db: Database, *, terminal: Terminal, request: PushRequest) -> PushResponse:
    """Apply a pushed batch exactly once and say what became of each event.

    Each event is ``applied``, ``duplicate`` (this terminal already pushed the same
    content under that id), ``conflict`` (the id was used for something else, or by
    another terminal) or ``rejected`` (with a code and reason).

    The whole batch is one transaction. Another server committing the same event ids
    between our read and our insert makes the insert fail on the primary key: the
    batch is rolled back and run again, and then sees those events as duplicates.
    Deadlocks are retried by :func:`run_in_transaction`. If a clash remains (an id the
    till reused for something else), the last attempt writes event by event so only
    the clashing event is refused.
    """
    parsed = parse_events(request.events)
    flag_kinds: Counter[str] = Counter()
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
                    stuck=request.stuck,
                    careful=careful,
                    flag_kinds=flag_kinds,
                ),
            )
        except IntegrityError as exc:
            if careful:
                raise
            log.info("push from terminal %s clashed (%s); retrying", terminal.code, exc.orig)
            continue
        except Unauthorized:  # revoked or re-enrolled meanwhile (checked in the transaction)
            forget_terminal(db, terminal.token_hash)
            raise
        _observe(terminal, request, results)
        for kind, n in flag_kinds.items():  # what the committed batch flagged
            FLAGS.labels(kind=kind).inc(n)
        if any(
            isinstance(item.payload, SaleIn) and item.payload.voucher_code
            for item, result in zip(parsed, results, strict=True)
            if result.status is EventStatus.APPLIED
        ):
            _refresh_voucher_counts(db)
        return PushResponse(results=results, server_time=utcnow())
    raise AssertionError("unreachable")


def _refresh_voucher_counts(db: Database) -> None:
    """Voucher use counts after a push that used vouchers: outside the ingest
    transaction (already committed), so a failure here only delays the count (the next
    pull retries it) and never turns an applied push into an error."""
    try:
        run_in_transaction(db, refresh_voucher_use_counts)
    except DBAPIError as exc:
        log.warning("voucher use counts not refreshed now: %s", exc.orig)


_KNOWN_TYPES = {t.value for t in EventType}


def _observe(terminal: Terminal, request: PushRequest, results: list[EventResult]) -> None:
    """Metrics and a log line for a push: outcomes by type, lag, events still waiting."""
    PUSH_BATCH_SIZE.observe(len(request.events))
    LAST_PUSH.labels(terminal=terminal.code).set(utcnow().timestamp())
    counts: Counter[tuple[str, str]] = Counter()
    for event, result in zip(request.events, results, strict=True):
        kind = event.type if event.type in _KNOWN_TYPES else "unknown"
        counts[(kind, result.status.value)] += 1
    for (kind, status), n in counts.items():
        EVENTS_INGESTED.labels(type=kind, status=status).inc(n)
    oldest = min(
        (e.created_at for e in request.events if time_problem("created_at", e.created_at) is None),
        default=None,
    )
    if oldest is not None:
        SYNC_LAG.labels(terminal=terminal.code).set(max(0.0, (utcnow() - oldest).total_seconds()))
    if request.waiting is not None:
        EVENTS_WAITING.labels(terminal=terminal.code).set(request.waiting)
    rejected = sum(n for (_, status), n in counts.items() if EventStatus(status).kept)
    if rejected:
        log.info("terminal %s: %d of %d events rejected", terminal.code, rejected, len(results))


def pull_changes(db: Database, *, terminal: Terminal, cursor: int, limit: int) -> PullResponse:
    """One page of catalog, user, store and stock changes above ``cursor``.

    Stock sold since the last pull reaches the till through three short transactions of
    their own: the tills' deltas of this store move into the levels, changed levels get
    their change numbers (see ingest), vouchers' use counts catch up. They run only for a
    page that reaches the end of what is numbered: a till with full pages still to fetch
    gains nothing from them (what they number lands above every page it has yet to
    fetch, and it will ask for the end), while 50 tills downloading at once would run
    them for every page (ingest during the downloads: 0.46x of ingest alone with them
    per page, 0.65x without, ``benches/pull_during_ingest``). The last page is read
    again when they numbered anything, so a pull never stops short of a change.
    """

    def read() -> PullResponse:
        return run_in_transaction(
            db, lambda session: pull_page(session, terminal=terminal, cursor=cursor, limit=limit)
        )

    page = read()
    if page.has_more:
        return page
    moved = run_in_transaction(
        db, lambda session: fold_stock_deltas(session, store_id=terminal.store_id)
    )
    moved += run_in_transaction(db, stamp_stock_changes)
    moved += run_in_transaction(db, refresh_voucher_use_counts)
    return read() if moved else page
