"""Customers and loyalty points: the back office, the API and the tills' changes.

Customers belong to the chain (one phone number, one customer); the sales and reports
a manager reads are narrowed to the stores they may see. Points move only through the
ledger (:class:`~sync_server.customers.models.PointsMove`): ingest writes the moves of
sales, refunds and voids (:mod:`sync_server.customers.ingest`), a manager adjusts with
a reason here. A balance is the sum of the moves.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.ids import new_id
from shared.models.customers import (
    CustomerChangesOut,
    CustomerIn,
    CustomerOut,
    LoyaltySettings,
    PointsAdjustIn,
    PointsMoveKind,
    PointsMoveOut,
    normalise_phone,
)
from sync_server.auth.models import Terminal, User
from sync_server.core.database import unit_of_work, utcnow
from sync_server.core.errors import Conflict, Invalid, NotFound
from sync_server.customers.ingest import load_settings
from sync_server.customers.models import (
    Customer,
    CustomerChange,
    CustomerSale,
    LoyaltyConfig,
    PointsMove,
)
from sync_server.customers.schemas import (
    CustomerHistory,
    CustomerPage,
    CustomerSaleOut,
    LoyaltySettingsOut,
    TopCustomerRow,
)
from sync_server.stores.service import visible_store_ids
from sync_server.sync.models import Refund, Sale

SETTLE = timedelta(seconds=60)
"""A change younger than this may still have company committing below its id: a till's
cursor never passes it (it is sent again next time)."""

MAX_CHANGES = 1000
"""Most change-log rows one page of changes reads."""


def _balances(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not ids:
        return {}
    rows = session.execute(
        select(PointsMove.customer_id, func.sum(PointsMove.points))
        .where(PointsMove.customer_id.in_(ids))
        .group_by(PointsMove.customer_id)
    )
    return {cid: int(total or 0) for cid, total in rows}


def _out(row: Customer, points: int) -> CustomerOut:
    return CustomerOut(
        id=row.id,
        name=row.name,
        phone=row.phone,
        email=row.email,
        points=points,
        created_at=row.created_at,
    )


def _outs(session: Session, rows: list[Customer]) -> list[CustomerOut]:
    balances = _balances(session, [r.id for r in rows])
    return [_out(r, balances.get(r.id, 0)) for r in rows]


def _customer(session: Session, customer_id: uuid.UUID) -> Customer:
    row = session.get(Customer, customer_id)
    if row is None:
        raise NotFound("customer_not_found", customer_id=str(customer_id))
    return row


def _phone_taken(session: Session, phone: str, *, other_than: uuid.UUID | None) -> None:
    found = session.scalar(select(Customer.id).where(Customer.phone == phone))
    if found is not None and found != other_than:
        raise Conflict(
            "customer_phone_taken",
            code="customer_phone_taken",
            details={"phone": phone, "customer_id": str(found)},
            phone=phone,
        )


def _log_change(session: Session, customer_id: uuid.UUID) -> None:
    session.add(CustomerChange(customer_id=customer_id, changed_at=utcnow()))


@unit_of_work
def create_customer(
    session: Session,
    *,
    body: CustomerIn,
    store_id: int | None = None,
    customer_id: uuid.UUID | None = None,
) -> CustomerOut:
    """A new customer (409 ``customer_phone_taken`` when the number is someone's)."""
    _phone_taken(session, body.phone, other_than=None)
    now = utcnow()
    row = Customer(
        id=customer_id or new_id(),
        phone=body.phone,
        name=body.name,
        email=body.email,
        created_at=now,
        updated_at=now,
        store_id=store_id,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # the same number, committed meanwhile
        raise Conflict(
            "customer_phone_taken",
            code="customer_phone_taken",
            details={"phone": body.phone},
            phone=body.phone,
        ) from None
    _log_change(session, row.id)
    return _out(row, 0)


@unit_of_work
def update_customer(session: Session, *, customer_id: uuid.UUID, body: CustomerIn) -> CustomerOut:
    """Change a customer's name, phone or e-mail."""
    row = _customer(session, customer_id)
    _phone_taken(session, body.phone, other_than=row.id)
    row.name, row.phone, row.email = body.name, body.phone, body.email
    row.updated_at = utcnow()
    _log_change(session, row.id)
    session.flush()
    return _outs(session, [row])[0]


@unit_of_work
def get_customer(session: Session, *, customer_id: uuid.UUID) -> CustomerOut:
    """One customer with their balance."""
    return _outs(session, [_customer(session, customer_id)])[0]


@unit_of_work
def find_by_phone(session: Session, *, phone: str) -> CustomerOut:
    """The customer of a phone number as typed (422 when it is not a number)."""
    try:
        canonical = normalise_phone(phone)
    except ValueError:
        raise Invalid("customer_phone_invalid", code="invalid", phone=phone[:40]) from None
    row = session.scalar(select(Customer).where(Customer.phone == canonical))
    if row is None:
        raise NotFound("customer_phone_unknown", phone=canonical)
    return _outs(session, [row])[0]


def _search_terms(q: str) -> list[Any]:
    text = q.strip()
    if not text:
        return []
    terms: list[Any] = [Customer.name.ilike(f"%{_like(text)}%")]
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 3:
        tail = digits[1:] if digits.startswith("0") else digits
        terms.append(Customer.phone.like(f"%{tail}%"))
    if "@" in text:
        terms.append(Customer.email.ilike(f"%{_like(text.lower())}%"))
    return [or_(*terms)]


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@unit_of_work
def list_customers(
    session: Session, *, q: str = "", limit: int = 50, offset: int = 0
) -> CustomerPage:
    """Customers by name, narrowed by ``q`` (name, phone digits or e-mail)."""
    where = _search_terms(q)
    total = session.scalar(select(func.count()).select_from(Customer).where(*where)) or 0
    rows = list(
        session.scalars(
            select(Customer)
            .where(*where)
            .order_by(Customer.name, Customer.id)
            .limit(limit)
            .offset(offset)
        )
    )
    return CustomerPage(items=_outs(session, rows), total=int(total), limit=limit, offset=offset)


def _moves_out(session: Session, rows: list[PointsMove]) -> list[PointsMoveOut]:
    sale_ids = {r.sale_id for r in rows if r.sale_id is not None}
    receipts = (
        dict(
            session.execute(select(Sale.id, Sale.receipt_number).where(Sale.id.in_(sale_ids))).all()
        )
        if sale_ids
        else {}
    )
    return [
        PointsMoveOut(
            id=r.id,
            kind=PointsMoveKind(r.kind),
            points=r.points,
            amount=r.amount,
            sale_id=r.sale_id,
            receipt_number=receipts.get(r.sale_id) if r.sale_id else None,
            reason=r.reason,
            created_at=r.created_at,
        )
        for r in rows
    ]


def _refunded() -> Any:
    return (
        select(Refund.sale_id, func.sum(Refund.total).label("refunded"))
        .group_by(Refund.sale_id)
        .subquery()
    )


@unit_of_work
def customer_history(
    session: Session,
    *,
    user: User,
    customer_id: uuid.UUID,
    store_id: int | None = None,
    limit: int = 100,
) -> CustomerHistory:
    """A customer's sales in the stores ``user`` may see, and all their points moves."""
    row = _customer(session, customer_id)
    store = visible_store_ids(actor=user, store_id=store_id)
    refunded = _refunded()
    where = [CustomerSale.customer_id == row.id]
    if store is not None:
        where.append(CustomerSale.store_id == store)
    sales = session.execute(
        select(
            CustomerSale,
            Sale.receipt_number,
            func.coalesce(Sale.voided, False),
            func.coalesce(refunded.c.refunded, 0),
        )
        .outerjoin(Sale, Sale.id == CustomerSale.sale_id)
        .outerjoin(refunded, refunded.c.sale_id == CustomerSale.sale_id)
        .where(*where)
        .order_by(CustomerSale.created_at.desc())
    ).all()
    sales_out = [
        CustomerSaleOut(
            sale_id=cs.sale_id,
            receipt_number=receipt,
            store_id=cs.store_id,
            created_at=cs.created_at,
            business_date=cs.business_date,
            total=cs.total,
            refunded=int(back),
            voided=bool(voided),
            points_earned=cs.points_earned,
            points_redeemed=cs.points_redeemed,
            points_discount=cs.points_discount,
        )
        for cs, receipt, voided, back in sales
    ]
    kept = [s for s in sales_out if not s.voided]
    moves = list(
        session.scalars(
            select(PointsMove)
            .where(PointsMove.customer_id == row.id)
            .order_by(PointsMove.id.desc())
            .limit(limit)
        )
    )
    return CustomerHistory(
        customer=_outs(session, [row])[0],
        sales=sales_out[:limit],
        moves=_moves_out(session, moves),
        spend=sum(s.total - s.refunded for s in kept),
        visits=len(kept),
    )


@unit_of_work
def adjust_points(
    session: Session, *, user: User, customer_id: uuid.UUID, body: PointsAdjustIn
) -> CustomerOut:
    """A manager's correction of a customer's points, with the reason, as a move."""
    row = _customer(session, customer_id)
    session.add(
        PointsMove(
            customer_id=row.id,
            event_id=new_id(),
            kind=PointsMoveKind.ADJUST.value,
            points=body.points,
            amount=0,
            sale_id=None,
            store_id=user.store_id,
            terminal_id=None,
            user_id=user.id,
            reason=body.reason.strip(),
            created_at=utcnow(),
        )
    )
    _log_change(session, row.id)
    session.flush()
    return _outs(session, [row])[0]


@unit_of_work
def get_loyalty(session: Session) -> LoyaltySettingsOut:
    """The chain's points rule."""
    row = session.get(LoyaltyConfig, 1)
    settings = load_settings(session)
    return LoyaltySettingsOut(
        **settings.model_dump(),
        updated_at=row.updated_at if row else None,
        updated_by=row.updated_by if row else None,
    )


@unit_of_work
def set_loyalty(session: Session, *, user: User, body: LoyaltySettings) -> LoyaltySettingsOut:
    """Set the chain's points rule (applies to sales pushed from now on)."""
    row = session.get(LoyaltyConfig, 1)
    if row is None:
        row = LoyaltyConfig(id=1)
        session.add(row)
    row.enabled = body.enabled
    row.earn_points = body.earn_points
    row.earn_per_rupiah = body.earn_per_rupiah
    row.point_value = body.point_value
    row.updated_at = utcnow()
    row.updated_by = user.id
    session.flush()
    return LoyaltySettingsOut(**body.model_dump(), updated_at=row.updated_at, updated_by=user.id)


@unit_of_work
def customer_changes(
    session: Session, *, cursor: int, limit: int = MAX_CHANGES
) -> CustomerChangesOut:
    """Customers changed (details or balance) since ``cursor``, whole, with their balance.

    The next cursor stops before changes younger than :data:`SETTLE`, which are sent
    again next time: ids are taken at insert, so one below them may still commit.
    """
    rows = session.execute(
        select(CustomerChange.id, CustomerChange.customer_id, CustomerChange.changed_at)
        .where(CustomerChange.id > cursor)
        .order_by(CustomerChange.id)
        .limit(limit)
    ).all()
    settled_before = utcnow() - SETTLE
    next_cursor = cursor
    for change_id, _, changed_at in rows:  # the settled prefix only: never past a young one
        if changed_at > settled_before:
            break
        next_cursor = change_id
    ids = list(dict.fromkeys(customer for _, customer, _ in rows))
    customers = list(session.scalars(select(Customer).where(Customer.id.in_(ids)))) if ids else []
    customers.sort(key=lambda c: ids.index(c.id))
    return CustomerChangesOut(
        cursor=next_cursor,
        has_more=len(rows) == limit and next_cursor > cursor,
        customers=_outs(session, customers),
        loyalty=load_settings(session),
    )


def _spend_rows(
    session: Session, *, store: int | None, day_from: date | None, day_to: date | None
) -> Any:
    refunded = _refunded()
    live = func.coalesce(Sale.voided, False) == False  # noqa: E712
    where = []
    if store is not None:
        where.append(CustomerSale.store_id == store)
    if day_from is not None:
        where.append(CustomerSale.business_date >= day_from)
    if day_to is not None:
        where.append(CustomerSale.business_date <= day_to)
    spend = func.sum(
        case((live, CustomerSale.total - func.coalesce(refunded.c.refunded, 0)), else_=0)
    )
    return (
        select(
            CustomerSale.customer_id,
            spend.label("spend"),
            func.sum(case((live, 1), else_=0)).label("visits"),
            func.sum(case((live, CustomerSale.points_earned), else_=0)).label("earned"),
            func.sum(case((live, CustomerSale.points_redeemed), else_=0)).label("redeemed"),
        )
        .outerjoin(Sale, Sale.id == CustomerSale.sale_id)
        .outerjoin(refunded, refunded.c.sale_id == CustomerSale.sale_id)
        .where(*where)
        .group_by(CustomerSale.customer_id)
    )


@unit_of_work
def top_customers(
    session: Session,
    *,
    user: User,
    store_id: int | None = None,
    day_from: date | None = None,
    day_to: date | None = None,
    limit: int = 20,
) -> list[TopCustomerRow]:
    """Customers who spent most over the period (sales less refunds, voids left out)."""
    store = visible_store_ids(actor=user, store_id=store_id)
    sums = _spend_rows(session, store=store, day_from=day_from, day_to=day_to).subquery()
    rows = session.execute(
        select(Customer, sums.c.spend, sums.c.visits, sums.c.earned, sums.c.redeemed)
        .join(sums, sums.c.customer_id == Customer.id)
        .where(sums.c.visits > 0)
        .order_by(sums.c.spend.desc(), Customer.name)
        .limit(limit)
    ).all()
    balances = _balances(session, [r[0].id for r in rows])
    return [
        TopCustomerRow(
            customer_id=c.id,
            name=c.name,
            phone=c.phone,
            spend=int(spend or 0),
            visits=int(visits or 0),
            points_earned=int(earned or 0),
            points_redeemed=int(redeemed or 0),
            points=balances.get(c.id, 0),
        )
        for c, spend, visits, earned, redeemed in rows
    ]


def terminal_store(terminal: Terminal) -> int:
    """The store a till's new customers are entered at."""
    return terminal.store_id


__all__ = [
    "MAX_CHANGES",
    "SETTLE",
    "adjust_points",
    "create_customer",
    "customer_changes",
    "customer_history",
    "find_by_phone",
    "get_customer",
    "get_loyalty",
    "list_customers",
    "set_loyalty",
    "terminal_store",
    "top_customers",
]
