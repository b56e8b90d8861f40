"""The exceptions page in headless Chromium: suspicious sales pushed through the real
push path, the dashboard's count, filtering, resolving one flag; screenshots at
desktop and phone widths go to ``artifacts/web/``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sync_server.catalog.models import TaxRate
from sync_server.flags.models import Flag
from tests.e2e.conftest import LiveServer
from tests.server.sync_helpers import push, sale_event, statuses
from tests.web.browser import PHONE, _by, go, live_site, shot, sign_in
from tests.web.conftest import PRODUCTS_WITH_TAX, catalog_products, demo_app_with_till

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site() -> Iterator[LiveServer]:
    """The demo store whose till pushed a few sales the server could not verify."""
    app, cashier_id, headers = demo_app_with_till("kasir-web-flags-")
    db = app.state.db
    products = catalog_products(db, PRODUCTS_WITH_TAX.where(TaxRate.rate_bp > 0).limit(3))
    a, b, c = products
    events = [
        sale_event(terminal_code="T01", cashier_id=cashier_id, items=[(a, 2)]),
        sale_event(
            terminal_code="T01", cashier_id=cashier_id, items=[(replace(a, price=1_000), 3)]
        ),
        sale_event(
            terminal_code="T01", cashier_id=cashier_id, items=[(replace(b, tax_rate_bp=0), 1)]
        ),
        sale_event(
            terminal_code="T01",
            cashier_id=cashier_id,
            items=[(c, 1)],
            order_discount=1_000,
            voucher_code="NGAWUR",
        ),
        sale_event(terminal_code="T01", cashier_id=cashier_id, items=[(a, 1)], method="qris"),
    ]
    assert set(statuses(push(TestClient(app), headers, events))) == {"applied"}
    with db.session() as s:
        assert len(s.scalars(select(Flag)).all()) == 4
    with live_site(app) as server:
        yield server


def test_resolve_a_flag_in_the_browser(site: LiveServer, chrome: object) -> None:
    d = chrome
    sign_in(d, site.base_url, "manager", "manager123")
    count = d.find_element(_by("id"), "open-flags")  # type: ignore[attr-defined]
    assert count.text == "Perlu perhatian: 4"
    shot(d, "dashboard-flags")
    go(d, count)
    assert "/web/flags" in d.current_url  # type: ignore[attr-defined]
    cards = d.find_elements(_by("css"), "article.flag")  # type: ignore[attr-defined]
    assert len(cards) == 4
    text = d.find_element(_by("css"), "main").text  # type: ignore[attr-defined]
    for words in ("Harga tidak cocok", "PPN tidak cocok", "Voucher tidak dikenal", "QRIS"):
        assert words in text, words
    assert "seharusnya Rp" in text
    shot(d, "flags")
    shot(d, "flags-phone", PHONE)

    # Filter to the price flag, then resolve it with a note.
    from selenium.webdriver.support.ui import Select

    Select(d.find_element(_by("id"), "f-kind")).select_by_value("price_mismatch")  # type: ignore[attr-defined]
    go(d, d.find_element(_by("css"), "form.filters button[type=submit]"))  # type: ignore[attr-defined]
    (card,) = d.find_elements(_by("css"), "article.flag")  # type: ignore[attr-defined]
    flag_id = int(card.get_attribute("id").split("-")[1])
    card.find_element(_by("css"), "input[name=note]").send_keys("Harga lama, sudah dicek")
    go(d, card.find_element(_by("css"), "button[type=submit]"))
    main = d.find_element(_by("css"), "main").text  # type: ignore[attr-defined]
    assert f"Tanda #{flag_id} diselesaikan." in main
    assert "kind=price_mismatch" in d.current_url  # type: ignore[attr-defined]
    assert not d.find_elements(_by("css"), "article.flag")  # type: ignore[attr-defined]
    go(d, d.find_element(_by("link"), "Sudah selesai"))  # type: ignore[attr-defined]
    audit = d.find_element(_by("css"), f"#flag-{flag_id} .audit").text  # type: ignore[attr-defined]
    assert "Diselesaikan oleh" in audit and "Harga lama, sudah dicek" in audit
    shot(d, "flags-resolved")
    shot(d, "flags-resolved-phone", PHONE)
    with site.db.session() as s:
        row = s.get(Flag, flag_id)
        assert row is not None and row.resolution == "Harga lama, sudah dicek"
    d.get(f"{site.base_url}/web/")  # type: ignore[attr-defined]
    assert d.find_element(_by("id"), "open-flags").text == "Perlu perhatian: 3"  # type: ignore[attr-defined]
    d.get(f"{site.base_url}/web/reports/sales?preset=7d")  # type: ignore[attr-defined]
    assert d.find_element(_by("id"), "tax-note")  # type: ignore[attr-defined]
    go(d, d.find_element(_by("id"), "exclude-flagged"))  # type: ignore[attr-defined]
    assert "exclude_flagged=true" in d.current_url  # type: ignore[attr-defined]
    shot(d, "report-sales-without-flagged")
