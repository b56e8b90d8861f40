"""Compressed pull pages between a real till and a live server, through a proxy that
spoils them: cut short, truncated, corrupted, not JSON, not a page.

Each spoiled page must be refused whole with ``pull_page_damaged`` and its fault, the
till's cursor and catalog must not move, and the next round must fetch the same page
again and finish with the server's whole catalog. The proxy also records that every
page big enough to be worth it travelled gzip-compressed, as the till asked.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pos_client.store import LocalStore
from pos_client.sync.client import PULL_PATH, DamagedAnswer, SyncClient
from pos_client.sync.worker import SyncWorker
from sync_server.catalog.models import Product
from tests.e2e.conftest import LiveServer, make_till
from tests.e2e.fault_proxy import serve_connections
from tests.server.sync_helpers import add_products

PAGE_ROWS = 60

# How a spoiled answer reaches the till, and the fault the till must name.
SPOILERS = {
    "cut_before_content_length": "cut",  # the connection closes mid-body
    "gzip_truncated": "cut",  # Content-Length fits the shortened stream
    "gzip_corrupted": "corrupt",  # bytes flipped mid-stream, same length
    "json_cut": "invalid",  # a whole gzip stream of half a JSON page
    "not_a_page": "invalid",  # whole JSON, not a PullResponse
}


def _split(answer: bytes) -> tuple[list[bytes], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return head.split(b"\r\n"), body


def _header(lines: list[bytes], name: bytes) -> bytes | None:
    for line in lines[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return None


def _with_body(lines: list[bytes], body: bytes) -> bytes:
    kept = [line for line in lines if not line.lower().startswith(b"content-length:")]
    kept.append(b"content-length: " + str(len(body)).encode())
    return b"\r\n".join(kept) + b"\r\n\r\n" + body


def spoil(kind: str, answer: bytes) -> bytes:
    """``answer`` (a whole HTTP answer, gzip body) spoiled the ``kind`` way."""
    lines, body = _split(answer)
    assert _header(lines, b"content-encoding") == b"gzip", "pages must be gzip to spoil"
    if kind == "cut_before_content_length":
        return answer[: len(answer) - len(body) // 2]
    if kind == "gzip_truncated":
        return _with_body(lines, body[: len(body) * 2 // 3])
    if kind == "gzip_corrupted":
        middle = len(body) // 2
        return _with_body(lines, body[:middle] + bytes([body[middle] ^ 0xFF]) + body[middle + 1 :])
    if kind == "json_cut":
        text = gzip.decompress(body)
        return _with_body(lines, gzip.compress(text[: len(text) // 2]))
    if kind == "not_a_page":
        return _with_body(lines, gzip.compress(json.dumps({"cursor": "soon"}).encode()))
    raise ValueError(kind)


class SpoilingProxy:
    """HTTP/1.1 on 127.0.0.1 to the server; pull answers spoiled by a queue of kinds."""

    def __init__(self, upstream_port: int) -> None:
        """Listen on a free port (serving starts with :meth:`start`)."""
        self.upstream = ("127.0.0.1", upstream_port)
        self.queue: list[str | None] = []  # one entry per pull answer; empty: clean
        self.encodings: list[tuple[bytes | None, int]] = []  # per pull: coding, body bytes
        self.spoiled: list[str] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def start(self) -> SpoilingProxy:
        """Start serving."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (bounded)."""
        self._stop.set()
        self._thread.join(timeout=10)
        self._listener.close()

    def _accept(self) -> None:
        for _thread in serve_connections(self._listener, self._stop, self._serve):
            pass  # each connection's thread ends with its connection

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(20)
        with contextlib.suppress(OSError), conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            lines, body = _split(data)
            length = int(_header(lines, b"content-length") or 0)
            while len(body) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                body += chunk
            lines = [line for line in lines if not line.lower().startswith(b"connection:")]
            request = b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body
            with socket.create_connection(self.upstream, timeout=20) as upstream:
                upstream.sendall(request)
                answer = b""
                while chunk := upstream.recv(65536):
                    answer += chunk
            path = lines[0].split(b" ")[1].decode()
            if path.startswith(PULL_PATH):
                head, answer_body = _split(answer)
                with self._lock:
                    self.encodings.append((_header(head, b"content-encoding"), len(answer_body)))
                    kind = self.queue.pop(0) if self.queue else None
                    if kind is not None:
                        self.spoiled.append(kind)
                if kind is not None:
                    answer = spoil(kind, answer)
            conn.sendall(answer)


@pytest.fixture
def proxy(live_server: LiveServer) -> Iterator[SpoilingProxy]:
    """A spoiling proxy in front of the live server."""
    spoiling = SpoilingProxy(live_server.port).start()
    yield spoiling
    spoiling.stop()


def test_spoiled_pages_are_refused_and_fetched_again_cursor_never_moves(
    live_server: LiveServer, proxy: SpoilingProxy, tmp_path: Path
) -> None:
    add_products(live_server.db, 4 * PAGE_ROWS)
    till = make_till(live_server, tmp_path / "till", base_url=proxy.url)

    def client() -> SyncClient:
        return SyncClient(httpx.Client(timeout=10), base_url=proxy.url, token=till.token)

    # The till's client names each fault, with its cursor.
    for kind, fault in SPOILERS.items():
        proxy.queue = [kind]
        with client() as sync, pytest.raises(DamagedAnswer) as caught:
            sync.pull(0, PAGE_ROWS)
        assert (caught.value.code, caught.value.fault) == ("pull_page_damaged", fault), kind
        assert caught.value.params["cursor"] == 0

    # The worker: one clean page, then every kind of spoiled second page, one per round.
    worker = SyncWorker(lambda: LocalStore.open(till.settings), client, pull_limit=PAGE_ROWS)
    proxy.queue = [None, "cut_before_content_length"]
    report = worker.run_once()
    first_cursor, first_products = till.store.pull_cursor(), till.store.product_count()
    assert first_cursor > 0 and 0 < first_products <= PAGE_ROWS
    assert report.last_error is not None and "damaged" in report.last_error
    for kind in SPOILERS:
        proxy.queue = [kind]
        report = worker.run_once()
        assert report.last_error is not None and f"damaged ({SPOILERS[kind]})" in report.last_error
        assert till.store.pull_cursor() == first_cursor, kind
        assert till.store.product_count() == first_products, kind

    # The network heals: the next round fetches the same page again and finishes.
    assert proxy.queue == []
    report = worker.run_once()
    assert report.last_error is None
    assert till.store.product_count() == live_server.count(Product)
    assert proxy.spoiled == [*SPOILERS, "cut_before_content_length", *SPOILERS]
    # Every page worth compressing came gzip, as the till asked.
    assert all(coding == b"gzip" for coding, size in proxy.encodings if size > 1024)
    assert sum(1 for coding, _ in proxy.encodings if coding == b"gzip") >= 4
    till.store.close()
