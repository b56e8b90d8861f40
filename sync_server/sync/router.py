"""HTTP routes for sync (thin: parse, authorise, call the service).

A pull page is serialised once (the service's validated :class:`PullResponse` straight
to JSON bytes, no second validation or ``jsonable_encoder`` pass) and sent
gzip-compressed when the request's ``Accept-Encoding`` allows it: a 5,000-row page of
JSON shrinks about tenfold, which is what a till on a shop's 4G link waits for.

Pages that are not a till's last (``has_more``) are kept compressed for a minute per
(store, cursor, limit) in :class:`PageCache`, so fifty new tills of one store downloading
the catalog at once cost the server one page each, not fifty (see the class for why an
earlier page is still a right answer).
"""

import gzip
import threading
import time
from collections import OrderedDict
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
from sync_server.sync import service

PULL_GZIP_LEVEL = 3
"""zlib level for pull pages. ``benches/catalog_download.py`` prints levels 1 to 6 on
the 100k catalog's pages: 1 to 3 cost the server the same CPU (about 8 ms a page) and 3
sends 5 % fewer bytes; 4 and up save 9 % more bytes for about 60 % more CPU, which a
server sending pages to many tills pays, for 0.2 s of the 2.4 s the 100k catalog's
3 MB take on 10 Mbit/s."""

GZIP_MIN_BYTES = 1024
"""Bodies shorter than this go as they are: gzip's header and trailer outweigh the gain."""


def json_answer(body: bytes, accept_encoding: str | None, *, level: int) -> Response:
    """``body`` (JSON) as the answer, gzip-compressed at ``level`` when the client asked."""
    headers = {"Vary": "Accept-Encoding"}
    if len(body) >= GZIP_MIN_BYTES and accepts_gzip(accept_encoding):
        body = gzip.compress(body, compresslevel=level, mtime=0)
        headers["Content-Encoding"] = "gzip"
    return Response(content=body, media_type="application/json", headers=headers)


PageKey = tuple[int, int, int]
"""(store id, cursor, limit): everything a page depends on besides the data."""


class PageCache:
    """Compressed pull pages with more to come, shared by the tills of one store.

    Why serving a page made a little earlier is right: a page for ``cursor`` holds every
    row version numbered in ``(cursor, page.cursor]`` when it was made, and no version
    numbered there can appear later (new numbers are always above the counter). A row
    changed since gets a number above ``page.cursor``, which the till asks for next, so
    it gets the old version and then the new one. Only the last page (``has_more``
    false) is never kept: a till always ends a download on a fresh page, so it has seen
    everything committed before that page, and the server's own bookkeeping of a pull
    (folding and numbering stock, the terminal's last seen) runs there. ``remaining``
    (progress only) may be a minute old.

    Bounded by ``max_bytes`` (least recently used first) and ``ttl`` seconds. While one
    request makes a page, the others for the same key wait for it (at most ``wait``
    seconds), so fifty tills asking at once make it once.
    """

    def __init__(self, *, max_bytes: int, ttl: float, wait: float) -> None:
        """An empty cache."""
        self.max_bytes, self.ttl, self.wait = max_bytes, ttl, wait
        self._pages: OrderedDict[PageKey, tuple[float, bytes]] = OrderedDict()
        self._making: dict[PageKey, threading.Event] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def _fresh(self, key: PageKey) -> bytes | None:
        entry = self._pages.get(key)
        if entry is None:
            return None
        if time.monotonic() - entry[0] > self.ttl:
            self._bytes -= len(self._pages.pop(key)[1])
            return None
        self._pages.move_to_end(key)
        return entry[1]

    def claim(self, key: PageKey) -> tuple[bytes | None, bool]:
        """(the page, False) when kept or made meanwhile; (None, True) when the caller
        is to make it and then call :meth:`release`; (None, False): make it, uncached."""
        with self._lock:
            page = self._fresh(key)
            if page is not None:
                return page, False
            making = self._making.get(key)
            if making is None:
                self._making[key] = threading.Event()
                return None, True
        making.wait(self.wait)
        with self._lock:
            return self._fresh(key), False

    def release(self, key: PageKey, page: bytes | None) -> None:
        """The claimed page is made: keep ``page`` (None: nothing to keep); wake waiters."""
        with self._lock:
            if page is not None and len(page) <= self.max_bytes:
                old = self._pages.pop(key, None)
                self._bytes += len(page) - (len(old[1]) if old else 0)
                self._pages[key] = (time.monotonic(), page)
                while self._bytes > self.max_bytes:
                    self._bytes -= len(self._pages.popitem(last=False)[1][1])
            making = self._making.pop(key, None)
        if making is not None:
            making.set()


_CACHE_LOCK = threading.Lock()


def page_cache(request: Request) -> PageCache:
    """The app's pull page cache (one per app, so per worker process and per test app)."""
    state = request.app.state
    with _CACHE_LOCK:
        cache: PageCache | None = getattr(state, "pull_page_cache", None)
        if cache is None:
            cache = PageCache(max_bytes=64 * 1024 * 1024, ttl=60.0, wait=30.0)
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
    accept = request.headers.get("accept-encoding")
    if not accepts_gzip(accept):
        return _page_answer(db, terminal, cursor, limit, accept)[0]
    cache, key = page_cache(request), (terminal.store_id, cursor, limit)
    kept, mine = cache.claim(key)
    if kept is not None:
        return Response(
            content=kept,
            media_type="application/json",
            headers={"Vary": "Accept-Encoding", "Content-Encoding": "gzip"},
        )
    keep: bytes | None = None
    try:
        answer, more = _page_answer(db, terminal, cursor, limit, accept)
        if more and answer.headers.get("content-encoding") == "gzip":
            keep = bytes(answer.body)
        return answer
    finally:
        if mine:
            cache.release(key, keep)


def _page_answer(
    db: DbDep, terminal: TerminalDep, cursor: int, limit: int, accept: str | None
) -> tuple[Response, bool]:
    """The page as an answer (gzip when ``accept`` allows), and whether more follow."""
    page = service.pull_changes(db, terminal=terminal, cursor=cursor, limit=limit)
    # Serialised once here: a page of 5,000 rows is already a validated PullResponse.
    body = page.__pydantic_serializer__.to_json(page)
    return json_answer(body, accept, level=PULL_GZIP_LEVEL), page.has_more
