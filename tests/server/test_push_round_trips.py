"""Round trips of a push: a typical batch costs a bounded number of statements (a
regression guard; ``benches/ingest.py`` measures what they cost)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from sync_server.core.database import Database
from tests.server.conftest import World
from tests.server.sync_helpers import (
    add_products,
    push,
    row_counts,
    sale_event,
    shift_open_event,
    statuses,
)

MOST_STATEMENTS_PER_PUSH = 13
# 12 before issue 14; +1: the upsert of the cost rollup (report_cost_totals, the margin
# reports). The sale lines' costs come with the first lookup (no statement of their own).
"""Statements a push of five sales (two lines each, in an open shift) may send, from the
terminal's token to the commit, on either database: 21 before ingest's lookups were
combined (the store with its first till's date, applied ids with receipts, users and
shifts in one UNION ALL, products with their price history), 16 before the flags metric
was counted from the rows written instead of read back after the commit, 15 before the
store joined that UNION ALL and the refusals an applied event resolves were read there
too (no UPDATE of ``rejected_events`` when the batch's ids had none open), 13 before a
till the server already knows was checked in that UNION ALL instead of being looked up
by its token first."""


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every statement sent through ``engine`` meanwhile (an executemany counts once)."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        seen.append(" ".join(sql.split())[:160])

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_a_push_of_five_sales_takes_few_round_trips(
    client: TestClient, db: Database, world: World
) -> None:
    products = add_products(db, 10)
    cashier = world.cashier_ids[0]
    shift = shift_open_event(user_id=cashier)
    assert statuses(push(client, world.terminal_headers(0), [shift])) == ["applied"]
    sales = [
        sale_event(
            terminal_code="T01",
            cashier_id=cashier,
            items=[(products[2 * i], 1), (products[2 * i + 1], 2)],
            shift_id=shift["payload"]["id"],
            tendered=100_000,
        )
        for i in range(5)
    ]
    with statements(db.engine) as sent:
        resp = push(client, world.terminal_headers(0), sales)
    assert statuses(resp) == ["applied"] * 5
    assert row_counts(db, ("sales", "sale_lines")) == {"sales": 5, "sale_lines": 10}
    begins = [s for s in sent if s.upper().startswith(("BEGIN", "SAVEPOINT"))]
    counted = [s for s in sent if s not in begins]
    assert len(counted) <= MOST_STATEMENTS_PER_PUSH, "\n".join(counted)
