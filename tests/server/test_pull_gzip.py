"""Pull pages on the wire: gzip when the till asks for it, the same JSON either way; pages
with more to come made once for all the tills of a store, never for another store."""

from __future__ import annotations

import gzip
import json
import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from pos_client.sync.client import SyncClient
from shared.models import PROTOCOL_HEADER, PROTOCOL_VERSION, PullResponse
from sync_server.auth.models import Terminal, User
from sync_server.catalog.models import Product
from sync_server.core.database import Database, next_change_numbers
from sync_server.core.models import Store
from sync_server.sync import service
from sync_server.sync.pages import PageCache
from tests.server.conftest import StoreStaff, World
from tests.server.sync_helpers import add_products

PULL = "/api/v1/sync/pull"
GZIP = {"Accept-Encoding": "gzip"}


def _raw_pull(
    client: TestClient, world: World, accept_encoding: str, cursor: int = 0
) -> tuple[dict[str, str], bytes]:
    """(headers, body bytes exactly as sent) of one pull page."""
    headers = {**world.terminal_headers(), "Accept-Encoding": accept_encoding}
    with client.stream(
        "GET", PULL, params={"cursor": cursor, "limit": 500}, headers=headers
    ) as resp:
        assert resp.status_code == 200
        raw = b"".join(resp.iter_raw())
        return dict(resp.headers), raw


@pytest.mark.parametrize(
    ("accept_encoding", "compressed"),
    [
        ("gzip, deflate", True),  # httpx's default, the till's
        ("gzip", True),
        ("br;q=1.0, gzip;q=0.5", True),
        ("*", True),
        ("identity", False),
        ("deflate", False),
        ("gzip;q=0", False),
        ("*, gzip;q=0", False),
        ("", False),
    ],
)
def test_page_is_gzip_only_when_asked_and_decodes_to_the_same_json(
    client: TestClient, world: World, db: Database, accept_encoding: str, compressed: bool
) -> None:
    add_products(db, 200)
    plain_headers, plain = _raw_pull(client, world, "identity")
    assert "content-encoding" not in plain_headers
    assert "accept-encoding" in plain_headers["vary"].lower()
    page = json.loads(plain)
    assert len(page["products"]) == 200

    headers, raw = _raw_pull(client, world, accept_encoding)
    assert "accept-encoding" in headers["vary"].lower()
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(raw)
    if compressed:
        assert headers["content-encoding"] == "gzip"
        assert len(raw) < len(plain) / 4  # the point of it
        assert json.loads(gzip.decompress(raw)) == page
    else:
        assert "content-encoding" not in headers
        assert json.loads(raw) == page


def test_a_tiny_page_goes_uncompressed_even_when_gzip_is_asked(
    client: TestClient, world: World, db: Database
) -> None:
    add_products(db, 3)
    first = json.loads(_raw_pull(client, world, "identity")[1])
    headers, raw = _raw_pull(client, world, "gzip", cursor=first["cursor"])
    assert "content-encoding" not in headers
    assert json.loads(raw) == {**json.loads(raw), "has_more": False, "products": []}


def test_the_till_client_decodes_gzip_pages_it_asked_for(
    client: TestClient, world: World, db: Database
) -> None:
    # Through the till's own SyncClient (httpx over the app), pages come back whole.
    products = add_products(db, 300)
    token = world.terminal_headers()["Authorization"].removeprefix("Bearer ")
    sync = SyncClient(client, base_url=str(client.base_url), token=token)
    page = sync.pull(0, 5000)
    assert sorted(p.sku for p in page.products) == sorted(p.sku for p in products)


def test_openapi_still_documents_the_page_model(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    answer = spec["paths"][PULL]["get"]["responses"]["200"]["content"]["application/json"]
    assert answer["schema"] == {"$ref": "#/components/schemas/PullResponse"}


def _pull_json(client: TestClient, headers: dict[str, str], cursor: int, limit: int) -> dict:
    resp = client.get(PULL, params={"cursor": cursor, "limit": limit}, headers={**headers, **GZIP})
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def _stamp_people_and_stores(db: Database) -> None:
    """Give users and stores change numbers, as the auth and store APIs do."""
    with db.session() as s:
        for model in (User, Store):
            for row in s.scalars(select(model).order_by(model.id)):
                row.change_no = next_change_numbers(s)


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The cursors of the pages the server actually made (cached ones are not made)."""
    cursors: list[int] = []
    real = service.pull_changes

    def counting(db: Database, *, terminal: Terminal, cursor: int, limit: int) -> PullResponse:
        cursors.append(cursor)
        return real(db, terminal=terminal, cursor=cursor, limit=limit)

    monkeypatch.setattr(service, "pull_changes", counting)
    return cursors


def test_tills_of_one_store_share_a_page_yet_end_on_the_servers_state(
    client: TestClient, db: Database, world: World, made: list[int]
) -> None:
    products = add_products(db, 120)
    first = _pull_json(client, world.terminal_headers(0), 0, 50)
    assert first["has_more"]
    assert _pull_json(client, world.terminal_headers(1), 0, 50) == first
    assert made == [0]  # the second till got the page the first one made

    # A product of that page changes; a till asking for the same cursor may still get
    # the page made earlier, and must end with the change all the same.
    early = next(p for p in products if p.id == first["products"][0]["id"])
    with db.session() as s:
        s.execute(
            update(Product)
            .where(Product.id == early.id)
            .values(price=early.price + 700, change_no=next_change_numbers(s))
        )
    state = {row["id"]: row for row in first["products"]}
    cursor = first["cursor"]
    while True:
        page = _pull_json(client, world.terminal_headers(1), cursor, 50)
        state.update({row["id"]: row for row in page["products"]})
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    with db.session() as s:
        want = {p.id: (p.price, p.change_no) for p in s.scalars(select(Product))}
    assert {i: (r["price"], r["change_no"]) for i, r in state.items()} == want
    assert state[early.id]["price"] == early.price + 700

    # The last page is made fresh for every till, so a download always ends up to date.
    made.clear()
    _pull_json(client, world.terminal_headers(0), cursor, 50)
    _pull_json(client, world.terminal_headers(1), cursor, 50)
    assert made == [cursor, cursor]


def test_a_store_never_gets_another_stores_page(
    client: TestClient, db: Database, world: World, other_staff: StoreStaff
) -> None:
    _stamp_people_and_stores(db)
    add_products(db, 80)
    ours = _pull_json(client, world.terminal_headers(0), 0, 40)
    assert ours["has_more"] and [s["id"] for s in ours["stores"]] == [world.store_id]
    headers = {
        "Authorization": f"Bearer {other_staff.terminal_token}",
        PROTOCOL_HEADER: str(PROTOCOL_VERSION),
    }
    theirs = _pull_json(client, headers, 0, 40)
    assert [s["id"] for s in theirs["stores"]] == [world.other_store_id]
    assert {u["username"] for u in theirs["users"]} == {
        "admin",
        "s02_manager",
        "s02_supervisor",
        "s02_kasir",
    }


def test_tills_asking_at_once_wait_for_the_one_page_being_made() -> None:
    cache = PageCache(max_bytes=1000, ttl=60.0, wait=30.0)
    key = (1, 0, 5000)
    assert cache.claim(key) == (None, True)  # the first request makes the page
    got: list[tuple[bytes | None, bool]] = []
    waiter = threading.Thread(target=lambda: got.append(cache.claim(key)))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()  # waiting for the page, not making it a second time
    cache.release(key, b"page")
    waiter.join(10)
    assert got == [(b"page", False)]
    assert cache.claim(key) == (b"page", False)


def test_a_last_page_is_not_kept_and_waiters_then_make_their_own() -> None:
    cache = PageCache(max_bytes=1000, ttl=60.0, wait=30.0)
    key = (1, 10, 5000)
    assert cache.claim(key) == (None, True)
    got: list[tuple[bytes | None, bool]] = []
    waiter = threading.Thread(target=lambda: got.append(cache.claim(key)))
    waiter.start()
    cache.release(key, None)
    waiter.join(10)
    assert got == [(None, False)]  # make it, uncached, without queueing behind others


def test_the_cache_keeps_at_most_its_bytes_dropping_the_least_recently_used() -> None:
    cache = PageCache(max_bytes=10, ttl=60.0, wait=1.0)
    for cursor in range(3):
        assert cache.claim((1, cursor, 5))[1]
        cache.release((1, cursor, 5), b"abcd")
    assert cache.claim((1, 0, 5))[0] is None  # 12 bytes > 10: the oldest went
    cache.release((1, 0, 5), None)
    assert cache.claim((1, 2, 5)) == (b"abcd", False)
    expired = PageCache(max_bytes=10, ttl=0.0, wait=1.0)
    expired.claim((1, 0, 5))
    expired.release((1, 0, 5), b"abcd")
    time.sleep(0.01)
    assert expired.claim((1, 0, 5)) == (None, True)
