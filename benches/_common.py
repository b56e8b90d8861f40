"""Helpers the MariaDB benches share."""

from __future__ import annotations

from datetime import datetime

from pymysql.cursors import Cursor


def insert_bench_store(cur: Cursor, now: datetime) -> int:
    """Insert the bench store (S01, 'Toko Bench') through ``cur``; its id."""
    cur.execute(
        "INSERT INTO stores (code, name, address, npwp, phone, timezone, receipt_header,"
        " receipt_footer, logo_text, change_no, updated_at)"
        " VALUES ('S01','Toko Bench','','','','Asia/Jakarta','','','',0,%s)",
        (now,),
    )
    return int(cur.lastrowid)
