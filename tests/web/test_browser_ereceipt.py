"""The public e-receipt page in a real browser (headless Chromium) at phone and desktop
widths: a synced sale with a refund, a voided sale, a sale not synced yet and a bad
link. No login; screenshots in ``artifacts/web/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shared.ids import new_id
from shared.receipt_text import ReceiptKeyOut, receipt_link
from sync_server.auth.models import User
from tests.e2e.conftest import LiveServer
from tests.server.sync_helpers import push, refund_event, sale_event, statuses, void_event
from tests.web.browser import DESKTOP, PHONE, live_site, shot
from tests.web.conftest import PRODUCTS_WITH_TAX, catalog_products, demo_app_with_till

pytestmark = pytest.mark.browser


class Shop:
    """The live server and the links of its sales."""

    def __init__(self, server: LiveServer, links: dict[str, str], numbers: dict[str, str]):
        self.server, self.links, self.numbers = server, links, numbers

    def url(self, name: str) -> str:
        link = self.links[name]
        return self.server.base_url + link[link.index("/r/") :]


@pytest.fixture(scope="module")
def site() -> Iterator[Shop]:
    """The demo store with one refunded sale, one voided sale, served on a free port."""
    app, cashier_id, headers = demo_app_with_till("kasir-ereceipt-")
    db = app.state.db
    with db.session() as s:
        manager_id = s.scalars(select(User.id).where(User.username == "manager")).one()
    products = catalog_products(db, PRODUCTS_WITH_TAX.limit(4))
    http = TestClient(app)
    key = ReceiptKeyOut.model_validate(http.get("/api/v1/sync/receipt-key", headers=headers).json())
    kept = sale_event(
        terminal_code="T01",
        cashier_id=cashier_id,
        items=[(products[0], 3), (products[1], 1, 1_000), (products[2], 2)],
        tendered=500_000,
    )
    voided = sale_event(terminal_code="T01", cashier_id=cashier_id, items=[(products[3], 1)])
    assert statuses(push(http, headers, [kept, voided])) == ["applied", "applied"]
    later = [
        refund_event(kept, lines=[(0, 1)], approved_by=manager_id),
        void_event(voided, approved_by=manager_id),
    ]
    assert statuses(push(http, headers, later)) == ["applied", "applied"]

    def link(sale_id: Any) -> str:
        return receipt_link(key.base_url, key.terminal_id, sale_id, key.key_bytes())

    links = {
        "kept": link(kept["payload"]["id"]),
        "voided": link(voided["payload"]["id"]),
        "pending": link(new_id()),
        "bad": link(kept["payload"]["id"])[:-2] + "xx",
    }
    numbers = {
        "kept": kept["payload"]["receipt_number"],
        "voided": voided["payload"]["receipt_number"],
    }
    with live_site(app) as server:
        yield Shop(server, links, numbers)


@pytest.fixture(scope="module")
def browser(chrome: Any) -> Any:
    """Headless Chromium on this module's ``site`` (the shared ``chrome`` fixture)."""
    return chrome


def _text(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.TAG_NAME, "body").text)


def _fits(driver: Any) -> bool:
    """Nothing wider than the window: no sideways scrolling on a phone."""
    return bool(
        driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    )


def test_a_synced_sale_with_a_refund_on_a_phone(browser: Any, site: Shop) -> None:
    browser.set_window_size(*PHONE)
    browser.get(site.url("kept"))
    text = _text(browser)
    assert site.numbers["kept"] in text
    assert "TOTAL" in text and "Pembayaran" in text and "Tunai" in text and "Kembali" in text
    assert "Pengembalian" in text and "-Rp " in text
    assert "Rp " in text and "Tanggal" in text
    tanggal = browser.find_element("xpath", "//dt[.='Tanggal']/following-sibling::dd[1]").text
    assert len(tanggal) == 16 and tanggal[2] == "/" and tanggal[5] == "/"  # dd/mm/yyyy hh:mm
    assert _fits(browser)
    shot(browser, "ereceipt_phone", PHONE)
    shot(browser, "ereceipt_desktop", DESKTOP)


def test_a_voided_sale_says_so(browser: Any, site: Shop) -> None:
    browser.set_window_size(*PHONE)
    browser.get(site.url("voided"))
    text = _text(browser)
    assert site.numbers["voided"] in text and "Penjualan ini dibatalkan" in text
    assert _fits(browser)
    shot(browser, "ereceipt_voided_phone", PHONE)


def test_not_synced_yet_and_a_bad_link(browser: Any, site: Shop) -> None:
    browser.set_window_size(*PHONE)
    browser.get(site.url("pending"))
    assert "Struk belum tersinkron — coba lagi nanti" in _text(browser)
    assert _fits(browser)
    shot(browser, "ereceipt_pending_phone", PHONE)
    browser.get(site.url("bad"))
    text = _text(browser)
    assert "Struk tidak ditemukan" in text and "Rp" not in text
    shot(browser, "ereceipt_bad_phone", PHONE)
