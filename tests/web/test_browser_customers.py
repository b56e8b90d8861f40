"""The Pelanggan pages in headless Chromium: customers whose sales came through the real
push path (one redeeming more points than she had), the list with the top customers,
one customer's history with a points correction, and the points rule; screenshots at
desktop and phone widths go to ``artifacts/web/``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from shared.ids import new_id
from tests.e2e.conftest import LiveServer
from tests.server.sync_helpers import push, sale_event, statuses
from tests.web.browser import PHONE, _by, go, live_site, shot, sign_in
from tests.web.conftest import PRODUCTS_WITH_TAX, catalog_products, demo_app_with_till

pytestmark = pytest.mark.browser

RULE = {"enabled": True, "earn_points": 1, "earn_per_rupiah": 10_000, "point_value": 100}


@pytest.fixture(scope="module")
def site() -> Iterator[LiveServer]:
    """The demo store with points on and three customers' sales pushed by its till."""
    app, cashier_id, headers = demo_app_with_till("kasir-web-customers-")
    db = app.state.db
    client = TestClient(app)
    admin = client.post("/api/v1/auth/login", json={"username": "admin", "password": "admin12345"})
    rule_owner = {"Authorization": f"Bearer {admin.json()['access_token']}"}
    assert client.put("/api/v1/loyalty", json=RULE, headers=rule_owner).status_code == 200
    (product,) = catalog_products(db, PRODUCTS_WITH_TAX.limit(1))
    people = [
        ("Ibu Sari Wulandari", "0812 3456 7890", 12, 0),
        ("Budi Santoso", "0857 1111 2222", 5, 0),
        ("Rahmat Hidayat", "+62 813 9999 0000", 2, 0),
    ]
    events = []
    for name, phone, quantity, redeem in people:
        event = sale_event(terminal_code="T01", cashier_id=cashier_id, items=[(product, quantity)])
        event["payload"]["customer"] = {
            "id": str(new_id()),
            "phone": phone,
            "name": name,
            "points_redeemed": redeem,
            "points_discount": 0,
        }
        events.append(event)
    # Rahmat redeems 50 points he does not have (an offline till): applied and flagged.
    greedy = sale_event(
        terminal_code="T01", cashier_id=cashier_id, items=[(product, 3)], order_discount=5_000
    )
    greedy["payload"]["customer"] = {
        "id": str(new_id()),
        "phone": "0813 9999 0000",
        "name": "Rahmat Hidayat",
        "points_redeemed": 50,
        "points_discount": 5_000,
    }
    events.append(greedy)
    assert statuses(push(client, headers, events)) == ["applied"] * 4
    with live_site(app) as server:
        yield server


def test_customers_in_the_browser(site: LiveServer, chrome: object) -> None:
    d = chrome
    sign_in(d, site.base_url, "manager", "manager123")
    go(d, d.find_element(_by("link"), "Pelanggan"))  # type: ignore[attr-defined]
    main = d.find_element(_by("css"), "main").text  # type: ignore[attr-defined]
    for words in ("Ibu Sari Wulandari", "081234567890", "Pelanggan teratas", "Rahmat Hidayat"):
        assert words in main, words
    assert "+62" not in main
    top = d.find_element(_by("id"), "top-customers").text  # type: ignore[attr-defined]
    assert top.index("Ibu Sari Wulandari") < top.index("Budi Santoso")
    shot(d, "customers")
    shot(d, "customers-phone", PHONE)

    go(d, d.find_element(_by("link"), "Rahmat Hidayat"))  # type: ignore[attr-defined]
    balance = d.find_element(_by("id"), "balance").text  # type: ignore[attr-defined]
    assert balance.startswith("-"), balance
    assert "Saldo poin minus" in d.find_element(_by("css"), "main").text  # type: ignore[attr-defined]
    form = d.find_element(_by("id"), "adjust-points")  # type: ignore[attr-defined]
    form.find_element(_by("css"), "input[name=points]").send_keys("50")
    form.find_element(_by("css"), "input[name=reason]").send_keys("poin kartu lama")
    go(d, form.find_element(_by("css"), "button[type=submit]"))
    main = d.find_element(_by("css"), "main").text  # type: ignore[attr-defined]
    assert "Poin dikoreksi +50." in main and "Koreksi" in main and "poin kartu lama" in main
    shot(d, "customer")
    shot(d, "customer-phone", PHONE)

    d.get(f"{site.base_url}/web/loyalty")  # type: ignore[attr-defined]
    assert "aktif" in d.find_element(_by("id"), "rule-now").text  # type: ignore[attr-defined]
    shot(d, "loyalty")
    shot(d, "loyalty-phone", PHONE)
