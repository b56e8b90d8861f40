"""Transaksi and Shift & kas in headless Chromium: a demo till's day pushed through the
real push path (a shift with cash and split sales, a refund, a void, cash moves; a QRIS
sale the server flags), then the manager filters the sales, opens one, reads the shifts
and the day's cash. Screenshots at desktop and phone widths go to ``artifacts/web/``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sync_server.auth.models import User
from sync_server.sales import service as sales_service
from tests.e2e.conftest import LiveServer
from tests.server.sync_helpers import (
    cash_move_event,
    one_minute_apart,
    push,
    refund_event,
    sale_event,
    shift_close_event,
    shift_open_event,
    split_payment,
    statuses,
    void_event,
)
from tests.web.browser import DESKTOP, PHONE, _by, go, live_site, shot
from tests.web.conftest import PRODUCTS_WITH_TAX, catalog_products, demo_app_with_till

pytestmark = pytest.mark.browser

LOCAL_DAY: list[str] = []
"""The store-local day of the pushed shift (dd/mm/yyyy), set by ``site``."""


@pytest.fixture(scope="module")
def site() -> Iterator[LiveServer]:
    """The demo store after one shift on T01, and yesterday's sales."""
    app, cashier_id, headers = demo_app_with_till("kasir-web-sales-")
    db = app.state.db
    products = catalog_products(db, PRODUCTS_WITH_TAX.limit(4))
    with db.session() as s:
        manager_id, store_id = s.execute(
            select(User.id, User.store_id).where(User.username == "manager")
        ).one()
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    LOCAL_DAY.append((base + timedelta(hours=7)).strftime("%d/%m/%Y"))
    at = one_minute_apart(base)

    shift = at(shift_open_event(user_id=cashier_id, opening_float=300_000))
    sid = shift["payload"]["id"]
    sales = [
        at(
            sale_event(
                terminal_code="T01",
                cashier_id=cashier_id,
                items=[(products[k % 4], 1 + k % 3)],
                tendered=100_000,
                shift_id=sid,
            )
        )
        for k in range(8)
    ]
    split = sale_event(
        terminal_code="T01", cashier_id=cashier_id, items=[(products[0], 4)], shift_id=sid
    )
    at(split_payment(split, 10_000, 20_000, order_id="ORD-B1"))
    refund = at(refund_event(sales[1], lines=[(0, 1)], approved_by=manager_id))
    refund["payload"]["shift_id"] = sid
    void = at(void_event(sales[2], approved_by=manager_id))
    moves = [
        at(cash_move_event(shift, user_id=cashier_id, amount=100_000, reason="tambah uang kecil")),
        at(cash_move_event(shift, user_id=cashier_id, amount=-250_000, reason="setor ke bank")),
    ]
    events = [shift, *sales, split, refund, void, *moves]
    http = TestClient(app)
    assert set(statuses(push(http, headers, events))) == {"applied"}
    day = (base + timedelta(hours=7)).date()
    [drawer] = sales_service.list_shifts(db, store_id=store_id, start=day, end=day).items
    expected = drawer.expected_cash
    close = at(
        shift_close_event(
            shift, user_id=cashier_id, counted_cash=expected - 3_000, expected_cash=expected
        )
    )
    old = [
        sale_event(
            terminal_code="T01",
            cashier_id=cashier_id,
            items=[(products[3], 2)],
            method="qris",
            created_at=(base - timedelta(days=1)).isoformat(),
        )
    ]
    assert set(statuses(push(http, headers, [close, *old]))) == {"applied"}
    with live_site(app) as server:
        yield server


def _fits_on_the_phone(d: object) -> None:
    """Nothing but the tables' own boxes scrolls sideways at phone width."""
    d.set_window_size(*PHONE)  # type: ignore[attr-defined]
    overflow = d.execute_script(  # type: ignore[attr-defined]
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page is {overflow}px wider than the phone"


def test_the_sales_list_and_a_sale(site: LiveServer, manager: object) -> None:
    d = manager
    d.get(f"{site.base_url}/web/")  # type: ignore[attr-defined]
    go(d, d.find_element(_by("link"), "Transaksi"))  # type: ignore[attr-defined]
    assert "/web/sales" in d.current_url  # type: ignore[attr-defined]
    rows = d.find_elements(_by("css"), "table tbody tr[data-sale]")  # type: ignore[attr-defined]
    assert len(rows) == 10  # 8 cash + split today, one yesterday
    main = d.find_element(_by("css"), "main").text  # type: ignore[attr-defined]
    for words in ("Tunai + QRIS", "Dibatalkan", "Diretur", "tanda", "Unduh Excel"):
        assert words in main, words
    shot(d, "sales")
    _fits_on_the_phone(d)
    shot(d, "sales-phone", PHONE)

    from selenium.webdriver.support.ui import Select

    Select(d.find_element(_by("id"), "f-method")).select_by_value("qris")  # type: ignore[attr-defined]
    go(d, d.find_element(_by("css"), "form.sales-filters button[type=submit]"))  # type: ignore[attr-defined]
    assert "method=qris" in d.current_url  # type: ignore[attr-defined]
    rows = d.find_elements(_by("css"), "table tbody tr[data-sale]")  # type: ignore[attr-defined]
    assert len(rows) == 2
    shot(d, "sales-filtered")

    d.get(f"{site.base_url}/web/sales?status=refunded")  # type: ignore[attr-defined]
    go(d, d.find_element(_by("css"), "table tbody tr[data-sale] a"))  # type: ignore[attr-defined]
    assert "/web/sales/" in d.current_url  # type: ignore[attr-defined]
    main = d.find_element(_by("css"), "main").text  # type: ignore[attr-defined]
    for words in ("Barang", "Pembayaran", "Retur 1", "Disetujui", "Tunai dari laci"):
        assert words.lower() in main.lower(), words
    shot(d, "sale-detail")
    _fits_on_the_phone(d)
    shot(d, "sale-detail-phone", PHONE)

    d.get(f"{site.base_url}/web/sales?status=flagged&method=qris")  # type: ignore[attr-defined]
    split = [
        r
        for r in d.find_elements(_by("css"), "table tbody tr[data-sale]")  # type: ignore[attr-defined]
        if "Tunai + QRIS" in r.text
    ]
    go(d, split[0].find_element(_by("css"), "a"))
    assert "QRIS" in d.find_element(_by("css"), ".flag").text  # type: ignore[attr-defined]
    shot(d, "sale-detail-flag")


def test_typing_the_period_the_shops_way_on_a_phone(site: LiveServer, manager: object) -> None:
    """The period boxes are text boxes showing dd/mm/yyyy in any browser language; a day
    typed d/m/yyyy or dd/mm/yyyy lists what the ISO link lists; junk is stopped."""
    d = manager
    day = datetime.strptime(LOCAL_DAY[0], "%d/%m/%Y").date()
    d.get(f"{site.base_url}/web/sales?start={day.isoformat()}&end={day.isoformat()}")  # type: ignore[attr-defined]
    by_link = len(d.find_elements(_by("css"), "table tbody tr[data-sale]"))  # type: ignore[attr-defined]
    assert by_link == 9  # the day's 8 cash sales and the split one
    d.get(f"{site.base_url}/web/sales")  # type: ignore[attr-defined]
    d.set_window_size(*PHONE)  # type: ignore[attr-defined]
    start, end = (d.find_element(_by("id"), box) for box in ("f-start", "f-end"))  # type: ignore[attr-defined]
    for box in (start, end):
        assert box.get_attribute("type") == "text"
        assert box.get_attribute("inputmode") == "numeric"
        assert box.get_attribute("placeholder") == "dd/mm/yyyy"
    assert end.get_attribute("value") == LOCAL_DAY[0]  # the default period ends today
    start.clear()
    start.send_keys(f"{day.day}/{day.month}/{day.year}")
    end.clear()
    end.send_keys(LOCAL_DAY[0])
    shot(d, "sales-filter-phone", PHONE)
    go(d, d.find_element(_by("css"), "form.sales-filters button[type=submit]"))  # type: ignore[attr-defined]
    assert "start=" in d.current_url and "%2F" in d.current_url  # type: ignore[attr-defined]
    rows = d.find_elements(_by("css"), "table tbody tr[data-sale]")  # type: ignore[attr-defined]
    assert len(rows) == by_link
    assert d.find_element(_by("id"), "f-start").get_attribute("value") == LOCAL_DAY[0]  # type: ignore[attr-defined]
    # a shape the browser can tell is wrong is stopped before it is sent...
    box = d.find_element(_by("id"), "f-start")  # type: ignore[attr-defined]
    box.clear()
    box.send_keys("2025/12/31")
    assert d.execute_script("return arguments[0].validity.patternMismatch", box)  # type: ignore[attr-defined]
    # ...and a day that does not exist is refused by the server in words
    d.get(f"{site.base_url}/web/sales?start=31/02/2026")  # type: ignore[attr-defined]
    main = d.find_element(_by("css"), "main").text  # type: ignore[attr-defined]
    assert "Tanggal 31/02/2026 tidak dikenali: tulis dd/mm/yyyy" in main
    d.set_window_size(*DESKTOP)  # type: ignore[attr-defined]


def test_shifts_and_the_days_cash(site: LiveServer, manager: object) -> None:
    d = manager
    d.get(f"{site.base_url}/web/")  # type: ignore[attr-defined]
    go(d, d.find_element(_by("link"), "Shift & kas"))  # type: ignore[attr-defined]
    rows = d.find_elements(_by("css"), "table tbody tr[data-shift]")  # type: ignore[attr-defined]
    assert len(rows) == 1
    assert "-Rp 3.000" in rows[0].text
    shot(d, "shifts")
    _fits_on_the_phone(d)
    shot(d, "shifts-phone", PHONE)

    go(d, rows[0].find_element(_by("css"), "a"))
    main = d.find_element(_by("css"), "main").text  # type: ignore[attr-defined]
    for words in ("Laci kas", "Kas seharusnya", "setor ke bank", "Per metode bayar", "Selisih"):
        assert words.lower() in main.lower(), words
    shot(d, "shift-detail")
    _fits_on_the_phone(d)
    shot(d, "shift-detail-phone", PHONE)

    go(d, d.find_element(_by("css"), "main p a[href^='/web/cash']"))  # type: ignore[attr-defined]
    assert LOCAL_DAY[0] in d.find_element(_by("css"), "h1").text  # type: ignore[attr-defined]
    assert d.find_element(_by("id"), "total-difference").text == "-Rp 3.000"  # type: ignore[attr-defined]
    assert d.find_elements(_by("id"), "totals")  # type: ignore[attr-defined]
    shot(d, "cash")
    _fits_on_the_phone(d)
    shot(d, "cash-phone", PHONE)
    go(d, d.find_element(_by("id"), "prev-day"))  # type: ignore[attr-defined]
    assert "Tidak ada shift" in d.find_element(_by("css"), "main").text  # type: ignore[attr-defined]
