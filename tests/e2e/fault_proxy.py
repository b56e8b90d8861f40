"""A fault-injecting HTTP proxy on 127.0.0.1, between real tills and a live server.

Each HTTP/1.1 request that reaches the proxy is read whole, then, by a seeded coin,
either forwarded cleanly or given one fault the way a shop's network gives it:

``reset``
    the connection is reset before anything reaches the server;
``drop_after_forward``
    the request reaches the server (which commits it), the answer is thrown away and
    the connection closed: the till never hears back;
``cut_answer``
    the request reaches the server, half of the answer's bytes reach the till, then the
    connection closes;
``latency``
    the request waits a little before it is forwarded (answered normally);
``stall``
    the request reaches the server, and the answer is held longer than the till's own
    timeout before the connection closes.

Only requests whose path starts with one of ``paths`` get faults. Everything is bounded:
the proxy serves until :meth:`FaultProxy.stop`, and a stall never lasts longer than
``stall_seconds``. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence

FAULTS: tuple[str, ...] = ("reset", "drop_after_forward", "cut_answer", "latency", "stall")
DEFAULT_WEIGHTS: dict[str, float] = {
    "reset": 0.22,
    "drop_after_forward": 0.25,
    "cut_answer": 0.25,
    "latency": 0.24,
    "stall": 0.04,
}
_MAX_HEAD = 64 * 1024


def serve_connections(
    listener: socket.socket,
    stopping: threading.Event,
    serve: Callable[[socket.socket], None],
) -> Iterator[threading.Thread]:
    """Accept on ``listener`` (which has a timeout) until ``stopping`` is set or it is
    closed; each connection is served by ``serve`` in a daemon thread, yielded started."""
    while not stopping.is_set():
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        except OSError:
            return
        thread = threading.Thread(target=serve, args=(conn,), daemon=True)
        thread.start()
        yield thread


class _Closed(Exception):
    """The peer closed the connection before a whole request arrived."""


def _read_request(conn: socket.socket, buffer: bytearray) -> bytes:
    """One whole HTTP/1.1 request (head and Content-Length body) from ``conn``."""
    while b"\r\n\r\n" not in buffer:
        if len(buffer) > _MAX_HEAD:
            raise _Closed("request head too large")
        chunk = conn.recv(65536)
        if not chunk:
            raise _Closed("closed")
        buffer.extend(chunk)
    head_end = buffer.index(b"\r\n\r\n") + 4
    head = bytes(buffer[:head_end])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        if name.strip().lower() == b"transfer-encoding":
            raise _Closed("chunked request bodies are not proxied")
    while len(buffer) < head_end + length:
        chunk = conn.recv(65536)
        if not chunk:
            raise _Closed("closed in the body")
        buffer.extend(chunk)
    request = bytes(buffer[: head_end + length])
    del buffer[: head_end + length]
    return request


def _with_connection_close(request: bytes) -> bytes:
    """``request`` asking the server to close after answering (one exchange per upstream)."""
    head, sep, body = request.partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + sep + body


def _path_of(request: bytes) -> str:
    first = request.split(b"\r\n", 1)[0].decode("latin-1")
    parts = first.split(" ")
    return parts[1] if len(parts) > 1 else ""


def _reset(conn: socket.socket) -> None:
    """Close with RST instead of FIN (SO_LINGER 0)."""
    with contextlib.suppress(OSError):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


class FaultProxy:
    """Listens on a free loopback port and forwards to ``127.0.0.1:upstream_port``."""

    def __init__(
        self,
        upstream_port: int,
        *,
        seed: int = 0,
        fault_rate: float = 0.35,
        weights: dict[str, float] | None = None,
        stall_seconds: float = 3.5,
        latency_seconds: tuple[float, float] = (0.02, 0.15),
        paths: Sequence[str] = ("/api/v1/sync/",),
    ) -> None:
        """Set the proxy up (not listening until :meth:`start`); faults start disabled."""
        self.upstream = ("127.0.0.1", upstream_port)
        self.fault_rate = fault_rate
        self.weights = dict(weights or DEFAULT_WEIGHTS)
        self.stall_seconds = stall_seconds
        self.latency_seconds = latency_seconds
        self.paths = tuple(paths)
        self.enabled = False
        self.faults: Counter[str] = Counter()
        self.forwarded = 0
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._threads: list[threading.Thread] = []

    # -- control ----------------------------------------------------------------------

    def start(self) -> FaultProxy:
        """Start accepting connections."""
        self._listener.listen(128)
        self._listener.settimeout(0.2)
        thread = threading.Thread(target=self._accept_loop, name="fault-proxy", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop accepting; open exchanges finish within ``stall_seconds``."""
        self._stopping.set()
        self._listener.close()
        for thread in list(self._threads):
            thread.join(timeout=self.stall_seconds + 5)

    @property
    def fault_total(self) -> int:
        """How many faults were injected so far."""
        with self._lock:
            return sum(self.faults.values())

    # -- serving ----------------------------------------------------------------------

    def _accept_loop(self) -> None:
        for thread in serve_connections(self._listener, self._stopping, self._serve):
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]

    def _choose(self, path: str) -> str | None:
        if not self.enabled or not path.startswith(self.paths):
            return None
        with self._lock:
            if self._rng.random() >= self.fault_rate:
                return None
            kinds = list(self.weights)
            kind = self._rng.choices(kinds, weights=[self.weights[k] for k in kinds])[0]
            self.faults[kind] += 1
            return kind

    def _forward(self, request: bytes) -> bytes:
        with socket.create_connection(self.upstream, timeout=60) as upstream:
            upstream.sendall(_with_connection_close(request))
            chunks: list[bytes] = []
            while True:
                chunk = upstream.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        with self._lock:
            self.forwarded += 1
        return b"".join(chunks)

    def _serve(self, conn: socket.socket) -> None:
        buffer = bytearray()
        conn.settimeout(30)
        try:
            while not self._stopping.is_set():
                try:
                    request = _read_request(conn, buffer)
                except (_Closed, OSError, ValueError):
                    return
                fault = self._choose(_path_of(request))
                if fault == "reset":
                    _reset(conn)
                    return
                if fault == "latency":
                    time.sleep(self._rng.uniform(*self.latency_seconds))
                answer = self._forward(request)
                if fault == "drop_after_forward":
                    _reset(conn)
                    return
                if fault == "cut_answer":
                    conn.sendall(answer[: max(1, len(answer) // 2)])
                    conn.close()
                    return
                if fault == "stall":
                    self._stopping.wait(self.stall_seconds)
                    conn.close()
                    return
                conn.sendall(answer)
                # The server closes after each answer (Connection: close), so does the proxy.
                return
        except OSError:
            return
        finally:
            with contextlib.suppress(OSError):
                conn.close()
