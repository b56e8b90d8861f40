"""``record_sale`` writes exactly the rows it wrote before its statements were prepared
up front: a 5-line sale with a line discount, an order discount, a voucher, a QRIS part
and cash with change, compared row by row (the outbox payload byte for byte) with the
way it was written until then, kept here as the reference."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from uuid import UUID

import pytest

from pos_client.domain import (
    Cart,
    CashTender,
    Discount,
    QrisPayment,
    SaleDraft,
    build_sale_draft,
    format_receipt_number,
    settle,
)
from pos_client.store import LocalStore
from shared.models import EventType, ProductOut, PullResponse, SaleIn, StockMoveKind
from tests.client.conftest import CASHIER, seed

T0 = datetime(2025, 6, 15, 3, 0, tzinfo=UTC)
TABLES = {
    "sales": "id",
    "sale_lines": "sale_id, line_no",
    "payments": "sale_id, id",
    "stock_moves": "id",
    "outbox": "seq",
    "receipt_sequences": "terminal_code, day",
}


def record_sale_before(
    store: LocalStore,
    draft: SaleDraft,
    *,
    terminal_code: str,
    day: date,
    new_id: Callable[[], UUID],
) -> SaleIn:
    """``LocalStore.record_sale`` as it was (statements built inside the transaction)."""
    event_id = str(new_id())
    unnumbered = draft.to_wire("PENDING")
    payload = unnumbered.model_dump(mode="json")
    with store._write() as conn:
        seq = conn.execute(
            "INSERT INTO receipt_sequences (terminal_code, day, last_seq) VALUES (?, ?, 1) "
            "ON CONFLICT(terminal_code, day) DO UPDATE SET last_seq = last_seq + 1 "
            "RETURNING last_seq",
            (terminal_code, day.isoformat()),
        ).fetchone()[0]
        number = format_receipt_number(terminal_code, day, seq)
        sale = unnumbered.model_copy(update={"receipt_number": number})
        payload["receipt_number"] = number
        sale_id = str(sale.id)
        created = sale.created_at.astimezone(UTC).isoformat()
        conn.execute(
            "INSERT INTO sales (id, receipt_number, shift_id, cashier_id, created_at, "
            "order_discount, voucher_code, subtotal, discount_total, tax_total, total, "
            "event_id, catalog_cursor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                sale_id,
                sale.receipt_number,
                str(sale.shift_id) if sale.shift_id else None,
                sale.cashier_id,
                created,
                sale.order_discount,
                sale.voucher_code,
                sale.subtotal,
                sale.discount_total,
                sale.tax_total,
                sale.total,
                event_id,
                sale.catalog_cursor,
            ),
        )
        conn.executemany(
            "INSERT INTO sale_lines (id, sale_id, line_no, product_id, sku, name, quantity, "
            "unit_price, discount, order_discount, tax_rate_bp, tax_inclusive, tax, total, "
            "measure_kind, measure_value, measure_base_price) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    str(line.id),
                    sale_id,
                    n,
                    line.product_id,
                    line.sku,
                    line.name,
                    line.quantity,
                    line.unit_price,
                    line.discount,
                    share,
                    line.tax_rate_bp,
                    line.tax_inclusive,
                    line.tax,
                    line.total,
                    line.measure.kind.value if line.measure else None,
                    line.measure.value if line.measure else None,
                    line.measure.base_price if line.measure else None,
                )
                for n, (line, share) in enumerate(
                    zip(sale.lines, draft.line_order_discounts, strict=True), start=1
                )
            ],
        )
        conn.executemany(
            "INSERT INTO payments (id, sale_id, method, amount, tendered, change, reference, "
            "order_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    str(p.id),
                    sale_id,
                    p.method.value,
                    p.amount,
                    p.tendered,
                    p.change,
                    p.reference,
                    p.order_id,
                )
                for p in sale.payments
            ],
        )
        # A sale's stock move is named by its line's id (since the "fewer B-trees"
        # migration; before, each move had an id of its own that nothing referred to).
        conn.executemany(
            "INSERT INTO stock_moves (id, product_id, quantity, kind, ref_id, event_id, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    str(line.id),
                    line.product_id,
                    -line.quantity,
                    StockMoveKind.SALE.value,
                    sale_id,
                    event_id,
                    created,
                )
                for line in sale.lines
            ],
        )
        store._insert_outbox(event_id, EventType.SALE, sale.created_at, payload)
    return sale


class Ids:
    """Time-ordered ids from a counter, so two writes of one sale can be compared."""

    def __init__(self, start: int) -> None:
        self.n = start

    def __call__(self) -> UUID:
        self.n += 1
        return UUID(int=(0x0190_0000_0000_7000_8000_0000_0000_0000 + self.n))


def catalog() -> LocalStore:
    store = seed(LocalStore.memory())
    store.apply_pull_page(
        PullResponse(
            cursor=120,
            has_more=False,
            remaining=0,
            products=[
                ProductOut(
                    id=6,
                    sku="KOPI-1",
                    name="Kopi Kapal Api 165g",
                    price=14_900,
                    tax_rate_id=1,
                    change_no=110,
                ),
                ProductOut(
                    id=7,
                    sku="SBN-1",
                    name="Sabun Lifebuoy 110g",
                    price=4_250,
                    tax_rate_id=2,
                    change_no=111,
                ),
            ],
        )
    )
    return store


def five_line_draft(store: LocalStore) -> SaleDraft:
    """Five lines (one with a line discount), 5 % off the order, voucher POTONG5RB, part
    QRIS and the rest in cash with change."""
    cart = Cart()
    lines = []
    for product_id, quantity in ((1, 3), (2, 2), (3, 1), (6, 2), (7, 4)):
        product = store.product(product_id)
        assert product is not None
        lines.append(cart.add(product, quantity))
    cart.set_line_discount(lines[3].id, Discount.rupiah(1_000))
    cart.set_order_discount(Discount.percent(500))
    voucher = store.voucher("potong5rb")
    assert voucher is not None
    cart.apply_voucher(voucher, T0)
    totals = cart.totals()
    assert totals.voucher_problem is None
    qris = totals.total // 2
    cash_due = totals.total - qris
    payments = settle(
        totals.total,
        [
            QrisPayment(qris, reference="T-REF-1", order_id="ORD-1"),
            CashTender(cash_due + 7_500),
        ],
    )
    return build_sale_draft(
        cart,
        totals,
        payments,
        cashier_id=CASHIER,
        shift_id=None,
        created_at=T0,
        catalog_cursor=120,
    )


def rows(store: LocalStore) -> dict[str, list[tuple[object, ...]]]:
    return {
        table: store.conn.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
        for table, order in TABLES.items()
    }


@pytest.fixture
def stores() -> Iterator[tuple[LocalStore, LocalStore]]:
    now, before = catalog(), catalog()
    yield now, before
    now.close()
    before.close()


def test_a_five_line_sale_writes_exactly_the_rows_it_wrote_before(
    stores: tuple[LocalStore, LocalStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    now, before = stores
    draft = five_line_draft(now)
    assert len(draft.lines) == 5 and draft.voucher_code and draft.order_discount > 0
    assert {p.method.value for p in draft.payments} == {"cash", "qris"}
    assert any(p.change for p in draft.payments) and any(line.discount for line in draft.lines)

    written: list[SaleIn] = []
    # Two numbers on one day, then a new day.
    for k, day in enumerate((T0.date(), T0.date(), date(2025, 6, 16))):
        draft = five_line_draft(now)
        ids = Ids(100 * k)
        monkeypatch.setattr("pos_client.store.sales.new_id", ids)
        monkeypatch.setattr("pos_client.store.base.new_id", ids)
        written.append(now.record_sale(draft, terminal_code="T01", day=day))
        ids.n = 100 * k
        expected = record_sale_before(before, draft, terminal_code="T01", day=day, new_id=ids)
        assert written[-1] == expected

    assert rows(now) == rows(before)
    assert [s.receipt_number for s in written] == [
        "T01-20250615-0001",
        "T01-20250615-0002",
        "T01-20250616-0001",
    ]
    assert len(rows(now)["sale_lines"]) == 15 and len(rows(now)["payments"]) == 6
    assert now.sale(written[0].id) == written[0]


def test_a_sale_whose_payload_lacks_its_number_field_is_refused_before_writing(
    stores: tuple[LocalStore, LocalStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    now, _ = stores
    monkeypatch.setattr("pos_client.store.sales._NUMBER_FIELD", '"receipt_no":"PENDING"')
    with pytest.raises(RuntimeError, match="receipt number"):
        now.record_sale(five_line_draft(now), terminal_code="T01", day=T0.date())
    assert all(not r for t, r in rows(now).items() if t != "outbox")
