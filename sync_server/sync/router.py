"""HTTP routes for sync (thin: parse, authorise, call the service).

A pull page comes from :mod:`sync_server.sync.pages` as bytes, gzip-compressed when the
request's ``Accept-Encoding`` allows it (``Content-Encoding: gzip``, ``Vary``).
"""

import threading
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
from sync_server.core.middleware import accepts_gzip
from sync_server.sync import pages, service

_CACHE_LOCK = threading.Lock()


def page_cache(request: Request) -> pages.PageCache:
    """The app's pull page cache (one per app, so per worker process and per test app)."""
    state = request.app.state
    with _CACHE_LOCK:
        cache: pages.PageCache | None = getattr(state, "pull_page_cache", None)
        if cache is None:
            cache = pages.PageCache(max_bytes=64 * 1024 * 1024, ttl=60.0, wait=30.0)
            state.pull_page_cache = cache
    return cache


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
                        "batch_too_large",
                        code="batch_too_large",
                        status_code=422,
                        details={"limit_events": MAX_PUSH_EVENTS},
                        limit_events=MAX_PUSH_EVENTS,
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
    response_model=PushResponse,
)
def push(body: PushRequest, terminal: TerminalDep, db: DbDep) -> Response:
    """Apply each event at most once; answer `applied`, `duplicate`, `conflict` or
    `rejected` per id.

    Retrying is always safe. The same id with other content (or from another terminal)
    is a `conflict`, never a `duplicate`. A rejected or conflicting event never blocks
    the others and is listed for the manager with its reason.
    """
    # Serialised once by the model that built it (the same JSON FastAPI would write,
    # without validating the service's own answer again on every push).
    answer = service.push_events(db, terminal=terminal, request=body)
    return Response(content=answer.model_dump_json(by_alias=True), media_type="application/json")


@router.get(
    "/sync/pull",
    summary="Pull changes since a cursor",
    responses=_ERRORS,
    response_model=PullResponse,
)
def pull(
    request: Request,
    terminal: TerminalDep,
    db: DbDep,
    cursor: Annotated[
        int, Query(ge=0, le=MAX_BIGINT, description="Largest change number already saved.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PULL_LIMIT)] = 1000,
) -> Response:
    """Catalog, users (with PIN hashes), the store and its stock levels changed above
    ``cursor``, oldest first; ask again with the returned cursor while ``has_more``.

    Sent gzip-compressed (``Content-Encoding: gzip``) when ``Accept-Encoding`` allows."""
    body = pages.pull_page_body(
        db,
        page_cache(request),
        terminal=terminal,
        cursor=cursor,
        limit=limit,
        compress=accepts_gzip(request.headers.get("accept-encoding")),
    )
    headers = {"Vary": "Accept-Encoding"}
    if body.gzip:
        headers["Content-Encoding"] = "gzip"
    return Response(content=body.content, media_type="application/json", headers=headers)
