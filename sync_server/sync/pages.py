"""Pull pages as the bytes a till receives: serialised once, gzip-compressed when the
till asks, and shared by the tills of a store while a download has more to come.

A page is serialised once (the service's validated :class:`PullResponse` straight to
JSON bytes, no second validation or ``jsonable_encoder`` pass) and compressed when the
request allows it: a 5,000-row page of JSON shrinks about tenfold, which is what a till
on a shop's 4G link waits for. Pages that are not a till's last (``has_more``) are kept
compressed for a minute per (store, cursor, limit) in :class:`PageCache`, so fifty new
tills of one store downloading the catalog at once cost the server one page each, not
fifty (see the class for why an earlier page is still a right answer).
"""

from __future__ import annotations

import gzip
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from sync_server.auth.models import Terminal
from sync_server.core.database import Database
from sync_server.sync import service

PULL_GZIP_LEVEL = 3
"""zlib level for pull pages. ``benches/catalog_download.py`` prints levels 1 to 6 on
the 100k catalog's pages: 1 to 3 cost the server the same CPU (about 8 ms a page) and 3
sends 5 % fewer bytes; 4 and up save 9 % more bytes for about 60 % more CPU, which a
server sending pages to many tills pays, for 0.2 s of the 2.4 s the 100k catalog's
3 MB take on 10 Mbit/s."""

GZIP_MIN_BYTES = 1024
"""Bodies shorter than this go as they are: gzip's header and trailer outweigh the gain."""


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


@dataclass(frozen=True, slots=True)
class PageBody:
    """A page as sent: its bytes, and whether they are gzip."""

    content: bytes
    gzip: bool


def pull_page_body(
    db: Database, cache: PageCache, *, terminal: Terminal, cursor: int, limit: int, compress: bool
) -> PageBody:
    """The page above ``cursor`` for ``terminal``; gzip when ``compress`` (and then kept in
    ``cache`` for the store's other tills while more pages follow)."""
    if not compress:
        return _make(db, terminal, cursor, limit, compress=False)[0]
    key = (terminal.store_id, cursor, limit)
    kept, mine = cache.claim(key)
    if kept is not None:
        return PageBody(kept, gzip=True)
    keep: bytes | None = None
    try:
        body, more = _make(db, terminal, cursor, limit, compress=True)
        if more and body.gzip:
            keep = body.content
        return body
    finally:
        if mine:
            cache.release(key, keep)


def _make(
    db: Database, terminal: Terminal, cursor: int, limit: int, *, compress: bool
) -> tuple[PageBody, bool]:
    """The page's bytes (gzip when ``compress`` and worth it), and whether more follow."""
    page = service.pull_changes(db, terminal=terminal, cursor=cursor, limit=limit)
    raw = page.__pydantic_serializer__.to_json(page)
    if compress and len(raw) >= GZIP_MIN_BYTES:
        packed = gzip.compress(raw, compresslevel=PULL_GZIP_LEVEL, mtime=0)
        return PageBody(packed, gzip=True), page.has_more
    return PageBody(raw, gzip=False), page.has_more
