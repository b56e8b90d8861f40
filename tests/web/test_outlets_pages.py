"""Outlet pages: the picker remembered in the session and shown in the header, an
outlet's prices, stock across outlets and transfers through the forms. Runs on SQLite
and MariaDB."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient

from sync_server.core.database import Database
from tests.server.conftest import StoreStaff, World, other_staff  # noqa: F401 - fixture
from tests.server.sync_helpers import add_products, on_hand, stock_up
from tests.web.conftest import WebClient


def header_outlet(html: str) -> str:
    """The outlet entry of the header's menu."""
    found = re.search(r'<a href="/web/outlets"[^>]*>([^<]*)</a>', html)
    assert found, "no outlet entry in the header"
    return found.group(1)


def test_an_admin_picks_the_outlet_once_and_every_page_shows_it(
    admin_web: WebClient, world: World
) -> None:
    page = admin_web.http.get("/web/outlets")
    assert page.status_code == 200
    assert 'id="outlet-picker"' in page.text
    assert header_outlet(page.text) == "Outlet: S01"
    resp = admin_web.post(
        "/web/outlets/pick", {"store_id": world.other_store_id, "next": "/web/stock"}
    )
    assert resp.status_code == 303
    assert resp.headers["location"] == "/web/stock"
    for path in ("/web/stock", "/web/outlets/prices", "/web/outlets/transfers", "/web/"):
        shown = admin_web.http.get(path)
        assert shown.status_code == 200, path
        assert header_outlet(shown.text) == "Outlet: S02", path
    assert "Harga outlet S02" in admin_web.http.get("/web/outlets/prices").text
    # A link naming a store still wins for that page.
    linked = admin_web.http.get(f"/web/outlets/prices?store_id={world.store_id}")
    assert "Harga outlet S01" in linked.text
    assert header_outlet(linked.text) == "Outlet: S01"
    # An open redirect is not followed.
    resp = admin_web.post(
        "/web/outlets/pick", {"store_id": world.store_id, "next": "https://jahat.example/"}
    )
    assert resp.headers["location"] == "/web/"
    # A cookie not made for this session (forged, or another session's) is ignored.
    admin_web.http.cookies.set("kasir_outlet", f"{world.other_store_id}.deadbeef", path="/web")
    assert header_outlet(admin_web.http.get("/web/stock").text) == "Outlet: S01"


def test_a_manager_of_one_outlet_sees_no_picker_and_cannot_pick_another(
    manager_web: WebClient, world: World
) -> None:
    page = manager_web.http.get("/web/outlets")
    assert page.status_code == 200
    assert 'id="outlet-picker"' not in page.text
    assert header_outlet(page.text) == "Outlet: S01"
    resp = manager_web.post("/web/outlets/pick", {"store_id": world.other_store_id})
    assert resp.status_code == 403
    assert "Outlet: S01" in manager_web.http.get("/web/stock").text


def test_prices_are_set_and_cleared_on_the_page(
    manager_web: WebClient, world: World, db: Database
) -> None:
    kopi, teh = add_products(db, 2, price=10_000)
    resp = manager_web.post(
        "/web/outlets/prices",
        {"store_id": world.store_id, "code": kopi.sku, "price": "12.500"},
    )
    assert resp.status_code == 303, resp.text
    page = manager_web.http.get(resp.headers["location"])
    assert "Rp 12.500" in page.text and "Rp 10.000" in page.text
    assert kopi.name in page.text
    assert re.search(r"diubah \d\d/\d\d/\d{4} \d\d:\d\d", page.text)
    # By name, when one product has it.
    by_name = manager_web.post(
        "/web/outlets/prices", {"store_id": world.store_id, "code": teh.name, "price": "9000"}
    )
    assert by_name.status_code == 303
    bad = manager_web.post(
        "/web/outlets/prices", {"store_id": world.store_id, "code": kopi.sku, "price": "mahal"}
    )
    assert bad.status_code == 422
    assert "bukan jumlah rupiah" in bad.text
    unknown = manager_web.post(
        "/web/outlets/prices", {"store_id": world.store_id, "code": "TIDAK-ADA", "price": "1"}
    )
    assert unknown.status_code == 422
    assert "tidak dikenal" in unknown.text
    other = manager_web.post(
        "/web/outlets/prices",
        {"store_id": world.other_store_id, "code": kopi.sku, "price": "1"},
    )
    assert other.status_code == 422
    assert "toko Anda sendiri" in other.text
    cleared = manager_web.post(f"/web/outlets/prices/{kopi.id}/clear", {"store_id": world.store_id})
    assert cleared.status_code == 303
    page = manager_web.http.get(f"/web/outlets/prices?store_id={world.store_id}")
    assert "Rp 12.500" not in page.text and "Rp 9.000" in page.text


def test_a_transfer_goes_through_the_forms(
    client: TestClient,
    manager_web: WebClient,
    world: World,
    db: Database,
    other_staff: StoreStaff,  # noqa: F811
) -> None:
    (kopi,) = add_products(db, 1)
    stock_up(db, world.store_id, kopi.id, 10)
    form = manager_web.http.get("/web/outlets/transfers")
    assert 'id="transfer-form"' in form.text
    tid = str(uuid.uuid4())
    body = {
        "id": tid,
        "from_store_id": world.store_id,
        "to_store_id": world.other_store_id,
        "code": [kopi.sku, ""],
        "quantity": ["4", ""],
        "note": "Untuk akhir pekan",
        "send": "true",
    }
    first = manager_web.post("/web/outlets/transfers", body)
    again = manager_web.post("/web/outlets/transfers", body)  # sent twice: made once
    assert first.status_code == again.status_code == 303
    assert (on_hand(db, world.store_id, kopi.id), on_hand(db, world.other_store_id, kopi.id)) == (
        6,
        0,
    )
    detail = manager_web.http.get(f"/web/outlets/transfers/{tid}")
    assert "dikirim" in detail.text and 'id="receive-form"' not in detail.text
    listed = manager_web.http.get("/web/outlets/transfers")
    assert "ke S02" in listed.text
    across = manager_web.http.get(f"/web/outlets?product={kopi.sku}")
    assert kopi.name in across.text

    # The destination's manager receives 3 of 4, with the reason.
    client.cookies.set("kasir_session", other_staff.manager_token)
    theirs = WebClient(client, other_staff.manager_token)
    page = theirs.http.get(f"/web/outlets/transfers/{tid}")
    assert 'id="receive-form"' in page.text
    short = {"product_id": [str(kopi.id)], "received": ["3"], "loss_reason": ""}
    refused = theirs.post(f"/web/outlets/transfers/{tid}/receive", short)
    assert refused.status_code == 422
    assert "alasannya" in refused.text
    short["loss_reason"] = "Satu dus basah"
    assert theirs.post(f"/web/outlets/transfers/{tid}/receive", short).status_code == 303
    assert (on_hand(db, world.store_id, kopi.id), on_hand(db, world.other_store_id, kopi.id)) == (
        6,
        3,
    )
    done = theirs.http.get(f"/web/outlets/transfers/{tid}")
    assert "diterima" in done.text and "Satu dus basah" in done.text
    # Not theirs to cancel, and not cancellable once received anyway.
    assert theirs.post(f"/web/outlets/transfers/{tid}/cancel").status_code == 403


def test_bad_form_input_never_answers_500(manager_web: WebClient, world: World) -> None:
    for url, data in [
        ("/web/outlets/pick", {"store_id": "x"}),
        ("/web/outlets/pick", {"store_id": str(2**70)}),
        ("/web/outlets/prices", {"store_id": "0", "code": "", "price": ""}),
        ("/web/outlets/prices", {"store_id": world.store_id, "code": "x" * 500, "price": "1"}),
        ("/web/outlets/prices", {"store_id": world.store_id, "code": "A", "price": "9" * 40}),
        ("/web/outlets/prices/abc/clear", {"store_id": world.store_id}),
        ("/web/outlets/prices/999999/clear", {"store_id": world.store_id}),
        ("/web/outlets/transfers", {"id": "bukan", "from_store_id": "1", "to_store_id": "2"}),
        ("/web/outlets/transfers/bukan/send", {}),
        (f"/web/outlets/transfers/{uuid.uuid4()}/receive", {"received": ["x"]}),
    ]:
        resp = manager_web.post(url, data)
        assert 300 <= resp.status_code < 500, (url, resp.status_code, resp.text[:300])
    for path in (
        "/web/outlets?product_id=abc",
        "/web/outlets?product_id=999999",
        f"/web/outlets?product={'%' * 300}",
        f"/web/outlets/transfers/{uuid.uuid4()}",
        "/web/outlets/prices?store_id=99999999999999999999",
    ):
        resp = manager_web.http.get(path)
        assert 200 <= resp.status_code < 500, (path, resp.status_code)
