"""The Tripay HTTP client: the one seam between Kasir and the payment gateway.

It speaks the protocol in ``docs/tripay.md``: Bearer api key on every call, answers
shaped ``{"success", "message", "data"}`` (read ``success``, never the status code),
closed-payment transactions signed with HMAC-SHA256 of ``merchant_code + merchant_ref
+ amount``. Every failure (timeout, network, HTTP 5xx, ``success: false``, an answer
that is not what the protocol promises) becomes one :class:`TripayError` whose
message code (``shared/messages``) a cashier can read in either language.

Tests inject the transport: ``TripayClient(httpx.Client(transport=httpx.MockTransport(h)),
...)`` or a client pointed at the local sandbox running under uvicorn.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError

from shared.errors import CodedError
from sync_server.core.config import Settings

if TYPE_CHECKING:  # httpx is imported when the first call goes out: a faster cold start
    import httpx

log = logging.getLogger("kasir.payments.tripay")

DEFAULT_TIMEOUT_SECONDS = 15.0
DEFAULT_CONNECT_TIMEOUT_SECONDS = 5.0
CHANNEL_CACHE_SECONDS = 300.0


class TripayStatus(StrEnum):
    """A Tripay transaction's status (and so a payment order's)."""

    UNPAID = "UNPAID"
    PAID = "PAID"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"
    REFUND = "REFUND"


class TripayErrorKind(StrEnum):
    """Why a Tripay call failed; decides the HTTP status the till hears."""

    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    SERVER_ERROR = "server_error"
    REJECTED = "rejected"
    BAD_ANSWER = "bad_answer"


class TripayError(CodedError):
    """A Tripay call that did not succeed: a message code a till can show, and its kind.

    ``TripayError("tripay_refused", kind=..., tripay_message=..., http_status=...)``;
    ``tripay_message`` and ``http_status`` are also the message's parameters.
    """

    code = "tripay_error"

    def __init__(
        self,
        code: str,
        /,
        *,
        kind: TripayErrorKind,
        tripay_message: str | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(code, tripay_message=tripay_message, http_status=http_status)
        self.kind = kind
        self.tripay_message = tripay_message
        self.http_status = http_status


def create_signature(
    *, private_key: str, merchant_code: str, merchant_ref: str, amount: int
) -> str:
    """Signature of a closed transaction: hex HMAC-SHA256(private_key, code + ref + amount)."""
    message = f"{merchant_code}{merchant_ref}{amount}".encode()
    return hmac.new(private_key.encode(), message, hashlib.sha256).hexdigest()


def callback_signature(*, private_key: str, raw_body: bytes) -> str:
    """Signature Tripay puts in ``X-Callback-Signature``: hex HMAC-SHA256 of the raw body."""
    return hmac.new(private_key.encode(), raw_body, hashlib.sha256).hexdigest()


def verify_callback_signature(*, private_key: str, raw_body: bytes, signature: str | None) -> bool:
    """True when ``signature`` is the callback signature of exactly these bytes (constant time)."""
    if not signature:
        return False
    expected = callback_signature(private_key=private_key, raw_body=raw_body)
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode())


@dataclass(frozen=True)
class OrderItem:
    """One line Tripay shows the payer. ``price`` is whole rupiah per unit."""

    name: str
    price: int
    quantity: int
    sku: str | None = None

    def as_tripay(self) -> dict[str, Any]:
        """The item as Tripay's ``order_items[]`` element."""
        item: dict[str, Any] = {"name": self.name, "price": self.price, "quantity": self.quantity}
        if self.sku:
            item["sku"] = self.sku
        return item


class _Lenient(BaseModel):
    """Tripay answers carry more fields than we read; ignore the rest."""

    model_config = ConfigDict(extra="ignore")


class FeeSplit(_Lenient):
    """A fee as flat rupiah plus a percentage (Tripay sends the percent as a string)."""

    flat: int = 0
    percent: float | str = 0


class PaymentChannel(_Lenient):
    """One channel from ``merchant/payment-channel``."""

    group: str = ""
    code: str
    name: str
    type: str = "direct"
    fee_merchant: FeeSplit = FeeSplit()
    fee_customer: FeeSplit = FeeSplit()
    total_fee: FeeSplit = FeeSplit()
    minimum_fee: int | None = None
    maximum_fee: int | None = None
    minimum_amount: int | None = None
    maximum_amount: int | None = None
    icon_url: str | None = None
    active: bool = True


class FeeQuote(_Lenient):
    """One row of ``merchant/fee-calculator``: what the merchant and customer pay."""

    code: str
    name: str = ""
    fee: dict[str, Any] = {}
    total_fee: dict[str, int] = {}

    @property
    def merchant_fee(self) -> int:
        """Rupiah the merchant pays."""
        return int(self.total_fee.get("merchant", 0))

    @property
    def customer_fee(self) -> int:
        """Rupiah the customer pays on top."""
        return int(self.total_fee.get("customer", 0))


class TripayTransaction(_Lenient):
    """A transaction as ``transaction/create`` and ``transaction/detail`` describe it."""

    reference: str
    merchant_ref: str
    payment_method: str | None = None
    payment_name: str | None = None
    amount: int
    fee_merchant: int = 0
    fee_customer: int = 0
    total_fee: int = 0
    amount_received: int = 0
    status: TripayStatus
    expired_time: int | None = None
    paid_at: int | None = None
    qr_string: str | None = None
    qr_url: str | None = None
    checkout_url: str | None = None
    pay_url: str | None = None
    callback_url: str | None = None


def tripay_items(items: Sequence[OrderItem], amount: int, *, label: str) -> list[OrderItem]:
    """Items that add up to ``amount`` exactly (docs/tripay.md: always send items that do).

    The till's lines are sent as they are when they add up; otherwise (discounts, tax,
    part of a split tender) one line named ``label`` carries the whole amount.
    """
    if items and sum(i.price * i.quantity for i in items) == amount:
        return list(items)
    return [OrderItem(name=label, price=amount, quantity=1)]


class TripayClient:
    """A synchronous Tripay client over an injected ``httpx.Client``.

    ``timeout`` overrides the injected client's timeouts per call; ``from_settings``
    builds a client with 15 s (5 s to connect). The payment channel list is cached
    for ``channel_cache_seconds``; everything else goes to Tripay every time.
    """

    def __init__(
        self,
        http: httpx.Client | None,
        *,
        base_url: str,
        api_key: str,
        private_key: str,
        merchant_code: str,
        timeout: httpx.Timeout | float | None = None,
        channel_cache_seconds: float = CHANNEL_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.api_key = api_key
        self.private_key = private_key
        self.merchant_code = merchant_code
        self.timeout = timeout
        self.channel_cache_seconds = channel_cache_seconds
        self._clock = clock
        self._channels: tuple[float, list[PaymentChannel]] | None = None
        self._lock = threading.Lock()
        self._http_lock = threading.Lock()

    @property
    def http(self) -> httpx.Client:
        """The HTTP client; without an injected one, made (15 s, 5 s to connect) at the
        first call, so a server that never takes QRIS never loads httpx or TLS."""
        with self._http_lock:
            if self._http is None:
                import httpx

                self._http = httpx.Client(
                    timeout=httpx.Timeout(
                        DEFAULT_TIMEOUT_SECONDS, connect=DEFAULT_CONNECT_TIMEOUT_SECONDS
                    )
                )
            return self._http

    @classmethod
    def from_settings(cls, settings: Settings, http: httpx.Client | None = None) -> TripayClient:
        """A client for the configured Tripay (the local sandbox in development)."""
        return cls(
            http,
            base_url=settings.tripay_base_url,
            api_key=settings.tripay_api_key,
            private_key=settings.tripay_private_key,
            merchant_code=settings.tripay_merchant_code,
        )

    # -- the wire -----------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One call; returns the whole answer when ``success`` is true, else raises."""
        url = self.base_url + path
        # Without a timeout of our own, the injected client's timeouts apply.
        extra: dict[str, Any] = {} if self.timeout is None else {"timeout": self.timeout}
        import httpx  # already loaded by self.http; a name lookup here

        try:
            response = self.http.request(
                method,
                url,
                params=params,
                json=json,
                headers={"Authorization": f"Bearer {self.api_key}", "Accept": "application/json"},
                **extra,
            )
        except httpx.TimeoutException as exc:
            log.warning("tripay %s %s timed out: %s", method, path, exc)
            raise TripayError("tripay_timed_out", kind=TripayErrorKind.TIMEOUT) from exc
        except httpx.TransportError as exc:
            log.warning("tripay %s %s unreachable: %s", method, path, exc)
            raise TripayError("tripay_unreachable", kind=TripayErrorKind.UNREACHABLE) from exc
        if response.status_code >= 500:
            log.warning("tripay %s %s answered HTTP %s", method, path, response.status_code)
            raise TripayError(
                "tripay_server_error",
                kind=TripayErrorKind.SERVER_ERROR,
                http_status=response.status_code,
            )
        try:
            body = response.json()
        except ValueError as exc:
            raise TripayError(
                "tripay_bad_answer",
                kind=TripayErrorKind.BAD_ANSWER,
                http_status=response.status_code,
            ) from exc
        if not isinstance(body, dict) or "success" not in body:
            raise TripayError(
                "tripay_bad_answer",
                kind=TripayErrorKind.BAD_ANSWER,
                http_status=response.status_code,
            )
        if body.get("success") is not True:
            tripay_message = str(body.get("message") or "no reason given")
            log.warning("tripay %s %s refused: %s", method, path, tripay_message)
            raise TripayError(
                "tripay_refused",
                kind=TripayErrorKind.REJECTED,
                tripay_message=tripay_message,
                http_status=response.status_code,
            )
        return body

    def _data(self, body: dict[str, Any]) -> Any:
        return body.get("data")

    @staticmethod
    def _parse(model: type[_Lenient], data: Any) -> Any:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise TripayError(
                "tripay_bad_answer",
                kind=TripayErrorKind.BAD_ANSWER,
            ) from exc

    # -- the API ------------------------------------------------------------------

    def payment_channels(self, *, refresh: bool = False) -> list[PaymentChannel]:
        """Channels the merchant may use (cached for a few minutes)."""
        with self._lock:
            cached = self._channels
        if cached is not None and not refresh:
            fetched_at, channels = cached
            if self._clock() - fetched_at < self.channel_cache_seconds:
                return list(channels)
        data = self._data(self._call("GET", "merchant/payment-channel"))
        if not isinstance(data, list):
            data = []
        channels = [self._parse(PaymentChannel, row) for row in data]
        with self._lock:
            self._channels = (self._clock(), channels)
        return list(channels)

    def fee_calculator(self, *, amount: int, code: str | None = None) -> list[FeeQuote]:
        """Fees for ``amount`` on channel ``code`` (all channels when None)."""
        params: dict[str, str | int] = {"amount": amount}
        if code:
            params["code"] = code
        data = self._data(self._call("GET", "merchant/fee-calculator", params=params))
        if not isinstance(data, list):
            data = []
        return [self._parse(FeeQuote, row) for row in data]

    def create_transaction(
        self,
        *,
        method: str,
        merchant_ref: str,
        amount: int,
        items: Sequence[OrderItem],
        customer_name: str,
        customer_email: str,
        expired_time: int,
        customer_phone: str | None = None,
        callback_url: str | None = None,
        return_url: str | None = None,
    ) -> TripayTransaction:
        """Open a closed-payment transaction (signed); ``items`` must add up to ``amount``."""
        if sum(i.price * i.quantity for i in items) != amount:
            raise ValueError("order items must add up to the amount (use tripay_items)")
        payload: dict[str, Any] = {
            "method": method,
            "merchant_ref": merchant_ref,
            "amount": amount,
            "customer_name": customer_name,
            "customer_email": customer_email,
            "order_items": [i.as_tripay() for i in items],
            "expired_time": expired_time,
            "signature": create_signature(
                private_key=self.private_key,
                merchant_code=self.merchant_code,
                merchant_ref=merchant_ref,
                amount=amount,
            ),
        }
        if customer_phone:
            payload["customer_phone"] = customer_phone
        if callback_url:
            payload["callback_url"] = callback_url
        if return_url:
            payload["return_url"] = return_url
        tx: TripayTransaction = self._parse(
            TripayTransaction, self._data(self._call("POST", "transaction/create", json=payload))
        )
        if tx.merchant_ref != merchant_ref or tx.amount != amount:
            raise TripayError("tripay_other_order", kind=TripayErrorKind.BAD_ANSWER)
        return tx

    def transaction_detail(self, *, reference: str) -> TripayTransaction:
        """The full transaction for ``reference``, ``paid_at`` included."""
        tx: TripayTransaction = self._parse(
            TripayTransaction,
            self._data(self._call("GET", "transaction/detail", params={"reference": reference})),
        )
        return tx

    def check_status(self, *, reference: str) -> TripayStatus:
        """Only the status of ``reference`` (Tripay puts it in ``message``)."""
        body = self._call("GET", "transaction/check-status", params={"reference": reference})
        message = str(body.get("message") or "")
        for word in reversed(message.replace(".", " ").split()):
            if word.upper() in TripayStatus.__members__:
                return TripayStatus(word.upper())
        raise TripayError(
            "tripay_bad_status",
            kind=TripayErrorKind.BAD_ANSWER,
            tripay_message=message,
        )

    def transactions(
        self,
        *,
        merchant_ref: str | None = None,
        reference: str | None = None,
        status: TripayStatus | None = None,
        page: int = 1,
        per_page: int = 50,
    ) -> list[TripayTransaction]:
        """One page of the merchant's transactions, filtered (``per_page`` at most 50)."""
        params: dict[str, str | int] = {"page": page, "per_page": min(per_page, 50)}
        if merchant_ref:
            params["merchant_ref"] = merchant_ref
        if reference:
            params["reference"] = reference
        if status:
            params["status"] = status.value
        data = self._data(self._call("GET", "merchant/transactions", params=params))
        if not isinstance(data, list):
            data = []
        return [self._parse(TripayTransaction, row) for row in data]
