"""Excel and CSV downloads: every report and list of the reports API as ``.xlsx`` opened
with openpyxl (Indonesian headers, rupiah as whole numbers formatted ``Rp``, days as real
dates shown dd/mm/yyyy, figures equal to the JSON answer for the same period), and as
CSV with stable machine headers, an empty period included. SQLite and MariaDB.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel

from sync_server.core.database import Database
from sync_server.payments.models import PaymentOrder
from sync_server.reports.csv_export import csv_fields
from sync_server.reports.exports import (
    DATE_FORMAT,
    DATETIME_FORMAT,
    MONEY_FORMAT,
    XLSX_MEDIA_TYPE,
    rows_to_xlsx,
)
from sync_server.reports.registry import (
    DAY_COLUMNS,
    PAYMENT_ORDER_COLUMNS,
    PERIOD_REPORTS,
    QRIS_STATUS_LABELS,
    REJECTED_EVENT_COLUMNS,
    STOCK_LEVEL_COLUMNS,
    TERMINAL_HEALTH_COLUMNS,
    Column,
    Report,
    label_of,
    period_label,
)
from sync_server.reports.schemas import (
    DayFigures,
    PaymentOrderRow,
    RejectedEventRow,
    StockLevelRow,
    TerminalHealthRow,
)
from tests.server.conftest import World
from tests.server.sync_helpers import (
    add_products,
    push,
    refund_event,
    sale_event,
    statuses,
    void_event,
)

API = "/api/v1/reports"
START, END = date(2025, 3, 1), date(2025, 3, 3)
PERIOD = f"start={START}&end={END}"
EMPTY = "start=2020-01-01&end=2020-01-31"

ENGLISH = {"sales", "date", "amount", "name", "method", "count", "order", "time", "hour", "paid"}
"""Words an English header would have (the titles are Indonesian)."""


def _sheet(resp: Any) -> Worksheet:
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == XLSX_MEDIA_TYPE
    assert resp.headers["content-disposition"].startswith("attachment; filename=")
    assert resp.headers["content-disposition"].endswith('.xlsx"')
    book = load_workbook(io.BytesIO(resp.content))
    ws = book.active
    assert ws is not None
    return ws


def _check_cell(cell: Any, column: Column, value: Any, timezone: str = "Asia/Jakarta") -> None:
    """One Excel cell against the JSON value of the same field."""
    where = (column.key, value, cell.value)
    if value is None:
        assert cell.value is None, where
    elif column.kind in ("money", "number"):
        assert type(cell.value) is int and cell.value == value, where
        if column.kind == "money":
            assert cell.number_format == MONEY_FORMAT, where
    elif column.kind == "date" or (column.kind == "period" and len(str(value)) == 10):
        assert isinstance(cell.value, datetime), where
        assert cell.value.date() == date.fromisoformat(value), where
        assert cell.number_format == DATE_FORMAT, where
    elif column.kind == "datetime":
        from zoneinfo import ZoneInfo

        moment = datetime.fromisoformat(value).astimezone(ZoneInfo(timezone))
        assert isinstance(cell.value, datetime), where
        assert abs(cell.value - moment.replace(tzinfo=None)) < timedelta(seconds=1), where
        assert cell.number_format == DATETIME_FORMAT, where
    else:
        label = label_of(column.kind, value)
        assert cell.value == (label if label is not None else str(value)), where


def check_sheet(ws: Worksheet, columns: tuple[Column, ...], items: list[dict[str, Any]]) -> None:
    """Header row = the Indonesian titles (frozen), then one row per JSON item."""
    rows = list(ws.iter_rows())
    assert [c.value for c in rows[0]] == [c.title for c in columns]
    assert not {c.title.lower() for c in columns} & ENGLISH
    assert ws.freeze_panes == "A2"
    assert len(rows) - 1 == len(items)
    for cells, item in zip(rows[1:], items, strict=True):
        for cell, column in zip(cells, columns, strict=True):
            _check_cell(cell, column, item.get(column.key))
    for i in range(1, len(columns) + 1):
        letter = rows[0][i - 1].column_letter
        assert (ws.column_dimensions[letter].width or 0) >= 8


def _json_rows(report: Report, body: Any) -> list[dict[str, Any]]:
    """The JSON answer's rows, picked as the registry picks them from the answer."""
    if isinstance(body, list):
        return body
    rows: list[dict[str, Any]] = list(report.rows(SimpleNamespace(**body)))  # type: ignore[arg-type]
    return rows


def _csv(resp: Any) -> list[list[str]]:
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(resp.text)))


@pytest.fixture
def sold(client: TestClient, db: Database, world: World) -> World:
    """Sales on 1-3 March 2025 (split tender, a refund, a void) and a QRIS order."""
    products = add_products(db, 3, price=12_500)
    events = []
    for i, (day, hour) in enumerate([(1, 2), (1, 5), (2, 9), (3, 12), (3, 13)]):
        moment = datetime(2025, 3, day, hour, 15, tzinfo=UTC)
        event = sale_event(
            terminal_code="T01",
            cashier_id=world.cashier_ids[0],
            items=[(products[i % 3], 1 + i)],
            created_at=moment.isoformat(),
            method="qris" if i == 2 else "cash",
        )
        if i == 2:
            event["payload"]["payments"][0]["reference"] = "T999"
        events.append(event)
    assert statuses(push(client, world.terminal_headers(0), events)) == ["applied"] * 5
    refund = refund_event(events[1], lines=[(0, 1)], approved_by=world.manager_id)
    void = void_event(events[3], approved_by=world.manager_id)
    assert statuses(push(client, world.terminal_headers(0), [refund, void])) == ["applied"] * 2
    with db.session() as s:
        s.add(
            PaymentOrder(
                order_id="ORD-EXPORT-1",
                store_id=world.store_id,
                terminal_id=world.terminal_ids[0],
                amount=37_500,
                customer_name="Pelanggan",
                customer_email="a@b.id",
                status="PAID",
                reference="T999",
                created_at=datetime(2025, 3, 2, 9, 10, tzinfo=UTC),
                paid_at=datetime(2025, 3, 2, 9, 11, 30, tzinfo=UTC),
            )
        )
    return world


def _report_routes() -> list[tuple[Report, str]]:
    out = []
    for report in PERIOD_REPORTS:
        if report.by_granularity:
            out += [(report, f"granularity={g}&") for g in ("day", "week", "month")]
        else:
            out.append((report, ""))
    return out


def test_every_report_as_xlsx_equals_its_json(client: TestClient, sold: World) -> None:
    headers = sold.manager_headers()
    seen_kinds = set()
    for report, options in _report_routes():
        url = f"{API}/{report.path}?{options}{PERIOD}"
        body = client.get(url, headers=headers).json()
        items = _json_rows(report, body)
        assert items, report.slug
        ws = _sheet(client.get(f"{url}&format=xlsx", headers=headers))
        assert ws.title == report.title[:31]
        check_sheet(ws, report.columns, items)
        seen_kinds |= {c.kind for c in report.columns}
        # The CSV of the same period: machine headers, the same figures.
        table = _csv(client.get(f"{url}&format=csv", headers=headers))
        assert table[0] == report.csv_columns()
        assert len(table) - 1 == len(items)
        for line, item in zip(table[1:], items, strict=True):
            for key, text in zip(table[0], line, strict=True):
                assert text == ("" if item.get(key) is None else str(item[key])), (key, text)
    assert {"money", "number", "date", "period", "payment_method"} <= seen_kinds
    # The figures in the sheet add up to the JSON totals.
    sales = client.get(f"{API}/sales?{PERIOD}", headers=headers).json()
    ws = _sheet(client.get(f"{API}/sales?{PERIOD}&format=xlsx", headers=headers))
    titles = [c.value for c in next(ws.iter_rows())]
    net = titles.index("Penjualan bersih")
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert sum(r[net] for r in rows) == sales["totals"]["net_after_refunds"] > 0
    assert [r[0].date() for r in rows] == [START + timedelta(days=i) for i in range(3)]
    hourly = client.get(f"{API}/hourly?{PERIOD}&format=xlsx", headers=headers)
    hours = list(_sheet(hourly).iter_rows(min_row=2, values_only=True))
    assert [h[0] for h in hours] == [f"{h:02d}:00" for h in range(24)]
    # 02:15 UTC is 09:15 in Jakarta; the voided 12:15 UTC sale is not there.
    assert hours[9][1] == 1 and hours[19][1] == 0 and hours[20][1] == 1


def test_an_empty_period_still_has_its_header_row(client: TestClient, world: World) -> None:
    headers = world.manager_headers()
    for report, options in _report_routes():
        url = f"{API}/{report.path}?{options}{EMPTY}"
        table = _csv(client.get(f"{url}&format=csv", headers=headers))
        assert table[0] == report.csv_columns(), report.slug
        assert all(table[0])
        ws = _sheet(client.get(f"{url}&format=xlsx", headers=headers))
        assert [c.value for c in next(ws.iter_rows())] == [c.title for c in report.columns]
    top = _csv(client.get(f"{API}/top-products?{EMPTY}&format=csv", headers=headers))
    assert len(top) == 1  # the header row alone, not an empty line
    assert top[0][:5] == ["product_id", "sku", "name", "quantity", "revenue"]
    empty_lists: list[tuple[str, type[BaseModel]]] = [
        (f"payments?{EMPTY}&", PaymentOrderRow),
        ("rejected-events?", RejectedEventRow),
    ]
    for route, model in empty_lists:
        table = _csv(client.get(f"{API}/{route}format=csv", headers=headers))
        assert table == [csv_fields(model)], route
        ws = _sheet(client.get(f"{API}/{route}format=xlsx", headers=headers))
        assert len(list(ws.iter_rows())) == 1


def test_list_downloads_as_xlsx(client: TestClient, db: Database, sold: World) -> None:
    headers = sold.manager_headers()
    bad = sale_event(terminal_code="T01", cashier_id=sold.cashier_ids[0], items=[])
    bad["payload"]["lines"] = []
    assert statuses(push(client, sold.terminal_headers(0), [bad])) == ["rejected"]
    lists: list[tuple[str, tuple[Column, ...], Any]] = [
        (f"payments?{PERIOD}", PAYMENT_ORDER_COLUMNS, lambda b: b),
        ("terminal-health", TERMINAL_HEALTH_COLUMNS, lambda b: b),
        ("rejected-events", REJECTED_EVENT_COLUMNS, lambda b: b),
        ("stock", STOCK_LEVEL_COLUMNS, lambda b: b),
        ("dashboard?today=2025-03-03", DAY_COLUMNS, lambda b: b["last_7_days"]),
    ]
    for route, columns, rows_of in lists:
        sep = "&" if "?" in route else "?"
        items = rows_of(client.get(f"{API}/{route}", headers=headers).json())
        assert items, route
        ws = _sheet(client.get(f"{API}/{route}{sep}format=xlsx", headers=headers))
        check_sheet(ws, columns, items)
    payments = _sheet(client.get(f"{API}/payments?{PERIOD}&format=xlsx", headers=headers))
    row = [c.value for c in list(payments.iter_rows())[1]]
    assert row[3] == QRIS_STATUS_LABELS["PAID"] == "Lunas"
    assert row[1] == datetime(2025, 3, 2, 16, 10)  # 09:10 UTC is 16:10 in Jakarta
    rejected = _sheet(client.get(f"{API}/rejected-events?format=xlsx", headers=headers))
    assert [c.value for c in list(rejected.iter_rows())[1]][1] == "Penjualan"
    # CSV keeps the machine names and codes.
    models: list[tuple[str, type[BaseModel]]] = [
        (f"payments?{PERIOD}&", PaymentOrderRow),
        ("terminal-health?", TerminalHealthRow),
        ("stock?", StockLevelRow),
        ("dashboard?", DayFigures),
    ]
    for route, model in models:
        table = _csv(client.get(f"{API}/{route}format=csv", headers=headers))
        assert table[0] == csv_fields(model), route
    paid = _csv(client.get(f"{API}/payments?{PERIOD}&format=csv", headers=headers))
    assert paid[1][paid[0].index("status")] == "PAID"


def test_rows_to_xlsx_formats_and_labels() -> None:
    columns = (
        Column("Periode", "label", "period"),
        Column("Metode", "method", "payment_method"),
        Column("Jumlah", "amount", "money"),
    )

    class Row(BaseModel):
        label: str
        method: str
        amount: int

    data = rows_to_xlsx(
        [Row(label="2025-W09", method="cash", amount=12_500)], columns, sheet="A/B: [x]"
    )
    ws = load_workbook(io.BytesIO(data)).active
    assert ws is not None
    assert ws.title == "A B   x"
    assert [c.value for c in list(ws.iter_rows())[1]] == ["Minggu 9/2025", "Tunai", 12_500]
    assert period_label("2025-03") == "Maret 2025" and period_label("2025") == "2025"
    assert period_label("2025-03-01") == "01/03/2025"
