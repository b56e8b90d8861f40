"""Bad input never makes the server answer 500: a clear 4xx in the one error shape, nothing
written; a database that is down answers 503 with ``Retry-After``; a 500 keeps the
keep-alive connection open."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shared.models import MAX_RUPIAH
from sync_server.auth.models import User
from sync_server.catalog.labels import LabelItem, LabelTooLong, label_sheets_pdf
from sync_server.catalog.models import Product, TaxRate, Voucher
from sync_server.core.database import Database
from sync_server.core.errors import RETRY_AFTER_SECONDS
from sync_server.main import create_app
from tests.e2e.conftest import LiveServer, free_port
from tests.server.conftest import World, _api_token, make_settings

HUGE = 99_999_999_999_999_999_999  # beyond 64 bits


def _error(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error


@pytest.fixture
def admin(db: Database, world: World) -> dict[str, str]:
    """Headers of the world's admin (the catalog is edited by admins)."""
    with db.session() as session:
        user = session.get(User, world.admin_id)
        assert user is not None
        token = _api_token(session, user)
    return {"Authorization": f"Bearer {token}"}


def _count(db: Database, model: type[Any]) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"/api/v1/stores/{HUGE}", None),
        ("PATCH", f"/api/v1/stores/{HUGE}", {"name": "Toko Besar"}),
        ("PATCH", f"/api/v1/users/{HUGE}", {"full_name": "Siapa"}),
        ("POST", f"/api/v1/terminals/{HUGE}/revoke", None),
        ("GET", f"/api/v1/users?store_id={HUGE}", None),
        ("GET", f"/api/v1/products/{HUGE}", None),
        ("PATCH", f"/api/v1/products/{HUGE}", {"price": 1000}),
        ("PATCH", f"/api/v1/categories/{HUGE}", {"name": "Minuman"}),
        ("PATCH", f"/api/v1/tax-rates/{HUGE}", {"rate_bp": 1100}),
        ("PATCH", f"/api/v1/vouchers/{HUGE}", {"active": False}),
        ("GET", f"/api/v1/products?after_id={HUGE}", None),
        ("GET", f"/api/v1/products?offset={HUGE}", None),
        ("GET", f"/api/v1/products?category_id={HUGE}", None),
        ("GET", f"/api/v1/stock/levels?offset={HUGE}", None),
        ("GET", f"/api/v1/stock/levels?store_id={HUGE}", None),
        ("GET", f"/api/v1/stock/moves?product_id={HUGE}", None),
        ("GET", f"/api/v1/reports/stock?offset={HUGE}", None),
        ("GET", f"/api/v1/reports/sales?store_id={HUGE}", None),
        ("GET", f"/api/v1/payment/orders?offset={HUGE}", None),
    ],
)
def test_integer_beyond_its_column_is_422(
    client: TestClient, db: Database, admin: dict[str, str], method: str, path: str, body: Any
) -> None:
    users, products = _count(db, User), _count(db, Product)
    resp = client.request(method, path, json=body, headers=admin)
    error = _error(resp, 422)
    assert error["code"] == "invalid"
    assert {tuple(d["loc"][:1]) for d in error["details"]} <= {("path",), ("query",)}
    assert (_count(db, User), _count(db, Product)) == (users, products)


def test_price_beyond_max_rupiah_is_422_and_stores_nothing(
    client: TestClient, db: Database, admin: dict[str, str]
) -> None:
    for price in (MAX_RUPIAH + 1, 10**20):
        resp = client.post(
            "/api/v1/products",
            json={"sku": "MAHAL-1", "name": "Mahal", "price": price},
            headers=admin,
        )
        error = _error(resp, 422)
        assert error["details"][0]["loc"] == ["body", "price"]
    assert _count(db, Product) == 0


@pytest.mark.parametrize(
    ("path", "body", "model"),
    [
        ("/api/v1/tax-rates", {"code": "   ", "name": "PPN", "rate_bp": 1100}, TaxRate),
        ("/api/v1/tax-rates", {"code": "PPN", "name": " \t ", "rate_bp": 1100}, TaxRate),
        ("/api/v1/vouchers", {"code": "  ", "kind": "fixed", "value": 5000}, Voucher),
        ("/api/v1/products", {"sku": "A-1", "name": "   ", "price": 1000}, Product),
        ("/api/v1/products", {"sku": "   ", "name": "Teh", "price": 1000}, Product),
    ],
)
def test_whitespace_only_codes_and_names_are_422(
    client: TestClient, db: Database, admin: dict[str, str], path: str, body: Any, model: type[Any]
) -> None:
    before = _count(db, model)
    _error(client.post(path, json=body, headers=admin), 422)
    assert _count(db, model) == before


def test_whitespace_only_category_name_is_422(client: TestClient, admin: dict[str, str]) -> None:
    resp = client.post("/api/v1/categories", json={"name": "   "}, headers=admin)
    _error(resp, 422)
    categories = client.get("/api/v1/categories", headers=admin).json()
    assert categories == []


def test_whitespace_only_edits_of_tax_rates_and_vouchers_are_422(
    client: TestClient, admin: dict[str, str]
) -> None:
    headers = admin
    rate = client.post(
        "/api/v1/tax-rates",
        json={"code": "PPN", "name": "PPN 11%", "rate_bp": 1100},
        headers=headers,
    ).json()
    voucher = client.post(
        "/api/v1/vouchers", json={"code": "HEMAT", "kind": "fixed", "value": 5000}, headers=headers
    ).json()
    _error(
        client.patch(f"/api/v1/tax-rates/{rate['id']}", json={"name": "  "}, headers=headers), 422
    )
    _error(
        client.patch(f"/api/v1/vouchers/{voucher['id']}", json={"code": " "}, headers=headers), 422
    )
    rates = client.get("/api/v1/tax-rates", headers=headers).json()
    vouchers = client.get("/api/v1/vouchers", headers=headers).json()
    assert [(r["code"], r["name"]) for r in rates] == [("PPN", "PPN 11%")]
    assert [v["code"] for v in vouchers] == ["HEMAT"]


def test_code128_label_too_long_to_print_is_a_clear_422(
    client: TestClient, world: World, admin: dict[str, str]
) -> None:
    code = "KASIR-" + "X" * 30  # valid Code128 text, more bars than a 70 mm label holds
    with pytest.raises(LabelTooLong) as caught:
        label_sheets_pdf([LabelItem("Panjang", 1000, code)])
    assert caught.value.status_code == 422
    assert code in caught.value.message
    created = client.post(
        "/api/v1/products",
        json={"sku": "LONG-1", "barcode": code, "name": "Panjang", "price": 1000},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    client.cookies.set("kasir_session", world.manager_token)
    resp = client.get(f"/web/products/labels.pdf?ids={created.json()['id']}")
    assert resp.status_code == 422
    assert "pdf" not in resp.headers["content-type"]


def test_405_names_the_allowed_methods(client: TestClient, world: World) -> None:
    resp = client.delete("/api/v1/products", headers=world.manager_headers())
    error = _error(resp, 405)
    assert error["code"] == "method_not_allowed"
    assert {m.strip() for m in resp.headers["allow"].split(",")} == {"GET", "POST"}
    assert _error(client.put("/health"), 405) and resp.headers["allow"]


# -- the database is down -----------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


@pytest.fixture(params=["sqlite", "mariadb"])
def down_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FastAPI]:
    """The app pointed at a database that cannot be reached."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/missing-folder/kasir.sqlite3"  # cannot be opened
    else:
        url = f"mysql+pymysql://root@127.0.0.1:{_closed_port()}/kasir"
    app = create_app(make_settings(url))
    yield app
    app.state.db.dispose()


def test_database_down_answers_503_with_retry_after(down_app: FastAPI) -> None:
    with TestClient(down_app) as client:
        resp = client.get("/api/v1/products", headers={"Authorization": "Bearer whatever"})
        error = _error(resp, 503)
        assert error["code"] == "database_unavailable"
        assert error["details"] == {"retryable": True}
        assert int(resp.headers["retry-after"]) == RETRY_AFTER_SECONDS
        login = client.post("/api/v1/auth/login", json={"username": "a", "password": "b"})
        assert _error(login, 503)["code"] == "database_unavailable"
        ready = client.get("/ready")
        assert _error(ready, 503)["code"] == "not_ready"
        assert ready.headers["retry-after"]
        assert client.get("/health").status_code == 200


# -- a 500 keeps the connection -------------------------------------------------------


@pytest.fixture
def live_app(db_url: str) -> Iterator[LiveServer]:
    """The app under uvicorn with a route that always fails (a bug, as far as it knows)."""
    app = create_app(make_settings(db_url, log_level="CRITICAL"))

    @app.get("/test-only/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("a bug")

    server = LiveServer(app, free_port())
    server.start()
    yield server
    server.stop()
    app.state.db.dispose()


def test_a_500_keeps_the_keep_alive_connection(live_app: LiveServer) -> None:
    peers: list[tuple[str, int]] = []

    def note_peer(response: httpx.Response) -> None:
        stream = response.extensions["network_stream"]
        peers.append(stream.get_extra_info("client_addr"))

    with httpx.Client(base_url=live_app.base_url, event_hooks={"response": [note_peer]}) as http:
        first = http.get("/health")
        crash = http.get("/test-only/boom")
        after = http.get("/health")
    assert first.status_code == after.status_code == 200
    error = _error(crash, 500)
    assert error["code"] == "internal_error"
    assert "a bug" not in crash.text
    assert crash.headers.get("connection", "").lower() != "close"
    assert crash.headers["x-request-id"]
    assert len(peers) == 3
    assert len(set(peers)) == 1, f"the connection was replaced: {peers}"
