"""The till's HTTP calls for QRIS: the server's ``/api/v1/payment/*`` routes.

Same seam as :class:`~pos_client.sync.client.SyncClient`: it takes an injected
``httpx.Client`` (tests pass ``httpx.MockTransport``) and turns every failure into a
typed error. It raises the sync client's errors (:class:`Offline`, :class:`AuthRevoked`,
:class:`ProtocolMismatch`, :class:`ServerRejected`) plus one of its own,
:class:`PaymentGatewayError`: the server is up but Tripay failed or refused. The sync
client folds every 5xx into "offline", which is right for pushes but would hide from
the cashier that the till is online and only QRIS is down.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import TypeAdapter, ValidationError

from pos_client.sync.client import (
    _RETRYABLE_4XX,
    AuthRevoked,
    Offline,
    ProtocolMismatch,
    ServerRejected,
    SyncError,
    _error_of,
    _parse,
    _url,
)
from shared.models import (
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
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

    def __init__(self, message: str, *, status_code: int, code: str, details: Any = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.details = details

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


def _send(http: httpx.Client, request: httpx.Request) -> httpx.Response:
    """Send ``request``; failures become typed errors, Tripay's apart from the server's."""
    try:
        response = http.send(request)
    except httpx.TransportError as exc:  # connect errors, timeouts, dropped connections
        raise Offline(f"Server unreachable: {type(exc).__name__}: {exc}") from exc
    status = response.status_code
    if status < 400:
        return response
    code, message, details = _error_of(response)
    if code.startswith(TRIPAY_CODE_PREFIX):
        raise PaymentGatewayError(message, status_code=status, code=code, details=details)
    if status >= 500 or status in _RETRYABLE_4XX:
        # A proxy's 502 or the server's own 5xx: the server is not usable right now.
        raise Offline(f"Server error {status}: {message}")
    if status == 426:
        raise ProtocolMismatch(message)
    if status == 401:
        raise AuthRevoked(message)
    raise ServerRejected(message, status_code=status, code=code, details=details)


class PaymentsClient:
    """QRIS orders on the server on behalf of one enrolled terminal."""

    def __init__(self, http: httpx.Client, *, base_url: str, token: str) -> None:
        """Use ``http`` (its transport and timeouts) to reach ``base_url`` with ``token``."""
        self._http = http
        self.base_url = base_url.rstrip("/")
        self._headers = {
            "Authorization": f"Bearer {token}",
            PROTOCOL_HEADER: str(PROTOCOL_VERSION),
            "Accept": "application/json",
        }

    def _post(self, path: str, body: str) -> httpx.Response:
        request = self._http.build_request(
            "POST",
            _url(self.base_url, path),
            content=body.encode(),
            headers={**self._headers, "Content-Type": "application/json"},
        )
        return _send(self._http, request)

    def channels(self) -> list[PaymentChannelOut]:
        """The payment channels Tripay offers now (the server caches them)."""
        request = self._http.build_request(
            "GET", _url(self.base_url, CHANNELS_PATH), headers=self._headers
        )
        response = _send(self._http, request)
        try:
            return _CHANNELS.validate_json(response.content)
        except ValidationError as exc:
            raise Offline(
                f"Unexpected answer from {CHANNELS_PATH} (HTTP {response.status_code})"
            ) from exc

    def create_transaction(self, data: CreateTransactionIn) -> PaymentOrderOut:
        """Create the pending order (or get it back when ``order_id`` already exists)."""
        response = self._post(CREATE_TRANSACTION_PATH, data.model_dump_json(exclude_none=True))
        return _parse(response, PaymentOrderOut)

    def create_payment(self, data: CreatePaymentIn) -> PaymentOrderOut:
        """Ask for the order's QR (idempotent: the same QR comes back every time)."""
        return _parse(self._post(CREATE_PAYMENT_PATH, data.model_dump_json()), PaymentOrderOut)

    def status(self, order_id: str) -> PaymentOrderOut:
        """The order as the server knows it now; poll until ``final``."""
        request = self._http.build_request(
            "GET",
            _url(self.base_url, STATUS_PATH),
            params={"order_id": order_id},
            headers=self._headers,
        )
        return _parse(_send(self._http, request), PaymentOrderOut)

    def close(self) -> None:
        """Close the underlying ``httpx.Client``."""
        self._http.close()

    def __enter__(self) -> PaymentsClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
