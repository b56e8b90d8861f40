"""HTTP routes of QRIS payments (thin: parse, authorise, call the service).

Till routes need an enrolled terminal (``TerminalDep``). Tripay's callback is public
and believed only after its signature is checked; it answers Tripay's own shape
``{"success": ...}``, not the API error shape, because Tripay is the caller.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from shared.models import (
    CALLBACK_EXAMPLE,
    CallbackAnswer,
    Count,
    CreatePaymentIn,
    CreateTransactionIn,
    ErrorResponse,
    OrderListOut,
    OrderStatus,
    PaymentChannelOut,
    PaymentOrderOut,
    TripayCallbackIn,
)
from sync_server.auth.deps import ManagerDep, TerminalDep
from sync_server.core.config import SettingsDep
from sync_server.core.database import DbDep
from sync_server.payments import callbacks, orders, service
from sync_server.payments.tripay import TripayClient


def get_tripay_client(request: Request) -> TripayClient:
    """The app's Tripay client, made once by ``create_app`` (tests may swap it)."""
    client: TripayClient = request.app.state.tripay_client
    return client


TripayDep = Annotated[TripayClient, Depends(get_tripay_client)]

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 404, 409, 422, 426)
}
_GATEWAY: dict[int | str, dict[str, Any]] = {
    502: {
        "model": ErrorResponse,
        "description": "Tripay refused or failed; nothing was stored, the call may be retried.",
        "content": {
            "application/json": {
                "example": {
                    "error": {
                        "code": "tripay_unavailable",
                        "message": "Tripay has a problem (HTTP 500), so QRIS is not available "
                        "right now. Try again in a minute, or take cash.",
                        "details": {"tripay_message": None, "retryable": True},
                    }
                }
            }
        },
    },
    504: {"model": ErrorResponse, "description": "Tripay did not answer in time."},
}

router = APIRouter(prefix="/api/v1/payment", tags=["payments"], responses=_ERRORS)


@router.get(
    "/get-payment-channel",
    summary="Payment channels Tripay offers (cached a few minutes)",
    response_model=list[PaymentChannelOut],
    responses=_GATEWAY,
)
def get_payment_channel(_: TerminalDep, client: TripayDep) -> list[PaymentChannelOut]:
    """Channels with their amount limits and fees; the till offers QRIS when one is active."""
    return service.list_channels(client=client)


@router.post(
    "/create-transaction",
    summary="Create (or fetch again) a pending QRIS order for a cart",
    response_model=PaymentOrderOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": PaymentOrderOut, "description": "The order already existed."}},
)
def create_transaction(
    data: CreateTransactionIn, terminal: TerminalDep, db: DbDep, response: Response
) -> PaymentOrderOut:
    """Store the order; its ``order_id`` becomes Tripay's ``merchant_ref``.

    Sending the same ``order_id`` again with the same content answers 200 with the
    stored order; other content answers 409.
    """
    order, created = orders.create_order(
        db,
        terminal_id=terminal.id,
        store_id=terminal.store_id,
        terminal_code=terminal.code,
        data=data,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return order


@router.post(
    "/create-payment",
    summary="Get the QRIS code for an order from Tripay (idempotent)",
    response_model=PaymentOrderOut,
    responses=_GATEWAY,
)
def create_payment(
    data: CreatePaymentIn,
    terminal: TerminalDep,
    db: DbDep,
    client: TripayDep,
    settings: SettingsDep,
) -> PaymentOrderOut:
    """Returns ``qr_string`` (draw it), ``qr_url``, ``reference``, fees and ``expires_at``.

    Repeated or concurrent calls for one order return the same Tripay transaction; a
    second one is never created. When Tripay fails, nothing is stored and the call
    can be retried.
    """
    return orders.create_payment(
        db,
        client=client,
        terminal_id=terminal.id,
        data=data,
        callback_url=service.callback_url(settings.public_base_url),
    )


@router.get(
    "/get-status-payment",
    summary="Poll an order's status until it is final",
    response_model=PaymentOrderOut,
)
def get_status_payment(
    terminal: TerminalDep,
    db: DbDep,
    client: TripayDep,
    order_id: Annotated[str, Query(max_length=64, examples=["T01-0190f3c2a7b84c1d9e2f"])],
) -> PaymentOrderOut:
    """The stored status; when a callback is overdue or expiry is near, Tripay is asked."""
    return service.get_status(db, client=client, terminal_id=terminal.id, order_id=order_id)


@router.get(
    "/orders",
    summary="Payment orders with their status (managers)",
    response_model=OrderListOut,
)
def list_orders(
    user: ManagerDep,
    db: DbDep,
    status_: Annotated[OrderStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[Count, Query()] = 0,
) -> OrderListOut:
    """Newest first; a manager sees their store, an admin without a store sees all."""
    return service.list_orders(
        db, store_id=user.store_id, status=status_, limit=limit, offset=offset
    )


@router.post(
    "/callback",
    summary="Tripay's payment status callback (signature-checked)",
    response_model=CallbackAnswer,
    responses={
        400: {"model": CallbackAnswer, "description": "Wrong event or malformed body."},
        401: {"model": CallbackAnswer, "description": "Invalid signature."},
        404: {"model": CallbackAnswer, "description": "Unknown reference."},
        409: {"model": CallbackAnswer, "description": "Mismatch or illegal status move."},
        422: {"model": CallbackAnswer, "description": "Amount does not match the order."},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": TripayCallbackIn.model_json_schema(),
                    "example": CALLBACK_EXAMPLE,
                }
            },
        },
        "parameters": [
            {
                "name": "X-Callback-Signature",
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
                "description": "hex HMAC-SHA256(private_key, raw body)",
            }
        ],
    },
)
async def callback(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    x_callback_event: Annotated[str | None, Header(examples=["payment_status"])] = None,
) -> JSONResponse:
    """Verified over the raw bytes; the same callback twice is answered ``success`` twice."""
    raw_body = await request.body()
    result = await run_in_threadpool(
        callbacks.handle_callback,
        db,
        private_key=settings.tripay_private_key,
        event=x_callback_event,
        signature=request.headers.get("X-Callback-Signature"),
        raw_body=raw_body,
    )
    if result.ok:
        return JSONResponse({"success": True})
    return JSONResponse(
        {"success": False, "message": result.message}, status_code=result.status_code
    )
