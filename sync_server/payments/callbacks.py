"""Tripay's payment status callback: verified, matched to its order, applied once.

A callback is believed only with the right event header, a valid HMAC of the raw body,
a matching reference, merchant_ref and amount. Anything else changes nothing, is logged
in ``payment_callbacks`` and counted; the same callback twice is applied once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.models import TripayCallbackIn
from sync_server.core.database import Database, run_in_transaction
from sync_server.core.metrics import CALLBACK_FAILURES, CALLBACKS, PAYMENTS
from sync_server.payments.models import PaymentCallback, PaymentOrder
from sync_server.payments.service import FINAL_STATUSES, Move, apply_status, db_now, take_fees
from sync_server.payments.tripay import verify_callback_signature

log = logging.getLogger("kasir.payments")

CALLBACK_EVENT = "payment_status"


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
            received_at=db_now(),
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


def _apply_callback(
    session: Session, *, body: TripayCallbackIn, raw_body: bytes, event: str | None
) -> str:
    """Apply a verified callback to its order: ``processed`` or ``duplicate``."""
    order, learnt_reference = _match_order(session, body)
    if body.total_amount != order.amount:
        raise _Refused(
            "amount_mismatch",
            422,
            f"total_amount {body.total_amount} does not match the order's {order.amount}",
        )
    now = db_now()
    move = apply_status(order, status=body.status, paid_at=body.paid_at, now=now, source="callback")
    if move == Move.INVALID:
        raise _Refused(
            "invalid_transition", 409, f"order is {order.status}, cannot become {body.status}"
        )
    if learnt_reference:
        order.reference = body.reference
        order.updated_at = now
    if move == Move.APPLY:
        take_fees(order, body)
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


def handle_callback(
    db: Database,
    *,
    private_key: str,
    event: str | None,
    signature: str | None,
    raw_body: bytes,
) -> CallbackResult:
    """Verify and apply one Tripay callback; idempotent, and changes nothing unless valid."""
    signature_ok = False
    body: TripayCallbackIn | None = None
    try:
        if event != CALLBACK_EVENT:
            raise _Refused("wrong_event", 400, f"unsupported callback event {event!r}")
        if not verify_callback_signature(
            private_key=private_key, raw_body=raw_body, signature=signature
        ):
            raise _Refused("bad_signature", 401, "invalid signature")
        signature_ok = True
        try:
            body = checked = TripayCallbackIn.model_validate_json(raw_body)
        except ValidationError:
            raise _Refused("malformed", 400, "the callback body is not a payment status") from None
        if checked.status not in FINAL_STATUSES:
            raise _Refused("bad_status", 400, f"unsupported status {checked.status!r}")
        outcome = run_in_transaction(
            db,
            lambda session: _apply_callback(session, body=checked, raw_body=raw_body, event=event),
        )
    except _Refused as refused:
        return _refuse(
            db,
            raw_body=raw_body,
            event=event,
            signature_ok=signature_ok,
            body=body,
            refused=refused,
        )
    CALLBACKS.labels(outcome=outcome).inc()
    if outcome == "processed":  # the order moved to the callback's status
        PAYMENTS.labels(status=checked.status).inc()
    return CallbackResult(True, 200, outcome)
