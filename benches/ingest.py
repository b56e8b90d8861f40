"""Sales ingest on MariaDB: the server against raw batched INSERTs and one sale per request.

Run: .venv/bin/python -m benches.ingest [--sales 20000] [--terminals 40] [--driver pymysql]

Prints, from one run on the same database server:
* the ceiling: the same rows written with executemany batches straight into MariaDB,
  through PyMySQL and through mysqlclient (``MySQLdb``; skipped with a note when it is not
  installed); the faster driver is the baseline;
* Kasir: simulated tills in several processes pushing batches to one server whose URL
  names ``--driver`` (``mysql+pymysql://`` or ``mysql+mysqldb://``);
* the baseline: the same kind of sales pushed one sale per request;
* for each figure that misses its goal, where the CPU went while it was measured.

The storm of 1,000 tills is ``benches.storm``. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import random

from benches._common import (
    CORES,
    Ceiling,
    CpuMeter,
    Db,
    LoadResult,
    TillJob,
    add_load_options,
    bottleneck,
    count_sales,
    cpu_breakdown,
    fmt_ms,
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

BENCH_DB = "kasir_bench"


def describe(name: str, sales: int, res: LoadResult, extra: str = "") -> float:
    """Print one load's line; its rate in sales/s (start to the last acknowledged push)."""
    wall = max(res.last_ok - res.started, 1e-9)
    rate = sales / wall
    print(
        f"{name:<24}: {rate:9.0f} sales/s  p50 {fmt_ms(percentile(res.ok_latencies, 0.5))}"
        f"  p99 {fmt_ms(percentile(res.ok_latencies, 0.99))}  ({res.pushes} pushes{extra},"
        f" {len(res.errors)} errors, {res.timeouts} timeouts,"
        f" http {dict(sorted(res.http.items()))},"
        f" {res.statuses})"
    )
    if res.errors:
        print("  first errors:", res.errors[:3])
    return rate


def main(argv: list[str] | None = None) -> None:
    """Run the three measurements and print the ratios and bottlenecks."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sales", type=int, default=20000, help="sales in the batched run")
    parser.add_argument("--terminals", type=int, default=40, help="tills in the batched run")
    parser.add_argument("--batch", type=int, default=100, help="sales per push")
    parser.add_argument("--baseline-sales", type=int, default=2000)
    add_load_options(parser, procs=4, workers=2, db=BENCH_DB)
    args = parse_load_args(parser, argv)

    rng = random.Random(7)
    db = Db(args.db, driver=args.driver)
    db.recreate()
    seeded = seed(db, args.terminals)
    per_term = max(1, args.sales // args.terminals)
    events = {
        t: [make_sale(t, s, seeded.cashier_id, rng) for s in range(per_term)]
        for t in range(args.terminals)
    }
    all_events = [e for t in range(args.terminals) for e in events[t]]

    print(f"# Kasir ingest benchmark on MariaDB ({CORES} cores), server on {args.driver}")
    ceilings: list[Ceiling] = raw_ceilings(f"{args.db}_raw", all_events, args.batch)
    best = print_ceilings(ceilings, f"{args.batch} sales per transaction, one connection")

    with running_server(db.url(), args.workers) as server:
        meter = CpuMeter.of([server], [3306])
        jobs = [
            TillJob(
                seeded.tokens[t],
                server.base,
                [push_body(events[t][i : i + args.batch]) for i in range(0, per_term, args.batch)],
            )
            for t in range(args.terminals)
        ]
        before, _ = count_sales(db)
        res = run_tills(jobs, args.procs, meter)
        after, distinct = count_sales(db)
        kasir_rate = describe(
            "kasir batched push", len(all_events), res, f" of {args.batch}, {args.terminals} tills"
        )
        lost = len(all_events) - (after - before)
        duplicated = after - distinct
        print(
            f"  verified in the database: {after - before} sales, {lost} lost, "
            f"{duplicated} duplicated"
        )

        base_terms = min(args.terminals, 40)
        per_base = max(1, args.baseline_sales // base_terms)
        base_jobs = [
            TillJob(
                seeded.tokens[t],
                server.base,
                [
                    push_body([make_sale(t, 100000 + s, seeded.cashier_id, rng)])
                    for s in range(per_base)
                ],
            )
            for t in range(base_terms)
        ]
        meter_b = CpuMeter.of([server], [3306])
        res_b = run_tills(base_jobs, args.procs, meter_b)
        base_rate = describe("one sale per request", base_terms * per_base, res_b)

    raw_ratio = kasir_rate / best.rate
    per_ratio = kasir_rate / base_rate
    errors = len(res.errors) + len(res_b.errors) + max(lost, 0) + duplicated
    print()
    print("| figure | measured | baseline (same run) | goal |")
    print("| --- | --- | --- | --- |")
    print(
        f"| batched ingest vs raw executemany | {kasir_rate:.0f} sales/s | raw {best.driver}"
        f" {best.rate:.0f} sales/s | {raw_ratio:.2f}x, goal >= 0.5x: {verdict(raw_ratio, 0.5)} |"
    )
    print(
        f"| batched ingest vs one sale per request | {kasir_rate:.0f} sales/s | per request"
        f" {base_rate:.0f} sales/s | {per_ratio:.1f}x, goal >= 20x: {verdict(per_ratio, 20)} |"
    )
    print(f"| errors | {errors} | - | 0: {verdict(errors, 0, higher_is_better=False)} |")
    if raw_ratio < 0.5 or per_ratio < 20 or errors:
        print()
        print("# where the time went while the batched run was measured")
        for line in cpu_breakdown(meter, res.load_cpu, res.attempts):
            print(line)
        print(f"bottleneck (batched run): {bottleneck(meter, res.load_cpu, res.attempts)}")
    if per_ratio < 20:
        batched_ms = 1000 * (meter.server + meter.db) / max(len(all_events), 1)
        single_ms = 1000 * (meter_b.server + meter_b.db) / max(base_terms * per_base, 1)
        print(
            f"# CPU per sale (server + mariadbd): batched {batched_ms:.2f} ms, one per request"
            f" {single_ms:.2f} ms: {single_ms / batched_ms:.1f}x apart on CPU alone"
        )
        print("# where the time went while one sale per request was measured")
        for line in cpu_breakdown(meter_b, res_b.load_cpu, res_b.attempts):
            print(line)
        print(
            f"bottleneck (per-request run): {bottleneck(meter_b, res_b.load_cpu, res_b.attempts)}"
        )


if __name__ == "__main__":
    main()
