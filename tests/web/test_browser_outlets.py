"""The outlet pages in a real browser: the admin picks an outlet (shown in the header of
every page), sets an outlet price, sends a transfer and looks at a product's stock at
every outlet. Every page is photographed into ``artifacts/web/`` at desktop and phone
widths."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from sync_server.catalog.demo import STORE_CODE
from sync_server.catalog.models import Product
from sync_server.core.models import Store
from sync_server.stock.service import on_hand_of
from tests.e2e.conftest import LiveServer
from tests.server.sync_helpers import stock_up
from tests.web.browser import DESKTOP, PHONE, _by, go, live_site, shot, sign_in
from tests.web.conftest import demo_app_with_till

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site() -> Iterator[LiveServer]:
    """The demo store, a second outlet, and stock of a product at the demo store."""
    app, _, _ = demo_app_with_till("kasir-web-outlets-")
    db = app.state.db
    with db.session() as s:
        s.add(Store(code="S02", name="Toko Cabang Dago", address="Jl. Dago 12, Bandung"))
        demo = s.scalars(select(Store.id).where(Store.code == STORE_CODE)).one()
        product = s.scalars(select(Product).order_by(Product.id).limit(1)).one()
        product_id, sku = product.id, product.sku
    stock_up(db, demo, product_id, 24)
    with live_site(app) as server:
        server.product = (product_id, sku)  # type: ignore[attr-defined]
        server.demo_store = demo  # type: ignore[attr-defined]
        yield server


@pytest.fixture(scope="module")
def admin(site: LiveServer, chrome: object) -> object:
    """The browser signed in as the demo admin."""
    d = chrome
    d.delete_all_cookies()  # type: ignore[attr-defined]
    sign_in(d, site.base_url, "admin", "admin12345")
    return d


def _nav_outlet(d: object) -> str:
    link = d.find_element(_by("css"), 'header nav a[href="/web/outlets"]')  # type: ignore[attr-defined]
    return str(link.text)


def _fits_the_phone(d: object) -> None:
    """At phone width no table is wider than the screen (every column stays in view)."""
    d.set_window_size(*PHONE)  # type: ignore[attr-defined]
    widest = d.execute_script(  # type: ignore[attr-defined]
        "return Math.max(0, ...Array.from(document.querySelectorAll('main table'))"
        ".map(t => t.getBoundingClientRect().right))"
    )
    page = d.execute_script("return document.documentElement.clientWidth")  # type: ignore[attr-defined]
    d.set_window_size(*DESKTOP)  # type: ignore[attr-defined]
    assert widest <= page + 1, (widest, page)


def test_pick_an_outlet_and_see_it_on_every_page(site: LiveServer, admin: object) -> None:
    from selenium.webdriver.support.ui import Select

    d = admin
    d.get(f"{site.base_url}/web/outlets")  # type: ignore[attr-defined]
    assert _nav_outlet(d) == f"Outlet: {STORE_CODE}"
    shot(d, "outlets-picker")
    shot(d, "outlets-picker-phone", PHONE)
    Select(d.find_element(_by("id"), "pick-store")).select_by_visible_text(  # type: ignore[attr-defined]
        "S02 · Toko Cabang Dago"
    )
    go(d, d.find_element(_by("css"), "#outlet-picker button[type=submit]"))  # type: ignore[attr-defined]
    assert "S02" in d.find_element(_by("css"), "h1").text  # type: ignore[attr-defined]
    d.get(f"{site.base_url}/web/stock")  # type: ignore[attr-defined]
    assert _nav_outlet(d) == "Outlet: S02"
    # Back to the demo store for the next steps.
    d.get(f"{site.base_url}/web/outlets")  # type: ignore[attr-defined]
    Select(d.find_element(_by("id"), "pick-store")).select_by_value(str(site.demo_store))  # type: ignore[attr-defined]
    go(d, d.find_element(_by("css"), "#outlet-picker button[type=submit]"))  # type: ignore[attr-defined]
    assert _nav_outlet(d) == f"Outlet: {STORE_CODE}"


def test_set_an_outlet_price(site: LiveServer, admin: object) -> None:
    d = admin
    _, sku = site.product  # type: ignore[attr-defined]
    d.get(f"{site.base_url}/web/outlets/prices")  # type: ignore[attr-defined]
    d.find_element(_by("id"), "code").send_keys(sku)  # type: ignore[attr-defined]
    d.find_element(_by("id"), "price").send_keys("12.500")  # type: ignore[attr-defined]
    go(d, d.find_element(_by("css"), "#price-form button[type=submit]"))  # type: ignore[attr-defined]
    assert "Rp 12.500" in d.find_element(_by("css"), ".flash.ok").text  # type: ignore[attr-defined]
    cells = [c.text for c in d.find_elements(_by("css"), "main table td")]  # type: ignore[attr-defined]
    assert "Rp 12.500" in cells
    shot(d, "outlet-prices")
    shot(d, "outlet-prices-phone", PHONE)
    _fits_the_phone(d)


def test_send_a_transfer_and_see_stock_across_outlets(site: LiveServer, admin: object) -> None:
    from selenium.webdriver.support.ui import Select

    d = admin
    product_id, sku = site.product  # type: ignore[attr-defined]
    with site.db.session() as s:
        before = on_hand_of(s, store_id=site.demo_store, product_ids=[product_id])[product_id]  # type: ignore[attr-defined]
    d.get(f"{site.base_url}/web/outlets/transfers")  # type: ignore[attr-defined]
    Select(d.find_element(_by("id"), "to_store_id")).select_by_visible_text(  # type: ignore[attr-defined]
        "S02 · Toko Cabang Dago"
    )
    d.find_element(_by("css"), "input[name=code]").send_keys(sku)  # type: ignore[attr-defined]
    d.find_element(_by("css"), "input[name=quantity]").send_keys("5")  # type: ignore[attr-defined]
    d.find_element(_by("id"), "note").send_keys("Stok akhir pekan")  # type: ignore[attr-defined]
    go(d, d.find_element(_by("css"), "#transfer-form button[type=submit]"))  # type: ignore[attr-defined]
    assert "dikirim" in d.find_element(_by("css"), "h1").text.lower()  # type: ignore[attr-defined]
    with site.db.session() as s:
        after = on_hand_of(s, store_id=site.demo_store, product_ids=[product_id])[product_id]  # type: ignore[attr-defined]
    assert after == before - 5
    shot(d, "transfer")
    shot(d, "transfer-phone", PHONE)
    _fits_the_phone(d)
    d.get(f"{site.base_url}/web/outlets/transfers")  # type: ignore[attr-defined]
    assert "ke S02" in d.find_element(_by("css"), "main table").text  # type: ignore[attr-defined]
    shot(d, "transfers")
    shot(d, "transfers-phone", PHONE)
    _fits_the_phone(d)
    d.get(f"{site.base_url}/web/outlets?product={sku}")  # type: ignore[attr-defined]
    table = d.find_elements(_by("css"), "main table")[0].text  # type: ignore[attr-defined]
    assert f"{after:,}".replace(",", ".") in table and "Toko Cabang Dago" in table
    shot(d, "outlets-stock")
    shot(d, "outlets-stock-phone", PHONE)
    _fits_the_phone(d)
