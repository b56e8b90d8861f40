"""Who may use the back office: sessions, CSRF, lockout, and 403 on every page route.

The route lists come from the web router itself, so a page added later is covered by
these tests without anyone remembering to add it. Runs on SQLite and MariaDB.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from sync_server.auth import service as auth_service
from sync_server.auth.models import ApiToken, User
from sync_server.core.database import Database
from sync_server.core.security import token_hash
from sync_server.web import access as web_access
from sync_server.web import views as web_views
from sync_server.web.router import router as web_router
from tests.server.conftest import TEST_SECRET, World, production_settings
from tests.server.sync_helpers import add_products
from tests.web.conftest import WebClient, csrf_of, web_login

PUBLIC = {("GET", "/web/login"), ("POST", "/web/login")}


def _sample(name: str, ids: dict[str, Any]) -> str:
    return str(ids.get(name, 1))


def page_routes(ids: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    """Every (method, concrete path) of the web router except the login form."""
    ids = ids or {}
    out = []
    for route in web_router.routes:
        assert isinstance(route, APIRoute)
        for method in sorted(route.methods or ()):
            if (method, route.path) in PUBLIC:
                continue
            path = re.sub(r"\{(\w+)\}", lambda m: _sample(m.group(1), ids), route.path)
            out.append((method, path))
    return out


def test_the_route_list_covers_every_page() -> None:
    routes = page_routes()
    assert len(routes) >= 25
    assert ("GET", "/web/") in routes and ("POST", "/web/products/1") in routes


def _call(client: TestClient, method: str, path: str, **kw: Any) -> Any:
    return client.request(method, path, follow_redirects=False, **kw)


def test_anonymous_visitors_are_sent_to_the_login_form(client: TestClient, world: World) -> None:
    for method, path in page_routes():
        resp = _call(client, method, path)
        assert resp.status_code == 303, (method, path, resp.status_code)
        assert resp.headers["location"].startswith("/web/login"), (method, path)
    assert client.get("/web/stock?only=low", follow_redirects=False).headers["location"] == (
        "/web/login?next=/web/stock%3Fonly%3Dlow"
    )


def test_cashier_and_terminal_credentials_get_403_on_every_route(
    client: TestClient, world: World
) -> None:
    cashier_csrf = web_access.csrf_token(TEST_SECRET, world.cashier_token)
    callers = {
        "cashier bearer": {"headers": world.cashier_headers()},
        "terminal bearer": {"headers": world.terminal_headers()},
    }
    for method, path in page_routes():
        for who, kw in callers.items():
            resp = _call(client, method, path, data={"csrf_token": cashier_csrf}, **kw)
            assert resp.status_code == 403, (who, method, path, resp.status_code)
        client.cookies.set("kasir_session", world.cashier_token)
        resp = _call(client, method, path, data={"csrf_token": cashier_csrf})
        client.cookies.clear()
        assert resp.status_code == 403, ("cashier cookie", method, path, resp.status_code)
        assert "Back office hanya untuk manajer" in resp.text


def test_posts_without_or_with_a_wrong_csrf_token_are_refused(
    manager_web: WebClient, world: World, db: Database
) -> None:
    other = web_access.csrf_token(TEST_SECRET, world.cashier_token)
    posts = [(m, p) for m, p in page_routes() if m == "POST"]
    assert len(posts) >= 12
    for _, path in posts:
        for data in ({}, {"csrf_token": ""}, {"csrf_token": other}):
            resp = manager_web.http.post(path, data=data, follow_redirects=False)
            assert resp.status_code == 403, (path, data, resp.status_code)
            assert "CSRF" in resp.text
    # The refused logout did not sign the manager out.
    assert manager_web.http.get("/web/users").status_code == 200


def test_every_page_renders_for_a_manager(
    manager_web: WebClient, world: World, db: Database
) -> None:
    products = add_products(db, 2)
    api = manager_web.http
    supplier = api.post(
        "/api/v1/suppliers", json={"name": "CV Sumber Rejeki"}, headers=world.manager_headers()
    )
    assert supplier.status_code == 201, supplier.text
    order = api.post(
        "/api/v1/purchase-orders",
        json={
            "supplier_id": supplier.json()["id"],
            "lines": [{"product_id": products[0].id, "quantity": 12, "unit_cost": 2_800}],
        },
        headers=world.manager_headers(),
    )
    assert order.status_code == 201, order.text
    ids = {
        "product_id": products[0].id,
        "user_id": world.cashier_ids[0],
        "terminal_id": world.terminal_ids[1],
        "event_id": uuid.uuid4(),
        "slug": "sales",
        "supplier_id": supplier.json()["id"],
        "order_id": order.json()["id"],
    }
    for method, path in page_routes(ids):
        if method != "GET":
            continue
        if path.endswith("labels.pdf"):
            path += f"?ids={products[0].id}"
        resp = manager_web.http.get(path)
        assert resp.status_code in (200, 422), (path, resp.status_code, resp.text[:300])
    for slug, _ in web_views.REPORTS:
        assert manager_web.http.get(f"/web/reports/{slug}").status_code == 200


def test_every_form_on_every_page_carries_the_sessions_csrf_token(
    manager_web: WebClient, world: World, db: Database
) -> None:
    products = add_products(db, 1)
    ids = {"product_id": products[0].id, "user_id": world.cashier_ids[0], "slug": "sales"}
    forms_seen = 0
    for method, path in page_routes(ids):
        if method != "GET" or path.endswith((".csv", ".pdf")):
            continue
        html = manager_web.http.get(path).text
        posts = re.findall(r'<form[^>]*method="post"', html)
        tokens = re.findall(r'name="csrf_token" value="([^"]*)"', html)
        assert len(tokens) >= len(posts), path
        assert set(tokens) <= {manager_web.csrf}, (path, set(tokens))
        forms_seen += len(posts)
    assert forms_seen >= 15


def test_login_sets_a_httponly_samesite_cookie_and_logout_revokes_it(
    client: TestClient, world: World, db: Database
) -> None:
    resp = web_login(client, "manager", "password123")
    assert resp.status_code == 303 and resp.headers["location"] == "/web/"
    cookie = resp.headers.get_list("set-cookie")[0]
    assert cookie.startswith("kasir_session=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # test environment; production sets Secure
    token = client.cookies["kasir_session"]
    with db.session() as s:
        row = s.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
        assert row is not None and row.kind == "session"
    page = client.get("/web/")
    assert page.status_code == 200 and "Dasbor" in page.text
    out = client.post(
        "/web/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert out.status_code == 303 and out.headers["location"] == "/web/login"
    client.cookies.set("kasir_session", token)  # a stolen copy no longer works
    assert client.get("/web/", follow_redirects=False).status_code == 303


def test_session_cookie_is_secure_in_production_settings() -> None:
    assert web_access.cookie_secure(production_settings())


def test_login_needs_the_form_token(client: TestClient, world: World) -> None:
    client.get("/web/login")
    resp = client.post(
        "/web/login",
        data={"username": "manager", "password": "password123", "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert resp.status_code == 403
    assert "kasir_session" not in client.cookies


def test_cashiers_cannot_sign_in_to_the_back_office(
    client: TestClient, world: World, db: Database
) -> None:
    resp = web_login(client, "kasir1", "password123")
    assert resp.status_code == 403
    assert "kasir_session" not in client.cookies
    with db.session() as s:  # the token the login made was revoked at once
        tokens = s.scalars(
            select(ApiToken).where(
                ApiToken.user_id == world.cashier_ids[0], ApiToken.kind == "session"
            )
        ).all()
        assert tokens and all(t.revoked_at is not None for t in tokens)


def test_wrong_passwords_slow_down_then_lock(
    client: TestClient, world: World, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth_service, "FAILED_LOGIN_DELAY_SECONDS", 0.05)
    took = []
    for _ in range(4):
        started = time.monotonic()
        resp = web_login(client, "manager", "wrong-password")
        took.append(time.monotonic() - started)
        assert resp.status_code == 401
        assert "kata sandi salah" in resp.text
    assert took[3] >= 0.2  # the fourth failure waited 4 × 0.05 s
    resp = web_login(client, "manager", "wrong-password")
    assert resp.status_code == 429
    assert "Coba lagi dalam" in resp.text
    # Locked: even the right password is refused until the lock runs out.
    assert web_login(client, "manager", "password123").status_code == 429
    with db.session() as s:
        user = s.get(User, world.manager_id)
        assert user is not None and user.locked_until is not None


def test_next_only_goes_to_back_office_paths() -> None:
    assert web_access.safe_next("/web/stock?only=low") == "/web/stock?only=low"
    for bad in ("https://evil.example/", "//evil.example/web/", "/api/v1/x", None, "/web\\x"):
        assert web_access.safe_next(bad) == "/web/"


def test_a_manager_sees_only_their_own_store_whatever_the_query_says(
    manager_web: WebClient, world: World
) -> None:
    resp = manager_web.http.get(f"/web/terminals?store_id={world.other_store_id}")
    assert resp.status_code == 200
    assert "T01" in resp.text and "T02" in resp.text  # the manager's own tills
    resp = manager_web.http.get(f"/web/reports/sales?store_id={world.other_store_id}")
    assert resp.status_code == 200
    assert f"store_id={world.store_id}&amp;start=" in resp.text
