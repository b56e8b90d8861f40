"""The back office in a real browser: headless Chromium (selenium) against uvicorn.

One live server on SQLite with the demo store and a week of pushed sales serves the
whole module; the tests run in order as one manager's visit: log in, read the dashboard
and its chart, change the report period, export a CSV, edit a product, enroll a till,
watch the receipt preview follow the typing. Every page is photographed into
``artifacts/web/`` at desktop and phone widths.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from sync_server.catalog.models import Product
from sync_server.reports.registry import MONTHS
from tests.e2e.conftest import LiveServer
from tests.server.sync_helpers import push, sale_event, statuses
from tests.web.browser import PHONE, _by, go, live_site, shot, sign_in
from tests.web.conftest import PRODUCTS_WITH_TAX, catalog_products, demo_app_with_till

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site() -> Iterator[LiveServer]:
    """The demo store with a till and seven days of sales, served on a free port."""
    app, cashier_id, headers = demo_app_with_till("kasir-web-")
    db = app.state.db
    products = catalog_products(db, PRODUCTS_WITH_TAX.limit(6))
    now = datetime.now(UTC)
    events = [
        sale_event(
            terminal_code="T01",
            cashier_id=cashier_id,
            items=[(products[(day + k) % 6], 1 + (day * 3 + k) % 4) for k in range(1 + day % 3)],
            created_at=(now - timedelta(days=day, minutes=5 * k)).isoformat(),
        )
        for day in range(7)
        for k in range(1 + day % 2)
    ]
    assert set(statuses(push(TestClient(app), headers, events))) == {"applied"}
    with live_site(app) as server:
        yield server


def from_dashboard(driver: object, site: LiveServer, link: str) -> None:
    """Open the dashboard, then follow its navigation link ``link``."""
    driver.get(f"{site.base_url}/web/")  # type: ignore[attr-defined]
    go(driver, driver.find_element(_by("link"), link))  # type: ignore[attr-defined]


@pytest.fixture
def admin(site: LiveServer, chrome: object) -> Iterator[object]:
    """The browser signed in as the demo admin, who owns the chain catalog; signed out after."""
    d = chrome
    d.delete_all_cookies()  # type: ignore[attr-defined]
    sign_in(d, site.base_url, "admin", "admin12345")
    yield d
    d.delete_all_cookies()  # type: ignore[attr-defined]


def test_log_in_and_see_the_dashboard_chart(site: LiveServer, chrome: object) -> None:
    d = chrome
    d.delete_all_cookies()  # type: ignore[attr-defined]
    d.get(f"{site.base_url}/web/")  # type: ignore[attr-defined]
    assert "/web/login" in d.current_url  # type: ignore[attr-defined]
    shot(d, "login")
    shot(d, "login-phone", PHONE)
    d.find_element(_by("id"), "username").send_keys("manager")  # type: ignore[attr-defined]
    d.find_element(_by("id"), "password").send_keys("wrong-password")  # type: ignore[attr-defined]
    go(d, d.find_element(_by("css"), "button[type=submit]"))  # type: ignore[attr-defined]
    assert "kata sandi salah" in d.find_element(_by("css"), ".flash.error").text  # type: ignore[attr-defined]
    d.find_element(_by("id"), "password").send_keys("manager123")  # type: ignore[attr-defined]
    go(d, d.find_element(_by("css"), "button[type=submit]"))  # type: ignore[attr-defined]
    assert d.current_url.endswith("/web/")  # type: ignore[attr-defined]
    assert "Dasbor" in d.find_element(_by("css"), "h1").text  # type: ignore[attr-defined]
    cookie = d.get_cookie("kasir_session")  # type: ignore[attr-defined]
    assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    bars = d.find_elements(_by("css"), "figure.chart svg g.point")  # type: ignore[attr-defined]
    assert len(bars) == 7
    values = [int(b.get_attribute("data-value")) for b in bars]
    assert all(v > 0 for v in values)  # a sale on each of the last 7 days
    heights = [float(b.find_element(_by("css"), "rect").get_attribute("height")) for b in bars]
    assert max(heights) > 100 and values.index(max(values)) == heights.index(max(heights))
    assert re.search(r"Rp \d{1,3}(\.\d{3})+", d.find_element(_by("css"), ".stat .value").text)  # type: ignore[attr-defined]
    shot(d, "dashboard")
    shot(d, "dashboard-phone", PHONE)


def test_change_the_report_period(site: LiveServer, manager: object) -> None:
    d = manager
    from_dashboard(d, site, "Penjualan")
    assert "/web/reports/sales" in d.current_url  # type: ignore[attr-defined]
    daily = len(d.find_elements(_by("css"), "figure.chart g.point"))  # type: ignore[attr-defined]
    assert daily == 30  # the default period: the last 30 days
    go(d, d.find_element(_by("link"), "7 hari"))  # type: ignore[attr-defined]
    assert len(d.find_elements(_by("css"), "figure.chart g.point")) == 7  # type: ignore[attr-defined]
    go(d, d.find_element(_by("link"), "Bulanan"))  # type: ignore[attr-defined]
    assert "granularity=month" in d.current_url  # type: ignore[attr-defined]
    # Typed dates: the first of last month to today, by month: two bars.
    today = datetime.now(UTC).date()
    first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    # The date boxes are text boxes showing dd/mm/yyyy whatever the browser's language;
    # the manager types the day the shop's way.
    for field, value in (("start", first), ("end", today)):
        box = d.find_element(_by("id"), field)  # type: ignore[attr-defined]
        assert box.get_attribute("type") == "text"
        assert box.get_attribute("placeholder") == "dd/mm/yyyy"
        assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", box.get_attribute("value") or "")
        box.clear()
        box.send_keys(f"{value:%d/%m/%Y}")
    go(d, d.find_element(_by("css"), "form.period button[type=submit]"))  # type: ignore[attr-defined]
    assert f"start={first:%d}%2F{first:%m}%2F{first:%Y}" in d.current_url  # type: ignore[attr-defined]
    assert d.find_element(_by("id"), "start").get_attribute("value") == f"{first:%d/%m/%Y}"  # type: ignore[attr-defined]
    labels = [
        g.get_attribute("data-label")
        for g in d.find_elements(_by("css"), "figure.chart g.point")  # type: ignore[attr-defined]
    ]
    # Months are named the Indonesian way on the chart: "Nov '26".
    assert labels == [f"{MONTHS[day.month - 1][:3]} '{day:%y}" for day in (first, today)]
    shot(d, "report-sales-month")
    go(d, d.find_element(_by("link"), "Harian"))  # type: ignore[attr-defined]
    shot(d, "report-sales-day")
    shot(d, "report-sales-phone", PHONE)
    for slug in ("products", "payment-methods", "cashiers", "terminals", "refunds"):
        d.get(f"{site.base_url}/web/reports/{slug}?preset=7d")  # type: ignore[attr-defined]
        assert d.find_elements(_by("css"), "table tbody tr")  # type: ignore[attr-defined]
        shot(d, f"report-{slug}")
    # The best-sellers chart lays its bars down: every product keeps its name.
    d.get(f"{site.base_url}/web/reports/products?preset=7d")  # type: ignore[attr-defined]
    bars = d.find_elements(_by("css"), "figure.chart g.point")  # type: ignore[attr-defined]
    names = [b.find_element(_by("css"), "text").text for b in bars]
    assert bars and all(names), names
    shot(d, "report-products-phone", PHONE)


def test_export_a_csv(site: LiveServer, manager: object) -> None:
    d = manager
    d.get(f"{site.base_url}/web/reports/sales?preset=7d")  # type: ignore[attr-defined]
    href = d.find_element(_by("id"), "csv-link").get_attribute("href")  # type: ignore[attr-defined]
    cookie = d.get_cookie("kasir_session")["value"]  # type: ignore[attr-defined]
    answer = httpx.get(href, cookies={"kasir_session": cookie}, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    lines = answer.text.strip().splitlines()
    header = lines[0].split(",")
    assert "net" in header and len(lines) == 8  # header + 7 days
    page_total = sum(
        int(g.get_attribute("data-value"))
        for g in d.find_elements(_by("css"), "figure.chart g.point")  # type: ignore[attr-defined]
    )
    net = header.index("net")
    assert sum(int(line.split(",")[net]) for line in lines[1:]) == page_total
    assert httpx.get(href, timeout=10).status_code == 401  # not without the session


def test_edit_a_product(site: LiveServer, admin: object) -> None:
    d = admin
    from_dashboard(d, site, "Katalog")
    d.find_element(_by("id"), "q").send_keys("Indomie")  # type: ignore[attr-defined]
    go(d, d.find_element(_by("css"), "form[role=search] button"))  # type: ignore[attr-defined]
    shot(d, "products")
    go(d, d.find_element(_by("css"), "table tbody tr td a"))  # type: ignore[attr-defined]
    shot(d, "product-edit")
    product_id = int(d.current_url.rstrip("/").rsplit("/", 1)[1])  # type: ignore[attr-defined]
    name = d.find_element(_by("id"), "name")  # type: ignore[attr-defined]
    name.clear()
    name.send_keys("Indomie Goreng Rendang 91g")
    price = d.find_element(_by("id"), "price")  # type: ignore[attr-defined]
    price.clear()
    price.send_keys("4.100")
    go(d, d.find_element(_by("css"), "#product-form button[type=submit]"))  # type: ignore[attr-defined]
    assert "disimpan" in d.find_element(_by("css"), "main").text, d.find_element(
        _by("css"), "main"
    ).text  # type: ignore[attr-defined]
    d.get(f"{site.base_url}/web/products/{product_id}")  # type: ignore[attr-defined]
    assert d.find_element(_by("id"), "name").get_attribute("value") == "Indomie Goreng Rendang 91g"  # type: ignore[attr-defined]
    assert d.find_element(_by("id"), "price").get_attribute("value") == "4100"  # type: ignore[attr-defined]
    with site.db.session() as s:
        product = s.get(Product, product_id)
        assert product is not None and (product.name, product.price) == (
            "Indomie Goreng Rendang 91g",
            4100,
        )


def test_enroll_a_terminal(site: LiveServer, manager: object) -> None:
    d = manager
    from_dashboard(d, site, "Terminal")
    d.find_element(_by("id"), "terminal_code").send_keys("T05")  # type: ignore[attr-defined]
    d.find_element(_by("id"), "terminal_name").send_keys("Kasir gudang")  # type: ignore[attr-defined]
    go(d, d.find_element(_by("css"), "form[action='/web/terminals/enroll'] button"))  # type: ignore[attr-defined]
    code = d.find_element(_by("id"), "enrollment-code").text  # type: ignore[attr-defined]
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    assert "T05" in d.find_element(_by("css"), "table").text  # type: ignore[attr-defined]
    shot(d, "terminals-enrolled")
    shot(d, "terminals-phone", PHONE)


def test_receipt_preview_follows_typing(site: LiveServer, manager: object) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    d = manager
    from_dashboard(d, site, "Struk")
    footer = d.find_element(_by("id"), "receipt_footer")  # type: ignore[attr-defined]
    footer.clear()
    footer.send_keys("Sampai jumpa lagi!")
    preview = d.find_element(_by("id"), "receipt-preview")  # type: ignore[attr-defined]
    WebDriverWait(d, 5).until(lambda _: "Sampai jumpa lagi!" in preview.text)
    shot(d, "receipt")
    shot(d, "receipt-phone", PHONE)


def test_other_pages_render(site: LiveServer, manager: object) -> None:
    d = manager
    for path, name in (
        ("/web/stock", "stock"),
        ("/web/stock?only=low", "stock-low"),
        ("/web/stock/receive", "stock-receive"),
        ("/web/stock/count", "stock-count"),
        ("/web/payments", "payments"),
        ("/web/users", "users"),
        ("/web/products/import", "import"),
    ):
        d.get(f"{site.base_url}{path}")  # type: ignore[attr-defined]
        assert d.find_element(_by("css"), "h1").text  # type: ignore[attr-defined]
        shot(d, name)
    d.get(f"{site.base_url}/web/stock/1/moves")  # type: ignore[attr-defined]
    shot(d, "stock-moves")
    shot(d, "stock-phone", PHONE)
