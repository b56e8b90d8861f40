"""QRIS payments: orders, the Tripay QR, status settling and Tripay's callback.

Rules this module keeps:

* An order row (``order_id`` = Tripay ``merchant_ref``) exists before Tripay is asked,
  so a callback that overtakes the create answer finds it by ``merchant_ref``.
* One order never gets two Tripay transactions: a create-payment call first takes a
  claim on the row with a conditional UPDATE, talks to Tripay outside any database
  transaction, then stores the answer. A create that failed in a way that leaves
  Tripay's side unknown (timeout, 5xx) is looked up by ``merchant_ref`` before a
  retry creates anything.
* Status moves only UNPAID → PAID | EXPIRED | FAILED and PAID → REFUND, whether the
  news comes from a callback or from asking Tripay.
* A callback is believed only with the right event header, a valid HMAC of the raw
  body, a matching reference, merchant_ref and amount. Anything else changes nothing,
  is logged in ``payment_callbacks`` and counted.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any, cast

from prometheus_client import Counter
from pydantic import ValidationError
from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.ids import new_id
from shared.models import (
    CreatePaymentIn,
    CreateTransactionIn,
    OrderItemIn,
    OrderListOut,
    PaymentChannelOut,
    PaymentOrderOut,
    TripayCallbackIn,
)
from sync_server.core.database import Database, run_in_transaction, utcnow
from sync_server.core.errors import AppError, Conflict, Invalid, NotFound
from sync_server.core.models import Store
from sync_server.payments.models import PaymentCallback, PaymentOrder
from sync_server.payments.tripay import (
    OrderItem,
    TripayClient,
    TripayError,
    TripayErrorKind,
    TripayStatus,
    TripayTransaction,
    tripay_items,
    verify_callback_signature,
)

log = logging.getLogger("kasir.payments")

CALLBACK_FAILURES = Counter(
    "kasir_tripay_callback_failures_total",
    "Tripay callbacks refused (forged, mismatched, unknown, ...), by reason.",
    ["reason"],
)
CALLBACKS = Counter(
    "kasir_tripay_callbacks_total",
    "Tripay callbacks received, by outcome (processed, duplicate, rejected).",
    ["outcome"],
)

CALLBACK_EVENT = "payment_status"

# docs/tripay.md, "QRIS channels": amount and expiry limits per channel.
QRIS_MIN_AMOUNT = 1_000
QRIS_MAX_AMOUNT = 5_000_000
QRIS_EXPIRY_MINUTES = {"QRIS": (10, 60), "QRISC": (10, 1440), "QRIS2": (10, 1440)}

DEFAULT_CUSTOMER_EMAIL = "pelanggan@kasir.id"

CLAIM_STALE_AFTER = timedelta(seconds=120)  # far beyond the Tripay client's timeout
CLAIM_WAIT_SECONDS = 20.0
STATUS_CHECK_EVERY = timedelta(seconds=15)
CALLBACK_OVERDUE_AFTER = timedelta(seconds=60)
NEAR_EXPIRY = timedelta(seconds=60)
SETTLE_NEAR_EXPIRY = timedelta(minutes=2)
SETTLE_RECHECK_EVERY = timedelta(minutes=5)

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
        exc.message,
        code=code,
        status_code=status,
        details={"tripay_message": exc.tripay_message, "retryable": True},
    )


# -- small helpers ------------------------------------------------------------------


def _now() -> datetime:
    # Whole seconds: MySQL DATETIME keeps none, so an answer made before the row is
    # read back must not carry microseconds the stored row lacks.
    return utcnow().replace(microsecond=0)


def _items_json(items: list[OrderItemIn]) -> str:
    return json.dumps(
        [i.model_dump() for i in items], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def _from_unix(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value else None


def order_out(order: PaymentOrder) -> PaymentOrderOut:
    """The wire shape of an order."""
    return PaymentOrderOut(
        order_id=order.order_id,
        status=order.status,
        final=order.status in FINAL_STATUSES,
        amount=order.amount,
        items=[OrderItemIn.model_validate(i) for i in json.loads(order.items)],
        store_id=order.store_id,
        terminal_id=order.terminal_id,
        method=order.method,
        reference=order.reference,
        qr_string=order.qr_string,
        qr_url=order.qr_url,
        checkout_url=order.checkout_url,
        fee_merchant=order.fee_merchant,
        fee_customer=order.fee_customer,
        total_fee=order.total_fee,
        amount_received=order.amount_received,
        expires_at=order.expires_at,
        paid_at=order.paid_at,
        created_at=order.created_at,
        updated_at=order.updated_at,
    )


def callback_url(public_base_url: str) -> str:
    """Where Tripay should POST callbacks for this server."""
    return public_base_url.rstrip("/") + "/api/v1/payment/callback"


def _order_not_found(order_id: str) -> NotFound:
    return NotFound(f"There is no payment order {order_id} for this till.", code="order_not_found")


def _terminal_order(session: Session, *, terminal_id: int, order_id: str) -> PaymentOrder:
    order = session.scalar(select(PaymentOrder).where(PaymentOrder.order_id == order_id))
    if order is None or order.terminal_id != terminal_id:
        raise _order_not_found(order_id)
    return order


# -- channels -----------------------------------------------------------------------


def list_channels(*, client: TripayClient) -> list[PaymentChannelOut]:
    """Tripay's channels (cached by the client), as the till shows them."""
    try:
        channels = client.payment_channels()
    except TripayError as exc:
        raise gateway_error(exc) from exc
    return [
        PaymentChannelOut(
            code=c.code,
            name=c.name,
            group=c.group,
            active=c.active,
            minimum_amount=c.minimum_amount,
            maximum_amount=c.maximum_amount,
            fee_flat=c.total_fee.flat,
            fee_percent=str(c.total_fee.percent),
            icon_url=c.icon_url,
        )
        for c in channels
    ]


# -- create-transaction -------------------------------------------------------------


def _new_order_id(terminal_code: str) -> str:
    prefix = re.sub(r"[^A-Za-z0-9]", "", terminal_code)[:16] or "K"
    return f"{prefix}-{new_id().hex}"


def create_order(
    db: Database, *, terminal_id: int, store_id: int, terminal_code: str, data: CreateTransactionIn
) -> tuple[PaymentOrderOut, bool]:
    """Store a pending order; returns it and whether it is new.

    The same ``order_id`` with the same amount and items returns the stored order;
    with other content (or from another till) it is a conflict.
    """
    if not QRIS_MIN_AMOUNT <= data.amount <= QRIS_MAX_AMOUNT:
        raise Invalid(
            f"QRIS takes {QRIS_MIN_AMOUNT:,} to {QRIS_MAX_AMOUNT:,} rupiah; "
            f"this order is {data.amount:,}. Take cash, or split the payment.",
            code="amount_out_of_range",
            details={"minimum": QRIS_MIN_AMOUNT, "maximum": QRIS_MAX_AMOUNT},
        )
    order_id = data.order_id or _new_order_id(terminal_code)
    items = _items_json(data.items)

    def same_or_conflict(order: PaymentOrder) -> PaymentOrderOut:
        if order.terminal_id != terminal_id or order.amount != data.amount or order.items != items:
            raise Conflict(
                f"Order {order_id} already exists with other content; use a new order id.",
                code="order_conflict",
                details={"order_id": order_id},
            )
        return order_out(order)

    def work(session: Session) -> tuple[PaymentOrderOut, bool]:
        existing = session.scalar(select(PaymentOrder).where(PaymentOrder.order_id == order_id))
        if existing is not None:
            return same_or_conflict(existing), False
        store_name = session.scalar(select(Store.name).where(Store.id == store_id)) or "Kasir"
        now = _now()
        order = PaymentOrder(
            order_id=order_id,
            store_id=store_id,
            terminal_id=terminal_id,
            amount=data.amount,
            items=items,
            customer_name=(data.customer_name or f"Pelanggan {store_name}")[:100],
            customer_email=data.customer_email or DEFAULT_CUSTOMER_EMAIL,
            status=TripayStatus.UNPAID.value,
            created_at=now,
            updated_at=now,
        )
        session.add(order)
        session.flush()
        return order_out(order), True

    try:
        return run_in_transaction(db, work)
    except IntegrityError:
        pass  # two requests raced: the loser's INSERT hit the unique order_id
    with db.session() as session:
        existing = session.scalar(select(PaymentOrder).where(PaymentOrder.order_id == order_id))
        if existing is None:
            raise AssertionError("unique order_id violated but no row found")
        return same_or_conflict(existing), False


# -- create-payment -----------------------------------------------------------------


@dataclass(frozen=True)
class _Claimed:
    """What a create-payment call needs once it holds the claim on an order."""

    pk: int
    token: str
    order_id: str
    amount: int
    items: list[OrderItem]
    customer_name: str
    customer_email: str
    reference: str | None
    uncertain: bool


def _claim(
    session: Session, *, terminal_id: int, order_id: str, token: str, now: datetime
) -> PaymentOrderOut | _Claimed | None:
    """Take the claim (returns what to send), or the finished order, or None if busy."""
    result = cast(
        CursorResult[Any],
        session.execute(
            update(PaymentOrder)
            .where(
                PaymentOrder.order_id == order_id,
                PaymentOrder.terminal_id == terminal_id,
                PaymentOrder.opened_at.is_(None),
                or_(
                    PaymentOrder.creating_token.is_(None),
                    PaymentOrder.creating_since < now - CLAIM_STALE_AFTER,
                ),
            )
            .values(
                creating_token=token,
                creating_since=now,
                create_attempts=PaymentOrder.create_attempts + 1,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        ),
    )
    order = session.scalar(
        select(PaymentOrder)
        .where(PaymentOrder.order_id == order_id)
        .execution_options(populate_existing=True)
    )
    if order is None or order.terminal_id != terminal_id:
        raise _order_not_found(order_id)
    if result.rowcount != 1:
        return order_out(order) if order.opened_at is not None else None
    claimed = _Claimed(
        pk=order.id,
        token=token,
        order_id=order.order_id,
        amount=order.amount,
        items=[
            OrderItem(name=i["name"], price=i["price"], quantity=i["quantity"], sku=i.get("sku"))
            for i in json.loads(order.items)
        ],
        customer_name=order.customer_name,
        customer_email=order.customer_email,
        reference=order.reference,
        uncertain=order.create_uncertain,
    )
    # From here until Tripay answers, a transaction may exist at Tripay for this order.
    order.create_uncertain = True
    return claimed


def _open_at_tripay(
    client: TripayClient,
    claimed: _Claimed,
    *,
    method: str,
    expired_time: int,
    callback_url: str,
) -> TripayTransaction:
    """Get this order's Tripay transaction: the known one, a found one, or a new one."""
    if claimed.reference:
        # A callback overtook an earlier create and told us the reference.
        return client.transaction_detail(reference=claimed.reference)
    if claimed.uncertain:
        # An earlier create timed out or failed midway: it may exist at Tripay.
        found = [
            t
            for t in client.transactions(merchant_ref=claimed.order_id)
            if t.merchant_ref == claimed.order_id
        ]
        if found:
            log.info("order %s: adopting existing Tripay %s", claimed.order_id, found[0].reference)
            return client.transaction_detail(reference=found[0].reference)
    return client.create_transaction(
        method=method,
        merchant_ref=claimed.order_id,
        amount=claimed.amount,
        items=tripay_items(claimed.items, claimed.amount, label=f"Belanja {claimed.order_id}"),
        customer_name=claimed.customer_name,
        customer_email=claimed.customer_email,
        expired_time=expired_time,
        callback_url=callback_url,
    )


def _release_claim(db: Database, *, claimed: _Claimed, error: str, uncertain: bool) -> None:
    def work(session: Session) -> None:
        session.execute(
            update(PaymentOrder)
            .where(PaymentOrder.id == claimed.pk, PaymentOrder.creating_token == claimed.token)
            .values(
                creating_token=None,
                creating_since=None,
                create_uncertain=uncertain,
                last_error=error[:300],
                updated_at=_now(),
            )
            .execution_options(synchronize_session=False)
        )

    run_in_transaction(db, work)


def _store_opened(
    db: Database, *, claimed: _Claimed, tx: TripayTransaction, method: str
) -> PaymentOrderOut:
    def work(session: Session) -> PaymentOrderOut:
        order = session.get(PaymentOrder, claimed.pk, with_for_update=True, populate_existing=True)
        if order is None:
            raise AssertionError("a claimed order vanished")
        if order.reference is not None and order.reference != tx.reference:
            log.error(
                "order %s: Tripay answered %s but %s is stored; keeping the stored one",
                order.order_id,
                tx.reference,
                order.reference,
            )
            raise PaymentGatewayError(
                "Tripay answered with a different transaction for this order. Ask a manager.",
                code="tripay_conflict",
            )
        now = _now()
        order.reference = tx.reference
        order.method = method
        order.qr_string = tx.qr_string
        order.qr_url = tx.qr_url
        order.checkout_url = tx.checkout_url
        order.fee_merchant = tx.fee_merchant
        order.fee_customer = tx.fee_customer
        order.total_fee = tx.total_fee
        order.amount_received = tx.amount_received
        order.expires_at = _from_unix(tx.expired_time)
        order.opened_at = now
        order.creating_token = None
        order.creating_since = None
        order.create_uncertain = False
        order.last_error = None
        order.updated_at = now
        if tx.status != TripayStatus.UNPAID:
            _apply_status(
                order, status=tx.status.value, paid_at=tx.paid_at, now=now, source="create"
            )
        session.flush()
        return order_out(order)

    return run_in_transaction(db, work)


def create_payment(
    db: Database,
    *,
    client: TripayClient,
    terminal_id: int,
    data: CreatePaymentIn,
    callback_url: str,
    wait_seconds: float = CLAIM_WAIT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> PaymentOrderOut:
    """The order's QR from Tripay; every repeated or concurrent call gets the same one."""
    low, high = QRIS_EXPIRY_MINUTES[data.method]
    if not low <= data.expires_in_minutes <= high:
        raise Invalid(
            f"{data.method} codes last {low} to {high} minutes.",
            code="expiry_out_of_range",
            details={"minimum": low, "maximum": high},
        )
    deadline = time.monotonic() + wait_seconds
    while True:
        claim = partial(
            _claim,
            terminal_id=terminal_id,
            order_id=data.order_id,
            token=str(uuid.uuid4()),
            now=_now(),
        )
        got = run_in_transaction(db, claim)
        if isinstance(got, PaymentOrderOut):
            return got
        if isinstance(got, _Claimed):
            claimed = got
            break
        if time.monotonic() >= deadline:
            raise Conflict(
                "The QR for this order is still being made; try again in a moment.",
                code="payment_in_progress",
                details={"order_id": data.order_id, "retryable": True},
            )
        sleep(0.1)

    expired_time = int(time.time()) + data.expires_in_minutes * 60
    try:
        tx = _open_at_tripay(
            client,
            claimed,
            method=data.method,
            expired_time=expired_time,
            callback_url=callback_url,
        )
        if tx.merchant_ref != claimed.order_id or tx.amount != claimed.amount:
            raise TripayError(
                "Tripay answered about a different order. Try again, or take cash.",
                kind=TripayErrorKind.BAD_ANSWER,
            )
    except TripayError as exc:
        # A refusal means nothing was created; anything else might have been.
        uncertain = exc.kind != TripayErrorKind.REJECTED or claimed.uncertain
        _release_claim(db, claimed=claimed, error=exc.message, uncertain=uncertain)
        raise gateway_error(exc) from exc
    except BaseException:
        _release_claim(db, claimed=claimed, error="internal error", uncertain=True)
        raise
    return _store_opened(db, claimed=claimed, tx=tx, method=data.method)


# -- applying Tripay's news ---------------------------------------------------------


def _apply_status(
    order: PaymentOrder, *, status: str, paid_at: int | None, now: datetime, source: str
) -> Move:
    """Move ``order`` to ``status`` if that is a legal move; returns what happened."""
    move = classify_move(order.status, status)
    if move == Move.APPLY:
        log.info("order %s: %s -> %s (%s)", order.order_id, order.status, status, source)
        order.status = status
        if status == "PAID":
            order.paid_at = _from_unix(paid_at) or now
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
    now = _now()
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
    move = _apply_status(
        order, status=tx.status.value, paid_at=tx.paid_at, now=now, source="detail"
    )
    if move == Move.APPLY:
        order.fee_merchant = tx.fee_merchant
        order.fee_customer = tx.fee_customer
        order.total_fee = tx.total_fee
        order.amount_received = tx.amount_received
    return move == Move.APPLY


def _ask_tripay(db: Database, *, client: TripayClient, order_pk: int, reference: str) -> bool:
    try:
        tx = client.transaction_detail(reference=reference)
    except TripayError as exc:
        log.warning("could not ask Tripay about %s: %s", reference, exc.message)

        def touch(session: Session) -> None:
            order = session.get(PaymentOrder, order_pk)
            if order is not None:
                order.last_checked_at = _now()

        run_in_transaction(db, touch)
        return False
    return run_in_transaction(db, lambda s: _apply_detail(s, order_pk=order_pk, tx=tx))


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
        doubtful = _status_is_doubtful(order, _now())
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
    now = now or _now()
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
    return changed


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


# -- the callback -------------------------------------------------------------------


@dataclass(frozen=True)
class CallbackResult:
    """What to answer Tripay: ``ok`` only when the callback was processed."""

    ok: bool
    status_code: int
    message: str
    reason: str | None = None


class _Refused(Exception):
    def __init__(self, reason: str, status_code: int, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.status_code = status_code
        self.message = message


def _log_callback(
    session: Session,
    *,
    raw_body: bytes,
    event: str | None,
    signature_ok: bool,
    body: TripayCallbackIn | None,
    order_pk: int | None,
    outcome: str,
    reason: str | None,
) -> None:
    session.add(
        PaymentCallback(
            received_at=_now(),
            event=event[:64] if event else None,
            signature_ok=signature_ok,
            reference=body.reference if body else None,
            merchant_ref=body.merchant_ref if body else None,
            status=body.status[:16] if body else None,
            order_id=order_pk,
            outcome=outcome,
            reason=reason,
            # Bounded so a huge body fits a TEXT column (utf-8: at most 3 bytes a char).
            raw_body=raw_body[:16_000].decode("utf-8", "replace"),
        )
    )


def _refuse(
    db: Database,
    *,
    raw_body: bytes,
    event: str | None,
    signature_ok: bool,
    body: TripayCallbackIn | None,
    refused: _Refused,
) -> CallbackResult:
    log.warning(
        "Tripay callback refused (%s): %s; reference=%s",
        refused.reason,
        refused.message,
        body.reference if body else None,
    )
    CALLBACK_FAILURES.labels(reason=refused.reason).inc()
    CALLBACKS.labels(outcome="rejected").inc()
    run_in_transaction(
        db,
        lambda s: _log_callback(
            s,
            raw_body=raw_body,
            event=event,
            signature_ok=signature_ok,
            body=body,
            order_pk=None,
            outcome="rejected",
            reason=refused.reason,
        ),
    )
    return CallbackResult(False, refused.status_code, refused.message, refused.reason)


def _match_order(session: Session, body: TripayCallbackIn) -> tuple[PaymentOrder, bool]:
    """The callback's order (locked) and whether its reference is learnt from this callback."""
    order = session.scalar(
        select(PaymentOrder).where(PaymentOrder.reference == body.reference).with_for_update()
    )
    if order is not None:
        if order.order_id != body.merchant_ref:
            raise _Refused("merchant_ref_mismatch", 409, "merchant_ref does not match reference")
        return order, False
    order = session.scalar(
        select(PaymentOrder).where(PaymentOrder.order_id == body.merchant_ref).with_for_update()
    )
    if order is None:
        raise _Refused("unknown_order", 404, "unknown reference and merchant_ref")
    if order.reference is not None:
        raise _Refused("reference_mismatch", 409, "reference does not match merchant_ref")
    if order.creating_token is None and not order.create_uncertain:
        # We never asked Tripay for this order, so no genuine callback can name it.
        raise _Refused("unknown_order", 404, "no Tripay transaction was requested for this order")
    return order, True


def handle_callback(
    db: Database,
    *,
    private_key: str,
    event: str | None,
    signature: str | None,
    raw_body: bytes,
) -> CallbackResult:
    """Verify and apply one Tripay callback; idempotent, and changes nothing unless valid."""
    if event != CALLBACK_EVENT:
        return _refuse(
            db,
            raw_body=raw_body,
            event=event,
            signature_ok=False,
            body=None,
            refused=_Refused("wrong_event", 400, f"unsupported callback event {event!r}"),
        )
    if not verify_callback_signature(
        private_key=private_key, raw_body=raw_body, signature=signature
    ):
        return _refuse(
            db,
            raw_body=raw_body,
            event=event,
            signature_ok=False,
            body=None,
            refused=_Refused("bad_signature", 401, "invalid signature"),
        )
    try:
        body = TripayCallbackIn.model_validate_json(raw_body)
    except ValidationError:
        return _refuse(
            db,
            raw_body=raw_body,
            event=event,
            signature_ok=True,
            body=None,
            refused=_Refused("malformed", 400, "the callback body is not a payment status"),
        )
    if body.status not in FINAL_STATUSES:
        return _refuse(
            db,
            raw_body=raw_body,
            event=event,
            signature_ok=True,
            body=body,
            refused=_Refused("bad_status", 400, f"unsupported status {body.status!r}"),
        )

    def work(session: Session) -> str:
        order, learnt_reference = _match_order(session, body)
        if body.total_amount != order.amount:
            raise _Refused(
                "amount_mismatch",
                422,
                f"total_amount {body.total_amount} does not match the order's {order.amount}",
            )
        now = _now()
        move = _apply_status(
            order, status=body.status, paid_at=body.paid_at, now=now, source="callback"
        )
        if move == Move.INVALID:
            raise _Refused(
                "invalid_transition", 409, f"order is {order.status}, cannot become {body.status}"
            )
        if learnt_reference:
            order.reference = body.reference
            order.updated_at = now
        if move == Move.APPLY:
            for field in ("fee_merchant", "fee_customer", "total_fee", "amount_received"):
                value = getattr(body, field)
                if value is not None:
                    setattr(order, field, value)
        outcome = "processed" if move == Move.APPLY else "duplicate"
        _log_callback(
            session,
            raw_body=raw_body,
            event=event,
            signature_ok=True,
            body=body,
            order_pk=order.id,
            outcome=outcome,
            reason=None,
        )
        return outcome

    try:
        outcome = run_in_transaction(db, work)
    except _Refused as refused:
        return _refuse(
            db, raw_body=raw_body, event=event, signature_ok=True, body=body, refused=refused
        )
    CALLBACKS.labels(outcome=outcome).inc()
    return CallbackResult(True, 200, outcome)
