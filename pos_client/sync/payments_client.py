"""The till's HTTP calls for QRIS: the server's ``/api/v1/payment/*`` routes.

A :class:`~pos_client.sync.http.ServerClient` like the sync client (same seam, same
errors: :class:`Offline`, :class:`AuthRevoked`, :class:`ProtocolMismatch`,
:class:`ServerRejected`) plus one of its own, :class:`PaymentGatewayError`: the server
is up but Tripay failed or refused. The sync client folds every 5xx into "offline",
which is right for pushes but would hide from the cashier that the till is online and
only QRIS is down.
"""

from __future__ import annotations

from typing import Any, NoReturn

import httpx
from pydantic import TypeAdapter, ValidationError

from pos_client.sync.http import Offline, ServerClient, SyncError, parse
from shared.models import (
    CreatePaymentIn,
    CreateTransactionIn,
    PaymentChannelOut,
    PaymentOrderOut,
)

CHANNELS_PATH = "/api/v1/payment/get-payment-channel"
CREATE_TRANSACTION_PATH = "/api/v1/payment/create-transaction"
CREATE_PAYMENT_PATH = "/api/v1/payment/create-payment"
STATUS_PATH = "/api/v1/payment/get-status-payment"

TRIPAY_CODE_PREFIX = "tripay_"
"""Error codes the server uses when Tripay, not the server, failed (502/504)."""


_CHANNELS = TypeAdapter(list[PaymentChannelOut])


class PaymentGatewayError(SyncError):
    """The server answered, but Tripay failed or refused (``tripay_*`` codes, 502/504).

    Nothing was stored on the server for the failed step; ``retryable`` says whether
    the same call may simply be tried again.
    """

    code = "payment_gateway_error"

    def __init__(self, message: str, *, status_code: int, code: str, details: Any = None) -> None:
        super().__init__(message, code=code, details=details)
        self.status_code = status_code

    @property
    def retryable(self) -> bool:
        """True when the server says the call may be repeated as it is."""
        return isinstance(self.details, dict) and bool(self.details.get("retryable"))

    @property
    def tripay_message(self) -> str | None:
        """Tripay's own words, when it said any (for logs, not for the cashier)."""
        if isinstance(self.details, dict):
            value = self.details.get("tripay_message")
            return str(value) if value is not None else None
        return None


class PaymentsClient(ServerClient):
    """QRIS orders on the server on behalf of one enrolled terminal."""

    def __init__(self, http: httpx.Client, *, base_url: str, token: str) -> None:
        """Use ``http`` (its transport and timeouts) to reach ``base_url`` with ``token``."""
        super().__init__(http, base_url=base_url, token=token)

    def _refusal(self, status: int, code: str, message: str, details: Any) -> NoReturn:
        if code.startswith(TRIPAY_CODE_PREFIX):
            raise PaymentGatewayError(message, status_code=status, code=code, details=details)
        super()._refusal(status, code, message, details)

    def channels(self) -> list[PaymentChannelOut]:
        """The payment channels Tripay offers now (the server caches them)."""
        response = self.get(CHANNELS_PATH)
        try:
            return _CHANNELS.validate_json(response.content)
        except ValidationError as exc:
            raise Offline(
                f"Unexpected answer from {CHANNELS_PATH} (HTTP {response.status_code})"
            ) from exc

    def create_transaction(self, data: CreateTransactionIn) -> PaymentOrderOut:
        """Create the pending order (or get it back when ``order_id`` already exists)."""
        response = self.post(CREATE_TRANSACTION_PATH, data.model_dump_json(exclude_none=True))
        return parse(response, PaymentOrderOut)

    def create_payment(self, data: CreatePaymentIn) -> PaymentOrderOut:
        """Ask for the order's QR (idempotent: the same QR comes back every time)."""
        return parse(self.post(CREATE_PAYMENT_PATH, data.model_dump_json()), PaymentOrderOut)

    def status(self, order_id: str) -> PaymentOrderOut:
        """The order as the server knows it now; poll until ``final``."""
        return parse(self.get(STATUS_PATH, {"order_id": order_id}), PaymentOrderOut)

    def __enter__(self) -> PaymentsClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
