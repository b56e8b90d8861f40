"""The sales list and a sale's detail (``/api/v1/sales``): who may read them, every
filter, keyset paging with ties, refunds, voids and flags, refused input, downloads."""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from shared.ids import new_id
from sync_server.core.database import Database
from tests.server.conftest import StoreStaff, World, assert_refused
from tests.server.sync_helpers import (
    add_products,
    push,
    refund_event,
    sale_event,
    split_payment,
    statuses,
    void_event,
)

URL = "/api/v1/sales"


def _db(client: TestClient) -> Database:
    db: Database = client.app.state.db  # type: ignore[attr-defined]
    return db


def _get(client: TestClient, world: World, url: str = URL, **params: Any) -> Any:
    resp = client.get(url, params=params, headers=world.manager_headers())
    assert resp.status_code == 200, resp.text
    return resp.json()


@pytest.fixture
def shop(client: TestClient, world: World) -> dict[str, Any]:
    """Sales on both tills by both cashiers: cash, QRIS, split, one refunded, one voided,
    two flagged (QRIS with no order), one three days ago (flagged too: before its till
    was made)."""
    db = _db(client)
    cheap, dear = add_products(db, 1, price=5_000)[0], add_products(db, 1, price=120_000)[0]
    c1, c2 = world.cashier_ids
    now = datetime.now(UTC)
    sales = {
        "cash": sale_event(terminal_code="T01", cashier_id=c1, items=[(cheap, 2)], tendered=20_000),
        "dear": sale_event(terminal_code="T01", cashier_id=c1, items=[(dear, 1)]),
        "qris": sale_event(terminal_code="T02", cashier_id=c2, items=[(cheap, 1)], method="qris"),
        "split": split_payment(
            sale_event(terminal_code="T02", cashier_id=c2, items=[(dear, 2)]), 40_000, 50_000
        ),
        "refunded": sale_event(terminal_code="T01", cashier_id=c2, items=[(cheap, 3)]),
        "voided": sale_event(terminal_code="T02", cashier_id=c1, items=[(cheap, 1)]),
        "old": sale_event(
            terminal_code="T01",
            cashier_id=c1,
            items=[(cheap, 1)],
            created_at=(now - timedelta(days=3)).isoformat(),
        ),
    }
    t1 = [sales[k] for k in ("cash", "dear", "refunded", "old")]
    t2 = [sales[k] for k in ("qris", "split", "voided")]
    assert statuses(push(client, world.terminal_headers(0), t1)) == ["applied"] * 4
    assert statuses(push(client, world.terminal_headers(1), t2)) == ["applied"] * 3
    refund = refund_event(sales["refunded"], lines=[(0, 1)], approved_by=world.manager_id)
    void = void_event(sales["voided"], approved_by=world.manager_id)
    assert statuses(push(client, world.terminal_headers(0), [refund])) == ["applied"]
    assert statuses(push(client, world.terminal_headers(1), [void])) == ["applied"]
    return {"sales": sales, "refund": refund, "cheap": cheap, "dear": dear}


def _receipts(page: dict) -> set[str]:
    return {row["receipt_number"] for row in page["items"]}


def _r(shop: dict, *names: str) -> set[str]:
    return {shop["sales"][n]["payload"]["receipt_number"] for n in names}


def test_each_filter_narrows_the_list(client: TestClient, world: World, shop: dict) -> None:
    everything = _get(client, world)
    assert _receipts(everything) == _r(
        shop, "cash", "dear", "qris", "split", "refunded", "voided", "old"
    )
    assert everything["next_cursor"] is None
    today = datetime.now(UTC).date()
    recent = _get(client, world, start=str(today - timedelta(days=1)))
    assert _r(shop, "old").isdisjoint(_receipts(recent))
    only_old = _get(
        client,
        world,
        start=str(today - timedelta(days=4)),
        end=str(today - timedelta(days=2)),
    )
    assert _receipts(only_old) == _r(shop, "old")
    t2, c1 = world.terminal_ids[1], world.cashier_ids[0]
    assert _receipts(_get(client, world, terminal_id=t2)) == _r(shop, "qris", "split", "voided")
    assert _receipts(_get(client, world, cashier_id=c1)) == _r(
        shop, "cash", "dear", "voided", "old"
    )
    assert _receipts(_get(client, world, method="qris")) == _r(shop, "qris", "split")
    assert _receipts(_get(client, world, method="cash")) == _r(
        shop, "cash", "dear", "split", "refunded", "voided", "old"
    )
    assert _receipts(_get(client, world, min_total=100_000)) == _r(shop, "dear", "split")
    assert _receipts(_get(client, world, max_total=5_000)) == _r(shop, "qris", "voided", "old")
    assert _receipts(_get(client, world, min_total=10_000, max_total=15_000)) == _r(
        shop, "cash", "refunded"
    )
    number = shop["sales"]["dear"]["payload"]["receipt_number"]
    assert _receipts(_get(client, world, receipt=number)) == {number}
    assert _receipts(_get(client, world, receipt="T02-")) == _r(shop, "qris", "split", "voided")
    assert _receipts(_get(client, world, receipt="T02_")) == set()  # no LIKE wildcards
    assert _receipts(_get(client, world, status="voided")) == _r(shop, "voided")
    assert _receipts(_get(client, world, status="refunded")) == _r(shop, "refunded")
    # QRIS with no order behind it, and a sale dated before its till existed
    assert _receipts(_get(client, world, status="flagged")) == _r(shop, "qris", "split", "old")
    # filters combine
    assert _receipts(_get(client, world, terminal_id=t2, method="cash")) == _r(
        shop, "split", "voided"
    )
    rows = {row["receipt_number"]: row for row in everything["items"]}
    split = rows[shop["sales"]["split"]["payload"]["receipt_number"]]
    assert split["payment_methods"] == ["cash", "qris"]
    assert split["flags_count"] == 1 and split["open_flags"] == 1
    assert split["terminal_code"] == "T02" and split["cashier_name"] == "Kasir2"
    refunded = rows[shop["sales"]["refunded"]["payload"]["receipt_number"]]
    assert refunded["refunded_amount"] == shop["refund"]["payload"]["total"] > 0
    assert rows[shop["sales"]["voided"]["payload"]["receipt_number"]]["voided"] is True
    assert refunded["local_time"].endswith("+07:00")  # Asia/Jakarta


def test_paging_returns_every_sale_once_with_ties(client: TestClient, world: World) -> None:
    db = _db(client)
    [product] = add_products(db, 1, price=1_000)
    moments = [datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=m) for m in (1, 2)]
    events = [
        sale_event(
            terminal_code="T01",
            cashier_id=world.cashier_ids[0],
            items=[(product, 1 + i % 3)],
            created_at=moments[i % 2].isoformat(),  # 23 sales on two seconds
        )
        for i in range(23)
    ]
    assert set(statuses(push(client, world.terminal_headers(0), events))) == {"applied"}
    seen: list[dict] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 5}
        if cursor:
            params["cursor"] = cursor
        page = _get(client, world, **params)
        pages += 1
        assert len(page["items"]) <= 5
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 5
    ids = [row["id"] for row in seen]
    assert len(ids) == len(set(ids)) == 23
    assert {row["id"] for row in seen} == {e["payload"]["id"] for e in events}
    keys = [(row["created_at"], row["id"]) for row in seen]
    assert [k[0] for k in keys] == sorted((k[0] for k in keys), reverse=True)


def test_detail_shows_lines_payments_refunds_void_and_flags(
    client: TestClient, world: World, shop: dict
) -> None:
    sales = shop["sales"]
    refunded = _get(client, world, f"{URL}/{sales['refunded']['payload']['id']}")
    [line] = refunded["lines"]
    assert line["name"] == shop["cheap"].name and line["quantity"] == 3
    assert line["refunded_quantity"] == 1 and line["refunded_amount"] > 0
    [refund] = refunded["refunds"]
    assert refund["approved_by_name"] == "Manager" and refund["method"] == "cash"
    assert refund["lines"][0]["name"] == shop["cheap"].name
    assert refund["total"] == refunded["refunded_amount"] == line["refunded_amount"]
    assert refunded["void"] is None and refunded["flags"] == []

    voided = _get(client, world, f"{URL}/{sales['voided']['payload']['id']}")
    assert voided["voided"] is True
    assert voided["void"]["voided_by_name"] == "Manager"
    assert voided["void"]["reason"] == "salah input"

    split = _get(client, world, f"{URL}/{sales['split']['payload']['id']}")
    by_method = {p["method"]: p for p in split["payments"]}
    assert by_method["cash"]["amount"] == 40_000 and by_method["cash"]["change"] == 10_000
    assert by_method["qris"]["amount"] == split["total"] - 40_000
    [flag] = split["flags"]
    assert flag["kind"] == "qris_unverified" and flag["sale_id"] == split["id"]
    assert split["terminal_code"] == "T02" and split["cashier_name"] == "Kasir2"


def test_another_stores_sale_is_404_and_cashiers_get_403(
    client: TestClient, world: World, other_staff: StoreStaff
) -> None:
    [product] = add_products(_db(client), 1)
    headers = {"Authorization": f"Bearer {other_staff.terminal_token}", "X-Kasir-Protocol": "1"}
    theirs = sale_event(
        terminal_code="S02T1", cashier_id=other_staff.cashier_id, items=[(product, 1)]
    )
    assert statuses(push(client, headers, [theirs])) == ["applied"]
    sale_url = f"{URL}/{theirs['payload']['id']}"
    assert_refused(client.get(sale_url, headers=world.manager_headers()), 404, "sale_not_found")
    unknown = client.get(f"{URL}/{new_id()}", headers=world.manager_headers())
    assert unknown.json() == {
        "error": {
            "code": "sale_not_found",
            "message": unknown.json()["error"]["message"],
            "details": None,
        }
    }
    mine = _get(client, world)
    assert mine["items"] == []
    other_list = client.get(
        URL, params={"store_id": other_staff.store_id}, headers=world.manager_headers()
    )
    assert_refused(other_list, 403, "other_store")
    admin = client.get(
        URL, params={"store_id": other_staff.store_id}, headers=world.admin_headers()
    )
    assert [r["id"] for r in admin.json()["items"]] == [theirs["payload"]["id"]]
    assert client.get(sale_url, headers=world.admin_headers()).status_code == 200
    for headers in (world.cashier_headers(), world.terminal_headers(0)):
        for url in (URL, sale_url, f"{URL}?format=csv"):
            assert client.get(url, headers=headers).status_code == 403, url
    assert client.get(URL).status_code == 401


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode()


BAD_INPUT = [
    {"cursor": "garbage!!"},
    {"cursor": "Zm9vfGJhcg"},  # base64 of "foo|bar"
    {"cursor": "x" * 500},
    {"cursor": _cursor("0001-01-01T00:00:00+05:00|" + "a" * 32)},  # before year 1 in UTC
    {"cursor": _cursor("2025-01-01T00:00:00|" + "a" * 32)},  # no zone
    {"cursor": _cursor("2025-01-01T00:00:00+00:00|" + "a" * 31)},
    {"limit": 10**9},
    {"limit": 0},
    {"min_total": -1},
    {"max_total": 10**30},
    {"start": "2025-03-10", "end": "2025-03-01"},
    {"start": "1900-01-01", "end": "2025-01-01"},
    {"start": "not-a-day"},
    {"start": "9999-12-31", "end": "9999-12-31"},
    {"start": "0001-01-01", "end": "0001-01-02"},
    {"terminal_id": 0},
    {"cashier_id": 2**70},
    {"method": "gold"},
    {"status": "lost"},
    {"receipt": "%"},
    {"receipt": "x" * 41},
    {"store_id": -5},
    {"format": "pdf"},
]
"""Filters out of range or malformed: each is a 4xx in the one error shape, never 500."""


def test_bad_input_is_a_4xx_in_the_one_shape(client: TestClient, world: World) -> None:
    for params in BAD_INPUT:
        resp = client.get(URL, params=params, headers=world.manager_headers())
        assert 400 <= resp.status_code < 500, (params, resp.text)
        assert set(resp.json()["error"]) == {"code", "message", "details"}
    assert_refused(
        client.get(URL, params={"cursor": "garbage"}, headers=world.manager_headers()),
        422,
        "bad_cursor",
    )
    assert_refused(
        client.get(
            URL,
            params={"start": "2025-03-10", "end": "2025-03-01"},
            headers=world.manager_headers(),
        ),
        422,
        "bad_period",
    )
    bad_id = client.get(f"{URL}/not-a-uuid", headers=world.manager_headers())
    assert bad_id.status_code == 422


def test_downloads_match_the_json(client: TestClient, world: World, shop: dict) -> None:
    page = _get(client, world)
    csv_resp = client.get(URL, params={"format": "csv"}, headers=world.manager_headers())
    assert csv_resp.status_code == 200
    assert csv_resp.headers["content-type"].startswith("text/csv")
    lines = csv_resp.text.splitlines()
    header = lines[0].split(",")
    assert header[:3] == ["receipt_number", "created_at", "business_date"]
    assert "payment_labels" not in header
    assert len(lines) == 1 + len(page["items"])

    xlsx = client.get(URL, params={"format": "xlsx"}, headers=world.manager_headers())
    assert xlsx.status_code == 200
    assert xlsx.headers["content-disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:6] == ("No. struk", "Waktu", "Hari transaksi", "Terminal", "Kasir", "Total")
    by_receipt = {r[0]: r for r in rows[1:]}
    assert len(by_receipt) == len(page["items"])
    for item in page["items"]:
        row = by_receipt[item["receipt_number"]]
        assert row[5] == item["total"]  # a number, not text
        assert row[9] == item["refunded_amount"]
        local = datetime.fromisoformat(item["local_time"]).replace(tzinfo=None, second=0)
        assert row[1].replace(second=0, microsecond=0) == local.replace(microsecond=0)
    split = by_receipt[shop["sales"]["split"]["payload"]["receipt_number"]]
    assert split[6] == "Tunai + QRIS"
    assert sheet["F2"].number_format == '"Rp "#,##0'

    # an empty result still has its header row, in both files
    empty = {"min_total": 10**12}
    csv_empty = client.get(URL, params={**empty, "format": "csv"}, headers=world.manager_headers())
    assert csv_empty.text.splitlines() == [lines[0]]
    xlsx_empty = client.get(
        URL, params={**empty, "format": "xlsx"}, headers=world.manager_headers()
    )
    empty_sheet = load_workbook(io.BytesIO(xlsx_empty.content)).active
    assert empty_sheet is not None
    empty_rows = list(empty_sheet.iter_rows(values_only=True))
    assert empty_rows == [rows[0]]
