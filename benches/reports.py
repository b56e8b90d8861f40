"""Reports over one million sales on MariaDB: rollups against the raw GROUP BY.

Run: .venv/bin/python -m benches.reports [--sales 1000000] [--runs 7]

1. Generates ``--sales`` sales of one store over calendar year 2025 straight inside
   MariaDB (``INSERT ... SELECT`` over the SEQUENCE engine: 2 lines each, every tenth
   sale split cash+QRIS, every fifth with an order discount, 2 % partly refunded,
   ~1 % voided; 20 terminals, 40 cashiers, 3,000 products), then builds the rollups
   with :func:`sync_server.reports.rollups.rebuild_rollups`. Prints how long each took.
2. Times each report for the whole year, p50 of ``--runs``: the service function, the
   HTTP endpoint (in-process, manager token), and the raw GROUP BY over the sales
   tables that gives the same answer, in the same run. Checks the answers agree.
Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pymysql
from fastapi.testclient import TestClient
from sqlalchemy import text

from benches._common import insert_bench_store
from sync_server.core.database import Database
from tests.conftest import fresh_mariadb_database

DB = "kasir_bench_reports"
URL = f"mysql+pymysql://root@127.0.0.1:3306/{DB}"
N_PRODUCTS = 3000
N_TERMINALS = 20
N_CASHIERS = 40
YEAR_START, YEAR_END = date(2025, 1, 1), date(2025, 12, 31)


def _conn(db: str | None = DB) -> pymysql.connections.Connection:
    return pymysql.connect(host="127.0.0.1", user="root", password="", database=db, autocommit=True)


def fresh_database() -> None:
    """Drop, create and migrate the bench database."""
    from sync_server.migrate import upgrade

    upgrade(fresh_mariadb_database(DB))


def _hexid(prefix: str, expr: str = "seq") -> str:
    """A deterministic 32-hex-digit id (the Uuid column's CHAR(32) form)."""
    return f"CONCAT('{prefix}', LPAD(HEX({expr}), 31, '0'))"


# Per sale ``seq``: two lines of products p1/p2 with quantities q1/q2, PPN 11 % inclusive.
_SALE_FACTS = f"""
    SELECT seq,
      1 + (seq * 7) % {N_PRODUCTS} AS p1, 1 + (seq * 13 + 5) % {N_PRODUCTS} AS p2,
      1 + seq % 3 AS q1, 1 + seq % 2 AS q2,
      DATE_ADD('2025-01-01', INTERVAL seq % 365 DAY) AS bd,
      1 + seq % {N_TERMINALS} AS term,
      IF(seq % 5 = 0, 500, 0) AS od,
      seq % 97 = 0 AND seq % 50 <> 0 AS voided
    FROM seq_1_to_{{n}}
"""
_PRICE = "(1000 * (1 + {p} % 50))"


def _line_net(k: int) -> str:
    p, q = f"f.p{k}", f"f.q{k}"
    gross = f"({_PRICE.format(p=p)} * {q})"
    return f"({gross} - IF({k} = 1, f.od, 0))"


def _tax(net: str) -> str:
    return f"FLOOR(({net}) * 1100 / 11100 + 0.5)"


def generate(n: int, store_id: int, first_cashier: int) -> None:
    """Raw sales, lines, payments, refunds and voids for ``n`` sales, inside MariaDB."""
    facts = _SALE_FACTS.format(n=n)
    net1, net2 = _line_net(1), _line_net(2)
    gross = f"({_PRICE.format(p='f.p1')} * f.q1 + {_PRICE.format(p='f.p2')} * f.q2)"
    statements = [
        f"""INSERT INTO sales (id, event_id, store_id, terminal_id, receipt_number, shift_id,
              cashier_id, created_at, business_date, subtotal, discount_total, order_discount,
              tax_total, total, voucher_code, voided, voided_at, voided_by, void_reason,
              received_at)
            SELECT {_hexid("a", "f.seq")}, {_hexid("e", "f.seq")}, {store_id}, f.term,
              CONCAT('T', LPAD(f.term, 2, '0'), '-', DATE_FORMAT(f.bd, '%Y%m%d'), '-', f.seq),
              NULL, {first_cashier} + f.seq % {N_CASHIERS},
              f.bd + INTERVAL (60 + f.seq % 600) MINUTE, f.bd, {gross}, f.od, f.od,
              {_tax(net1)} + {_tax(net2)}, {net1} + {net2}, IF(f.od > 0, 'HEMAT', NULL),
              f.voided, IF(f.voided, f.bd + INTERVAL 700 MINUTE, NULL), NULL, NULL,
              f.bd + INTERVAL 720 MINUTE
            FROM ({facts}) f""",
    ]
    for k in (1, 2):
        statements.append(
            f"""INSERT INTO sale_lines (id, sale_id, product_id, sku, name, quantity, unit_price,
                  discount, order_discount, tax_rate_bp, tax_inclusive, tax, total,
                  refunded_quantity, refunded_amount)
                SELECT {_hexid(str(k), "f.seq")}, {_hexid("a", "f.seq")}, f.p{k}, '', '', f.q{k},
                  {_PRICE.format(p=f"f.p{k}")}, 0, IF({k} = 1, f.od, 0), 1100, 1,
                  {_tax(_line_net(k))}, {_line_net(k)},
                  IF({k} = 1 AND f.seq % 50 = 0, 1, 0),
                  IF({k} = 1 AND f.seq % 50 = 0, FLOOR({net1} / f.q1), 0)
                FROM ({facts}) f"""
        )
    total = f"({net1} + {net2})"
    statements += [
        # Every tenth sale: a third by QRIS, the rest cash; the others all cash or QRIS.
        f"""INSERT INTO sale_payments (id, sale_id, method, amount, tendered, `change`,
              reference, order_id)
            SELECT {_hexid("3", "f.seq")}, {_hexid("a", "f.seq")},
              IF(f.seq % 3 = 0 AND f.seq % 10 <> 0, 'qris', 'cash'),
              IF(f.seq % 10 = 0, {total} - FLOOR({total} / 3), {total}), NULL, 0, NULL, NULL
            FROM ({facts}) f""",
        f"""INSERT INTO sale_payments (id, sale_id, method, amount, tendered, `change`,
              reference, order_id)
            SELECT {_hexid("4", "f.seq")}, {_hexid("a", "f.seq")}, 'qris', FLOOR({total} / 3),
              NULL, 0, NULL, NULL
            FROM ({facts}) f WHERE f.seq % 10 = 0""",
        f"""INSERT INTO refunds (id, event_id, sale_id, store_id, terminal_id, shift_id,
              cashier_id, approved_by, reason, method, created_at, business_date, total)
            SELECT {_hexid("5", "f.seq")}, {_hexid("6", "f.seq")}, {_hexid("a", "f.seq")},
              {store_id}, f.term, NULL, {first_cashier} + f.seq % {N_CASHIERS},
              {first_cashier}, 'rusak', IF(f.seq % 100 = 0, 'qris', 'cash'),
              f.bd + INTERVAL 690 MINUTE, f.bd, FLOOR({net1} / f.q1)
            FROM ({facts}) f WHERE f.seq % 50 = 0""",
        f"""INSERT INTO refund_lines (id, refund_id, sale_line_id, product_id, quantity, amount)
            SELECT {_hexid("7", "f.seq")}, {_hexid("5", "f.seq")}, {_hexid("1", "f.seq")},
              f.p1, 1, FLOOR({net1} / f.q1)
            FROM ({facts}) f WHERE f.seq % 50 = 0""",
    ]
    conn = _conn()
    with conn.cursor() as cur:
        cur.execute("SET SESSION foreign_key_checks = 0, unique_checks = 0")
        for sql in statements:
            table = sql.split("INSERT INTO ")[1].split(" ")[0]
            t0 = time.perf_counter()
            cur.execute(sql)
            print(f"  {table:<14} {cur.rowcount:>9,} rows  {time.perf_counter() - t0:6.1f} s")
    conn.close()


def seed() -> tuple[int, int, int]:
    """Store, manager, cashiers, terminals, products with stock; returns ids."""
    from sync_server.core.security import hash_secret

    now = datetime.now(UTC).replace(tzinfo=None)
    conn = _conn()
    with conn.cursor() as cur:
        store_id = insert_bench_store(cur, now)
        pw = hash_secret("password123")
        cur.execute(
            "INSERT INTO users (username, full_name, role, store_id, password_hash, active,"
            " failed_logins, change_no, created_at) VALUES ('manager','Manager','manager',%s,%s,"
            "1,0,0,%s)",
            (store_id, pw, now),
        )
        manager_id = int(cur.lastrowid)
        cur.executemany(
            "INSERT INTO users (username, full_name, role, store_id, active, failed_logins,"
            " change_no, created_at) VALUES (%s,%s,'cashier',%s,1,0,0,%s)",
            [(f"kasir{i}", f"Kasir {i}", store_id, now) for i in range(N_CASHIERS)],
        )
        first_cashier = int(cur.lastrowid)
        cur.executemany(
            "INSERT INTO terminals (store_id, code, name, enrolled_at, last_seen_at, created_at)"
            " VALUES (%s,%s,%s,%s,%s,%s)",
            [
                (store_id, f"T{i:02d}", f"Kasir {i}", now, now - timedelta(minutes=i * 5), now)
                for i in range(1, N_TERMINALS + 1)
            ],
        )
        cur.executemany(
            "INSERT INTO products (sku, name, unit, price, active, low_stock_threshold,"
            " change_no, updated_at) VALUES (%s,%s,'pcs',%s,1,10,0,%s)",
            [
                (f"SKU{i:05d}", f"Barang {i}", 1000 * (1 + i % 50), now)
                for i in range(1, N_PRODUCTS + 1)
            ],
        )
        cur.executemany(
            "INSERT INTO stock_levels (store_id, product_id, on_hand, change_no, updated_at)"
            " VALUES (%s,%s,%s,0,%s)",
            [(store_id, i, (i * 37) % 200 - 20, now) for i in range(1, N_PRODUCTS + 1)],
        )
    conn.close()
    return store_id, manager_id, first_cashier


def p50(fn: Callable[[], Any], runs: int, *, warm_up: bool = True) -> tuple[float, Any]:
    """Median milliseconds of ``runs`` calls (after one warm-up), and the last answer."""
    result = fn() if warm_up else None
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), result


def raw(db: Database, sql: str, **params: Any) -> Callable[[], list[Any]]:
    """A raw query as a callable, for timing."""

    def run() -> list[Any]:
        with db.engine.connect() as conn:
            return list(conn.execute(text(sql), params))

    return run


def raw_many(*fns: Callable[[], list[Any]]) -> Callable[[], list[list[Any]]]:
    """Several raw queries that together give one report's answer."""
    return lambda: [fn() for fn in fns]


def main() -> None:
    """Generate, rebuild, time, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sales", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--raw-runs", type=int, default=1, help="runs of each raw GROUP BY (seconds each)"
    )
    parser.add_argument("--reuse", action="store_true", help="time the database generated before")
    args = parser.parse_args()

    from sync_server.reports import service
    from sync_server.reports.rollups import rebuild_rollups

    db = Database(URL, query_timeout=None)  # rebuilding rollups over 1M sales takes long
    if not args.reuse:
        print(f"Generating {args.sales:,} sales of 2025 in MariaDB ...")
        t_all = time.perf_counter()
        fresh_database()
        seed()
        with db.session() as s:
            store_id = int(s.execute(text("SELECT id FROM stores")).scalar_one())
            first_cashier = int(
                s.execute(text("SELECT MIN(id) FROM users WHERE role='cashier'")).scalar_one()
            )
        generate(args.sales, store_id, first_cashier)
        t_gen = time.perf_counter() - t_all
        t0 = time.perf_counter()
        rebuild_rollups(db)
        t_rebuild = time.perf_counter() - t0
        conn = _conn()
        with conn.cursor() as cur:
            cur.execute(
                "ANALYZE TABLE sales, sale_lines, sale_payments, refunds, refund_lines,"
                " report_sales_totals, report_product_totals, report_payment_totals"
            )
            cur.fetchall()
        conn.close()
        print(f"raw rows generated in {t_gen:.1f} s; rebuild_rollups in {t_rebuild:.1f} s")
    with db.session() as s:
        store_id = int(s.execute(text("SELECT id FROM stores")).scalar_one())
        counts = {
            t: int(s.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one())
            for t in (
                "sales",
                "sale_lines",
                "refunds",
                "report_sales_totals",
                "report_product_totals",
                "report_payment_totals",
            )
        }
    print("rows:", ", ".join(f"{k} {v:,}" for k, v in counts.items()))

    from sync_server.core.config import Settings
    from sync_server.main import create_app
    from tests.server.conftest import TEST_SECRET, _api_token

    app = create_app(
        Settings(
            environment="test",
            database_url=URL,
            secret_key=TEST_SECRET,
            run_migrations_on_start=False,
        )
    )
    from sync_server.auth.models import User

    with db.session() as s:
        manager = s.execute(text("SELECT id FROM users WHERE username='manager'")).scalar_one()
        token = _api_token(s, s.get_one(User, manager))
    client = TestClient(app)
    headers = {"Authorization": f"Bearer {token}"}
    span: dict[str, Any] = {"start": YEAR_START, "end": YEAR_END}
    q = f"start={YEAR_START}&end={YEAR_END}"
    where = "s.store_id = :store AND s.business_date BETWEEN :start AND :end"
    rwhere = "r.store_id = :store AND r.business_date BETWEEN :start AND :end"
    p = {"store": store_id, **span}
    sales_sums = (
        "SUM(NOT s.voided), SUM(IF(s.voided, 0, s.subtotal)),"
        " SUM(IF(s.voided, 0, s.discount_total)),"
        " SUM(IF(s.voided, 0, s.tax_total)), SUM(IF(s.voided, 0, s.total)), SUM(s.voided),"
        " SUM(IF(s.voided, s.total, 0))"
    )
    refund_sums = "COUNT(*), SUM(r.total)"
    cases: list[tuple[str, Callable[[], Any], str, Callable[[], Any] | None]] = [
        (
            "sales by month",
            lambda: service.sales_over_time(
                db, store_id=store_id, granularity="month", start=YEAR_START, end=YEAR_END
            ),
            f"/api/v1/reports/sales?granularity=month&{q}",
            raw_many(
                raw(
                    db,
                    f"SELECT DATE_FORMAT(s.business_date, '%Y-%m') m, {sales_sums} FROM sales s"
                    f" WHERE {where} GROUP BY m",
                    **p,
                ),
                raw(
                    db,
                    f"SELECT DATE_FORMAT(r.business_date, '%Y-%m') m, {refund_sums} FROM refunds r"
                    f" WHERE {rwhere} GROUP BY m",
                    **p,
                ),
            ),
        ),
        (
            "sales by day",
            lambda: service.sales_over_time(
                db, store_id=store_id, granularity="day", start=YEAR_START, end=YEAR_END
            ),
            f"/api/v1/reports/sales?granularity=day&{q}",
            raw_many(
                raw(
                    db,
                    f"SELECT s.business_date, {sales_sums} FROM sales s WHERE {where}"
                    " GROUP BY s.business_date",
                    **p,
                ),
                raw(
                    db,
                    f"SELECT r.business_date, {refund_sums} FROM refunds r WHERE {rwhere}"
                    " GROUP BY r.business_date",
                    **p,
                ),
            ),
        ),
        (
            "sales by week",
            lambda: service.sales_over_time(
                db, store_id=store_id, granularity="week", start=YEAR_START, end=YEAR_END
            ),
            f"/api/v1/reports/sales?granularity=week&{q}",
            None,
        ),
        (
            "top 20 products",
            lambda: service.top_products(
                db, store_id=store_id, limit=20, start=YEAR_START, end=YEAR_END
            ),
            f"/api/v1/reports/top-products?limit=20&{q}",
            raw_many(
                raw(
                    db,
                    "SELECT l.product_id, SUM(l.quantity), SUM(l.total) t FROM sale_lines l"
                    f" JOIN sales s ON s.id = l.sale_id WHERE {where} AND NOT s.voided"
                    " GROUP BY l.product_id ORDER BY t DESC LIMIT 20",
                    **p,
                ),
                raw(
                    db,
                    "SELECT rl.product_id, SUM(rl.quantity), SUM(rl.amount) FROM refund_lines rl"
                    f" JOIN refunds r ON r.id = rl.refund_id WHERE {rwhere} GROUP BY rl.product_id",
                    **p,
                ),
            ),
        ),
        (
            "by payment method",
            lambda: service.by_payment_method(
                db, store_id=store_id, start=YEAR_START, end=YEAR_END
            ),
            f"/api/v1/reports/payment-methods?{q}",
            raw_many(
                raw(
                    db,
                    "SELECT sp.method, COUNT(*), SUM(sp.amount) FROM sale_payments sp"
                    f" JOIN sales s ON s.id = sp.sale_id WHERE {where} AND NOT s.voided"
                    " GROUP BY sp.method",
                    **p,
                ),
                raw(
                    db,
                    f"SELECT r.method, {refund_sums} FROM refunds r WHERE {rwhere}"
                    " GROUP BY r.method",
                    **p,
                ),
            ),
        ),
        (
            "by cashier",
            lambda: service.by_cashier(db, store_id=store_id, start=YEAR_START, end=YEAR_END),
            f"/api/v1/reports/cashiers?{q}",
            raw_many(
                raw(
                    db,
                    f"SELECT s.cashier_id, {sales_sums} FROM sales s WHERE {where}"
                    " GROUP BY s.cashier_id",
                    **p,
                ),
                raw(
                    db,
                    f"SELECT r.cashier_id, {refund_sums} FROM refunds r WHERE {rwhere}"
                    " GROUP BY r.cashier_id",
                    **p,
                ),
            ),
        ),
        (
            "by terminal",
            lambda: service.by_terminal(db, store_id=store_id, start=YEAR_START, end=YEAR_END),
            f"/api/v1/reports/terminals?{q}",
            raw_many(
                raw(
                    db,
                    f"SELECT s.terminal_id, {sales_sums} FROM sales s WHERE {where}"
                    " GROUP BY s.terminal_id",
                    **p,
                ),
                raw(
                    db,
                    f"SELECT r.terminal_id, {refund_sums} FROM refunds r WHERE {rwhere}"
                    " GROUP BY r.terminal_id",
                    **p,
                ),
            ),
        ),
        (
            "refunds/voids/discounts",
            lambda: service.refunds_voids_discounts(
                db, store_id=store_id, start=YEAR_START, end=YEAR_END
            ),
            f"/api/v1/reports/refunds-voids-discounts?{q}",
            None,  # the same raw queries as "sales by day"
        ),
        (
            "dashboard (7 days)",
            lambda: service.dashboard(db, store_id=store_id, today=YEAR_END),
            f"/api/v1/reports/dashboard?today={YEAR_END}",
            None,
        ),
        (
            f"stock on hand ({N_PRODUCTS:,})",
            lambda: service.stock_on_hand(db, store_id=store_id, limit=5000),
            "/api/v1/reports/stock?limit=5000",
            None,
        ),
        (
            "terminal health",
            lambda: service.terminal_health(db, store_id=store_id),
            "/api/v1/reports/terminal-health",
            None,
        ),
    ]
    print(
        f"\nReports over {YEAR_START}..{YEAR_END} (ms): service and endpoint p50 of {args.runs}"
        f" runs after a warm-up; raw GROUP BY p50 of {args.raw_runs}"
    )
    print(f"{'report':<26}{'service':>10}{'endpoint':>10}{'raw GROUP BY':>14}{'speed-up':>10}")
    answers: dict[str, Any] = {}
    for name, fn, url, raw_fn in cases:
        t_service, answers[name] = p50(fn, args.runs)

        def call(url: str = url) -> None:
            resp = client.get(url, headers=headers)
            assert resp.status_code == 200, resp.text

        t_http, _ = p50(call, args.runs)
        if raw_fn is not None:
            t_raw, answers[name + " raw"] = p50(raw_fn, args.raw_runs, warm_up=False)
            raw_txt, speed = f"{t_raw:14.1f}", f"{t_raw / t_service:9.0f}x"
        else:
            raw_txt, speed = f"{'-':>14}", f"{'-':>10}"
        print(f"{name:<26}{t_service:10.1f}{t_http:10.1f}{raw_txt}{speed}")

    # The same answer both ways.
    month_raw = {r[0]: [int(v) for v in r[1:]] for r in answers["sales by month raw"][0]}
    for period in answers["sales by month"].periods:
        sold = month_raw.get(period.label, [0] * 7)
        assert [
            period.sales_count,
            period.gross,
            period.discounts,
            period.tax,
            period.net,
            period.voids_count,
            period.voids_amount,
        ] == sold, period.label
    top_raw = [(int(r[0]), int(r[1]), int(r[2])) for r in answers["top 20 products raw"][0]]
    top = [(r.product_id, r.quantity, r.revenue) for r in answers["top 20 products"]]
    assert [t[2] for t in top] == [t[2] for t in top_raw]
    methods_raw = {r[0]: int(r[2]) for r in answers["by payment method raw"][0]}
    assert {m.method: m.amount for m in answers["by payment method"]} == methods_raw
    print("\nrollup answers equal the raw GROUP BY answers (sales by month, top products, methods)")
    client.close()
    db.dispose()


if __name__ == "__main__":
    main()
