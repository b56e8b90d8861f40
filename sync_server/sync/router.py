"""HTTP routes for sync (thin: parse, authorise, call the service)."""

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from shared.models import (
    MAX_BIGINT,
    MAX_PULL_LIMIT,
    MAX_PUSH_BYTES,
    MAX_PUSH_EVENTS,
    ErrorResponse,
    PullResponse,
    PushRequest,
    PushResponse,
)
from sync_server.auth.deps import TerminalDep
from sync_server.core.database import DbDep
from sync_server.core.errors import AppError, error_response
from sync_server.sync import service


class SyncRoute(APIRoute):
    """Answers an over-long push body with 413 and an over-full batch with
    ``batch_too_large``, both in the one error shape, before anything else runs."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler with the push limits."""
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            if request.method == "POST":
                body = await request.body()  # cached: FastAPI reads the same bytes
                if len(body) > MAX_PUSH_BYTES:
                    return error_response(
                        413,
                        "payload_too_large",
                        f"A push may carry at most {MAX_PUSH_BYTES} bytes; send fewer events.",
                        {"limit_bytes": MAX_PUSH_BYTES, "bytes": len(body)},
                    )
            try:
                return await handler(request)
            except RequestValidationError as exc:
                if any(
                    err.get("type") == "too_long"
                    and tuple(err.get("loc", ())) == ("body", "events")
                    for err in exc.errors()
                ):
                    raise AppError(
                        f"A push may carry at most {MAX_PUSH_EVENTS} events.",
                        code="batch_too_large",
                        status_code=422,
                        details={"limit_events": MAX_PUSH_EVENTS},
                    ) from exc
                raise

        return limited


router = APIRouter(prefix="/api/v1", tags=["sync"], route_class=SyncRoute)

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text}
    for code, text in (
        (400, "Malformed JSON (`malformed_json`)."),
        (401, "Missing, invalid or revoked device token."),
        (413, "Body above the push byte limit (`payload_too_large`)."),
        (422, "Body does not match the schema, or too many events (`batch_too_large`)."),
        (426, "The till speaks another protocol version (`protocol_mismatch`)."),
    )
}


@router.post(
    "/sync/push",
    summary="Push a batch of outbox events (exactly once)",
    responses=_ERRORS,
)
def push(body: PushRequest, terminal: TerminalDep, db: DbDep) -> PushResponse:
    """Apply each event at most once; answer `applied`, `duplicate`, `conflict` or
    `rejected` per id.

    Retrying is always safe. The same id with other content (or from another terminal)
    is a `conflict`, never a `duplicate`. A rejected or conflicting event never blocks
    the others and is listed for the manager with its reason.
    """
    return service.push_events(db, terminal=terminal, request=body)


@router.get(
    "/sync/pull",
    summary="Pull changes since a cursor",
    responses=_ERRORS,
    response_model=PullResponse,
)
def pull(
    terminal: TerminalDep,
    db: DbDep,
    cursor: Annotated[
        int, Query(ge=0, le=MAX_BIGINT, description="Largest change number already saved.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PULL_LIMIT)] = 1000,
) -> Response:
    """Catalog, users (with PIN hashes), the store and its stock levels changed above
    ``cursor``, oldest first; ask again with the returned cursor while ``has_more``."""
    page = service.pull_changes(db, terminal=terminal, cursor=cursor, limit=limit)
    # Serialised once here: a page of 5,000 rows is already a validated PullResponse.
    return Response(content=page.model_dump_json(), media_type="application/json")
