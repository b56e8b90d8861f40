"""The back office's Pelanggan pages (SQLite and MariaDB): list and search, add and edit
with refusals in Indonesian, one customer's sales and points, points corrections, the
top customers with their downloads, and the points rule."""

from __future__ import annotations

import io
import re

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from sync_server.core.database import Database
from tests.server.conftest import World
from tests.server.sync_helpers import add_products, push, statuses
from tests.server.test_points_ledger import RULE, customer_sale
from tests.web.conftest import WebClient


def _customer_id(location: str) -> str:
    found = re.search(r"/web/customers/([0-9a-f-]{36})", location)
    assert found, location
    return found.group(1)


def test_add_search_and_edit(manager_web: WebClient) -> None:
    made = manager_web.post(
        "/web/customers", {"name": "Sari Wulandari", "phone": "0812-3456-7890", "email": ""}
    )
    assert made.status_code == 303, made.text
    cid = _customer_id(made.headers["location"])
    page = manager_web.http.get("/web/customers?q=sari")
    assert page.status_code == 200
    assert "Sari Wulandari" in page.text and "081234567890" in page.text
    assert "+62" not in page.text
    assert manager_web.http.get("/web/customers?q=0812345").text.count(f"customer-{cid}") == 1
    assert f"customer-{cid}" not in manager_web.http.get("/web/customers?q=budi").text
    taken = manager_web.post("/web/customers", {"name": "Lain", "phone": "+62 812 3456 7890"})
    assert taken.status_code == 409
    assert "sudah dipakai pelanggan lain" in taken.text
    assert 'value="Lain"' in taken.text  # what was typed stays in the form
    bad = manager_web.post("/web/customers", {"name": "Budi", "phone": "12345", "email": "x"})
    assert bad.status_code == 422
    assert "Nomor HP: tulis 08…" in bad.text and "E-mail: alamat e-mail tidak sah." in bad.text
    edited = manager_web.post(
        f"/web/customers/{cid}", {"name": "Sari W.", "phone": "0813 1111 2222", "email": "s@x.id"}
    )
    assert edited.status_code == 303
    detail = manager_web.http.get(f"/web/customers/{cid}")
    assert "Sari W." in detail.text and "081311112222" in detail.text and "s@x.id" in detail.text
    assert manager_web.http.get("/web/customers/not-a-uuid").status_code in (404, 422)


def test_history_points_and_corrections(
    manager_web: WebClient, client: TestClient, db: Database, world: World
) -> None:
    client.put("/api/v1/loyalty", json=RULE, headers=world.admin_headers())
    product = add_products(db, 1, price=10_000)[0]
    sale = customer_sale(world, product, 4, phone="0857 1111 2222", name="Budi")
    assert statuses(push(client, world.terminal_headers(0), [sale])) == ["applied"]
    cid = sale["payload"]["customer"]["id"]
    page = manager_web.http.get(f"/web/customers/{cid}")
    assert page.status_code == 200
    assert sale["payload"]["receipt_number"] in page.text
    assert "Rp 40.000" in page.text and "Didapat" in page.text
    assert re.search(r'id="balance"[^>]*>4<', page.text)
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", page.text)
    fixed = manager_web.post(f"/web/customers/{cid}/points", {"points": "-10", "reason": "salah"})
    assert fixed.status_code == 303
    after = manager_web.http.get(f"/web/customers/{cid}").text
    assert re.search(r'id="balance"[^>]*>-6<', after)
    assert "Saldo poin minus" in after and "Koreksi" in after and "salah" in after
    for bad in ({"points": "0", "reason": "x"}, {"points": "abc", "reason": "x"}, {"points": "5"}):
        refused = manager_web.post(f"/web/customers/{cid}/points", bad)
        assert refused.status_code == 422, bad
    top = manager_web.http.get("/web/customers")
    assert "Pelanggan teratas" in top.text and "Budi" in top.text and "Rp 40.000" in top.text
    xlsx = client.get(
        re.search(r'id="top-xlsx" href="([^"]+)"', top.text).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    )
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]  # type: ignore[union-attr]
    assert rows[0][0] == "Pelanggan" and rows[1][:3] == ["Budi", "+6285711112222", 40_000]


def test_the_points_rule_is_read_by_managers_and_set_by_the_admin(
    client: TestClient, world: World
) -> None:
    client.cookies.set("kasir_session", world.manager_token)
    manager_web = WebClient(client, world.manager_token)
    page = manager_web.http.get("/web/loyalty")
    assert page.status_code == 200 and "tidak aktif" in page.text
    assert 'id="loyalty-form"' not in page.text and "hanya admin" in page.text
    refused = manager_web.post("/web/loyalty", {"enabled": "on", "earn_points": "9"})
    assert refused.status_code == 403
    client.cookies.set("kasir_session", world.admin_token)
    manager_web = WebClient(client, world.admin_token)  # the admin, from here on
    assert 'id="loyalty-form"' in manager_web.http.get("/web/loyalty").text
    saved = manager_web.post(
        "/web/loyalty",
        {"enabled": "on", "earn_points": "2", "earn_per_rupiah": "Rp 10.000", "point_value": "50"},
    )
    assert saved.status_code == 303
    page = manager_web.http.get("/web/loyalty")
    assert "2 poin setiap belanja Rp 10.000, 1 poin = Rp 50" in page.text
    bad = manager_web.post(
        "/web/loyalty",
        {"enabled": "on", "earn_points": "1", "earn_per_rupiah": "0", "point_value": "x"},
    )
    assert bad.status_code == 422
    assert "Setiap belanja: isi bilangan bulat" in bad.text


def test_cashiers_do_not_get_the_pages(client: TestClient, world: World) -> None:
    client.cookies.set("kasir_session", world.cashier_token)
    for path in ("/web/customers", "/web/loyalty"):
        assert client.get(path, follow_redirects=False).status_code == 403
