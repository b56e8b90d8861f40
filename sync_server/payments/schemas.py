"""Wire schemas of the payment API, re-exported from :mod:`shared.models.payments`.

They live in ``shared/models`` because the till reads and sends the same shapes and
must not import the server; this module keeps the feature's usual ``schemas`` name.
"""

from shared.models.payments import (
    CALLBACK_EXAMPLE,
    ORDER_ID_PATTERN,
    CallbackAnswer,
    CreatePaymentIn,
    CreateTransactionIn,
    OrderItemIn,
    OrderListOut,
    OrderStatus,
    PaymentChannelOut,
    PaymentOrderOut,
    QrisMethod,
    TripayCallbackIn,
)

__all__ = [
    "CALLBACK_EXAMPLE",
    "ORDER_ID_PATTERN",
    "CallbackAnswer",
    "CreatePaymentIn",
    "CreateTransactionIn",
    "OrderItemIn",
    "OrderListOut",
    "OrderStatus",
    "PaymentChannelOut",
    "PaymentOrderOut",
    "QrisMethod",
    "TripayCallbackIn",
]
