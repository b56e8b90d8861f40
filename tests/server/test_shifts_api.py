"""Shifts and the daily cash reconciliation (``/api/v1/shifts``): the server recomputes a
drawer from its own rows and agrees with the till's own Z report, cash sales with change,
a split cash + QRIS sale, cash in and out, a cash refund and a void included."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from pos_client.domain.sale import SaleDraft
from pos_client.domain.shifts import ShiftFigures, ShiftReport, expected_cash
from pos_client.store import LocalStore
from shared.ids import new_id
from shared.models import (
    CashMoveIn,
    PaymentIn,
    RefundIn,
    SaleLineIn,
    ShiftCloseIn,
    ShiftOpenIn,
    VoidIn,
)
from sync_server.core.database import Database
from tests.server.conftest import StoreStaff, World, assert_refused
from tests.server.sync_helpers import (
    CatalogProduct,
    add_products,
    at_moment,
    cash_move_event,
    minutes_after,
    push,
    refund_event,
    sale_event,
    shift_close_event,
    shift_open_event,
    split_payment,
    statuses,
    void_event,
)

URL = "/api/v1/shifts"


def _get(client: TestClient, world: World, url: str = URL, **params: Any) -> Any:
    resp = client.get(url, params=params, headers=world.manager_headers())
    assert resp.status_code == 200, resp.text
    return resp.json()


def till_figures(
    opening_float: int, sales: list[dict], voided: list[dict], refunds: list[dict], moves: list[int]
) -> ShiftFigures:
    """The figures the till adds up for its X/Z report (``pos_client.store.shifts``):
    its sales' payments per method less those of the sales voided in the shift, its
    refunds per method, cash in and out."""
    by_method: dict[str, int] = {}
    for sale in sales:
        for p in sale["payload"]["payments"]:
            by_method[p["method"]] = by_method.get(p["method"], 0) + p["amount"]
    for sale in voided:
        for p in sale["payload"]["payments"]:
            by_method[p["method"]] = by_method.get(p["method"], 0) - p["amount"]
    refunds_by: dict[str, int] = {}
    for refund in refunds:
        method = refund["payload"].get("method", "cash")
        refunds_by[method] = refunds_by.get(method, 0) + refund["payload"]["total"]
    return ShiftFigures(
        opening_float=opening_float,
        sales_count=len(sales),
        payments_by_method=by_method,
        refunds_by_method=refunds_by,
        cash_in=sum(m for m in moves if m > 0),
        cash_out=-sum(m for m in moves if m < 0),
    )


@pytest.fixture
def day(client: TestClient, world: World) -> dict[str, Any]:
    """T01: a closed shift with everything a drawer sees; T02: a shift still open."""
    db: Database = client.app.state.db  # type: ignore[attr-defined]
    [indomie] = add_products(db, 1, price=3_500)
    beras = add_products(db, 1, price=62_500)[0]
    cashier = world.cashier_ids[0]
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    soon = minutes_after(start)

    shift = at_moment(shift_open_event(user_id=cashier, opening_float=200_000), start)
    sid = shift["payload"]["id"]

    def sold(product: CatalogProduct, quantity: int, tendered: int) -> dict:
        """A cash sale on T01 in this shift, a minute after the event before."""
        sale = sale_event(
            terminal_code="T01",
            cashier_id=cashier,
            items=[(product, quantity)],
            tendered=tendered,
            shift_id=sid,
        )
        return at_moment(sale, soon())

    cash = sold(indomie, 3, 20_000)
    split = sale_event(terminal_code="T01", cashier_id=cashier, items=[(beras, 2)], shift_id=sid)
    split_payment(split, 25_000, 30_000, order_id="ORD-S")
    at_moment(split, soon())
    refunded = sold(beras, 1, 100_000)
    voided = sold(indomie, 2, 10_000)
    cash_in = at_moment(
        cash_move_event(shift, user_id=cashier, amount=50_000, reason="tambah receh"), soon()
    )
    cash_out = at_moment(
        cash_move_event(shift, user_id=cashier, amount=-20_000, reason="setor"), soon()
    )
    refund = at_moment(refund_event(refunded, lines=[(0, 1)], approved_by=world.manager_id), soon())
    refund["payload"]["shift_id"] = sid
    void = at_moment(void_event(voided, approved_by=world.manager_id), soon())
    sales = [cash, split, refunded, voided]
    report_figures = till_figures(200_000, sales, [voided], [refund], [50_000, -20_000])

    def z_report(counted_cash: int) -> ShiftReport:
        """The till's own Z report of this shift, ``counted_cash`` counted in the drawer."""
        return ShiftReport(
            "Z",
            shift_id=new_id(),
            user_id=cashier,
            opened_at=start,
            generated_at=start,
            figures=report_figures,
            counted_cash=counted_cash,
        )

    expected = z_report(0).expected_cash
    counted = expected - 1_500
    close = at_moment(
        shift_close_event(shift, user_id=cashier, counted_cash=counted, expected_cash=expected),
        soon(),
    )
    t01 = [shift, cash, split, refunded, voided, cash_in, cash_out, refund, void, close]
    assert statuses(push(client, world.terminal_headers(0), t01)) == ["applied"] * len(t01)

    other = at_moment(shift_open_event(user_id=world.cashier_ids[1], opening_float=100_000), soon())
    other_sale = at_moment(
        sale_event(
            terminal_code="T02",
            cashier_id=world.cashier_ids[1],
            items=[(indomie, 1)],
            tendered=5_000,
            shift_id=other["payload"]["id"],
        ),
        soon(),
    )
    assert statuses(push(client, world.terminal_headers(1), [other, other_sale])) == ["applied"] * 2
    report = z_report(counted)
    return {
        "shift": shift,
        "other": other,
        "report": report,
        "counted": counted,
        "sales": sales,
        "split": split,
        "refund": refund,
        "other_sale": other_sale,
        "start": start,
    }


def test_expected_cash_is_the_tills_own_figure(client: TestClient, world: World, day: dict) -> None:
    report: ShiftReport = day["report"]
    row = _get(client, world, f"{URL}/{day['shift']['payload']['id']}")
    assert row["expected_cash"] == report.expected_cash
    assert row["claimed_expected_cash"] == report.expected_cash and row["expected_matches"]
    assert row["counted_cash"] == day["counted"]
    assert row["difference"] == report.variance == -1_500
    cash = report.figures.payments_by_method["cash"]
    assert row["cash_sales"] - row["cash_voids"] == cash
    assert row["cash_refunds"] == day["refund"]["payload"]["total"]
    assert row["cash_in"] == 50_000 and row["cash_out"] == 20_000
    assert row["cash_change"] == 20_000 - day["sales"][0]["payload"]["total"] + 5_000 + (
        100_000 - day["sales"][2]["payload"]["total"]
    ) + (10_000 - day["sales"][3]["payload"]["total"])
    assert row["opening_float"] == 200_000 and not row["open"]
    assert row["opened_by_name"] == "Kasir1" and row["closed_by_name"] == "Kasir1"
    assert row["terminal_code"] == "T01"
    # the detail adds the moves, the count and the takings per method
    assert row["sales_count"] == 4 and row["voids_count"] == 1 and row["refunds_count"] == 1
    assert [m["amount"] for m in row["cash_moves"]] == [50_000, -20_000]
    assert row["cash_moves"][0]["reason"] == "tambah receh"
    assert row["payments_by_method"] == report.figures.payments_by_method


def test_list_filters_and_open_shifts(client: TestClient, world: World, day: dict) -> None:
    page = _get(client, world)
    assert [r["terminal_code"] for r in page["items"]] == ["T02", "T01"]  # newest first
    assert page["total"] == 2
    assert [r["id"] for r in _get(client, world, state="open")["items"]] == [
        day["other"]["payload"]["id"]
    ]
    assert [r["id"] for r in _get(client, world, state="closed")["items"]] == [
        day["shift"]["payload"]["id"]
    ]
    t2 = _get(client, world, terminal_id=world.terminal_ids[1])["items"]
    assert [r["terminal_code"] for r in t2] == ["T02"]
    [still_open] = t2
    assert still_open["open"] and still_open["difference"] is None
    assert still_open["expected_cash"] == 100_000 + day["other_sale"]["payload"]["total"]
    old = day["start"].date() - timedelta(days=3)
    assert _get(client, world, start=str(old), end=str(old))["items"] == []


def test_reconciliation_adds_up(client: TestClient, world: World, day: dict) -> None:
    local_day = (day["start"] + timedelta(hours=7)).date()  # Asia/Jakarta
    recon = _get(client, world, f"{URL}/reconciliation", day=str(local_day))
    shifts, totals = recon["shifts"], recon["totals"]
    assert [s["terminal_code"] for s in shifts] == ["T01", "T02"]
    assert totals["shifts_count"] == 2 and totals["open_count"] == 1
    for key in ("opening_float", "cash_sales", "cash_voids", "cash_refunds", "cash_in", "cash_out"):
        assert totals[key] == sum(s[key] for s in shifts), key
    assert totals["expected_cash"] == sum(s["expected_cash"] for s in shifts)
    closed = [s for s in shifts if not s["open"]]
    assert totals["counted_cash"] == sum(s["counted_cash"] for s in closed) == day["counted"]
    assert totals["difference"] == totals["counted_cash"] - totals["expected_closed"] == -1_500
    # another day: nothing touched it
    empty = _get(client, world, f"{URL}/reconciliation", day=str(local_day - timedelta(days=5)))
    assert empty["shifts"] == [] and empty["totals"]["shifts_count"] == 0
    # a shift left open yesterday still touches today
    tomorrow = _get(client, world, f"{URL}/reconciliation", day=str(local_day + timedelta(days=1)))
    assert [s["terminal_code"] for s in tomorrow["shifts"]] == ["T02"]


def test_downloads_have_indonesian_headers_and_the_json_figures(
    client: TestClient, world: World, day: dict
) -> None:
    local_day = (day["start"] + timedelta(hours=7)).date()
    recon = _get(client, world, f"{URL}/reconciliation", day=str(local_day))
    resp = client.get(
        f"{URL}/reconciliation",
        params={"day": str(local_day), "format": "xlsx"},
        headers=world.manager_headers(),
    )
    assert resp.status_code == 200
    sheet = load_workbook(io.BytesIO(resp.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    head = list(rows[0])
    assert head[:4] == ["Terminal", "Dibuka oleh", "Dibuka", "Modal awal"]
    assert "Kas seharusnya" in head and "Selisih" in head
    for line, shift in zip(rows[1:], recon["shifts"], strict=True):
        assert line[head.index("Kas seharusnya")] == shift["expected_cash"]
        assert line[head.index("Selisih")] == shift["difference"]
        assert line[head.index("Masih buka")] == ("Ya" if shift["open"] else "Tidak")
    csv_resp = client.get(URL, params={"format": "csv"}, headers=world.manager_headers())
    assert csv_resp.text.splitlines()[0].startswith("id,store_id,terminal_id,terminal_code")
    assert len(csv_resp.text.splitlines()) == 3
    empty = client.get(
        URL,
        params={"format": "csv", "state": "open", "terminal_id": world.terminal_ids[0]},
        headers=world.manager_headers(),
    )
    assert empty.text.splitlines() == [csv_resp.text.splitlines()[0]]


def test_another_stores_shift_is_404_and_bad_input_is_4xx(
    client: TestClient, world: World, other_staff: StoreStaff
) -> None:
    headers = {"Authorization": f"Bearer {other_staff.terminal_token}", "X-Kasir-Protocol": "1"}
    theirs = shift_open_event(user_id=other_staff.cashier_id)
    assert statuses(push(client, headers, [theirs])) == ["applied"]
    url = f"{URL}/{theirs['payload']['id']}"
    assert_refused(client.get(url, headers=world.manager_headers()), 404, "shift_not_found")
    assert client.get(url, headers=world.admin_headers()).status_code == 200
    for who in (world.cashier_headers(), world.terminal_headers(0)):
        for route in (URL, url, f"{URL}/reconciliation"):
            assert client.get(route, headers=who).status_code == 403
    for params in (
        {"limit": 10**9},
        {"offset": -1},
        {"start": "2025-02-01", "end": "2025-01-01"},
        {"state": "half"},
        {"terminal_id": 2**64},
        {"start": "9999-12-31", "end": "9999-12-31"},
    ):
        resp = client.get(URL, params=params, headers=world.manager_headers())
        assert 400 <= resp.status_code < 500, (params, resp.text)
        assert set(resp.json()["error"]) == {"code", "message", "details"}
    for params in (
        {"day": "2025-13-01"},
        {"day": "99999-01-01"},
        {"day": "9999-12-31"},
        {"day": "0001-01-01"},
        {"store_id": 0},
    ):
        resp = client.get(f"{URL}/reconciliation", params=params, headers=world.manager_headers())
        assert 400 <= resp.status_code < 500, (params, resp.text)
    assert client.get(f"{URL}/nope", headers=world.manager_headers()).status_code == 422


def test_a_void_counts_in_the_shift_of_the_till_that_voided(
    client: TestClient, world: World
) -> None:
    db: Database = client.app.state.db  # type: ignore[attr-defined]
    [product] = add_products(db, 1, price=20_000)
    cashier, other = world.cashier_ids
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    t01 = at_moment(shift_open_event(user_id=cashier, opening_float=50_000), start)
    t02 = at_moment(shift_open_event(user_id=other, opening_float=80_000), start)
    sale = at_moment(
        sale_event(
            terminal_code="T01",
            cashier_id=cashier,
            items=[(product, 1)],
            tendered=50_000,
            shift_id=t01["payload"]["id"],
        ),
        start + timedelta(minutes=1),
    )
    assert statuses(push(client, world.terminal_headers(0), [t01, sale])) == ["applied"] * 2
    void = at_moment(
        void_event(sale, approved_by=world.manager_id, cashier_id=other),
        start + timedelta(minutes=2),
    )
    assert statuses(push(client, world.terminal_headers(1), [t02, void])) == ["applied"] * 2
    by_till = {r["terminal_code"]: r for r in _get(client, world)["items"]}
    total = sale["payload"]["total"]
    assert by_till["T01"]["cash_sales"] == total and by_till["T01"]["cash_voids"] == 0
    assert by_till["T01"]["expected_cash"] == 50_000 + total
    assert by_till["T02"]["cash_voids"] == total
    assert by_till["T02"]["expected_cash"] == 80_000 - total  # the cash went back from T02


def test_the_server_agrees_with_a_real_tills_z_report(
    client: TestClient, world: World, tmp_path: Path
) -> None:
    """The events come out of the till's own local store (its outbox), and the expected
    cash compared is the one its Z report shows (``LocalStore.shift_figures``)."""
    db: Database = client.app.state.db  # type: ignore[attr-defined]
    [teh] = add_products(db, 1, price=4_500)
    [kopi] = add_products(db, 1, price=18_000)
    till = LocalStore(tmp_path / "till.sqlite3")
    cashier = world.cashier_ids[0]
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    soon = minutes_after(start)

    opening = ShiftOpenIn(id=new_id(), user_id=cashier, opening_float=250_000, opened_at=start)
    till.open_shift(opening)

    def sell(event: dict, payments: list[dict] | None = None) -> dict:
        p = event["payload"]
        draft = SaleDraft(
            id=uuid.UUID(p["id"]),
            cashier_id=cashier,
            shift_id=opening.id,
            created_at=soon(),
            lines=tuple(SaleLineIn.model_validate(line) for line in p["lines"]),
            line_order_discounts=tuple(0 for _ in p["lines"]),
            order_discount=0,
            voucher_code=None,
            subtotal=p["subtotal"],
            discount_total=p["discount_total"],
            tax_total=p["tax_total"],
            total=p["total"],
            payments=tuple(PaymentIn.model_validate(x) for x in payments or p["payments"]),
        )
        till.record_sale(draft, terminal_code="T01", day=start.date())
        return event

    cash = sell(
        sale_event(terminal_code="T01", cashier_id=cashier, items=[(teh, 3)], tendered=20_000)
    )
    split = sale_event(terminal_code="T01", cashier_id=cashier, items=[(kopi, 2)])
    sell(
        split,
        [
            {"id": str(new_id()), "method": "qris", "amount": 26_000, "order_id": "ORD-Z"},
            {
                "id": str(new_id()),
                "method": "cash",
                "amount": 10_000,
                "tendered": 50_000,
                "change": 40_000,
            },
        ],
    )
    refunded = sell(
        sale_event(terminal_code="T01", cashier_id=cashier, items=[(kopi, 2)], tendered=40_000)
    )
    voided = sell(
        sale_event(terminal_code="T01", cashier_id=cashier, items=[(teh, 1)], tendered=5_000)
    )
    refund = refund_event(refunded, lines=[(0, 1)], approved_by=world.manager_id)
    refund["payload"].update(shift_id=str(opening.id), created_at=soon().isoformat())
    till.record_refund(RefundIn.model_validate(refund["payload"]))
    void = void_event(voided, approved_by=world.manager_id)
    void["payload"]["created_at"] = soon().isoformat()
    till.record_void(VoidIn.model_validate(void["payload"]), shift_id=opening.id)
    for amount in (30_000, -75_000):
        till.record_cash_move(
            CashMoveIn(
                id=new_id(),
                shift_id=opening.id,
                user_id=cashier,
                amount=amount,
                reason="kas",
                created_at=soon(),
            )
        )
    figures = till.shift_figures(opening.id)
    counted = expected_cash(figures) + 500
    closed_at = soon()
    till.close_shift(
        ShiftCloseIn(
            id=opening.id,
            user_id=cashier,
            counted_cash=counted,
            expected_cash=expected_cash(figures),
            closed_at=closed_at,
        )
    )
    report = ShiftReport(
        "Z",
        shift_id=opening.id,
        user_id=cashier,
        opened_at=start,
        generated_at=closed_at,
        figures=till.shift_figures(opening.id),
        counted_cash=counted,
    )
    events = [e.model_dump(mode="json") for e in till.pending_events(100)]
    assert [e["type"] for e in events][:2] == ["shift_open", "sale"]
    assert statuses(push(client, world.terminal_headers(0), events)) == ["applied"] * len(events)
    row = _get(client, world, f"{URL}/{opening.id}")
    assert row["expected_cash"] == report.expected_cash == row["claimed_expected_cash"]
    assert row["difference"] == report.variance == 500
    assert row["payments_by_method"] == report.figures.payments_by_method
    assert row["cash_refunds"] == report.figures.refunds_by_method["cash"]
    assert (row["cash_in"], row["cash_out"]) == (report.figures.cash_in, report.figures.cash_out)
    assert row["sales_count"] == report.figures.sales_count == 4
    assert row["cash_change"] == 20_000 - cash["payload"]["total"] + 40_000 + (
        40_000 - refunded["payload"]["total"]
    ) + (5_000 - voided["payload"]["total"])
    till.close()
