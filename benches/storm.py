"""A storm: every till of a big shop pushes its batch at the same moment, while a manager
reads a report.

Run: .venv/bin/python -m benches.storm [--tills 1000] [--sales-per-till 5] [--driver pymysql]

Each till behaves like the real one (``pos_client/sync/worker.py``): the till's HTTP
timeout (``ClientSettings.http_timeout_seconds``), and on a timeout, a dropped connection
or 408/425/429/502/503/504 it backs off with full jitter (after the server's
``Retry-After`` when there is one) and sends the same batch again, same event ids. The
tills run in several load processes, all released at once; in each, one event loop
serves its tills, each on a keep-alive HTTP/1.1 connection of its own with its pushes
serialised beforehand (the same bytes the till's httpx client sends), so the load
processes take about 0.5 ms of CPU per push attempt where a thread per till with an
httpx client took 4.5-7.7 ms (a third to half of the server's own).

Prints, from one run against the MariaDB on 127.0.0.1:3306:
* the raw ceiling: the storm's rows written with executemany, one transaction per till's
  batch, through PyMySQL and mysqlclient; the faster is the baseline;
* the drain rate (sales applied / time until the last push was acknowledged) against it;
* errors (a 5xx other than 502/503/504, a refused batch, a sale lost or duplicated in
  the database afterwards), pushes that ran into the till's timeout, 503s, p50/p99;
* the manager's report p99 idle and during the storm (and ``/health`` beside it);
* for each figure that misses its goal, where the CPU went during the storm.
"""

from __future__ import annotations

import argparse
import random
import time
from contextlib import nullcontext

from benches._common import (
    CORES,
    TILL_TIMEOUT,
    CpuMeter,
    Db,
    ReportPoller,
    TillJob,
    Tills,
    add_load_options,
    bottleneck,
    count_sales,
    cpu_breakdown,
    fmt_ms,
    idle_polls,
    make_sale,
    parse_load_args,
    percentile,
    print_ceilings,
    push_body,
    raw_ceilings,
    run_tills,
    running_server,
    seed,
    verdict,
)

BENCH_DB = "kasir_bench_storm"


def main(argv: list[str] | None = None) -> None:
    """Warm up, poll the report idle, run the storm with the report polled, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tills", type=int, default=1000, help="tills pushing at once")
    parser.add_argument("--sales-per-till", type=int, default=5)
    add_load_options(parser, procs=4, workers=2, db=BENCH_DB)
    parser.add_argument("--idle-polls", type=int, default=100, help="report requests idle")
    parser.add_argument(
        "--warm-tills", type=int, default=20, help="tills that push first (not timed)"
    )
    parser.add_argument("--warm-sales", type=int, default=50, help="sales per warm-up till")
    parser.add_argument(
        "--sync-nice",
        type=int,
        default=0,
        help="run the tills' server at this nice level (with --admin-server: the back office"
        " keeps the larger CPU weight, as compose's cpu_shares give it in production)",
    )
    parser.add_argument(
        "--admin-server",
        action="store_true",
        help="serve the manager from a server process of its own (1 worker, same database),"
        " as nginx routes the back office apart from the tills' sync in production",
    )
    args = parse_load_args(parser, argv)

    rng = random.Random(13)
    db = Db(args.db, driver=args.driver)
    db.recreate()
    seeded = seed(db, args.tills)
    n = args.sales_per_till
    storm = [
        [make_sale(t, 200000 + s, seeded.cashier_id, rng) for s in range(n)]
        for t in range(args.tills)
    ]
    storm_events = [e for batch in storm for e in batch]
    warm_tills = min(args.warm_tills, args.tills)
    warm = [
        [make_sale(t, s, seeded.cashier_id, rng) for s in range(args.warm_sales)]
        for t in range(warm_tills)
    ]

    print(
        f"# Kasir storm: {args.tills} tills x {n} sales at once, {CORES} cores, server on"
        f" {args.driver} ({args.workers} uvicorn workers), till timeout {TILL_TIMEOUT:.0f} s"
    )
    best = print_ceilings(
        raw_ceilings(f"{args.db}_raw", storm_events, n),
        f"{n} sales per transaction, one connection",
    )

    with (
        running_server(db.url(), args.workers, nice=args.sync_nice) as server,
        running_server(db.url(), 1) if args.admin_server else nullcontext(server) as admin,
    ):
        # Warm-up (not timed): the report has sales to sum and the pools are open.
        run_tills(
            [
                TillJob(seeded.tokens[t], server.base, [push_body(warm[t])])
                for t in range(warm_tills)
            ],
            min(args.procs, 2),
        )
        idle = idle_polls(admin.base, seeded.manager_token, args.idle_polls)
        idle_lat = [dt for _, dt in idle.report]
        idle_health = [dt for _, dt in idle.health]

        jobs = [
            TillJob(seeded.tokens[t], server.base, [push_body(storm[t], waiting=n)])
            for t in range(args.tills)
        ]
        before, _ = count_sales(db)
        poller = ReportPoller(admin.base, seeded.manager_token)
        tills = Tills(jobs, args.procs)
        poller.wait_ready()
        time.sleep(0.5)  # a few report answers before the storm starts
        meter = CpuMeter.of([server] if admin is server else [server, admin], [3306])
        meter.start()
        started = tills.go()
        res = tills.wait(timeout=60 * TILL_TIMEOUT)
        meter.stop()
        polled = poller.stop()
        after, distinct = count_sales(db)

    end = res.last_ok or res.ended
    storm_lat = polled.report_between(started, end)
    storm_health = polled.health_between(started, end)
    applied = after - before
    lost = len(storm_events) - applied
    duplicated = after - distinct
    drain_wall = max(end - started, 1e-9)
    drain = applied / drain_wall
    fives = sum(v for k, v in res.http.items() if k >= 500 and k not in (502, 503, 504))
    errors = len(res.errors) + max(lost, 0) + duplicated
    ratio = drain / best.rate
    idle_p99 = percentile(idle_lat, 0.99)
    storm_p99 = percentile(storm_lat, 0.99)
    report_ratio = storm_p99 / idle_p99 if idle_lat and storm_lat else float("nan")

    print(
        f"kasir storm drain       : {drain:9.0f} sales/s  ({applied} sales applied in"
        f" {drain_wall:.1f} s to the last acknowledged push)"
    )
    print(
        f"  pushes: {res.pushes} acknowledged of {args.tills}, {res.attempts} attempts;"
        f" http {dict(sorted(res.http.items()))}; event answers {res.statuses}"
    )
    print(
        f"  push latency (answered 200) p50 {fmt_ms(percentile(res.ok_latencies, 0.5))}"
        f" p99 {fmt_ms(percentile(res.ok_latencies, 0.99))}; start to acknowledged p50"
        f" {fmt_ms(percentile(res.to_ack, 0.5))} p99 {fmt_ms(percentile(res.to_ack, 0.99))}"
    )
    print(
        f"  503s {res.http.get(503, 0)}, past the till's {TILL_TIMEOUT:.0f} s timeout"
        f" {res.timeouts}, dropped connections {res.transport_errors}, other 5xx {fives},"
        f" lost {lost}, duplicated {duplicated}"
        + (
            f", load processes released up to {res.late_start:.2f} s late"
            if res.late_start > 0.5
            else ""
        )
    )
    if res.errors:
        print("  first errors:", res.errors[:3])
    if polled.errors or idle.errors:
        # Not a till's error; shown so nothing is hidden (a kept-alive connection the
        # server closed shows up here as RemoteProtocolError).
        print(
            f"  the manager's requests that failed: {len(idle.errors)} idle,"
            f" {len(polled.errors)} around the storm; first: {(idle.errors + polled.errors)[:2]}"
        )
    print(
        f"report p99 idle          : {fmt_ms(idle_p99)}  (p50 {fmt_ms(percentile(idle_lat, 0.5))},"
        f" {len(idle_lat)} requests; /health p99 {fmt_ms(percentile(idle_health, 0.99))})"
    )
    print(
        f"report p99 during storm  : {fmt_ms(storm_p99)}"
        f"  (p50 {fmt_ms(percentile(storm_lat, 0.5))},"
        f" {len(storm_lat)} requests; /health p99 {fmt_ms(percentile(storm_health, 0.99))})"
    )
    print()
    print("| figure | measured | baseline (same run) | goal |")
    print("| --- | --- | --- | --- |")
    print(
        f"| drain rate, {args.tills} tills x {n} | {drain:.0f} sales/s | raw {best.driver}"
        f" {best.rate:.0f} sales/s | {ratio:.2f}x, goal >= 0.5x: {verdict(ratio, 0.5)} |"
    )
    print(f"| errors | {errors} | - | 0: {verdict(errors, 0, higher_is_better=False)} |")
    print(
        f"| pushes past the till's timeout | {res.timeouts} | - |"
        f" 0: {verdict(res.timeouts, 0, higher_is_better=False)} |"
    )
    print(
        f"| report p99 during the storm | {fmt_ms(storm_p99)} | idle {fmt_ms(idle_p99)} |"
        f" {report_ratio:.1f}x, goal <= 2x: {verdict(report_ratio, 2.0, higher_is_better=False)} |"
    )

    missed = ratio < 0.5 or errors or res.timeouts or not report_ratio <= 2.0
    if missed:
        print()
        print("# where the CPU went during the storm (from /proc)")
        for line in cpu_breakdown(meter, res.load_cpu, res.attempts):
            print(line)
        print(f"bottleneck: {bottleneck(meter, res.load_cpu, res.attempts)}")
        if not report_ratio <= 2.0:
            health_ratio = percentile(storm_health, 0.99) / percentile(idle_health, 0.99)
            where = (
                "in front of the app (the event loop / CPU queue: /health slowed as much)"
                if health_ratio >= report_ratio / 2
                else "inside the app (thread pool or database: /health stayed fast)"
            )
            print(
                f"report slowdown {report_ratio:.1f}x vs /health {health_ratio:.1f}x:"
                f" the report waited {where}"
            )


if __name__ == "__main__":
    main()
