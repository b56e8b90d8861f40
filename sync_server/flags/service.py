"""Flags: listing them for a manager, resolving them with a note, counting the open ones.

Flags are written by ingest (:mod:`sync_server.sync.ingest.verify`) in the transaction
that applies the event; here they are only read and resolved.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from sync_server.auth.models import Terminal, User
from sync_server.catalog.models import Voucher
from sync_server.core.database import next_change_numbers, unit_of_work, utcnow
from sync_server.core.errors import Conflict, NotFound
from sync_server.flags.models import Flag, VoucherUse
from sync_server.flags.schemas import FlagChoices, FlagOut, FlagPage, FlagQuery
from sync_server.stores.service import require_store_access, visible_store_ids
from sync_server.sync.models import Sale, SaleLine


def _flag_out(row: Flag, **names: Any) -> FlagOut:
    columns = {column.key: getattr(row, column.key) for column in Flag.__table__.columns}
    return FlagOut.model_validate({**columns, "details": json.loads(row.details), **names})


@unit_of_work
def list_flags(session: Session, *, user: User, query: FlagQuery) -> FlagPage:
    """Flags a manager may see (their store; an admin any, or the one named), newest
    first, narrowed by the filters given (``query`` caps ``limit`` at ``schemas.MAX_PAGE``)."""
    limit, offset = query.limit, query.offset
    where = []
    store = visible_store_ids(actor=user, store_id=query.store_id)
    if store is not None:
        where.append(Flag.store_id == store)
    for column, value in (
        (Flag.kind, query.kind.value if query.kind is not None else None),
        (Flag.terminal_id, query.terminal_id),
        (Flag.cashier_id, query.cashier_id),
    ):
        if value is not None:
            where.append(column == value)
    if query.day_from is not None:
        where.append(Flag.business_date >= query.day_from)
    if query.day_to is not None:
        where.append(Flag.business_date <= query.day_to)
    if query.resolved is not None:
        is_resolved = Flag.resolved_at.is_not(None)
        where.append(is_resolved if query.resolved else Flag.resolved_at.is_(None))
    total = session.scalar(select(func.count()).select_from(Flag).where(*where)) or 0
    rows = session.scalars(
        select(Flag).where(*where).order_by(Flag.id.desc()).limit(limit).offset(offset)
    ).all()
    return FlagPage(items=_named(session, rows), total=int(total), limit=limit, offset=offset)


def _named(session: Session, rows: Sequence[Flag]) -> list[FlagOut]:
    """Flags with the names a person reads: till, cashier, receipt, resolver, products.

    A handful of lookups per page (never one per flag), keyed by the ids on the page.
    """
    user_ids = {r.cashier_id for r in rows} | {r.resolved_by for r in rows}
    users = dict(
        session.execute(select(User.id, User.full_name).where(User.id.in_(user_ids - {None}))).all()
    )
    terminals = dict(
        session.execute(
            select(Terminal.id, Terminal.code).where(Terminal.id.in_({r.terminal_id for r in rows}))
        ).all()
    )
    sale_ids = {r.sale_id for r in rows if r.sale_id is not None}
    receipts = dict(
        session.execute(select(Sale.id, Sale.receipt_number).where(Sale.id.in_(sale_ids))).all()
    )
    lines = {
        str(line_id): name
        for line_id, name in session.execute(
            select(SaleLine.id, SaleLine.name).where(SaleLine.sale_id.in_(sale_ids))
        )
    }
    out = []
    for row in rows:
        flag = _flag_out(
            row,
            terminal_code=terminals.get(row.terminal_id),
            cashier_name=users.get(row.cashier_id) if row.cashier_id else None,
            receipt_number=receipts.get(row.sale_id) if row.sale_id else None,
            resolved_by_name=users.get(row.resolved_by) if row.resolved_by else None,
        )
        flag.line_names = {
            str(line["line_id"]): lines[str(line["line_id"])]
            for line in flag.details.get("lines", ())
            if str(line.get("line_id")) in lines
        }
        out.append(flag)
    return out


@unit_of_work
def flag_choices(session: Session, *, user: User, store_id: int | None = None) -> FlagChoices:
    """The tills and cashiers named by the flags of a store ``user`` may see (for filters)."""
    store = visible_store_ids(actor=user, store_id=store_id)
    where = [] if store is None else [Flag.store_id == store]
    terminals = session.execute(
        select(Terminal.id, Terminal.code)
        .where(Terminal.id.in_(select(Flag.terminal_id).where(*where)))
        .order_by(Terminal.code)
    ).all()
    cashiers = session.execute(
        select(User.id, User.full_name)
        .where(User.id.in_(select(Flag.cashier_id).where(*where)))
        .order_by(User.full_name)
    ).all()
    return FlagChoices(terminals=dict(terminals), cashiers=dict(cashiers))


@unit_of_work
def resolve_flag(session: Session, *, user: User, flag_id: int, note: str) -> FlagOut:
    """Mark a flag dealt with: who, when and why. A flag is resolved once (409 after)."""
    row = session.get(Flag, flag_id, with_for_update=True)
    if row is None:
        raise NotFound("flag_not_found", details={"id": flag_id}, flag_id=flag_id)
    require_store_access(actor=user, store_id=row.store_id)
    if row.resolved_at is not None:
        raise Conflict(
            "flag_already_resolved",
            code="flag_already_resolved",
            details={"id": flag_id, "resolved_at": row.resolved_at.isoformat()},
            flag_id=flag_id,
        )
    row.resolved_at = utcnow()
    row.resolved_by = user.id
    row.resolution = note
    session.flush()
    return _named(session, [row])[0]


@unit_of_work
def flags_open_count(session: Session, *, store_id: int) -> int:
    """How many flags of ``store_id`` no one has resolved yet (for the dashboard)."""
    count = session.scalar(
        select(func.count())
        .select_from(Flag)
        .where(Flag.store_id == store_id, Flag.resolved_at.is_(None))
    )
    return int(count or 0)


def refresh_voucher_use_counts(session: Session) -> int:
    """Bring each voucher's ``used_count`` up to its number of use rows; how many moved.

    Ingest never touches the voucher row (every till would queue on it); this runs in a
    short transaction of its own after a push that used vouchers and before each pull,
    and gives a changed voucher a change number so tills pull the new count.
    """
    uses = (
        select(func.count())
        .where(VoucherUse.voucher_id == Voucher.id)
        .correlate(Voucher)
        .scalar_subquery()
    )
    stale = [
        (vid, int(n))
        for vid, used, n in session.execute(select(Voucher.id, Voucher.used_count, uses))
        if used != n
    ]
    if not stale:
        return 0
    ids = [vid for vid, _ in stale]
    # Locked in id order, then the counter, as every catalog change does.
    session.execute(
        select(Voucher.id).where(Voucher.id.in_(ids)).order_by(Voucher.id).with_for_update()
    )
    first = next_change_numbers(session, len(stale))
    session.execute(
        update(Voucher),
        [
            {"id": vid, "used_count": n, "change_no": first + i}
            for i, (vid, n) in enumerate(sorted(stale))
        ],
    )
    return len(stale)
