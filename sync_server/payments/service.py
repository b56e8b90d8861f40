"""QRIS payments: the wire shape of orders, Tripay's channels and settling statuses.

Rules this package keeps:

* An order row (``order_id`` = Tripay ``merchant_ref``) exists before Tripay is asked,
  so a callback that overtakes the create answer finds it by ``merchant_ref``
  (:mod:`sync_server.payments.orders`).
* One order never gets two Tripay transactions: a create-payment call first takes a
  claim on the row with a conditional UPDATE, talks to Tripay outside any database
  transaction, then stores the answer. A create that failed in a way that leaves
  Tripay's side unknown (timeout, 5xx) is looked up by ``merchant_ref`` before a
  retry creates anything (:mod:`sync_server.payments.orders`).
* Status moves only UNPAID → PAID | EXPIRED | FAILED and PAID → REFUND, whether the
  news comes from a callback or from asking Tripay (:func:`classify_move`, here).
* A callback is believed only with the right event header, a valid HMAC of the raw
  body, a matching reference, merchant_ref and amount. Anything else changes nothing,
  is logged in ``payment_callbacks`` and counted (:mod:`sync_server.payments.callbacks`).
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import exists, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.models import OrderItemIn, OrderListOut, PaymentChannelOut, PaymentOrderOut
from shared.timezones import store_zone
from sync_server.core.database import Database, run_in_transaction, utcnow
from sync_server.core.errors import AppError, NotFound
from sync_server.core.metrics import PAYMENTS
from sync_server.core.models import Store
from sync_server.flags.models import Flag, FlagKind, QrisPaymentUse
from sync_server.payments.models import PaymentOrder
from sync_server.payments.tripay import (
    TripayClient,
    TripayError,
    TripayErrorKind,
    TripayTransaction,
)
from sync_server.sync.models import SalePayment

log = logging.getLogger("kasir.payments")

STATUS_CHECK_EVERY = timedelta(seconds=15)
CALLBACK_OVERDUE_AFTER = timedelta(seconds=60)
NEAR_EXPIRY = timedelta(seconds=60)
SETTLE_NEAR_EXPIRY = timedelta(minutes=2)
SETTLE_RECHECK_EVERY = timedelta(minutes=5)
ORPHAN_AFTER = timedelta(minutes=30)
"""A PAID order no synced sale has taken this long after ``paid_at`` is flagged."""
ORPHAN_NAMESPACE = uuid.UUID("6f1d2a4e-93c5-4c1e-9a51-0b8c7f3e2d10")
"""Namespace of the made-up event id of a ``qris_orphan`` flag (one per order)."""

FINAL_STATUSES = frozenset({"PAID", "EXPIRED", "FAILED", "REFUND"})
_ALLOWED_MOVES: dict[str, frozenset[str]] = {
    "UNPAID": frozenset({"PAID", "EXPIRED", "FAILED"}),
    "PAID": frozenset({"REFUND"}),
}


class Move(StrEnum):
    """What a reported status means for an order in its current status."""

    APPLY = "apply"
    SAME = "same"
    STALE = "stale"
    INVALID = "invalid"


def classify_move(current: str, reported: str) -> Move:
    """Decide whether ``reported`` may replace ``current`` (the only legal moves)."""
    if reported == current:
        return Move.SAME
    if reported in _ALLOWED_MOVES.get(current, frozenset()):
        return Move.APPLY
    if current == "REFUND" and reported == "PAID":
        return Move.STALE  # the PAID news arrived after the refund: already past it
    return Move.INVALID


class PaymentGatewayError(AppError):
    """Tripay could not do what the till asked; the message says what to do instead."""

    status_code = 502
    code = "tripay_unavailable"


_GATEWAY_CODES: dict[TripayErrorKind, tuple[int, str]] = {
    TripayErrorKind.TIMEOUT: (504, "tripay_timeout"),
    TripayErrorKind.UNREACHABLE: (502, "tripay_unreachable"),
    TripayErrorKind.SERVER_ERROR: (502, "tripay_unavailable"),
    TripayErrorKind.REJECTED: (502, "tripay_rejected"),
    TripayErrorKind.BAD_ANSWER: (502, "tripay_bad_answer"),
}


def gateway_error(exc: TripayError) -> PaymentGatewayError:
    """The API error a till hears for a failed Tripay call."""
    status, code = _GATEWAY_CODES[exc.kind]
    return PaymentGatewayError(
        exc.message_code,
        code=code,
        status_code=status,
        details={"tripay_message": exc.tripay_message, "retryable": True},
        **exc.params,
    )


# -- small helpers ------------------------------------------------------------------


def db_now() -> datetime:
    # Whole seconds: MySQL DATETIME keeps none, so an answer made before the row is
    # read back must not carry microseconds the stored row lacks.
    return utcnow().replace(microsecond=0)


def from_unix(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value else None


FEE_FIELDS = ("fee_merchant", "fee_customer", "total_fee", "amount_received")
"""Tripay's figures for an order: its fees and what the merchant receives."""


def take_fees(order: PaymentOrder, source: object) -> None:
    """Copy :data:`FEE_FIELDS` from ``source`` (a Tripay transaction or callback) onto
    ``order``; a figure the source leaves out (None) stays as it is."""
    for field in FEE_FIELDS:
        value = getattr(source, field)
        if value is not None:
            setattr(order, field, value)


def order_out(order: PaymentOrder) -> PaymentOrderOut:
    """The wire shape of an order."""
    return PaymentOrderOut.of(
        order,
        final=order.status in FINAL_STATUSES,
        items=[OrderItemIn.model_validate(i) for i in json.loads(order.items)],
    )


def callback_url(public_base_url: str) -> str:
    """Where Tripay should POST callbacks for this server."""
    return public_base_url.rstrip("/") + "/api/v1/payment/callback"


def order_not_found(order_id: str) -> NotFound:
    return NotFound("order_not_found", code="order_not_found", order_id=order_id)


def _terminal_order(session: Session, *, terminal_id: int, order_id: str) -> PaymentOrder:
    order = session.scalar(select(PaymentOrder).where(PaymentOrder.order_id == order_id))
    if order is None or order.terminal_id != terminal_id:
        raise order_not_found(order_id)
    return order


# -- channels -----------------------------------------------------------------------


def list_channels(*, client: TripayClient) -> list[PaymentChannelOut]:
    """Tripay's channels (cached by the client), as the till shows them."""
    try:
        channels = client.payment_channels()
    except TripayError as exc:
        raise gateway_error(exc) from exc
    return [
        PaymentChannelOut.of(c, fee_flat=c.total_fee.flat, fee_percent=str(c.total_fee.percent))
        for c in channels
    ]


# -- applying Tripay's news ---------------------------------------------------------


def apply_status(
    order: PaymentOrder, *, status: str, paid_at: int | None, now: datetime, source: str
) -> Move:
    """Move ``order`` to ``status`` if that is a legal move; returns what happened."""
    move = classify_move(order.status, status)
    if move == Move.APPLY:
        log.info("order %s: %s -> %s (%s)", order.order_id, order.status, status, source)
        order.status = status
        if status == "PAID":
            order.paid_at = from_unix(paid_at) or now
        order.updated_at = now
    elif move == Move.INVALID:
        log.warning(
            "order %s: ignoring %s -> %s from %s", order.order_id, order.status, status, source
        )
    return move


def _apply_detail(session: Session, *, order_pk: int, tx: TripayTransaction) -> bool:
    """Apply a transaction detail to its order; True when the status changed."""
    order = session.get(PaymentOrder, order_pk, with_for_update=True, populate_existing=True)
    if order is None:
        return False
    now = db_now()
    order.last_checked_at = now
    if (
        tx.reference != order.reference
        or tx.merchant_ref != order.order_id
        or tx.amount != order.amount
    ):
        log.error(
            "order %s: Tripay detail does not match (reference %s, merchant_ref %s, amount %s)",
            order.order_id,
            tx.reference,
            tx.merchant_ref,
            tx.amount,
        )
        return False
    move = apply_status(order, status=tx.status.value, paid_at=tx.paid_at, now=now, source="detail")
    if move == Move.APPLY:
        take_fees(order, tx)
    return move == Move.APPLY


def _ask_tripay(db: Database, *, client: TripayClient, order_pk: int, reference: str) -> bool:
    try:
        tx = client.transaction_detail(reference=reference)
    except TripayError as exc:
        log.warning("could not ask Tripay about %s: %s", reference, exc.message)

        def touch(session: Session) -> None:
            order = session.get(PaymentOrder, order_pk)
            if order is not None:
                order.last_checked_at = db_now()

        run_in_transaction(db, touch)
        return False
    changed = run_in_transaction(db, lambda s: _apply_detail(s, order_pk=order_pk, tx=tx))
    if changed:  # counted once committed, like moves brought by a callback
        PAYMENTS.labels(status=tx.status.value).inc()
    return changed


def _status_is_doubtful(order: PaymentOrder, now: datetime) -> bool:
    """UNPAID with a QR, and near or past expiry or with no callback for a while."""
    if order.status != "UNPAID" or order.reference is None or order.opened_at is None:
        return False
    if order.last_checked_at is not None and now - order.last_checked_at < STATUS_CHECK_EVERY:
        return False
    near_expiry = order.expires_at is not None and now >= order.expires_at - NEAR_EXPIRY
    overdue = now - order.opened_at >= CALLBACK_OVERDUE_AFTER
    return near_expiry or overdue


def get_status(
    db: Database, *, client: TripayClient, terminal_id: int, order_id: str
) -> PaymentOrderOut:
    """The order's status; asks Tripay first when the stored status is in doubt."""
    with db.session() as session:
        order = _terminal_order(session, terminal_id=terminal_id, order_id=order_id)
        doubtful = _status_is_doubtful(order, db_now())
        pk, reference = order.id, order.reference
        out = order_out(order)
    if not doubtful or reference is None:
        return out
    _ask_tripay(db, client=client, order_pk=pk, reference=reference)
    with db.session() as session:
        return order_out(_terminal_order(session, terminal_id=terminal_id, order_id=order_id))


def settle_expired_orders(
    db: Database, client: TripayClient, *, now: datetime | None = None, limit: int = 100
) -> int:
    """Ask Tripay about UNPAID orders near or past expiry (or long unchecked).

    For a periodic job: settles orders whose callback never came. Returns how many
    orders changed status.
    """
    now = now or db_now()
    with db.session() as session:
        rows = session.execute(
            select(PaymentOrder.id, PaymentOrder.reference)
            .where(
                PaymentOrder.status == "UNPAID",
                PaymentOrder.reference.is_not(None),
                PaymentOrder.opened_at.is_not(None),
                or_(
                    PaymentOrder.expires_at <= now + SETTLE_NEAR_EXPIRY,
                    PaymentOrder.last_checked_at.is_(None),
                    PaymentOrder.last_checked_at <= now - SETTLE_RECHECK_EVERY,
                ),
                or_(
                    PaymentOrder.last_checked_at.is_(None),
                    PaymentOrder.last_checked_at <= now - STATUS_CHECK_EVERY,
                ),
            )
            .order_by(PaymentOrder.expires_at)
            .limit(limit)
        ).all()
    changed = 0
    for pk, reference in rows:
        if reference is not None and _ask_tripay(
            db, client=client, order_pk=pk, reference=reference
        ):
            changed += 1
    flagged = flag_orphan_orders(db, now=now)
    if flagged:
        log.warning("flagged %d PAID QRIS order(s) no synced sale took", flagged)
    return changed


def orphan_event_id(order_id: str) -> uuid.UUID:
    """The event id a ``qris_orphan`` flag of ``order_id`` carries: the same every time,
    so the flags table's (event, kind) key keeps it to one flag per order."""
    return uuid.uuid5(ORPHAN_NAMESPACE, f"qris_orphan:{order_id}")


def flag_orphan_orders(db: Database, *, now: datetime | None = None, limit: int = 500) -> int:
    """Flag ``qris_orphan`` the PAID orders that no synced sale took (verified, or named
    by a sale's payment) :data:`ORPHAN_AFTER` after they were paid; how many were flagged.

    The customer paid but no sale says so: a till that lost the sale, or money taken
    outside a sale. One flag per order, ever (a settler running twice, or two at once,
    writes it once).
    """
    now = now or db_now()

    def work(session: Session) -> int:
        named = or_(
            SalePayment.order_id == PaymentOrder.order_id,
            SalePayment.reference == PaymentOrder.reference,
        )
        orders = session.execute(
            select(PaymentOrder, Store.timezone)
            .join(Store, Store.id == PaymentOrder.store_id)
            .where(
                PaymentOrder.status == "PAID",
                PaymentOrder.paid_at.is_not(None),
                PaymentOrder.paid_at <= now - ORPHAN_AFTER,
                ~exists().where(QrisPaymentUse.payment_order_id == PaymentOrder.id),
                ~exists().where(named),
            )
            .order_by(PaymentOrder.id)
            .limit(limit)
        ).all()
        wanted = {orphan_event_id(order.order_id): (order, tz) for order, tz in orders}
        if not wanted:
            return 0
        done = set(
            session.scalars(
                select(Flag.event_id).where(
                    Flag.kind == FlagKind.QRIS_ORPHAN.value, Flag.event_id.in_(wanted)
                )
            )
        )
        rows = []
        for event_id, (order, tz) in wanted.items():
            if event_id in done or order.paid_at is None:
                continue
            rows.append(
                {
                    "store_id": order.store_id,
                    "terminal_id": order.terminal_id,
                    "kind": FlagKind.QRIS_ORPHAN.value,
                    "event_id": event_id,
                    "sale_id": None,
                    "cashier_id": None,
                    "business_date": order.paid_at.astimezone(store_zone(tz)).date(),
                    "details": json.dumps(
                        {
                            "order_id": order.order_id,
                            "reference": order.reference,
                            "amount": order.amount,
                            "paid_at": order.paid_at.isoformat(),
                        },
                        sort_keys=True,
                    ),
                    "created_at": now,
                }
            )
        if rows:
            session.execute(insert(Flag), rows)
        return len(rows)

    try:
        return run_in_transaction(db, work)
    except IntegrityError:
        # Another settler wrote the same flags first: nothing left to do this round.
        log.info("qris_orphan flags already written by another settler")
        return 0


# -- manager view -------------------------------------------------------------------


def list_orders(
    db: Database, *, store_id: int | None, status: str | None, limit: int, offset: int
) -> OrderListOut:
    """Orders newest first, of one store (None: every store), optionally of one status."""
    query = select(PaymentOrder).order_by(PaymentOrder.id.desc())
    if store_id is not None:
        query = query.where(PaymentOrder.store_id == store_id)
    if status is not None:
        query = query.where(PaymentOrder.status == status)
    with db.session() as session:
        rows = list(session.scalars(query.offset(offset).limit(limit + 1)))
        orders = [order_out(o) for o in rows[:limit]]
    return OrderListOut(orders=orders, next_offset=offset + limit if len(rows) > limit else None)
