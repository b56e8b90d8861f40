"""E-receipts: the till's key, signed links, and the public page (SQLite and MariaDB).

A link is checked by its signature before any read; a good link to a sale not synced
yet says "belum tersinkron"; a synced sale shows its receipt with refunds and a void.
"""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from shared.ids import new_id
from shared.receipt_text import ReceiptKeyOut, receipt_link, receipt_signature
from sync_server.core.database import Database
from sync_server.receipts import service
from tests.server.conftest import TEST_SECRET as SECRET
from tests.server.conftest import World, assert_refused
from tests.server.sync_helpers import (
    add_products,
    push,
    refund_event,
    sale_event,
    statuses,
    void_event,
)


def _key(client: TestClient, world: World, index: int = 0) -> ReceiptKeyOut:
    resp = client.get("/api/v1/sync/receipt-key", headers=world.terminal_headers(index))
    assert resp.status_code == 200, resp.text
    return ReceiptKeyOut.model_validate(resp.json())


def _path(link: str) -> str:
    return link[link.index("/r/") :]


def _synced_sale(client: TestClient, db: Database, world: World) -> dict:
    products = add_products(db, 2, price=12_500)
    sale = sale_event(
        terminal_code="T01",
        cashier_id=world.cashier_ids[0],
        items=[(products[0], 2), (products[1], 1, 500)],
        tendered=50_000,
    )
    assert statuses(push(client, world.terminal_headers(0), [sale])) == ["applied"]
    return sale


def test_the_key_is_the_terminals_own_and_stable(client: TestClient, world: World) -> None:
    first, again, other = _key(client, world, 0), _key(client, world, 0), _key(client, world, 1)
    assert first == again
    assert first.terminal_id == world.terminal_ids[0]
    assert other.terminal_id == world.terminal_ids[1]
    assert first.key != other.key and len(first.key_bytes()) == 32
    assert first.base_url == "http://127.0.0.1:8000"
    assert first.key_bytes() == service.terminal_receipt_key(SECRET, world.terminal_ids[0])
    # A user's token is refused; no token is 401.
    assert_refused(
        client.get("/api/v1/sync/receipt-key", headers=world.manager_headers()),
        403,
        "terminal_required",
    )
    assert client.get("/api/v1/sync/receipt-key").status_code == 401


def test_signed_link_verifies_and_bad_ones_do_not() -> None:
    key = service.terminal_receipt_key(SECRET, 7)
    sale = new_id()
    link = receipt_link("https://toko.example/", 7, sale, key)
    assert link.startswith(f"https://toko.example/r/7/{sale}/")
    *_, terminal, sale_text, signature = link.split("/")
    assert len(signature) == 22
    ok = service.verify_link(
        secret_key=SECRET, terminal=terminal, sale=sale_text, signature=signature
    )
    assert ok is not None and ok.terminal_id == 7 and ok.sale_id == sale
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    other_key = receipt_signature(service.terminal_receipt_key(SECRET, 8), sale)
    bad = [
        ("7", sale_text, flipped),
        ("7", sale_text, signature[:-1]),
        ("7", sale_text, other_key),  # another till's key
        ("8", sale_text, signature),  # another terminal's id
        ("7", sale_text[:-1], signature),  # truncated id
        ("7", sale_text.upper(), signature),  # not the canonical form
        ("07", sale_text, signature),
        ("7", sale_text, signature + "A"),
        ("9" * 40, sale_text, signature),
    ]
    for terminal_part, sale_part, sig in bad:
        assert (
            service.verify_link(
                secret_key=SECRET, terminal=terminal_part, sale=sale_part, signature=sig
            )
            is None
        ), (terminal_part, sale_part, sig)
    # Another server secret makes other keys.
    assert service.terminal_receipt_key("another-secret", 7) != key


def test_unsynced_sale_says_belum_tersinkron(client: TestClient, world: World) -> None:
    got = _key(client, world)
    link = receipt_link(got.base_url, got.terminal_id, new_id(), got.key_bytes())
    resp = client.get(_path(link))
    assert resp.status_code == 200
    assert "Struk belum tersinkron — coba lagi nanti" in resp.text
    assert "Rp" not in resp.text  # no sale data
    assert resp.headers["cache-control"] == "private, no-store"
    assert resp.headers["referrer-policy"] == "no-referrer"


def test_synced_sale_shows_its_receipt(client: TestClient, db: Database, world: World) -> None:
    sale = _synced_sale(client, db, world)
    payload = sale["payload"]
    got = _key(client, world)
    path = _path(receipt_link(got.base_url, got.terminal_id, payload["id"], got.key_bytes()))
    page = client.get(path)
    assert page.status_code == 200, page.text
    text = page.text
    assert payload["receipt_number"] in text
    assert "Toko Maju Jaya" in text and "Jl. Merdeka 1, Bandung" in text
    for line in payload["lines"]:
        assert line["name"] in text
    assert "Rp 25.000" in text  # 2 × Rp 12.500
    assert "Rp 37.000" in text  # the total after a Rp 500 line discount
    assert "Tunai" in text and "Rp 50.000" in text and "Kembali" in text
    assert "Rp 13.000" in text  # the change
    assert "Kasir1" in text
    day = payload["created_at"][:10].split("-")
    assert f"/{day[1]}/{day[0]}" in text  # dd/mm/yyyy (the day may move to local time)
    assert "belum tersinkron" not in text
    # A refund and then a void show on the page.
    refund = refund_event(sale, lines=[(0, 1)], approved_by=world.manager_id)
    assert statuses(push(client, world.terminal_headers(0), [refund])) == ["applied"]
    text = client.get(path).text
    assert "Pengembalian" in text and "-Rp 12.500" in text
    void = void_event(sale, approved_by=world.manager_id)
    assert statuses(push(client, world.terminal_headers(0), [void])) in (
        ["applied"],
        ["rejected"],  # a refunded sale may not be voidable; the refund still shows
    )


def test_voided_sale_says_so(client: TestClient, db: Database, world: World) -> None:
    sale = _synced_sale(client, db, world)
    void = void_event(sale, approved_by=world.manager_id)
    assert statuses(push(client, world.terminal_headers(0), [void])) == ["applied"]
    got = _key(client, world)
    path = _path(
        receipt_link(got.base_url, got.terminal_id, sale["payload"]["id"], got.key_bytes())
    )
    text = client.get(path).text
    assert "Penjualan ini dibatalkan" in text and "salah input" in text


@pytest.mark.parametrize(
    "mangle",
    ["tampered", "other_till_key", "other_till_id", "truncated_id", "junk", "long"],
)
def test_bad_links_are_a_bare_404(
    client: TestClient, db: Database, world: World, mangle: str
) -> None:
    sale = _synced_sale(client, db, world)
    sale_id = sale["payload"]["id"]
    mine, other = _key(client, world, 0), _key(client, world, 1)
    link = receipt_link(mine.base_url, mine.terminal_id, sale_id, mine.key_bytes())
    *_, signature = link.split("/")
    paths = {
        "tampered": _path(link)[:-1] + ("A" if signature[-1] != "A" else "B"),
        "other_till_key": f"/r/{mine.terminal_id}/{sale_id}/"
        + receipt_signature(other.key_bytes(), sale_id),
        # Till 2 signs till 1's sale with its own (valid) key: the sale is not its own.
        "other_till_id": _path(receipt_link("x", other.terminal_id, sale_id, other.key_bytes())),
        "truncated_id": f"/r/{mine.terminal_id}/{sale_id[:-4]}/{signature}",
        "junk": "/r/abc/def/ghi",
        "long": f"/r/{'9' * 300}/{sale_id}/{signature}",
    }
    resp = client.get(paths[mangle])
    assert resp.status_code == 404
    assert "Struk tidak ditemukan" in resp.text
    assert sale["payload"]["receipt_number"] not in resp.text
    assert "Rp" not in resp.text
    # The 404 of a good-looking link and of junk are the same page.
    assert resp.text == client.get("/r/abc/def/ghi").text


def test_key_is_derived_from_the_settings_secret(world: World, db_url: str) -> None:
    from sync_server.main import create_app
    from tests.server.conftest import make_settings

    settings = make_settings(
        db_url, secret_key="x" * 40, public_base_url="https://struk.toko.example/"
    )
    with TestClient(create_app(settings)) as other:
        got = ReceiptKeyOut.model_validate(
            other.get("/api/v1/sync/receipt-key", headers=world.terminal_headers(0)).json()
        )
    assert got.base_url == "https://struk.toko.example"
    raw = base64.urlsafe_b64decode(got.key + "=")
    assert raw == service.terminal_receipt_key("x" * 40, world.terminal_ids[0])


def test_the_tills_own_link_opens_its_sale_once_synced(
    client: TestClient, db: Database, world: World
) -> None:
    """The till's side end to end: its sync client fetches the key from this server, it
    signs a sale's link offline, the page says "belum tersinkron" until the push."""
    from pos_client.services.receipts import link_for_sale
    from pos_client.store import LocalStore
    from pos_client.sync.client import SyncClient
    from pos_client.sync.receipt_link import ReceiptKeyKeeper

    till = LocalStore.memory()
    till.save_enrollment(
        device_token=world.terminal_tokens[0],
        terminal_id=world.terminal_ids[0],
        terminal_code="T01",
        store_id=world.store_id,
    )
    sync = SyncClient(client, base_url=str(client.base_url), token=world.terminal_tokens[0])
    assert ReceiptKeyKeeper()(till, sync) is not None
    products = add_products(db, 1, price=8_000)
    sale = sale_event(
        terminal_code="T01", cashier_id=world.cashier_ids[0], items=[(products[0], 1)]
    )
    link = link_for_sale(till, sale["payload"]["id"])
    assert link.startswith("http://127.0.0.1:8000/r/")
    assert "belum tersinkron" in client.get(_path(link)).text
    assert statuses(push(client, world.terminal_headers(0), [sale])) == ["applied"]
    shown = client.get(_path(link))
    assert shown.status_code == 200 and sale["payload"]["receipt_number"] in shown.text
    till.close()
