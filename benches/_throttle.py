"""A shop's 4G link on loopback: a TCP proxy that delays and paces both directions.

Run alone: ``.venv/bin/python -m benches._throttle --upstream-port 8000 [--link
10mbit-50ms]``; it prints ``port <n>`` once listening and, when it gets SIGTERM or
SIGINT, one JSON line with the bytes it carried each way. Benches use
:func:`throttled`, which runs it in a subprocess (so the till's own CPU work never
slows the "network") and hands back its URL and, at the end, its byte counts.

Each direction is a queue of chunks: a chunk starts "on the wire" when it arrived and
the link is free, takes ``bytes * 8 / rate`` seconds to serialise, and is delivered
``delay`` seconds after its last bit left: 50 ms each way is a 100 ms round trip.
Everything is bounded: 64 chunks of at most 16 KiB queued per direction (so a fast
sender is held back by TCP, as by a real link), connections close with either side,
and the proxy serves until told to stop. Only 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

CHUNK = 16 * 1024
QUEUED_CHUNKS = 64


@dataclass(frozen=True)
class Link:
    """A link's rate (bits per second) and one-way delay (seconds)."""

    rate_bps: float
    delay_s: float

    @classmethod
    def parse(cls, text: str) -> Link:
        """``10mbit-50ms`` (also ``kbit``/``gbit`` and ``s``) as a :class:`Link`."""
        match = re.fullmatch(r"(\d+(?:\.\d+)?)([kmg])bit-(\d+(?:\.\d+)?)(ms|s)", text.lower())
        if match is None:
            raise ValueError(f"a link is like 10mbit-50ms, not {text!r}")
        rate = float(match[1]) * {"k": 1e3, "m": 1e6, "g": 1e9}[match[2]]
        delay = float(match[3]) / (1000 if match[4] == "ms" else 1)
        return cls(rate, delay)


@dataclass
class Counts:
    """Bytes carried: from the client to the server (up) and back (down)."""

    up: int = 0
    down: int = 0
    connections: int = 0
    closed: list[int] = field(default_factory=list)


async def _pump(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    link: Link,
    counts: Counts,
    direction: str,
) -> None:
    """Carry one direction through the link model until the sender closes."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(QUEUED_CHUNKS)

    async def receive() -> None:
        try:
            while chunk := await reader.read(CHUNK):
                await queue.put((loop.time(), chunk))
        except OSError:
            pass
        await queue.put((loop.time(), b""))

    async def deliver() -> None:
        free_at = 0.0  # when the link has finished serialising the previous chunk
        while True:
            arrived, chunk = await queue.get()
            if not chunk:
                break
            free_at = max(arrived, free_at) + len(chunk) * 8 / link.rate_bps
            wait = free_at + link.delay_s - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(chunk)
            await writer.drain()
            if direction == "up":
                counts.up += len(chunk)
            else:
                counts.down += len(chunk)
        with contextlib.suppress(OSError):
            if writer.can_write_eof():
                writer.write_eof()

    receiving = asyncio.ensure_future(receive())
    try:
        await deliver()
    except OSError:
        pass
    finally:
        receiving.cancel()
        with contextlib.suppress(asyncio.CancelledError, OSError):
            await receiving


async def _connection(
    client_reader: asyncio.StreamReader,
    client_writer: asyncio.StreamWriter,
    upstream_port: int,
    link: Link,
    counts: Counts,
) -> None:
    counts.connections += 1
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
    except OSError:
        client_writer.close()
        return
    try:
        await asyncio.gather(
            _pump(client_reader, server_writer, link, counts, "up"),
            _pump(server_reader, client_writer, link, counts, "down"),
        )
    except asyncio.CancelledError:
        pass  # the proxy is stopping with this connection still open (kept alive)
    finally:
        for writer in (client_writer, server_writer):
            with contextlib.suppress(OSError):
                writer.close()


async def serve(upstream_port: int, link: Link, port: int = 0) -> None:
    """Listen on 127.0.0.1:``port`` until SIGTERM/SIGINT; print the port, then the counts."""
    counts = Counts()
    server = await asyncio.start_server(
        lambda r, w: _connection(r, w, upstream_port, link, counts), "127.0.0.1", port
    )
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()
    print(json.dumps({"up": counts.up, "down": counts.down, "connections": counts.connections}))


@dataclass
class Throttled:
    """A running throttle: its URL, and after the ``with`` block the bytes it carried."""

    url: str
    process: subprocess.Popen[str]
    up: int = 0
    down: int = 0
    connections: int = 0


@contextlib.contextmanager
def throttled(upstream_port: int, link: str) -> Iterator[Throttled]:
    """The throttle in a subprocess in front of 127.0.0.1:``upstream_port``."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benches._throttle",
            "--upstream-port",
            str(upstream_port),
            "--link",
            link,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline().split()
    if len(first) != 2 or first[0] != "port":
        process.kill()
        raise RuntimeError("the throttle did not start")
    handle = Throttled(f"http://127.0.0.1:{first[1]}", process)
    try:
        yield handle
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            out, _ = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            out = ""
        for line in out.splitlines():
            if line.startswith("{"):
                counts = json.loads(line)
                handle.up, handle.down = counts["up"], counts["down"]
                handle.connections = counts["connections"]


def main() -> None:
    """Serve until told to stop."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream-port", type=int, required=True)
    parser.add_argument("--link", default="10mbit-50ms")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(serve(args.upstream_port, Link.parse(args.link), args.port))


if __name__ == "__main__":
    main()
