"""Big JSON answers go gzip to a client that really asks (q-values honoured); pull pages
are compressed once, by their route, never twice."""

from __future__ import annotations

import gzip
import json

import pytest
from fastapi.testclient import TestClient

from sync_server.core.database import Database
from tests.server.conftest import World
from tests.server.sync_helpers import add_products

PRODUCTS = "/api/v1/products"


def _raw_get(
    client: TestClient, path: str, headers: dict[str, str], params: dict[str, int] | None = None
) -> tuple[dict[str, str], bytes]:
    with client.stream("GET", path, params=params, headers=headers) as resp:
        assert resp.status_code == 200
        return dict(resp.headers), b"".join(resp.iter_raw())


@pytest.mark.parametrize(
    ("accept_encoding", "compressed"),
    [("gzip, deflate", True), ("gzip", True), ("gzip;q=0", False), ("identity", False)],
)
def test_a_product_list_is_gzip_only_when_asked(
    client: TestClient, world: World, db: Database, accept_encoding: str, compressed: bool
) -> None:
    add_products(db, 120)
    headers = {**world.manager_headers(), "Accept-Encoding": accept_encoding}
    got, raw = _raw_get(client, PRODUCTS, headers, {"limit": 100})
    assert (got.get("content-encoding") == "gzip") is compressed
    body = gzip.decompress(raw) if compressed else raw
    assert len(json.loads(body)["items"]) == 100


def test_a_pull_page_is_compressed_once(client: TestClient, world: World, db: Database) -> None:
    add_products(db, 200)
    headers = {**world.terminal_headers(), "Accept-Encoding": "gzip"}
    got, raw = _raw_get(client, "/api/v1/sync/pull", headers, {"cursor": 0, "limit": 500})
    assert got["content-encoding"] == "gzip"
    page = json.loads(gzip.decompress(raw))  # one layer of gzip, then JSON
    assert len(page["products"]) >= 200
