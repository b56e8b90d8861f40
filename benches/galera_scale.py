"""Scale-out: the same storm against 3 servers on a 3-node Galera cluster and against
1 server on a 1-node cluster.

Run: .venv/bin/python -m benches.galera_scale [--tills 300] [--sales-per-till 5]

Each cluster is started from the installed MariaDB and Galera packages on loopback with
its own ports and data dirs (``tests/cluster/galera.py``); the MariaDB on 3306 is never
touched. The same sales (same ids) go to a fresh, migrated database on each cluster; the
tills, which behave like the real one (``benches/_common.py``), are spread round-robin
over the servers, one server per node. Prints the drain rate of each, the ratio (goal
>= 0.8x), errors (5xx other than 502/503/504, refused batches, sales lost or duplicated,
read back causally on node 1), and where the CPU went. Every wait is bounded; the
clusters are stopped and removed at the end.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from typing import Any

from benches._common import (
    CORES,
    TILL_TIMEOUT,
    CpuMeter,
    Db,
    LoadResult,
    Server,
    TillJob,
    Tills,
    add_load_options,
    bottleneck,
    count_sales,
    cpu_breakdown,
    fmt_ms,
    make_sale,
    parse_load_args,
    percentile,
    push_body,
    seed,
    start_server,
    verdict,
)
from tests.cluster.galera import GaleraCluster, missing_tools

DATABASE = "kasir_bench_galera"


@dataclass
class Outcome:
    """One cluster's storm."""

    nodes: int
    rate: float
    wall: float
    applied: int
    lost: int
    duplicated: int
    res: LoadResult
    meter: CpuMeter

    @property
    def errors(self) -> int:
        """Errors the tills saw plus sales lost or duplicated in the database."""
        return len(self.res.errors) + max(self.lost, 0) + self.duplicated


def storm_on(size: int, storm: list[list[dict[str, Any]]], args: argparse.Namespace) -> Outcome:
    """Start a ``size``-node cluster, one server per node, run the storm, stop it all."""
    cluster = GaleraCluster(size=size)
    servers: list[Server] = []
    try:
        cluster.start(timeout=240)
        first = cluster.nodes[0]
        db = Db(DATABASE, port=first.port, driver=args.driver)
        db.recreate()
        seeded = seed(db, len(storm))
        for batch in storm:  # Galera may number the cashier otherwise than 1
            for event in batch:
                event["payload"]["cashier_id"] = seeded.cashier_id
        for node in cluster.nodes:
            servers.append(
                start_server(Db(DATABASE, port=node.port, driver=args.driver).url(), args.workers)
            )
        jobs = [
            TillJob(
                seeded.tokens[t],
                servers[t % len(servers)].base,
                [push_body(batch, waiting=len(batch))],
            )
            for t, batch in enumerate(storm)
        ]
        tills = Tills(jobs, args.procs)
        meter = CpuMeter.of(servers, [n.port for n in cluster.nodes])
        meter.start()
        started = tills.go()
        res = tills.wait(timeout=60 * TILL_TIMEOUT)
        meter.stop()
        total, distinct = count_sales(db)
    finally:
        for server in servers:
            server.stop()
        cluster.stop()
    expected = sum(len(b) for b in storm)
    wall = max((res.last_ok or res.ended) - started, 1e-9)
    return Outcome(size, total / wall, wall, total, expected - total, total - distinct, res, meter)


def main(argv: list[str] | None = None) -> None:
    """Run the storm on 1 node then on 3, print both and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tills", type=int, default=300, help="tills pushing at once")
    parser.add_argument("--sales-per-till", type=int, default=5)
    add_load_options(parser, procs=3, workers=1, workers_help="uvicorn workers per server")
    args = parse_load_args(parser, argv)
    lacking = missing_tools()
    if lacking:
        raise SystemExit(f"a Galera cluster needs {', '.join(lacking)}")

    rng = random.Random(21)
    # The same sales, same ids, on both clusters.
    storm = [
        [make_sale(t, 300000 + s, 1, rng) for s in range(args.sales_per_till)]
        for t in range(args.tills)
    ]
    print(
        f"# Kasir on Galera: {args.tills} tills x {args.sales_per_till} sales at once,"
        f" {CORES} cores, {args.workers} uvicorn worker(s) per server, {args.driver}"
    )
    outcomes = [storm_on(size, storm, args) for size in (1, 3)]
    for o in outcomes:
        r = o.res
        print(
            f"{o.nodes} server(s) on {o.nodes} node(s): {o.rate:7.0f} sales/s ({o.applied} sales"
            f" in {o.wall:.1f} s); push p50 {fmt_ms(percentile(r.ok_latencies, 0.5))} p99"
            f" {fmt_ms(percentile(r.ok_latencies, 0.99))}; http {dict(sorted(r.http.items()))};"
            f" timeouts {r.timeouts}; errors {o.errors} (lost {o.lost}, duplicated"
            f" {o.duplicated}); answers {r.statuses}"
        )
        if r.errors:
            print("  first errors:", r.errors[:3])
    one, three = outcomes
    ratio = three.rate / one.rate
    errors = one.errors + three.errors
    print()
    print("| figure | measured | baseline (same run) | goal |")
    print("| --- | --- | --- | --- |")
    print(
        f"| 3 servers on 3 Galera nodes | {three.rate:.0f} sales/s | 1 server on 1 node"
        f" {one.rate:.0f} sales/s | {ratio:.2f}x, goal >= 0.8x: {verdict(ratio, 0.8)} |"
    )
    print(f"| errors | {errors} | - | 0: {verdict(errors, 0, higher_is_better=False)} |")
    if ratio < 0.8 or errors:
        for o in outcomes:
            print(f"# where the CPU went, {o.nodes} node(s) (from /proc)")
            for line in cpu_breakdown(o.meter, o.res.load_cpu, o.res.attempts):
                print(line)
            print(f"bottleneck: {bottleneck(o.meter, o.res.load_cpu, o.res.attempts)}")


if __name__ == "__main__":
    main()
