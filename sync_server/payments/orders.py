"""Payment orders: storing a till's order (create-transaction) and opening its QR at Tripay.

An order row (``order_id`` = Tripay ``merchant_ref``) exists before Tripay is asked, so
a callback that overtakes the create answer finds it by ``merchant_ref``. One order
never gets two Tripay transactions: a create-payment call first takes a claim on the
row with a conditional UPDATE, talks to Tripay outside any database transaction, then
stores the answer. A create that failed in a way that leaves Tripay's side unknown
(timeout, 5xx) is looked up by ``merchant_ref`` before a retry creates anything.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.ids import new_id
from shared.models import CreatePaymentIn, CreateTransactionIn, OrderItemIn, PaymentOrderOut
from sync_server.core.database import Database, run_in_transaction
from sync_server.core.errors import Conflict, Invalid
from sync_server.core.metrics import PAYMENTS
from sync_server.core.models import Store
from sync_server.payments.models import PaymentOrder
from sync_server.payments.service import (
    Move,
    PaymentGatewayError,
    apply_status,
    db_now,
    from_unix,
    gateway_error,
    order_not_found,
    order_out,
    take_fees,
)
from sync_server.payments.tripay import (
    OrderItem,
    TripayClient,
    TripayError,
    TripayErrorKind,
    TripayStatus,
    TripayTransaction,
    tripay_items,
)

log = logging.getLogger("kasir.payments")

# docs/tripay.md, "QRIS channels": amount and expiry limits per channel.
QRIS_MIN_AMOUNT = 1_000
QRIS_MAX_AMOUNT = 5_000_000
QRIS_EXPIRY_MINUTES = {"QRIS": (10, 60), "QRISC": (10, 1440), "QRIS2": (10, 1440)}

DEFAULT_CUSTOMER_EMAIL = "pelanggan@kasir.id"

CLAIM_STALE_AFTER = timedelta(seconds=120)  # far beyond the Tripay client's timeout
CLAIM_WAIT_SECONDS = 20.0


def _items_json(items: list[OrderItemIn]) -> str:
    return json.dumps(
        [i.model_dump() for i in items], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


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
            "order_amount_out_of_range",
            minimum=QRIS_MIN_AMOUNT,
            maximum=QRIS_MAX_AMOUNT,
            amount=data.amount,
            code="amount_out_of_range",
            details={"minimum": QRIS_MIN_AMOUNT, "maximum": QRIS_MAX_AMOUNT},
        )
    order_id = data.order_id or _new_order_id(terminal_code)
    items = _items_json(data.items)

    def same_or_conflict(order: PaymentOrder) -> PaymentOrderOut:
        if order.terminal_id != terminal_id or order.amount != data.amount or order.items != items:
            raise Conflict(
                "order_conflict",
                order_id=order_id,
                code="order_conflict",
                details={"order_id": order_id},
            )
        return order_out(order)

    def work(session: Session) -> tuple[PaymentOrderOut, bool]:
        existing = session.scalar(select(PaymentOrder).where(PaymentOrder.order_id == order_id))
        if existing is not None:
            return same_or_conflict(existing), False
        store_name = session.scalar(select(Store.name).where(Store.id == store_id)) or "Kasir"
        now = db_now()
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
        out, created = run_in_transaction(db, work)
    except IntegrityError:
        pass  # two requests raced: the loser's INSERT hit the unique order_id
    else:
        if created:
            PAYMENTS.labels(status="created").inc()
        return out, created
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
        raise order_not_found(order_id)
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
                updated_at=db_now(),
            )
            .execution_options(synchronize_session=False)
        )

    run_in_transaction(db, work)


def _store_opened(
    db: Database, *, claimed: _Claimed, tx: TripayTransaction, method: str
) -> PaymentOrderOut:
    moved: list[str] = []  # the status Tripay's answer moved the order to, for the metric

    def work(session: Session) -> PaymentOrderOut:
        moved.clear()
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
            raise PaymentGatewayError("tripay_conflict", code="tripay_conflict")
        now = db_now()
        order.reference = tx.reference
        order.method = method
        order.qr_string = tx.qr_string
        order.qr_url = tx.qr_url
        order.checkout_url = tx.checkout_url
        take_fees(order, tx)
        order.expires_at = from_unix(tx.expired_time)
        order.opened_at = now
        order.creating_token = None
        order.creating_since = None
        order.create_uncertain = False
        order.last_error = None
        order.updated_at = now
        if tx.status != TripayStatus.UNPAID:
            move = apply_status(
                order, status=tx.status.value, paid_at=tx.paid_at, now=now, source="create"
            )
            if move == Move.APPLY:
                moved.append(tx.status.value)
        session.flush()
        return order_out(order)

    out = run_in_transaction(db, work)
    for status in moved:
        PAYMENTS.labels(status=status).inc()
    return out


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
            "expiry_out_of_range",
            method=data.method,
            minimum=low,
            maximum=high,
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
            now=db_now(),
        )
        got = run_in_transaction(db, claim)
        if isinstance(got, PaymentOrderOut):
            return got
        if isinstance(got, _Claimed):
            claimed = got
            break
        if time.monotonic() >= deadline:
            raise Conflict(
                "order_payment_in_progress",
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
            raise TripayError("tripay_other_order", kind=TripayErrorKind.BAD_ANSWER)
    except TripayError as exc:
        # A refusal means nothing was created; anything else might have been.
        uncertain = exc.kind != TripayErrorKind.REJECTED or claimed.uncertain
        _release_claim(db, claimed=claimed, error=exc.message, uncertain=uncertain)
        raise gateway_error(exc) from exc
    except BaseException:
        _release_claim(db, claimed=claimed, error="internal error", uncertain=True)
        raise
    return _store_opened(db, claimed=claimed, tx=tx, method=data.method)
