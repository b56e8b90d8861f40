"""A local Tripay sandbox: the same endpoints, checks and callbacks as Tripay's.

For the demo and the tests only; no production configuration points at it (the
settings refuse sandbox keys in production). State lives in memory. Endpoints live
under ``/api-sandbox/`` exactly as in docs/tripay.md (in this repo), plus a simulator:
``POST /api-sandbox/simulator/{reference}/{pay|expire|fail|refund}`` changes a
transaction's status and then POSTs the signed callback to its ``callback_url`` in a
background thread, retrying until the merchant answers ``{"success": true}``.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from sync_server.tripay_sandbox.qris import qris_payload

log = logging.getLogger("kasir.tripay_sandbox")

PREFIX = "/api-sandbox"
FEE_FLAT = 750
FEE_PERCENT_BP = 70  # 0.70 %, in hundredths of a percent
MIN_AMOUNT = 1_000
MAX_AMOUNT = 5_000_000
DEFAULT_EXPIRY_SECONDS = 24 * 3600  # Tripay's default when expired_time is missing
EXPIRY_SLACK_SECONDS = 60  # the request's own travel time must not push it out of range
STATUSES = ("UNPAID", "PAID", "EXPIRED", "FAILED", "REFUND")


@dataclass(frozen=True)
class Channel:
    """A QRIS channel with its limits (docs/tripay.md, "QRIS channels")."""

    code: str
    name: str
    min_expiry_minutes: int
    max_expiry_minutes: int
    group: str = "E-Wallet"


CHANNELS: dict[str, Channel] = {
    c.code: c
    for c in (
        Channel("QRIS", "QRIS by ShopeePay", 10, 60),
        Channel("QRISC", "QRIS (Customizable)", 10, 1440),
        Channel("QRIS2", "QRIS", 10, 1440),
    )
}


def merchant_fee(amount: int) -> int:
    """750 + 0.7 % of ``amount``, rounded half up to whole rupiah (100000 → 1450)."""
    return FEE_FLAT + (amount * FEE_PERCENT_BP + 5_000) // 10_000


class SandboxError(Exception):
    """A Tripay-shaped refusal: ``{"success": false, "message": ...}``."""

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


@dataclass
class CallbackAttempt:
    """One delivery of a callback and what the merchant answered."""

    attempt: int
    at: float
    status_code: int | None
    success: bool
    error: str | None = None


@dataclass
class Transaction:
    """A sandbox transaction: what Tripay would answer, plus the callback history."""

    data: dict[str, Any]
    callbacks: list[CallbackAttempt] = field(default_factory=list)


class SandboxState:
    """All transactions of one sandbox, guarded by a lock (handlers and callback threads)."""

    def __init__(
        self,
        *,
        api_key: str,
        private_key: str,
        merchant_code: str,
        callback_retry_interval: float,
        callback_max_attempts: int,
        clock: Callable[[], float],
        callback_client: httpx.Client | None,
    ) -> None:
        self.api_key = api_key
        self.private_key = private_key
        self.merchant_code = merchant_code
        self.callback_retry_interval = callback_retry_interval
        self.callback_max_attempts = callback_max_attempts
        self.clock = clock
        self.lock = threading.RLock()
        self.transactions: dict[str, Transaction] = {}
        self._sequence = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.http = callback_client or httpx.Client(timeout=10.0)

    # -- transactions -------------------------------------------------------------

    def new_reference(self) -> str:
        """A fresh ``DEV-T...`` reference."""
        with self.lock:
            self._sequence += 1
            digits = re.sub(r"\D", "", self.merchant_code) or "0"
            return f"DEV-T{digits}{self._sequence:08d}{secrets.token_hex(3).upper()[:5]}"

    def get(self, reference: str) -> Transaction:
        """The transaction, settled for expiry; raises a Tripay-shaped 404."""
        with self.lock:
            tx = self.transactions.get(reference)
            if tx is None:
                raise SandboxError("Transaction not found", 404)
            data = tx.data
            if data["status"] == "UNPAID" and self.clock() >= data["expired_time"]:
                self._set_status(tx, "EXPIRED")
            return tx

    def _set_status(self, tx: Transaction, status: str) -> None:
        tx.data["status"] = status
        if status == "PAID":
            tx.data["paid_at"] = int(self.clock())
        self.send_callback(tx)

    def simulate(self, reference: str, action: str) -> Transaction:
        """Move a transaction as the payer or Tripay would: pay, expire, fail or refund."""
        moves = {"pay": ("UNPAID", "PAID"), "expire": ("UNPAID", "EXPIRED"),
                 "fail": ("UNPAID", "FAILED"), "refund": ("PAID", "REFUND")}  # fmt: skip
        if action not in moves:
            raise SandboxError(f"Unknown action {action!r}; use pay, expire, fail or refund", 404)
        before, after = moves[action]
        with self.lock:
            tx = self.get(reference)
            if tx.data["status"] != before:
                raise SandboxError(
                    f"Transaction is {tx.data['status']}; {action} needs {before}", 409
                )
            self._set_status(tx, after)
            return tx

    # -- callbacks ----------------------------------------------------------------

    def callback_body(self, tx: Transaction) -> bytes:
        """The exact bytes POSTed (and signed) for the transaction's current status."""
        d = tx.data
        body = {
            "reference": d["reference"],
            "merchant_ref": d["merchant_ref"],
            "payment_method": d["payment_name"],
            "payment_method_code": d["payment_method"],
            "total_amount": d["amount"] + d["fee_customer"],
            "fee_merchant": d["fee_merchant"],
            "fee_customer": d["fee_customer"],
            "total_fee": d["total_fee"],
            "amount_received": d["amount_received"],
            "is_closed_payment": 1,
            "status": d["status"],
            "paid_at": d.get("paid_at"),
            "note": None,
        }
        return json.dumps(body, separators=(",", ":")).encode()

    def send_callback(self, tx: Transaction) -> None:
        """Deliver the status callback in the background (if the transaction has a URL)."""
        url = tx.data.get("callback_url")
        if not url:
            return
        raw = self.callback_body(tx)
        signature = hmac.new(self.private_key.encode(), raw, hashlib.sha256).hexdigest()
        thread = threading.Thread(
            target=self._deliver,
            args=(tx, url, raw, signature),
            name=f"tripay-sandbox-callback-{tx.data['reference']}",
            daemon=True,
        )
        with self.lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _deliver(self, tx: Transaction, url: str, raw: bytes, signature: str) -> None:
        """First delivery plus up to ``callback_max_attempts`` retries, until success."""
        headers = {
            "Content-Type": "application/json",
            "X-Callback-Event": "payment_status",
            "X-Callback-Signature": signature,
            "User-Agent": "TriPay Callback (Kasir sandbox)",
        }
        for attempt in range(1, self.callback_max_attempts + 2):
            if self._stop.is_set():
                return
            status_code: int | None = None
            success = False
            error: str | None = None
            try:
                response = self.http.post(url, content=raw, headers=headers)
                status_code = response.status_code
                try:
                    answer = response.json()
                    success = isinstance(answer, dict) and answer.get("success") is True
                except ValueError:
                    error = "answer is not JSON"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            with self.lock:
                tx.callbacks.append(
                    CallbackAttempt(attempt, self.clock(), status_code, success, error)
                )
            log.info(
                "callback %s attempt %d -> %s %s", tx.data["reference"], attempt, status_code,
                "ok" if success else (error or "refused"),
            )  # fmt: skip
            if success or attempt > self.callback_max_attempts:
                return
            if self._stop.wait(self.callback_retry_interval):
                return

    def wait_for_callbacks(self, timeout: float = 10.0) -> None:
        """Block until every callback thread has finished (tests use this)."""
        deadline = time.monotonic() + timeout
        with self.lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        """Stop retrying callbacks and let their threads end."""
        self._stop.set()
        self.wait_for_callbacks(timeout=5.0)


# -- request parsing ------------------------------------------------------------------

_ITEM_KEY = re.compile(r"^order_items\[(\d+)\]\[(\w+)\]$")


async def _body(request: Request) -> dict[str, Any]:
    """The POST body as a dict, from JSON or from a form (``order_items[0][sku]=...``)."""
    content_type = request.headers.get("content-type", "")
    if "application/json" in content_type:
        try:
            body = await request.json()
        except ValueError as exc:
            raise SandboxError("Invalid JSON body") from exc
        if not isinstance(body, dict):
            raise SandboxError("Invalid JSON body")
        return body
    form = await request.form()
    result: dict[str, Any] = {}
    items: dict[int, dict[str, Any]] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str):
            continue
        match = _ITEM_KEY.match(key)
        if match:
            items.setdefault(int(match.group(1)), {})[match.group(2)] = value
        else:
            result[key] = value
    if items:
        result["order_items"] = [items[i] for i in sorted(items)]
    return result


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise SandboxError(f"The {name} must be an integer.")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value.strip())
    raise SandboxError(f"The {name} must be an integer.")


def _required(body: dict[str, Any], name: str) -> Any:
    value = body.get(name)
    if value is None or value == "" or value == []:
        raise SandboxError(f"The {name} field is required.")
    return value


# -- the app --------------------------------------------------------------------------


def create_sandbox_app(
    *,
    api_key: str,
    private_key: str,
    merchant_code: str,
    callback_retry_interval: float = 120.0,
    callback_max_attempts: int = 3,
    clock: Callable[[], float] = time.time,
    callback_client: httpx.Client | None = None,
    merchant_name: str = "KASIR SANDBOX",
    merchant_city: str = "BANDUNG",
) -> FastAPI:
    """Build the sandbox ASGI app for one merchant.

    ``callback_max_attempts`` is how many times a refused callback is retried after the
    first delivery, ``callback_retry_interval`` seconds apart (Tripay: 3, 2 minutes).
    ``clock`` (unix seconds) decides expiry; ``callback_client`` lets tests catch
    callbacks without a server. ``app.state.sandbox`` holds the :class:`SandboxState`.
    """
    state = SandboxState(
        api_key=api_key,
        private_key=private_key,
        merchant_code=merchant_code,
        callback_retry_interval=callback_retry_interval,
        callback_max_attempts=callback_max_attempts,
        clock=clock,
        callback_client=callback_client,
    )
    app = FastAPI(
        title="Tripay sandbox (Kasir, local)",
        description="Speaks Tripay's merchant API for tests and the demo. Never for production.",
        version="1.0.0",
    )
    app.state.sandbox = state

    @app.exception_handler(SandboxError)
    async def _refused(_: Request, exc: SandboxError) -> JSONResponse:
        return JSONResponse({"success": False, "message": exc.message}, exc.status_code)

    def authorise(request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), api_key.encode()
        ):
            raise SandboxError("Invalid API Key", 401)

    def ok(data: Any, message: str = "Success", **extra: Any) -> JSONResponse:
        return JSONResponse({"success": True, "message": message, "data": data, **extra})

    def channel_row(channel: Channel) -> dict[str, Any]:
        return {
            "group": channel.group,
            "code": channel.code,
            "name": channel.name,
            "type": "direct",
            "fee_merchant": {"flat": FEE_FLAT, "percent": FEE_PERCENT_BP / 100},
            "fee_customer": {"flat": 0, "percent": 0},
            "total_fee": {"flat": FEE_FLAT, "percent": f"{FEE_PERCENT_BP / 100:.2f}"},
            "minimum_fee": None,
            "maximum_fee": None,
            "minimum_amount": MIN_AMOUNT,
            "maximum_amount": MAX_AMOUNT,
            "icon_url": f"https://tripay.co.id/images/payment-channel/{channel.code}.png",
            "active": True,
        }

    @app.get(f"{PREFIX}/merchant/payment-channel", summary="Payment channels")
    def payment_channel(request: Request, code: str | None = None) -> JSONResponse:
        authorise(request)
        rows = [channel_row(c) for c in CHANNELS.values() if code in (None, c.code)]
        return ok(rows)

    @app.get(f"{PREFIX}/merchant/fee-calculator", summary="Fees for an amount")
    def fee_calculator(request: Request) -> JSONResponse:
        authorise(request)
        amount = _int(_required(dict(request.query_params), "amount"), "amount")
        code = request.query_params.get("code")
        if code and code not in CHANNELS:
            raise SandboxError("Payment channel not found", 404)
        rows = []
        for channel in CHANNELS.values():
            if code in (None, "", channel.code):
                rows.append(
                    {
                        "code": channel.code,
                        "name": channel.name,
                        "fee": {
                            "flat": FEE_FLAT,
                            "percent": f"{FEE_PERCENT_BP / 100:.2f}",
                            "min": None,
                            "max": None,
                        },
                        "total_fee": {"merchant": merchant_fee(amount), "customer": 0},
                    }
                )
        return ok(rows)

    @app.post(f"{PREFIX}/transaction/create", summary="Create a closed-payment transaction")
    async def create(request: Request) -> JSONResponse:
        authorise(request)
        body = await _body(request)
        method = str(_required(body, "method"))
        merchant_ref = str(_required(body, "merchant_ref"))
        amount = _int(_required(body, "amount"), "amount")
        customer_name = str(_required(body, "customer_name"))
        customer_email = str(_required(body, "customer_email"))
        raw_items = _required(body, "order_items")
        signature = str(_required(body, "signature"))
        channel = CHANNELS.get(method)
        if channel is None:
            raise SandboxError("Payment channel not found", 404)
        expected = hmac.new(
            private_key.encode(), f"{merchant_code}{merchant_ref}{amount}".encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
            raise SandboxError("Invalid signature", 400)
        if amount < MIN_AMOUNT:
            raise SandboxError(f"Minimum amount for {channel.code} is {MIN_AMOUNT}")
        if amount > MAX_AMOUNT:
            raise SandboxError(f"Maximum amount for {channel.code} is {MAX_AMOUNT}")
        now = int(clock())
        expired_time = (
            _int(body["expired_time"], "expired_time")
            if body.get("expired_time") not in (None, "")
            else now + DEFAULT_EXPIRY_SECONDS
        )
        lowest = now + channel.min_expiry_minutes * 60 - EXPIRY_SLACK_SECONDS
        highest = now + channel.max_expiry_minutes * 60 + EXPIRY_SLACK_SECONDS
        if not lowest <= expired_time <= highest:
            raise SandboxError(
                f"Expiry time for {channel.code} must be between "
                f"{channel.min_expiry_minutes} and {channel.max_expiry_minutes} minutes"
            )
        if not isinstance(raw_items, list):
            raise SandboxError("The order_items must be an array.")
        items = []
        total = 0
        for i, raw in enumerate(raw_items):
            if not isinstance(raw, dict):
                raise SandboxError(f"The order_items.{i} must be an object.")
            price = _int(_required(raw, "price"), f"order_items.{i}.price")
            quantity = _int(_required(raw, "quantity"), f"order_items.{i}.quantity")
            total += price * quantity
            items.append(
                {
                    "sku": raw.get("sku"),
                    "name": str(_required(raw, "name")),
                    "price": price,
                    "quantity": quantity,
                    "subtotal": price * quantity,
                    "product_url": raw.get("product_url"),
                    "image_url": raw.get("image_url"),
                }
            )
        if total != amount:
            # Tripay's behaviour here is unconfirmed; the sandbox is strict on purpose.
            raise SandboxError("The total of order_items does not match the amount")
        reference = state.new_reference()
        fee = merchant_fee(amount)
        base = str(request.base_url).rstrip("/")
        data = {
            "reference": reference,
            "merchant_ref": merchant_ref,
            "payment_selection_type": "static",
            "payment_method": channel.code,
            "payment_name": channel.name,
            "customer_name": customer_name,
            "customer_email": customer_email,
            "customer_phone": body.get("customer_phone"),
            "callback_url": body.get("callback_url"),
            "return_url": body.get("return_url"),
            "amount": amount,
            "fee_merchant": fee,
            "fee_customer": 0,
            "total_fee": fee,
            "amount_received": amount - fee,
            "pay_code": None,
            "pay_url": None,
            "checkout_url": f"{base}{PREFIX}/checkout/{reference}",
            "status": "UNPAID",
            "expired_time": expired_time,
            "order_items": items,
            "instructions": [
                {
                    "title": "Pembayaran via QRIS",
                    "steps": [
                        "Buka aplikasi e-wallet atau mobile banking yang mendukung QRIS.",
                        "Pindai kode QR yang tampil.",
                        "Periksa nama merchant dan jumlah, lalu konfirmasi pembayaran.",
                    ],
                }
            ],
            "qr_string": qris_payload(
                merchant_name=merchant_name,
                merchant_city=merchant_city,
                merchant_id=merchant_code,
                amount=amount,
                bill_number=merchant_ref,
                reference=reference,
            ),
            "qr_url": f"{base}{PREFIX}/qr/{reference}",
            "paid_at": None,
            "created_at": now,
        }
        with state.lock:
            state.transactions[reference] = Transaction(data=data)
        return ok(_public(data))

    @app.get(f"{PREFIX}/transaction/detail", summary="Transaction detail")
    def detail(request: Request) -> JSONResponse:
        authorise(request)
        reference = str(_required(dict(request.query_params), "reference"))
        return ok(_public(state.get(reference).data), message="Transaction found")

    @app.get(f"{PREFIX}/transaction/check-status", summary="Transaction status only")
    def check_status(request: Request) -> JSONResponse:
        authorise(request)
        reference = str(_required(dict(request.query_params), "reference"))
        status = state.get(reference).data["status"]
        return JSONResponse({"success": True, "message": f"Status transaksi saat ini {status}"})

    @app.get(f"{PREFIX}/merchant/transactions", summary="The merchant's transactions")
    def transactions(request: Request) -> JSONResponse:
        authorise(request)
        q = request.query_params
        page = max(1, _int(q.get("page", "1"), "page"))
        per_page = min(50, max(1, _int(q.get("per_page", "25"), "per_page")))
        sort = "asc" if q.get("sort") == "asc" else "desc"
        with state.lock:
            rows = [state.get(ref).data for ref in list(state.transactions)]
        for key, name in (("reference", "reference"), ("merchant_ref", "merchant_ref"),
                          ("payment_method", "method"), ("status", "status")):  # fmt: skip
            wanted = q.get(name)
            if wanted:
                rows = [r for r in rows if r[key] == wanted]
        rows.sort(key=lambda r: (r["created_at"], r["reference"]), reverse=sort == "desc")
        total = len(rows)
        last_page = max(1, -(-total // per_page))
        start = (page - 1) * per_page
        chunk = rows[start : start + per_page]
        pagination = {
            "sort": sort,
            "offset": {"from": start + 1 if chunk else 0, "to": start + len(chunk)},
            "current_page": page,
            "previous_page": page - 1 if page > 1 else None,
            "next_page": page + 1 if page < last_page else None,
            "last_page": last_page,
            "per_page": per_page,
            "total_records": total,
        }
        return ok([_public(r) for r in chunk], pagination=pagination)

    @app.post(
        f"{PREFIX}/simulator/{{reference}}/{{action}}",
        summary="Simulate the payer or Tripay: pay, expire, fail or refund",
    )
    def simulator(reference: str, action: str) -> JSONResponse:
        tx = state.simulate(reference, action)
        return ok(_public(tx.data), message=f"Transaction is now {tx.data['status']}")

    @app.get(f"{PREFIX}/simulator/{{reference}}/callbacks", summary="Callback deliveries")
    def callbacks(reference: str) -> JSONResponse:
        tx = state.get(reference)
        with state.lock:
            rows = [a.__dict__ for a in tx.callbacks]
        return ok(rows)

    @app.get(f"{PREFIX}/qr/{{reference}}", summary="The QR code as an image (or text)")
    def qr_image(reference: str) -> Response:
        payload = state.get(reference).data["qr_string"]
        try:
            import io

            import qrcode  # the till's dependency; optional here

            buffer = io.BytesIO()
            qrcode.make(payload).save(buffer, format="PNG")
            return Response(buffer.getvalue(), media_type="image/png")
        except ImportError:
            return Response(payload, media_type="text/plain")

    @app.get(f"{PREFIX}/checkout/{{reference}}", summary="A checkout page with simulator buttons")
    def checkout(reference: str) -> HTMLResponse:
        d = state.get(reference).data
        buttons = "".join(
            f'<form method="post" action="{PREFIX}/simulator/{html.escape(reference)}/{a}">'
            f'<button type="submit">{a}</button></form>'
            for a in ("pay", "expire", "fail", "refund")
        )
        return HTMLResponse(
            f"<!doctype html><title>Tripay sandbox {html.escape(reference)}</title>"
            f"<h1>{html.escape(d['payment_name'])}: Rp {d['amount']:,}</h1>"
            f"<p>Status: <b>{html.escape(d['status'])}</b></p>"
            f'<img src="{PREFIX}/qr/{html.escape(reference)}" alt="QR">'
            f"<pre>{html.escape(d['qr_string'])}</pre>{buttons}"
        )

    return app


def _public(data: dict[str, Any]) -> dict[str, Any]:
    """The transaction as Tripay shows it (without the sandbox's own bookkeeping)."""
    return {k: v for k, v in data.items() if k != "created_at"}
