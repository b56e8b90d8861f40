"""Step 4 of ingest: write every plan of a batch in one transaction, stock deltas last.

:func:`ingest_batch` writes all plans with one bulk insert per table (or, after
repeated clashes, event by event in savepoints), records the rejections, and last of
all brings the terminal's stock deltas and report rollups up to date.

Besides the rows keyed by the events' own ids, a push writes only rows keyed by its
own terminal (its ``terminals`` row, its rejected events, its ``stock_deltas``, its
rollup rows), so tills of one store never write the same row at the same moment: no
queueing on one MariaDB node, no certification conflicts across Galera nodes. (A void
of another till's sale takes it back out of that till's rollup rows: voids are rare.)
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Insert, Table, Update, bindparam, literal_column, null, update
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.models import EventResult, EventStatus, OutboxEvent
from sync_server.auth.models import Terminal
from sync_server.core.database import bulk_insert
from sync_server.customers.ingest import (
    CUSTOMER_CHANGES,
    CUSTOMER_SALES,
    CUSTOMERS,
    POINTS_MOVES,
    plan_points,
)
from sync_server.reports.rollups import record_batch
from sync_server.stock.service import (
    MOVES,
    NewStockMove,
    add_stock_deltas,
    net_quantities,
    stock_move_rows,
)
from sync_server.sync.ingest.context import (
    CASH_MOVES,
    DRAWER_OPENS,
    FLAGS,
    QRIS_USES,
    REFUND_LINES,
    REFUNDS,
    REJECTED,
    SALE_LINES,
    SALE_PAYMENTS,
    SALES,
    SHIFTS,
    SYNC_EVENTS,
    TERMINALS,
    VOUCHER_USES,
    BatchContext,
    applied_events,
)
from sync_server.sync.ingest.parse import ParsedEvent, Rejection, conflict, same_event
from sync_server.sync.ingest.plans import VOID_SALE, EventPlan, plan_event

INSERT_ORDER: tuple[Table, ...] = (
    CUSTOMERS,
    SHIFTS,
    SALES,
    SALE_LINES,
    SALE_PAYMENTS,
    REFUNDS,
    REFUND_LINES,
    CASH_MOVES,
    DRAWER_OPENS,
    MOVES,
    VOUCHER_USES,
    QRIS_USES,
    FLAGS,
    CUSTOMER_SALES,
    POINTS_MOVES,
    CUSTOMER_CHANGES,
)
"""Tables an event writes, parents before children (foreign keys)."""


class _Vanished(Exception):
    """An update found no row: what it refers to failed earlier in careful mode."""


MAX_STORED_BYTES = 60_000
"""Most bytes of a refused event kept for the manager (a TEXT column holds 65,535)."""

MAX_STORED_DEPTH = 32
"""Nesting kept of a refused event's payload; deeper levels become a marker."""

MAX_REASON_CHARS = 2_000


def _clip(value: Any, depth: int) -> Any:
    if isinstance(value, dict | list):
        if depth <= 0:
            return "…(nested deeper than this is not kept)"
        if isinstance(value, dict):
            return {str(k): _clip(v, depth - 1) for k, v in value.items()}
        return [_clip(v, depth - 1) for v in value]
    return value


def stored_form(event: OutboxEvent) -> str:
    """A refused event as JSON for the manager: whole when it fits, otherwise clipped to
    :data:`MAX_STORED_DEPTH` levels and cut to :data:`MAX_STORED_BYTES` (still JSON)."""
    body = {
        "id": str(event.id),
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "payload": _clip(event.payload, MAX_STORED_DEPTH),
    }
    text = json.dumps(body, ensure_ascii=False, default=str)
    if len(text.encode("utf-8")) <= MAX_STORED_BYTES:
        return text
    # Escaping at most multiplies a byte by six, so an eighth of the room always fits.
    excerpt = json.dumps(body["payload"], ensure_ascii=False, default=str)
    cut = excerpt.encode("utf-8")[: MAX_STORED_BYTES // 8].decode("utf-8", errors="ignore")
    body["payload"] = None
    body["payload_truncated"] = True
    body["payload_excerpt"] = cut
    return json.dumps(body, ensure_ascii=False, default=str)


def _event_row(ctx: BatchContext, event: OutboxEvent, digest: str | None) -> dict[str, Any]:
    return {
        "id": event.id,
        "terminal_id": ctx.terminal_id,
        "type": event.type,
        "created_at": event.created_at,
        "received_at": ctx.now,
        "digest": digest,
    }


def _write_all(session: Session, ctx: BatchContext, plans: Sequence[EventPlan]) -> None:
    """The fast way: one bulk insert per table for the whole batch."""
    # Event ids in sorted order, so two servers given overlapping batches lock alike.
    events = sorted((_event_row(ctx, p.event, p.digest) for p in plans), key=lambda r: r["id"])
    bulk_insert(session, SYNC_EVENTS, events)
    rows: dict[Table, list[dict[str, Any]]] = defaultdict(list)
    updates: dict[Update, list[dict[str, Any]]] = defaultdict(list)
    moves: list[NewStockMove] = []
    for plan in plans:
        for table, table_rows in plan.rows.items():
            rows[table].extend(table_rows)
        for stmt, params in plan.updates:
            updates[stmt].append(params)
        moves.extend(plan.moves)
    rows[MOVES] = stock_move_rows(store_id=ctx.store_id, moves=moves)
    for table in INSERT_ORDER:
        bulk_insert(session, table, rows[table])
    for stmt, params_list in updates.items():
        session.connection().execute(stmt, params_list)


def _write_one(session: Session, ctx: BatchContext, plan: EventPlan) -> None:
    session.connection().execute(SYNC_EVENTS.insert(), [_event_row(ctx, plan.event, plan.digest)])
    for table in INSERT_ORDER:
        table_rows = (
            stock_move_rows(store_id=ctx.store_id, moves=plan.moves)
            if table is MOVES
            else plan.rows.get(table)
        )
        if table_rows:
            session.connection().execute(table.insert(), table_rows)
    for stmt, params in plan.updates:
        if session.connection().execute(stmt, params).rowcount != 1:
            raise _Vanished


def _write_carefully(
    session: Session,
    ctx: BatchContext,
    parsed: Sequence[ParsedEvent],
    plans: Sequence[EventPlan],
    results: list[EventResult | None],
    rejections: dict[int, Rejection],
) -> list[EventPlan]:
    """The slow way, after the fast one hit a clash twice: each event in a savepoint.

    An event whose ids clash with stored rows is refused (``id_conflict``); when another
    server applied an event of that id meanwhile, it is a duplicate or a conflict as if
    it had been applied before the push. Returns the plans that were written.
    """
    written = []
    for plan in plans:
        try:
            with session.begin_nested():
                _write_one(session, ctx, plan)
        except (IntegrityError, _Vanished):
            stored = applied_events(session, [plan.event.id]).get(plan.event.id)
            if stored is not None:
                refusal = ctx.refusal_of_copy(stored, parsed[plan.index])
                if refusal is None:
                    results[plan.index] = EventResult(
                        id=plan.event.id, status=EventStatus.DUPLICATE
                    )
                else:
                    rejections[plan.index] = refusal
            else:
                rejections[plan.index] = Rejection(
                    "id_conflict",
                    "An id in this event is already used by another record, or it refers "
                    "to a record that could not be written.",
                )
            continue
        written.append(plan)
    return written


_REJECT_UPSERTS: dict[str, Insert] = {}


def _rejected_upsert(dialect: str) -> Insert:
    """Insert a refusal, or count it again on the sender's own record of that event id.

    Keyed by (terminal, event id): a terminal only ever touches its own records. A
    record refused again is open again, even if a manager had resolved it.
    """
    stmt = _REJECT_UPSERTS.get(dialect)
    if stmt is not None:
        return stmt
    if dialect == "sqlite":
        lite = sqlite.insert(REJECTED)
        stmt = lite.on_conflict_do_update(
            index_elements=[REJECTED.c.terminal_id, REJECTED.c.event_id],
            set_={
                "attempts": REJECTED.c.attempts + literal_column("1"),
                "last_seen_at": lite.excluded.last_seen_at,
                "type": lite.excluded.type,
                "code": lite.excluded.code,
                "reason": lite.excluded.reason,
                "payload": lite.excluded.payload,
                "resolved_at": null(),
                "resolved_by": null(),
                "resolution": null(),
            },
        )
    else:
        # No bound values after ON DUPLICATE KEY: PyMySQL's multi-row executemany
        # cannot carry them there.
        my = mysql.insert(REJECTED)
        stmt = my.on_duplicate_key_update(
            attempts=REJECTED.c.attempts + literal_column("1"),
            last_seen_at=my.inserted.last_seen_at,
            type=my.inserted.type,
            code=my.inserted.code,
            reason=my.inserted.reason,
            payload=my.inserted.payload,
            resolved_at=null(),
            resolved_by=null(),
            resolution=null(),
        )
    _REJECT_UPSERTS[dialect] = stmt
    return stmt


def _record_rejections(
    session: Session,
    ctx: BatchContext,
    parsed: Sequence[ParsedEvent],
    rejections: dict[int, Rejection],
) -> None:
    rows = []
    for index in sorted(rejections, key=lambda i: parsed[i].event.id):
        event = parsed[index].event
        rejection = rejections[index]
        rows.append(
            {
                "event_id": event.id,
                "terminal_id": ctx.terminal_id,
                "type": event.type[:32],
                "code": rejection.code,
                "reason": rejection.reason[:MAX_REASON_CHARS],
                "payload": stored_form(event),
                "first_seen_at": ctx.now,
                "last_seen_at": ctx.now,
                "attempts": 1,
            }
        )
    if rows:
        session.connection().execute(_rejected_upsert(session.get_bind().dialect.name), rows)


def _drop_applied_meanwhile(
    session: Session,
    ctx: BatchContext,
    parsed: Sequence[ParsedEvent],
    results: list[EventResult | None],
    rejections: dict[int, Rejection],
    indexes: Sequence[int],
) -> None:
    """Turn a refusal into ``duplicate`` (or ``conflict``) when another server applied an
    event of that id meanwhile.

    Under READ COMMITTED each query sees the latest commits, so a sale committed by a
    concurrent push of the same batch can be missed by our duplicate check and then
    seen by the receipt check a moment later. Whatever we saw was committed before this
    query runs, so asking again now tells the two apart.
    """
    if not indexes:
        return
    ids = {parsed[i].event.id: i for i in indexes}
    for event_id, stored in applied_events(session, ids).items():
        index = ids[event_id]
        refusal = ctx.refusal_of_copy(stored, parsed[index])
        if refusal is None:
            del rejections[index]
            results[index] = EventResult(id=event_id, status=EventStatus.DUPLICATE)
        else:
            rejections[index] = refusal


def _plan_all(
    ctx: BatchContext,
    parsed: Sequence[ParsedEvent],
    results: list[EventResult | None],
    rejections: dict[int, Rejection],
    refused_by_checks: list[int],
) -> list[EventPlan]:
    """Decide each event: duplicate, conflict, refused, or a plan to write."""
    plans: list[EventPlan] = []
    for index, item in enumerate(parsed):
        event = item.event
        if item.bad_id:
            assert item.rejection is not None
            rejections[index] = item.rejection
            continue
        if item.repeat_of is not None:
            # Identical copies take the first copy's answer (at the end); others conflict.
            if not same_event(parsed[item.repeat_of], item):
                rejections[index] = conflict(event.id)
            continue
        stored = ctx.applied.get(event.id)
        if stored is not None:
            refusal = ctx.refusal_of_copy(stored, item)
            if refusal is None:
                results[index] = EventResult(id=event.id, status=EventStatus.DUPLICATE)
            else:
                rejections[index] = refusal
        elif item.rejection is not None or item.payload is None:
            rejections[index] = item.rejection or Rejection("invalid_payload", "No payload.")
        else:
            plan = EventPlan(index=index, event=event, digest=item.digest)
            try:
                plan_event(ctx, plan, item.payload)
            except Rejection as refused:
                rejections[index] = refused
                refused_by_checks.append(index)
            else:
                plans.append(plan)
    return plans


def _cost_lines(ctx: BatchContext, plans: Sequence[EventPlan]) -> None:
    """Record on each sale line the store's average cost of its product now (None:
    unknown), for the margin reports (``reports.rollups``)."""
    for plan in plans:
        for row in plan.rows.get(SALE_LINES, ()):
            row["unit_cost"] = ctx.costs.get(row["product_id"])


_TERMINAL_SEEN: dict[tuple[str, ...], Update] = {}


def _terminal_seen(columns: tuple[str, ...]) -> Update:
    """``UPDATE terminals SET <columns>`` of one terminal, built once per set of columns
    (bound as ``b_<column>`` and ``b_terminal_id``)."""
    stmt = _TERMINAL_SEEN.get(columns)
    if stmt is None:
        stmt = _TERMINAL_SEEN[columns] = (
            update(TERMINALS)
            .where(TERMINALS.c.id == bindparam("b_terminal_id"))
            .values({name: bindparam(f"b_{name}") for name in columns})
        )
    return stmt


def ingest_batch(
    session: Session,
    *,
    terminal: Terminal,
    parsed: Sequence[ParsedEvent],
    waiting: int | None,
    stuck: int | None = None,
    careful: bool = False,
    flag_kinds: Counter[str] | None = None,
) -> list[EventResult]:
    """Apply a parsed batch in ``session``'s transaction; one result per event, in order.

    ``flag_kinds``, when given, is filled with the kinds of the flags written for the
    applied events (for the flags metric, counted by the caller once the batch commits).

    Raises ``IntegrityError`` when (outside ``careful`` mode) a row clashes with one
    committed meanwhile; the caller rolls back and runs the batch again.
    """
    ctx = BatchContext.load(session, terminal=terminal, parsed=parsed)
    results: list[EventResult | None] = [None] * len(parsed)
    rejections: dict[int, Rejection] = {}
    refused_by_checks: list[int] = []
    plans = _plan_all(ctx, parsed, results, rejections, refused_by_checks)
    _cost_lines(ctx, plans)
    # Customers' points: rows of the same events, written (or dropped) with them.
    plan_points(session, ctx, [(plan, parsed[plan.index].payload) for plan in plans])

    if careful:
        written = _write_carefully(session, ctx, parsed, plans, results, rejections)
    else:
        if plans:
            _write_all(session, ctx, plans)
        written = plans
    for plan in written:
        results[plan.index] = EventResult(id=plan.event.id, status=EventStatus.APPLIED)
    if flag_kinds is not None:
        flag_kinds.clear()  # a retried attempt counts afresh
        flag_kinds.update(row["kind"] for plan in written for row in plan.rows.get(FLAGS, ()))
    _drop_applied_meanwhile(session, ctx, parsed, results, rejections, refused_by_checks)
    for index, rejection in rejections.items():
        results[index] = EventResult(
            id=parsed[index].event.id,
            status=rejection.status,
            code=rejection.code,
            reason=rejection.reason[:MAX_REASON_CHARS],
        )
    _record_rejections(session, ctx, parsed, rejections)
    refused_now = {parsed[i].event.id for i in rejections}
    resolved = [
        p.event.id
        for p in written
        if p.event.id in ctx.open_rejections and p.event.id not in refused_now
    ]
    if resolved:
        session.connection().execute(
            update(REJECTED)
            .where(
                REJECTED.c.terminal_id == ctx.terminal_id,
                REJECTED.c.event_id.in_(resolved),
                REJECTED.c.resolved_at.is_(None),
            )
            .values(resolved_at=ctx.now, resolution="applied when pushed again")
        )
    seen: dict[str, Any] = {"last_seen_at": ctx.now}
    if waiting is not None:
        seen["events_waiting"] = waiting
    if stuck is not None:
        seen["events_stuck"] = stuck
    session.connection().execute(
        _terminal_seen(tuple(seen)),
        {"b_terminal_id": ctx.terminal_id, **{f"b_{k}": v for k, v in seen.items()}},
    )
    # Last, the terminal's own stock deltas in product order (folded into stock_levels
    # and numbered before a pull, not here, so tills never share a row nor the change
    # counter), then its report rollup rows in key order. Both move in this same
    # transaction, so they always equal the raw rows.
    add_stock_deltas(
        session,
        store_id=ctx.store_id,
        terminal_id=ctx.terminal_id,
        deltas=net_quantities(m for plan in written for m in plan.moves),
    )
    record_batch(
        session,
        line_costs=ctx.line_costs,
        rows=[plan.rows for plan in written],
        voided_sale_ids=[p["b_id"] for plan in written for s, p in plan.updates if s is VOID_SALE],
    )
    for index, item in enumerate(parsed):
        if item.repeat_of is not None and results[index] is None:
            first = results[item.repeat_of]
            assert first is not None
            results[index] = (
                EventResult(id=first.id, status=EventStatus.DUPLICATE)
                if first.status in (EventStatus.APPLIED, EventStatus.DUPLICATE)
                else first
            )
    return [r for r in results if r is not None]
