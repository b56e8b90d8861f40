"""Sales ingest while 50 new tills download a 100,000-product catalog from the same server.

Run: ``.venv/bin/python -m benches.pull_during_ingest [--products 100000] [--tills 50]
[--pushers 8] [--sales 8000] [--batch 100] [--procs 2] [--workers 2]``

On MariaDB (``kasir_bench_pull``), one store with ``--products`` products and their stock
levels (stamped like catalog edits), uvicorn with ``--workers`` processes. First the
baseline, measured in the same run: ``--pushers`` tills pushing ``--sales`` sales in
batches (the load generator of ``benches.ingest``, several processes) with nothing else
going on. Then the same kind of pushes while ``--tills`` new tills of that store
download the whole catalog at once from ``--procs`` processes, each page asked for with
gzip as the till does (``--identity``: uncompressed, which the server never shares
between tills: the figure before this work). A downloading till here reads each page's
bytes and only the cursor at its head (no JSON parsing, no local store), so the load
generators leave the two cores to the server.

Prints the ingest rate alone and during the downloads (over the time both ran), their
ratio (goal >= 0.5x), the downloads' times and bytes, and the server's CPU per page
served (its CPU in the window less what the pushes cost per sale alone). Nothing leaves
127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import argparse
import random
import re
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

import httpx

from benches._common import (
    CORES,
    CpuMeter,
    Db,
    LoadResult,
    ReleasedProcesses,
    TillJob,
    Tills,
    add_figures,
    fmt_ms,
    make_sale,
    percentile,
    push_body,
    running_server,
    seed,
    verdict,
)
from benches.catalog_download import PAGE, add_catalog
from pos_client.sync.client import PULL_PATH
from shared.models import PROTOCOL_HEADER, PROTOCOL_VERSION

BENCH_DB = "kasir_bench_pull"
HEAD = re.compile(rb'"cursor":(\d+),"has_more":(true|false)')
ATTEMPTS = 20  # a page is given up after this many failed tries (bounded)


@dataclass
class Downloaded:
    """What the downloading tills of one process (or all, merged) saw."""

    seconds: list[float] = field(default_factory=list)
    pages: int = 0
    wire_bytes: int = 0
    retries: int = 0
    errors: list[str] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0
    load_cpu: float = 0.0

    def merge(self, part: Downloaded) -> None:
        """Add ``part``."""
        add_figures(self, part)


def head_of(body: bytes) -> tuple[int, bool]:
    """(cursor, has_more) from the start of a gzip page, without decoding the rest."""
    text = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body, 200)
    match = HEAD.search(text)
    if match is None:
        raise ValueError(f"no cursor at the head of the page: {text[:80]!r}")
    return int(match[1]), match[2] == b"true"


def _download(base: str, token: str, coding: str, out: Downloaded, lock: threading.Lock) -> None:
    """One new till: every page from cursor 0 until ``has_more`` is false."""
    headers = {
        "Authorization": f"Bearer {token}",
        PROTOCOL_HEADER: str(PROTOCOL_VERSION),
        "Accept-Encoding": coding,
    }
    rng = random.Random(token)
    start = time.perf_counter()
    cursor, pages, size, retries = 0, 0, 0, 0
    with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
        while True:
            for attempt in range(ATTEMPTS):
                try:
                    params = {"cursor": cursor, "limit": PAGE}
                    with http.stream("GET", PULL_PATH, params=params) as answer:
                        body = b"".join(answer.iter_raw())
                        status = answer.status_code
                        gzipped = answer.headers.get("content-encoding") == "gzip"
                except httpx.TransportError:
                    status, body, gzipped = 0, b"", False
                if status == 200:
                    break
                retries += 1
                time.sleep(rng.uniform(0, min(8.0, 0.25 * 2**attempt)))
            else:
                with lock:
                    out.errors.append(f"page at {cursor} given up (last status {status})")
                return
            pages += 1
            size += len(body)
            cursor, more = head_of(body) if gzipped else _plain_head(body)
            if not more:
                break
    with lock:
        out.seconds.append(time.perf_counter() - start)
        out.pages += pages
        out.wire_bytes += size
        out.retries += retries


def _plain_head(body: bytes) -> tuple[int, bool]:
    match = HEAD.search(body[:200])
    if match is None:
        raise ValueError("no cursor at the head of the page")
    return int(match[1]), match[2] == b"true"


def _downloads_main(
    base: str,
    tokens: list[str],
    coding: str,
    ready: Any,
    go: Any,
    go_at: Any,
    results: Any,
    index: int,
) -> None:  # pragma: no cover - runs in a child process
    """A load process: a thread per downloading till, all released at the parent's go."""
    out = Downloaded()
    lock = threading.Lock()
    gate = threading.Event()

    def run(token: str) -> None:
        gate.wait()
        try:
            _download(base, token, coding, out, lock)
        except Exception as exc:  # reported, never hidden
            with lock:
                out.errors.append(repr(exc))

    threads = [threading.Thread(target=run, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    ready.put(len(tokens))
    if not go.wait(600):
        results.put(out)
        return
    cpu0 = time.process_time()
    gate.set()
    for t in threads:
        t.join()
    out.ended = time.time()
    out.load_cpu = time.process_time() - cpu0
    results.put(out)


class Downloads(ReleasedProcesses):
    """``tokens`` downloading tills spread over ``procs`` processes, released together."""

    def __init__(self, base: str, tokens: list[str], procs: int, coding: str) -> None:
        """Start the processes; they wait for :meth:`go`."""
        procs = max(1, min(procs, len(tokens)))
        super().__init__(_downloads_main, [(base, tokens[i::procs], coding) for i in range(procs)])

    def wait(self, timeout: float) -> Downloaded:
        """Every process's figures merged (bounded)."""
        return self._merged(Downloaded(started=self.started), timeout)


def push_jobs(
    base: str, tokens: list[str], sales: int, batch: int, cashier_id: int, first_seq: int
) -> list[TillJob]:
    """``sales`` sales spread over the tills of ``tokens``, in batches of ``batch``."""
    rng = random.Random(first_seq)
    per_till = max(1, sales // len(tokens))
    jobs = []
    for t, token in enumerate(tokens):
        events = [make_sale(t, first_seq + s, cashier_id, rng) for s in range(per_till)]
        bodies = [push_body(events[i : i + batch]) for i in range(0, per_till, batch)]
        jobs.append(TillJob(token, base, bodies))
    return jobs


def acked_sales(res: LoadResult, batch: int, within: float) -> int:
    """Sales in the batches acknowledged within ``within`` seconds of the start."""
    return batch * sum(1 for t in res.to_ack if t <= within)


def main() -> None:
    """Seed, measure ingest alone, then during the downloads; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--tills", type=int, default=50, help="new tills downloading at once")
    parser.add_argument("--pushers", type=int, default=8, help="tills pushing sales")
    parser.add_argument("--sales", type=int, default=8000, help="sales pushed in each phase")
    parser.add_argument("--batch", type=int, default=100, help="sales per push")
    parser.add_argument("--procs", type=int, default=2, help="processes of each load")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument(
        "--identity",
        action="store_true",
        help="download uncompressed (so no page is shared either): the figure before gzip",
    )
    args = parser.parse_args()
    coding = "identity" if args.identity else "gzip"

    db = Db(BENCH_DB)
    db.recreate()
    seeded = seed(db, args.pushers + args.tills)
    start = time.perf_counter()
    add_catalog(db.url(), args.products, store_id=seeded.store_id, with_stock=True)
    print(
        f"# sales ingest while {args.tills} tills download the catalog ({coding}), MariaDB,"
        f" {CORES} cores"
        f"\n{args.products} products + stock levels seeded in {time.perf_counter() - start:.1f} s"
    )
    pushers, downloaders = seeded.tokens[: args.pushers], seeded.tokens[args.pushers :]

    with running_server(db.url(), args.workers) as server:
        alone_jobs = push_jobs(server.base, pushers, args.sales, args.batch, seeded.cashier_id, 0)
        tills = Tills(alone_jobs, args.procs)
        meter = CpuMeter.of([server], [3306])
        meter.start()
        tills.go()
        alone = tills.wait(1200)
        meter.stop()
        sales_alone = acked_sales(alone, args.batch, float("inf"))
        alone_wall = max(alone.last_ok - alone.started, 1e-9)
        rate_alone = sales_alone / alone_wall
        cpu_per_sale = meter.server / max(sales_alone, 1)

        during_jobs = push_jobs(
            server.base, pushers, args.sales, args.batch, seeded.cashier_id, 1_000_000
        )
        tills = Tills(during_jobs, args.procs)
        downloads = Downloads(server.base, downloaders, args.procs, coding)
        meter_d = CpuMeter.of([server], [3306])
        meter_d.start()
        downloads.go()
        tills.go()
        during = tills.wait(1200)
        got = downloads.wait(1200)
        meter_d.stop()

    push_end = during.last_ok - during.started
    dl_end = got.ended - got.started
    window = max(min(push_end, dl_end), 1e-9)
    sales_during = acked_sales(during, args.batch, window)
    rate_during = sales_during / window
    ratio = rate_during / rate_alone
    pull_cpu = max(meter_d.server - cpu_per_sale * acked_sales(during, args.batch, 1e18), 0.0)

    print(
        f"ingest alone           {rate_alone:8.0f} sales/s  ({sales_alone} sales by"
        f" {args.pushers} tills in {alone_wall:.1f} s, p50 push"
        f" {fmt_ms(percentile(alone.ok_latencies, 0.5))}, server CPU"
        f" {1000 * cpu_per_sale:.2f} ms/sale, {len(alone.errors)} errors)"
    )
    print(
        f"ingest during downloads{rate_during:8.0f} sales/s  ({sales_during} sales in the"
        f" {window:.1f} s both ran, p50 push {fmt_ms(percentile(during.ok_latencies, 0.5))},"
        f" p99 {fmt_ms(percentile(during.ok_latencies, 0.99))}, {len(during.errors)} errors,"
        f" http {dict(sorted(during.http.items()))})"
    )
    print(f"ratio                  {ratio:8.2f} x  (goal >= 0.5 x)  {verdict(ratio, 0.5)}")
    done = len(got.seconds)
    print(
        f"downloads              {done}/{args.tills} tills done in {dl_end:.1f} s (median till"
        f" {percentile(got.seconds, 0.5):.1f} s, slowest {max(got.seconds, default=0):.1f} s),"
        f" {got.pages} pages, {got.wire_bytes / 1e6:.1f} MB on the wire, {got.retries} retries,"
        f" {len(got.errors)} errors"
    )
    if got.errors:
        print("  first errors:", got.errors[:3])
    print(
        f"server CPU per page    {1000 * pull_cpu / max(got.pages, 1):8.1f} ms  (server CPU"
        f" {meter_d.server:.1f} s in the window, less {1000 * cpu_per_sale:.2f} ms per sale"
        f" pushed; {got.pages} pages served)"
    )
    print(
        f"  window: machine busy {meter_d.busy:.1f} s of {meter_d.wall * CORES:.1f} core-s,"
        f" mariadbd {meter_d.db:.1f} s, load generators"
        f" {got.load_cpu + during.load_cpu:.1f} s"
    )


if __name__ == "__main__":
    main()
