"""Builders of valid till events (totals from shared.pricing) and catalog rows for tests.

Other server tests reuse these: arrange products with :func:`add_products`, build
events with :func:`sale_event` / :func:`refund_event` / ..., push them with
:func:`push`, and check what landed with :func:`row_counts` and :func:`on_hand`.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from shared.ids import new_id
from shared.models import StockMoveKind
from shared.pricing import LineInput, price_sale, refund_amount
from sync_server.catalog.models import Category, Product, TaxRate
from sync_server.core.database import Database, next_change_numbers
from sync_server.stock.models import StockLevel
from sync_server.stock.service import NewStockMove, apply_stock_moves, on_hand_of

_receipt_seq = itertools.count(1)

T = TypeVar("T")

COUNTED_TABLES = (
    "sync_events",
    "sales",
    "sale_lines",
    "sale_payments",
    "refunds",
    "refund_lines",
    "shifts",
    "cash_moves",
    "stock_moves",
    "stock_levels",
    "stock_deltas",
)
"""Tables whose row counts tell whether a push wrote anything."""


@dataclass(frozen=True)
class CatalogProduct:
    """A product as a test sells it: its id and the price/tax a till would use."""

    id: int
    sku: str
    name: str
    price: int
    tax_rate_bp: int
    tax_inclusive: bool


def _tax_rate(session: Any, rate_bp: int, inclusive: bool) -> int:
    code = f"T{rate_bp}{'I' if inclusive else 'E'}"
    found = session.scalar(select(TaxRate.id).where(TaxRate.code == code))
    if found is not None:
        return int(found)
    rate = TaxRate(
        code=code,
        name=f"Tax {rate_bp / 100:.2f}%",
        rate_bp=rate_bp,
        inclusive=inclusive,
        change_no=next_change_numbers(session),
    )
    session.add(rate)
    session.flush()
    return rate.id


def add_products(
    db: Database,
    count: int = 1,
    *,
    price: int = 10_000,
    tax_rate_bp: int = 1100,
    tax_inclusive: bool = True,
    active: bool = True,
    low_stock_threshold: int = 0,
    prefix: str | None = None,
) -> list[CatalogProduct]:
    """Insert ``count`` products (with a category and tax rate) stamped with change numbers."""
    prefix = prefix or f"P{next(_receipt_seq)}"
    with db.session() as s:
        tax_id = _tax_rate(s, tax_rate_bp, tax_inclusive)
        category = s.scalar(select(Category).where(Category.name == "Umum"))
        if category is None:
            category = Category(name="Umum", change_no=next_change_numbers(s))
            s.add(category)
            s.flush()
        first = next_change_numbers(s, count)
        products = [
            Product(
                sku=f"{prefix}-{i:06d}",
                name=f"Barang {prefix} {i}",
                category_id=category.id,
                price=price,
                tax_rate_id=tax_id,
                active=active,
                low_stock_threshold=low_stock_threshold,
                change_no=first + i,
            )
            for i in range(count)
        ]
        s.add_all(products)
        s.flush()
        return [
            CatalogProduct(p.id, p.sku, p.name, price, tax_rate_bp, tax_inclusive) for p in products
        ]


def now_iso() -> str:
    """The current UTC time as the till writes it."""
    return datetime.now(UTC).isoformat()


def envelope(event_type: str, payload: dict[str, Any], created_at: str | None = None) -> dict:
    """An outbox event around ``payload`` with a fresh id."""
    return {
        "id": str(new_id()),
        "type": event_type,
        "created_at": created_at or now_iso(),
        "payload": payload,
    }


def receipt_number(terminal_code: str) -> str:
    """A receipt number unique in this test run: ``<terminal>-<yyyymmdd>-<seq>``."""
    return f"{terminal_code}-{datetime.now(UTC):%Y%m%d}-{next(_receipt_seq):06d}"


def sale_event(
    *,
    terminal_code: str,
    cashier_id: int,
    items: Sequence[tuple[CatalogProduct, int] | tuple[CatalogProduct, int, int]],
    order_discount: int = 0,
    tendered: int | None = None,
    method: str = "cash",
    shift_id: str | None = None,
    receipt: str | None = None,
    created_at: str | None = None,
    voucher_code: str | None = None,
    catalog_cursor: int | None = None,
) -> dict:
    r"""A valid sale event: ``items`` are (product, quantity[, line discount]).

    Each line is priced at the product's ``price`` and ``tax_rate_bp``: pass a
    ``dataclasses.replace``\ d product to claim another price or rate with totals that
    still add up."""
    inputs = [
        LineInput(
            unit_price=item[0].price,
            quantity=item[1],
            discount=item[2] if len(item) > 2 else 0,
            tax_rate_bp=item[0].tax_rate_bp,
            tax_inclusive=item[0].tax_inclusive,
        )
        for item in items
    ]
    priced = price_sale(inputs, order_discount)
    created = created_at or now_iso()
    lines = [
        {
            "id": str(new_id()),
            "product_id": item[0].id,
            "sku": item[0].sku,
            "name": item[0].name,
            "quantity": li.quantity,
            "unit_price": li.unit_price,
            "discount": li.discount,
            "tax_rate_bp": li.tax_rate_bp,
            "tax_inclusive": li.tax_inclusive,
            "tax": lt.tax,
            "total": lt.total,
        }
        for item, li, lt in zip(items, inputs, priced.lines, strict=True)
    ]
    payment: dict[str, Any] = {"id": str(new_id()), "method": method, "amount": priced.total}
    if tendered is not None:
        payment["tendered"] = tendered
        payment["change"] = tendered - priced.total
    payload = {
        "id": str(new_id()),
        "receipt_number": receipt or receipt_number(terminal_code),
        "shift_id": shift_id,
        "cashier_id": cashier_id,
        "created_at": created,
        "lines": lines,
        "order_discount": order_discount,
        "subtotal": priced.subtotal,
        "discount_total": priced.discount_total,
        "tax_total": priced.tax_total,
        "total": priced.total,
        "payments": [payment],
    }
    if voucher_code is not None:
        payload["voucher_code"] = voucher_code
    if catalog_cursor is not None:
        payload["catalog_cursor"] = catalog_cursor
    return envelope("sale", payload, created)


def refund_event(
    sale: dict,
    *,
    lines: Iterable[tuple[int, int]],
    approved_by: int,
    cashier_id: int | None = None,
    refunded_before: dict[int, int] | None = None,
    reason: str = "rusak",
) -> dict:
    """A valid refund of ``lines`` = (line index, quantity) of a sale event.

    ``refunded_before`` gives units of each line index refunded by earlier refunds, so
    the amounts follow the cumulative rule of :func:`shared.pricing.refund_amount`.
    """
    sale_payload = sale["payload"]
    before = dict(refunded_before or {})
    refund_lines = []
    for index, qty in lines:
        line = sale_payload["lines"][index]
        if before.get(index, 0) + qty <= line["quantity"]:
            amount = refund_amount(
                line_total=line["total"],
                sold_quantity=line["quantity"],
                refunded_before=before.get(index, 0),
                quantity=qty,
            )
        else:  # more than was sold: the server must refuse it, the amount hardly matters
            amount = line["total"] * qty // line["quantity"]
        before[index] = before.get(index, 0) + qty
        refund_lines.append(
            {"id": str(new_id()), "sale_line_id": line["id"], "quantity": qty, "amount": amount}
        )
    payload = {
        "id": str(new_id()),
        "sale_id": sale_payload["id"],
        "cashier_id": cashier_id if cashier_id is not None else sale_payload["cashier_id"],
        "approved_by": approved_by,
        "reason": reason,
        "created_at": now_iso(),
        "lines": refund_lines,
        "total": sum(rl["amount"] for rl in refund_lines),
    }
    return envelope("refund", payload)


def void_event(sale: dict, *, approved_by: int, cashier_id: int | None = None) -> dict:
    """A void of a whole sale event."""
    payload = {
        "sale_id": sale["payload"]["id"],
        "cashier_id": cashier_id if cashier_id is not None else sale["payload"]["cashier_id"],
        "approved_by": approved_by,
        "reason": "salah input",
        "created_at": now_iso(),
    }
    return envelope("void", payload)


def shift_open_event(*, user_id: int, opening_float: int = 200_000) -> dict:
    """A shift opening with a cash float."""
    payload = {
        "id": str(new_id()),
        "user_id": user_id,
        "opening_float": opening_float,
        "opened_at": now_iso(),
    }
    return envelope("shift_open", payload)


def shift_close_event(shift: dict, *, user_id: int, counted_cash: int, expected_cash: int) -> dict:
    """The close of a shift opened by ``shift`` (a shift_open event)."""
    payload = {
        "id": shift["payload"]["id"],
        "user_id": user_id,
        "counted_cash": counted_cash,
        "expected_cash": expected_cash,
        "closed_at": now_iso(),
    }
    return envelope("shift_close", payload)


def cash_move_event(shift: dict, *, user_id: int, amount: int, reason: str = "") -> dict:
    """Cash in (positive) or out (negative) of the drawer of ``shift``."""
    payload = {
        "id": str(new_id()),
        "shift_id": shift["payload"]["id"],
        "user_id": user_id,
        "amount": amount,
        "reason": reason,
        "created_at": now_iso(),
    }
    return envelope("cash_move", payload)


def all_at_once(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run ``calls`` each on a thread of its own, released together by a barrier; their
    answers in order (the first error raised is raised here)."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def at_moment(event: dict, moment: datetime) -> dict:
    """``event`` happening at ``moment`` (its envelope and its payload's own time)."""
    event["created_at"] = moment.isoformat()
    for key in ("created_at", "opened_at", "closed_at"):
        if key in event["payload"]:
            event["payload"][key] = moment.isoformat()
    return event


def minutes_after(start: datetime) -> Callable[[], datetime]:
    """A clock: ``start`` plus one minute at the first call, two at the next, and so on."""
    minute = itertools.count(1)
    return lambda: start + timedelta(minutes=next(minute))


def one_minute_apart(start: datetime) -> Callable[[dict], dict]:
    """Stamps each event it is given (:func:`at_moment`) a minute after the one before,
    the first a minute after ``start``."""
    soon = minutes_after(start)
    return lambda event: at_moment(event, soon())


def split_payment(sale: dict, cash: int, tendered: int, order_id: str = "ORD-X") -> dict:
    """``sale`` paid ``cash`` in cash (``tendered`` handed over) and the rest by QRIS
    (order ``order_id``)."""
    total = sale["payload"]["total"]
    sale["payload"]["payments"] = [
        {"id": str(new_id()), "method": "qris", "amount": total - cash, "order_id": order_id},
        {
            "id": str(new_id()),
            "method": "cash",
            "amount": cash,
            "tendered": tendered,
            "change": tendered - cash,
        },
    ]
    return sale


def push(
    client: TestClient, headers: dict[str, str], events: list[dict], waiting: int | None = None
) -> Response:
    """POST a batch to /api/v1/sync/push."""
    body: dict[str, Any] = {"events": events}
    if waiting is not None:
        body["waiting"] = waiting
    return client.post("/api/v1/sync/push", json=body, headers=headers)


def statuses(resp: Response) -> list[str]:
    """The status of each pushed event, in order."""
    assert resp.status_code == 200, resp.text
    return [r["status"] for r in resp.json()["results"]]


def row_counts(db: Database, tables: Sequence[str] = COUNTED_TABLES) -> dict[str, int]:
    """Row count of each table."""
    from sqlalchemy import table as table_clause

    with db.session() as s:
        return {
            name: int(s.scalar(select(func.count()).select_from(table_clause(name))) or 0)
            for name in tables
        }


def on_hand(db: Database, store_id: int, product_id: int) -> int:
    """On hand of a product in a store, as the server reads it (base plus the tills'
    deltas); 0 when it never moved."""
    with db.session() as s:
        return on_hand_of(s, store_id=store_id, product_ids=[product_id])[product_id]


def base_on_hand(db: Database, store_id: int) -> dict[int, int]:
    """``stock_levels.on_hand`` per product of a store: what a till pulls (deltas not
    yet folded left out)."""
    with db.session() as s:
        return {
            int(pid): int(qty)
            for pid, qty in s.execute(
                select(StockLevel.product_id, StockLevel.on_hand).where(
                    StockLevel.store_id == store_id
                )
            )
        }


def stock_up(db: Database, store_id: int, product_id: int, quantity: int) -> None:
    """Arrange opening stock the way a delivery would: a ``receive`` move."""
    with db.session() as s:
        apply_stock_moves(
            s,
            store_id=store_id,
            moves=[
                NewStockMove(
                    id=new_id(),
                    product_id=product_id,
                    kind=StockMoveKind.RECEIVE,
                    quantity=quantity,
                    created_at=datetime.now(UTC),
                    note="opening stock",
                )
            ],
        )
