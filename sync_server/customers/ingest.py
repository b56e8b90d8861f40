"""Points in the ingest transaction: what a batch's sales, refunds and voids add to the
customers' ledgers, planned as rows of the events that cause them.

Called by :func:`sync_server.sync.ingest.write.ingest_batch` once every event is
planned and before anything is written: the rows go into each event's plan, so they are
written (or dropped) with the event, exactly once like the event itself, and every move
is also unique per (event id, kind).

* A sale with a ``customer`` block is attached to the customer of that id, else of that
  phone number, else a customer is created with the till's id (two tills that created
  the same phone offline end as one customer: the phone is who someone is).
* It earns points on its total by the chain's rule as the server has it now, and
  redeems what the till claimed. The sale is never refused for points: a redemption
  over the balance is flagged ``points_overdrawn`` (the balance goes negative, in
  sight), a discount that is not points × value is flagged ``points_mismatch``.
* A refund takes back earned points in proportion to the money given back (cumulative,
  so refunds of every unit take back exactly what was earned); a void takes back what
  is left of them and gives the redeemed points back.

A batch with no sale to a customer and no refund or void of one issues no statement
here: whether a stored sale had a customer comes with the batch context's read of the
sales it reverses (``sync.ingest.context``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, case, func, or_, select, update
from sqlalchemy.orm import Session

from shared.models import RefundIn, SaleIn, VoidIn
from shared.models.customers import LoyaltySettings, PointsMoveKind
from sync_server.customers.models import (
    Customer,
    CustomerChange,
    CustomerSale,
    LoyaltyConfig,
    PointsMove,
)
from sync_server.flags.models import Flag, FlagKind

CUSTOMERS = cast(Table, Customer.__table__)
CUSTOMER_SALES = cast(Table, CustomerSale.__table__)
POINTS_MOVES = cast(Table, PointsMove.__table__)
CUSTOMER_CHANGES = cast(Table, CustomerChange.__table__)
_FLAGS = cast(Table, Flag.__table__)


class _Context(Protocol):
    store_id: int
    terminal_id: int
    now: datetime
    customer_sale_ids: set[uuid.UUID]
    """Stored sales the batch reverses that were sold to a customer."""

    def business_date(self, moment: datetime) -> date: ...


class _Event(Protocol):
    id: uuid.UUID


class _Plan(Protocol):
    index: int

    @property
    def event(self) -> _Event: ...

    @property
    def rows(self) -> dict[Table, list[dict[str, Any]]]: ...


@dataclass(slots=True)
class _SaleBook:
    """A customer's sale as refunds and voids see it."""

    customer_id: uuid.UUID
    total: int
    earned: int
    redeemed: int
    refunded_amount: int = 0
    """Rupiah given back by refunds so far (the amounts of its refund moves)."""
    reversed_points: int = 0
    """Earned points already taken back (positive)."""
    voided: bool = False


def load_settings(session: Session) -> LoyaltySettings:
    """The chain's points rule (off, with the defaults, until a manager sets it)."""
    row = session.get(LoyaltyConfig, 1)
    if row is None:
        return LoyaltySettings()
    return LoyaltySettings(
        enabled=row.enabled,
        earn_points=row.earn_points,
        earn_per_rupiah=row.earn_per_rupiah,
        point_value=row.point_value,
    )


def _flag_row(
    ctx: _Context, *, kind: FlagKind, event_id: uuid.UUID, sale: SaleIn, details: dict[str, Any]
) -> dict[str, Any]:
    return {
        "store_id": ctx.store_id,
        "terminal_id": ctx.terminal_id,
        "kind": kind.value,
        "event_id": event_id,
        "sale_id": sale.id,
        "cashier_id": sale.cashier_id,
        "business_date": ctx.business_date(sale.created_at),
        "details": json.dumps(details, ensure_ascii=False, sort_keys=True, default=str),
        "created_at": ctx.now,
        "resolved_at": None,
        "resolved_by": None,
        "resolution": None,
    }


def _move(
    ctx: _Context,
    *,
    customer_id: uuid.UUID,
    event_id: uuid.UUID,
    kind: PointsMoveKind,
    points: int,
    amount: int,
    sale_id: uuid.UUID,
) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "event_id": event_id,
        "kind": kind.value,
        "points": points,
        "amount": amount,
        "sale_id": sale_id,
        "store_id": ctx.store_id,
        "terminal_id": ctx.terminal_id,
        "user_id": None,
        "reason": "",
        "created_at": ctx.now,
    }


def _change(ctx: _Context, customer_id: uuid.UUID) -> dict[str, Any]:
    return {"customer_id": customer_id, "changed_at": ctx.now}


def _load_books(session: Session, sale_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, _SaleBook]:
    """Stored customer sales among ``sale_ids``, with what refunds took back so far."""
    ids = sorted(set(sale_ids))
    if not ids:
        return {}
    back = POINTS_MOVES.c.kind == PointsMoveKind.REFUND.value
    voided = POINTS_MOVES.c.kind == PointsMoveKind.VOID.value
    rows = session.connection().execute(
        select(
            CUSTOMER_SALES.c.sale_id,
            CUSTOMER_SALES.c.customer_id,
            CUSTOMER_SALES.c.total,
            CUSTOMER_SALES.c.points_earned,
            CUSTOMER_SALES.c.points_redeemed,
            func.coalesce(func.sum(case((back, POINTS_MOVES.c.amount), else_=0)), 0),
            func.coalesce(func.sum(case((back, -POINTS_MOVES.c.points), else_=0)), 0),
            func.coalesce(func.sum(case((voided, 1), else_=0)), 0),
        )
        .select_from(
            CUSTOMER_SALES.outerjoin(
                POINTS_MOVES, POINTS_MOVES.c.sale_id == CUSTOMER_SALES.c.sale_id
            )
        )
        .where(CUSTOMER_SALES.c.sale_id.in_(ids))
        .group_by(
            CUSTOMER_SALES.c.sale_id,
            CUSTOMER_SALES.c.customer_id,
            CUSTOMER_SALES.c.total,
            CUSTOMER_SALES.c.points_earned,
            CUSTOMER_SALES.c.points_redeemed,
        )
    )
    return {
        sale_id: _SaleBook(
            customer_id=cid,
            total=int(total),
            earned=int(earned),
            redeemed=int(redeemed),
            refunded_amount=int(refunded),
            reversed_points=int(reversed_points),
            voided=bool(voids),
        )
        for sale_id, cid, total, earned, redeemed, refunded, reversed_points, voids in rows
    }


def _resolve_customers(
    session: Session, sales: Sequence[SaleIn]
) -> tuple[dict[uuid.UUID, uuid.UUID], dict[str, uuid.UUID]]:
    """Stored customers named by the sales, by id and by phone (one query)."""
    ids = sorted({s.customer.id for s in sales if s.customer is not None})
    phones = sorted({s.customer.phone for s in sales if s.customer is not None})
    by_id: dict[uuid.UUID, uuid.UUID] = {}
    by_phone: dict[str, uuid.UUID] = {}
    for cid, phone in session.connection().execute(
        select(CUSTOMERS.c.id, CUSTOMERS.c.phone).where(
            or_(CUSTOMERS.c.id.in_(ids), CUSTOMERS.c.phone.in_(phones))
        )
    ):
        by_id[cid] = cid
        by_phone[phone] = cid
    return by_id, by_phone


def _balances(
    session: Session, ctx: _Context, customer_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Balances of customers about to redeem, their rows touched first (see models)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    session.connection().execute(
        update(CUSTOMERS).where(CUSTOMERS.c.id.in_(ids)).values(last_redeemed_at=ctx.now)
    )
    rows = session.connection().execute(
        select(POINTS_MOVES.c.customer_id, func.sum(POINTS_MOVES.c.points))
        .where(POINTS_MOVES.c.customer_id.in_(ids))
        .group_by(POINTS_MOVES.c.customer_id)
    )
    found = {cid: int(total or 0) for cid, total in rows}
    return {cid: found.get(cid, 0) for cid in ids}


def plan_points(session: Session, ctx: _Context, planned: Sequence[tuple[_Plan, Any]]) -> None:
    """Add the customer, points and flag rows of a batch's accepted events to their
    plans; ``planned`` pairs each plan with its event's checked payload."""
    sales = [(plan, p) for plan, p in planned if isinstance(p, SaleIn) and p.customer is not None]
    # Only reversals of a customer's sale: stored ones the batch context found sold to a
    # customer, or ones sold to a customer earlier in this batch.
    batch_sales = {p.id for _, p in sales}
    reversals = [
        (plan, p)
        for plan, p in planned
        if isinstance(p, RefundIn | VoidIn)
        and (p.sale_id in ctx.customer_sale_ids or p.sale_id in batch_sales)
    ]
    if not sales and not reversals:
        return
    books: dict[uuid.UUID, _SaleBook] = {}
    if sales:
        settings = load_settings(session)
        by_id, by_phone = _resolve_customers(session, [s for _, s in sales])
        redeemers = []
        for _, sale in sales:
            assert sale.customer is not None
            cid = by_id.get(sale.customer.id) or by_phone.get(sale.customer.phone)
            if cid is not None and sale.customer.points_redeemed:
                redeemers.append(cid)
        balance = _balances(session, ctx, redeemers)
        for plan, sale in sales:
            customer = sale.customer
            assert customer is not None
            cid = by_id.get(customer.id) or by_phone.get(customer.phone)
            if cid is None:
                cid = customer.id
                by_id[cid] = by_phone[customer.phone] = cid
                plan.rows[CUSTOMERS].append(
                    {
                        "id": cid,
                        "phone": customer.phone,
                        "name": customer.name,
                        "email": customer.email,
                        "created_at": ctx.now,
                        "updated_at": ctx.now,
                        "store_id": ctx.store_id,
                        "last_redeemed_at": None,
                    }
                )
            _plan_sale(ctx, plan, sale, cid, settings, balance, books)
    wanted = [p.sale_id for _, p in reversals if p.sale_id not in books]
    books.update(_load_books(session, wanted))
    for plan, reversal in reversals:
        book = books.get(reversal.sale_id)
        if book is None or book.voided:
            continue
        if isinstance(reversal, RefundIn):
            _plan_refund(ctx, plan, reversal, book)
        else:
            _plan_void(ctx, plan, reversal, book)


def _plan_sale(
    ctx: _Context,
    plan: _Plan,
    sale: SaleIn,
    cid: uuid.UUID,
    settings: LoyaltySettings,
    balance: dict[uuid.UUID, int],
    books: dict[uuid.UUID, _SaleBook],
) -> None:
    customer = sale.customer
    assert customer is not None
    event_id = plan.event.id
    redeemed = customer.points_redeemed
    earned = settings.earned(sale.total)
    if redeemed:
        expected = redeemed * settings.point_value
        if (
            not settings.enabled
            or customer.points_discount != expected
            or customer.points_discount > sale.order_discount
        ):
            plan.rows[_FLAGS].append(
                _flag_row(
                    ctx,
                    kind=FlagKind.POINTS_MISMATCH,
                    event_id=event_id,
                    sale=sale,
                    details={
                        "customer_id": cid,
                        "points_redeemed": redeemed,
                        "claimed_discount": customer.points_discount,
                        "expected_discount": expected if settings.enabled else 0,
                        "point_value": settings.point_value,
                        "loyalty_enabled": settings.enabled,
                        "order_discount": sale.order_discount,
                    },
                )
            )
        before = balance.get(cid, 0)
        if redeemed > before:
            plan.rows[_FLAGS].append(
                _flag_row(
                    ctx,
                    kind=FlagKind.POINTS_OVERDRAWN,
                    event_id=event_id,
                    sale=sale,
                    details={
                        "customer_id": cid,
                        "phone": customer.phone,
                        "balance": before,
                        "points_redeemed": redeemed,
                        "balance_after": before - redeemed,
                    },
                )
            )
        balance[cid] = before - redeemed
        plan.rows[POINTS_MOVES].append(
            _move(
                ctx,
                customer_id=cid,
                event_id=event_id,
                kind=PointsMoveKind.REDEEM,
                points=-redeemed,
                amount=customer.points_discount,
                sale_id=sale.id,
            )
        )
    if earned:
        balance[cid] = balance.get(cid, 0) + earned
        plan.rows[POINTS_MOVES].append(
            _move(
                ctx,
                customer_id=cid,
                event_id=event_id,
                kind=PointsMoveKind.EARN,
                points=earned,
                amount=sale.total,
                sale_id=sale.id,
            )
        )
    plan.rows[CUSTOMER_SALES].append(
        {
            "sale_id": sale.id,
            "customer_id": cid,
            "store_id": ctx.store_id,
            "terminal_id": ctx.terminal_id,
            "total": sale.total,
            "points_earned": earned,
            "points_redeemed": redeemed,
            "points_discount": customer.points_discount,
            "created_at": sale.created_at,
            "business_date": ctx.business_date(sale.created_at),
        }
    )
    plan.rows[CUSTOMER_CHANGES].append(_change(ctx, cid))
    books[sale.id] = _SaleBook(customer_id=cid, total=sale.total, earned=earned, redeemed=redeemed)


def taken_back(earned: int, total: int, refunded_before: int, refunded_now: int) -> int:
    """Earned points a refund takes back: the earned share of the money given back so
    far, less what earlier refunds took (so all refunds together take back ``earned``
    exactly when everything went back)."""
    if earned <= 0 or total <= 0:
        return 0
    after = min(total, refunded_before + refunded_now)
    before = min(total, refunded_before)
    return earned * after // total - earned * before // total


def _plan_refund(ctx: _Context, plan: _Plan, refund: RefundIn, book: _SaleBook) -> None:
    if book.earned <= 0:
        return
    points = taken_back(book.earned, book.total, book.refunded_amount, refund.total)
    book.refunded_amount += refund.total
    book.reversed_points += points
    plan.rows[POINTS_MOVES].append(
        _move(
            ctx,
            customer_id=book.customer_id,
            event_id=plan.event.id,
            kind=PointsMoveKind.REFUND,
            points=-points,
            amount=refund.total,
            sale_id=refund.sale_id,
        )
    )
    plan.rows[CUSTOMER_CHANGES].append(_change(ctx, book.customer_id))


def _plan_void(ctx: _Context, plan: _Plan, void: VoidIn, book: _SaleBook) -> None:
    points = book.redeemed - (book.earned - book.reversed_points)
    book.voided = True
    if points == 0:
        return
    plan.rows[POINTS_MOVES].append(
        _move(
            ctx,
            customer_id=book.customer_id,
            event_id=plan.event.id,
            kind=PointsMoveKind.VOID,
            points=points,
            amount=0,
            sale_id=void.sale_id,
        )
    )
    plan.rows[CUSTOMER_CHANGES].append(_change(ctx, book.customer_id))


__all__ = [
    "CUSTOMERS",
    "CUSTOMER_CHANGES",
    "CUSTOMER_SALES",
    "POINTS_MOVES",
    "load_settings",
    "plan_points",
    "taken_back",
]
