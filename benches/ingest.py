"""Sales ingest on MariaDB: the server against raw batched INSERTs and one sale per request.

Run: .venv/bin/python -m benches.ingest [--sales 20000] [--terminals 40] [--storm 1000]

Prints, from one run on the same database server:
* the ceiling: the same rows written with executemany batches straight into MariaDB;
* Kasir: simulated terminals in several processes pushing batches to one server;
* the baseline: the same kind of sales pushed one sale per request;
* a storm: ``--storm`` terminals pushing at once (errors, lost, duplicated, p50/p99).
Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import statistics
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pymysql

from benches._common import insert_bench_store
from shared.ids import new_id
from shared.models import PROTOCOL_HEADER, PROTOCOL_VERSION
from shared.pricing import LineInput, price_sale
from tests.conftest import free_port, fresh_mariadb_database, uvicorn_command

DB_HOST = "127.0.0.1"
BENCH_DB = "kasir_bench"
RAW_DB = "kasir_bench_raw"
N_PRODUCTS = 500


def _mysql(db: str | None = None) -> pymysql.connections.Connection:
    return pymysql.connect(host=DB_HOST, user="root", password="", database=db, autocommit=False)


def _url(db: str) -> str:
    return f"mysql+pymysql://root@{DB_HOST}:3306/{db}"


def fresh_database(name: str) -> None:
    """Drop and re-create ``name`` and migrate it to the current schema."""
    from sync_server.migrate import upgrade

    upgrade(fresh_mariadb_database(name))


def seed(name: str, terminals: int) -> tuple[int, int, list[str]]:
    """A store, a cashier, products with stock and ``terminals`` enrolled tills."""
    from sync_server.core.security import new_token, token_hash

    conn = _mysql(name)
    now = datetime.now(UTC).replace(tzinfo=None)
    tokens = [new_token() for _ in range(terminals)]
    with conn.cursor() as cur:
        store_id = insert_bench_store(cur, now)
        cur.execute(
            "INSERT INTO users (username, full_name, role, store_id, active, failed_logins,"
            " change_no, created_at) VALUES ('kasir','Kasir','cashier',%s,1,0,0,%s)",
            (store_id, now),
        )
        cashier_id = cur.lastrowid
        cur.executemany(
            "INSERT INTO products (id, sku, barcode, name, unit, price, active,"
            " low_stock_threshold, change_no, updated_at) VALUES (%s,%s,NULL,%s,'pcs',%s,1,0,0,%s)",
            [
                (i, f"SKU{i:05d}", f"Produk {i}", 1000 + (i * 500) % 50000, now)
                for i in range(1, N_PRODUCTS + 1)
            ],
        )
        cur.executemany(
            "INSERT INTO stock_levels (store_id, product_id, on_hand, change_no, updated_at)"
            " VALUES (%s,%s,1000000,0,%s)",
            [(store_id, i, now) for i in range(1, N_PRODUCTS + 1)],
        )
        cur.executemany(
            "INSERT INTO terminals (store_id, code, name, token_hash, enrolled_at, created_at)"
            " VALUES (%s,%s,'',%s,%s,%s)",
            [(store_id, f"T{i:04d}", token_hash(tok), now, now) for i, tok in enumerate(tokens)],
        )
    conn.commit()
    conn.close()
    return store_id, cashier_id, tokens


def make_sale(terminal_index: int, seq: int, cashier_id: int, rng: random.Random) -> dict[str, Any]:
    """One realistic sale event (1-5 lines, PPN 11 % inclusive, cash) as an outbox event."""
    created = datetime(2026, 11, 1, 3, 0, tzinfo=UTC) + timedelta(seconds=seq * 7)
    products = rng.sample(range(1, N_PRODUCTS + 1), rng.randint(1, 5))
    inputs = []
    for pid in products:
        inputs.append(
            LineInput(
                unit_price=1000 + (pid * 500) % 50000,
                quantity=rng.randint(1, 3),
                tax_rate_bp=1100,
                tax_inclusive=True,
            )
        )
    totals = price_sale(inputs)
    lines = [
        {
            "id": str(new_id()),
            "product_id": pid,
            "quantity": li.quantity,
            "unit_price": li.unit_price,
            "discount": 0,
            "tax_rate_bp": 1100,
            "tax_inclusive": True,
            "tax": lt.tax,
            "total": lt.total,
        }
        for pid, li, lt in zip(products, inputs, totals.lines, strict=True)
    ]
    tendered = (totals.total // 50000 + 1) * 50000
    sale = {
        "id": str(new_id()),
        "receipt_number": f"T{terminal_index:04d}-20261101-{seq:06d}",
        "cashier_id": cashier_id,
        "created_at": created.isoformat(),
        "lines": lines,
        "subtotal": totals.subtotal,
        "discount_total": totals.discount_total,
        "tax_total": totals.tax_total,
        "total": totals.total,
        "payments": [
            {
                "id": str(new_id()),
                "method": "cash",
                "amount": totals.total,
                "tendered": tendered,
                "change": tendered - totals.total,
            }
        ],
    }
    return {"id": str(new_id()), "type": "sale", "created_at": created.isoformat(), "payload": sale}


def raw_rows(
    events: list[dict[str, Any]], store_id: int, terminal_id: int
) -> dict[str, list[tuple]]:
    """The rows ingest writes for these sales, as plain tuples per table."""
    now = datetime.now(UTC).replace(tzinfo=None)
    rows: dict[str, list[tuple]] = {
        "sync_events": [],
        "sales": [],
        "sale_lines": [],
        "sale_payments": [],
        "stock_moves": [],
    }
    for ev in events:
        s = ev["payload"]
        created = datetime.fromisoformat(s["created_at"]).replace(tzinfo=None)
        rows["sync_events"].append((UUID(ev["id"]).hex, terminal_id, "sale", created, now))
        rows["sales"].append(
            (
                UUID(s["id"]).hex,
                UUID(ev["id"]).hex,
                store_id,
                terminal_id,
                s["receipt_number"],
                s["cashier_id"],
                created,
                created.date(),
                s["subtotal"],
                s["discount_total"],
                0,
                s["tax_total"],
                s["total"],
                0,
                now,
            )
        )
        for line in s["lines"]:
            rows["sale_lines"].append(
                (
                    UUID(line["id"]).hex,
                    UUID(s["id"]).hex,
                    line["product_id"],
                    "",
                    "",
                    line["quantity"],
                    line["unit_price"],
                    0,
                    0,
                    1100,
                    1,
                    line["tax"],
                    line["total"],
                    0,
                    0,
                )
            )
            rows["stock_moves"].append(
                (
                    UUID(line["id"]).hex,
                    store_id,
                    line["product_id"],
                    "sale",
                    -line["quantity"],
                    s["id"],
                    terminal_id,
                    "",
                    created,
                )
            )
        for p in s["payments"]:
            rows["sale_payments"].append(
                (
                    UUID(p["id"]).hex,
                    UUID(s["id"]).hex,
                    "cash",
                    p["amount"],
                    p["tendered"],
                    p["change"],
                )
            )
    return rows


RAW_SQL = {
    "sync_events": "INSERT INTO sync_events (id, terminal_id, type, created_at, received_at)"
    " VALUES (%s,%s,%s,%s,%s)",
    "sales": "INSERT INTO sales (id, event_id, store_id, terminal_id, receipt_number, cashier_id,"
    " created_at, business_date, subtotal, discount_total, order_discount, tax_total, total,"
    " voided, received_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
    "sale_lines": "INSERT INTO sale_lines (id, sale_id, product_id, sku, name, quantity,"
    " unit_price, discount, order_discount, tax_rate_bp, tax_inclusive, tax, total,"
    " refunded_quantity, refunded_amount) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
    "sale_payments": "INSERT INTO sale_payments (id, sale_id, method, amount, tendered, `change`)"
    " VALUES (%s,%s,%s,%s,%s,%s)",
    "stock_moves": "INSERT INTO stock_moves (id, store_id, product_id, kind, quantity, ref_id,"
    " terminal_id, note, created_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)",
}


def raw_ceiling(events: list[dict[str, Any]], batch: int) -> tuple[float, int]:
    """Write the sales' rows with executemany in batches of ``batch`` sales; sales/s, rows."""
    store_id, _, _ = seed(RAW_DB, 1)
    conn = _mysql(RAW_DB)
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM terminals LIMIT 1")
        terminal_id = cur.fetchone()[0]
    n_rows = 0
    start = time.perf_counter()
    for i in range(0, len(events), batch):
        rows = raw_rows(events[i : i + batch], store_id, terminal_id)
        with conn.cursor() as cur:
            for table in ("sync_events", "sales", "sale_lines", "sale_payments", "stock_moves"):
                cur.executemany(RAW_SQL[table], rows[table])
                n_rows += len(rows[table])
        conn.commit()
    elapsed = time.perf_counter() - start
    conn.close()
    return len(events) / elapsed, n_rows


def start_server(db: str, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """uvicorn with ``workers`` processes on a free loopback port, ready to answer."""
    port = free_port()
    env = dict(os.environ)
    env.update(
        KASIR_DATABASE_URL=_url(db),
        KASIR_ENVIRONMENT="test",
        KASIR_SECRET_KEY="bench-secret-key-that-is-long-enough-0123456789",
        KASIR_LOG_LEVEL="WARNING",
        KASIR_DB_POOL_SIZE="20",
        KASIR_DB_MAX_OVERFLOW="40",
    )
    proc = subprocess.Popen(
        uvicorn_command(port, "--workers", str(workers), "--no-access-log", "--backlog", "4096"),
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def _push_worker(
    args: tuple[str, list[tuple[str, list[list[dict[str, Any]]]]], int],
) -> dict[str, Any]:
    """One load process: a thread per terminal, each pushing its batches in order."""
    base, jobs, _ = args
    latencies: list[float] = []
    errors: list[str] = []
    statuses: dict[str, int] = {}
    lock = threading.Lock()

    def run(token: str, batches: list[list[dict[str, Any]]]) -> None:
        headers = {"Authorization": f"Bearer {token}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
        # Bodies are encoded before the clock starts: the client should cost little CPU.
        bodies = [json.dumps({"events": b, "waiting": 0}).encode() for b in batches]
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            start_gate.wait()
            for body in bodies:
                t0 = time.perf_counter()
                try:
                    resp = http.post(
                        "/api/v1/sync/push",
                        content=body,
                        headers={"Content-Type": "application/json"},
                    )
                except httpx.HTTPError as exc:
                    with lock:
                        errors.append(repr(exc))
                    continue
                dt = time.perf_counter() - t0
                with lock:
                    latencies.append(dt)
                    if resp.status_code != 200:
                        errors.append(f"{resp.status_code} {resp.text[:200]}")
                        continue
                    for r in resp.json()["results"]:
                        statuses[r["status"]] = statuses.get(r["status"], 0) + 1

    start_gate = threading.Event()
    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for t in threads:
        t.start()
    started = time.time()
    start_gate.set()
    for t in threads:
        t.join()
    return {
        "latencies": latencies,
        "errors": errors,
        "statuses": statuses,
        "started": started,
        "ended": time.time(),
    }


def run_load(
    base: str, plan: list[tuple[str, list[list[dict[str, Any]]]]], procs: int
) -> dict[str, Any]:
    """Spread terminals over ``procs`` processes and push; returns wall time and figures."""
    chunks = [plan[i::procs] for i in range(procs)]
    with mp.get_context("spawn").Pool(procs) as pool:
        parts = pool.map(_push_worker, [(base, c, i) for i, c in enumerate(chunks)])
    # From the first process's start gate to the last answer (process start-up excluded).
    wall = max(p["ended"] for p in parts) - min(p["started"] for p in parts)
    lat = sorted(x for p in parts for x in p["latencies"])
    statuses: dict[str, int] = {}
    for p in parts:
        for k, v in p["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
    return {
        "wall": wall,
        "requests": len(lat),
        "p50": statistics.median(lat) if lat else float("nan"),
        "p99": lat[int(len(lat) * 0.99) - 1] if lat else float("nan"),
        "errors": [e for p in parts for e in p["errors"]],
        "statuses": statuses,
    }


def count_sales(db: str) -> tuple[int, int]:
    conn = _mysql(db)
    with conn.cursor() as cur:
        cur.execute("SELECT COUNT(*), COUNT(DISTINCT id) FROM sales")
        total, distinct = cur.fetchone()
    conn.close()
    return int(total), int(distinct)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sales", type=int, default=20000, help="sales in the batched run")
    parser.add_argument("--terminals", type=int, default=40, help="terminals in the batched run")
    parser.add_argument("--batch", type=int, default=100, help="sales per push")
    parser.add_argument("--baseline-sales", type=int, default=2000)
    parser.add_argument("--storm", type=int, default=1000, help="terminals pushing at once")
    parser.add_argument("--procs", type=int, default=4, help="load-generating processes")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    args = parser.parse_args()

    rng = random.Random(7)
    n_terms = max(args.terminals, args.storm)
    fresh_database(BENCH_DB)
    fresh_database(RAW_DB)
    _, cashier_id, tokens = seed(BENCH_DB, n_terms)

    per_term = args.sales // args.terminals
    batched_events = {
        t: [make_sale(t, s, cashier_id, rng) for s in range(per_term)]
        for t in range(args.terminals)
    }
    all_batched = [e for t in range(args.terminals) for e in batched_events[t]]

    print(f"# Kasir ingest benchmark on MariaDB ({os.cpu_count()} cores)")
    raw_rate, raw_rows_n = raw_ceiling(all_batched, args.batch)
    print(
        f"raw executemany ceiling : {raw_rate:9.0f} sales/s  ({raw_rows_n} rows, "
        f"{raw_rows_n / len(all_batched):.1f} rows/sale)"
    )

    proc, base = start_server(BENCH_DB, args.workers)
    try:
        plan = [
            (
                tokens[t],
                [batched_events[t][i : i + args.batch] for i in range(0, per_term, args.batch)],
            )
            for t in range(args.terminals)
        ]
        res = run_load(base, plan, args.procs)
        kasir_rate = len(all_batched) / res["wall"]
        print(
            f"kasir batched push      : {kasir_rate:9.0f} sales/s  p50 {res['p50'] * 1000:.0f} ms"
            f"  p99 {res['p99'] * 1000:.0f} ms  ({res['requests']} pushes of {args.batch},"
            f" {args.terminals} terminals, {len(res['errors'])} errors, {res['statuses']})"
        )

        # Baseline: one sale per request, same terminals, fresh sales.
        base_terms = min(args.terminals, 40)
        per_base = max(1, args.baseline_sales // base_terms)
        base_plan = [
            (tokens[t], [[make_sale(t, 100000 + s, cashier_id, rng)] for s in range(per_base)])
            for t in range(base_terms)
        ]
        res_b = run_load(base, base_plan, args.procs)
        base_rate = base_terms * per_base / res_b["wall"]
        print(
            f"one sale per request    : {base_rate:9.0f} sales/s  p50 {res_b['p50'] * 1000:.0f} ms"
            f"  p99 {res_b['p99'] * 1000:.0f} ms  ({len(res_b['errors'])} errors)"
        )

        # Storm: every terminal pushes one batch of 5 sales at the same moment.
        storm_plan = [
            (tokens[t], [[make_sale(t, 200000 + s, cashier_id, rng) for s in range(5)]])
            for t in range(args.storm)
        ]
        before, _ = count_sales(BENCH_DB)
        res_s = run_load(base, storm_plan, args.procs)
        after, distinct = count_sales(BENCH_DB)
        # Push the same storm again: every event must come back duplicate.
        res_r = run_load(base, storm_plan, args.procs)
        again, _ = count_sales(BENCH_DB)
        expected = args.storm * 5
        print(
            f"storm {args.storm} terminals  : p50 {res_s['p50'] * 1000:.0f} ms  p99"
            f" {res_s['p99'] * 1000:.0f} ms  errors {len(res_s['errors'])}  lost"
            f" {expected - (after - before)}  duplicated {after - distinct}  re-push"
            f" {res_r['statuses']} (+{again - after} rows)"
        )
        if res_s["errors"][:3]:
            print("  first errors:", res_s["errors"][:3])
        print()
        print(f"ratio kasir / raw ceiling      : {kasir_rate / raw_rate:.2f}  (goal >= 0.50)")
        print(f"ratio kasir / one-per-request  : {kasir_rate / base_rate:.1f}x (goal >= 20x)")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
