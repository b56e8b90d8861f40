"""Error messages in English, by code (see :mod:`shared.messages`)."""

MESSAGES: dict[str, str] = {
    "error": "Something went wrong.",
    # -- QRIS at the till ---------------------------------------------------------------
    "qris_error": "QRIS cannot be used right now. Take cash.",
    "qris_offline": "QRIS needs the server, and the till is offline. Take cash instead.",
    "qris_not_enrolled": "This till is not enrolled with a server yet; QRIS is unavailable.",
    "qris_amount_not_positive": "A QRIS amount must be more than Rp0.",
    "qris_tripay_error": (
        "The QRIS service (Tripay) has a problem. Try again in a moment, or take cash."
    ),
    "tripay_timeout": "The QRIS service (Tripay) did not answer in time. Try again, or take cash.",
    "tripay_rejected": "Tripay refused this QRIS payment. Take cash, or call the manager.",
    "amount_out_of_range": (
        "QRIS takes {minimum:rupiah} to {maximum:rupiah}. Take cash, or split the payment."
    ),
    "payment_in_progress": "The QR code is still being made. Try again in a moment.",
    "qris_server_refused": "The server refused this QRIS payment: {reason}",
    "qris_auth_revoked": (
        "This till is no longer enrolled with the server, so QRIS cannot be used. "
        "Take cash and call the manager."
    ),
    "qris_protocol_mismatch": "The till app must be updated to use QRIS. Take cash.",
    "qris_not_paid": (
        "The QRIS payment is {state:msg}, so the sale is not finished. "
        "Try QRIS again, or take cash."
    ),
    "qris_state_UNPAID": "not paid yet",
    "qris_state_EXPIRED": "expired",
    "qris_state_FAILED": "failed",
    "qris_state_REFUND": "refunded",
    "qris_state_other": "not paid",
    "qris_already_used": "This QRIS payment was already used for another sale.",
    "qris_unknown_order": "No QRIS payment {order_id}.",
}
