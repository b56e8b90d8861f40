"""Web back-office fixtures: signed-in page clients on both databases, and a live browser.

``manager_web`` is a TestClient carrying the world's manager's session cookie and its
CSRF token; ``web_login`` signs in through the real form. For the ``test_browser*``
modules, ``chrome`` is a headless Chromium driven by selenium on the module's own live
``site`` and ``manager`` is that browser signed in (helpers in ``tests/web/browser.py``;
screenshots go to ``artifacts/web/``).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Select, select

from sync_server.auth import service as auth_service
from sync_server.auth.models import Terminal, User
from sync_server.catalog.demo import STORE_CODE, seed_demo
from sync_server.catalog.models import Product, TaxRate
from sync_server.core.database import Database, utcnow
from sync_server.core.models import Store
from sync_server.core.security import new_token, token_hash
from sync_server.main import create_app
from sync_server.migrate import upgrade
from sync_server.web import access as web_access
from tests.server.conftest import (  # noqa: F401 - fixtures reused by name
    TEST_SECRET,
    World,
    app,
    client,
    db,
    db_url,
    make_settings,
    mariadb_url,
    sqlite_template,
    world,
)
from tests.server.sync_helpers import CatalogProduct
from tests.web.browser import chromium, chromium_binaries, sign_in

PRODUCTS_WITH_TAX = select(Product, TaxRate).join(TaxRate, TaxRate.id == Product.tax_rate_id)
"""Products with their tax rate, for :func:`catalog_products`."""

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = _CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def web_login(http: TestClient, username: str, password: str) -> Response:
    """Sign in through the login form (GET for the token, then POST); the POST's answer."""
    form = http.get("/web/login")
    assert form.status_code == 200
    return http.post(
        "/web/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_of(form.text),
            "next": "/web/",
        },
        follow_redirects=False,
    )


@dataclass
class WebClient:
    """A page client with a session cookie and the CSRF token of that session."""

    http: TestClient
    token: str

    @property
    def csrf(self) -> str:
        """The session's CSRF token."""
        return web_access.csrf_token(TEST_SECRET, self.token)

    def post(self, url: str, data: Mapping[str, object] | None = None, **kw: Any) -> Response:
        """POST a form with the CSRF token added."""
        body = {"csrf_token": self.csrf, **(data or {})}
        return self.http.post(url, data=body, follow_redirects=False, **kw)


@pytest.fixture
def no_login_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wrong passwords cost no extra wall time in tests that do not measure it."""
    monkeypatch.setattr(auth_service, "FAILED_LOGIN_DELAY_SECONDS", 0.0)


@pytest.fixture
def manager_web(client: TestClient, world: World) -> WebClient:  # noqa: F811
    """The world's manager with a session cookie (their API token serves as the session)."""
    client.cookies.set("kasir_session", world.manager_token)
    return WebClient(client, world.manager_token)


@pytest.fixture
def admin_web(client: TestClient, world: World) -> WebClient:  # noqa: F811
    """The world's admin with a session cookie: the chain catalog is theirs to change."""
    client.cookies.set("kasir_session", world.admin_token)
    return WebClient(client, world.admin_token)


@pytest.fixture
def chromium_paths() -> tuple[str, str]:
    """The Debian chromium and chromedriver, or skip (fail on CI)."""
    return chromium_binaries()


@pytest.fixture(scope="module")
def chrome(site: object) -> Iterator[object]:
    """Headless Chromium with a fresh profile, for the module's live ``site`` (a
    ``test_browser*`` module's own fixture, started first)."""
    with chromium() as driver:
        yield driver


@pytest.fixture
def manager(site: Any, chrome: object) -> object:
    """The browser signed in as the demo manager (each test may run alone, e.g. under xdist)."""
    if chrome.get_cookie("kasir_session") is None:  # type: ignore[attr-defined]
        sign_in(chrome, site.base_url, "manager", "manager123")
    return chrome


def demo_app_with_till(folder_prefix: str) -> tuple[FastAPI, int, dict[str, str]]:
    """The app on a fresh SQLite file (in a new temporary folder named ``folder_prefix``...)
    with the demo store and its till T01 enrolled: the app, siti's user id, and T01's
    push headers."""
    folder = Path(tempfile.mkdtemp(prefix=folder_prefix))
    url = f"sqlite:///{folder / 'kasir.sqlite3'}"
    upgrade(url)
    served = create_app(make_settings(url, log_level="WARNING"))
    seed_demo(served.state.db)
    device_token = new_token()
    with served.state.db.session() as s:
        store_id = s.scalars(select(Store.id).where(Store.code == STORE_CODE)).one()
        cashier_id = s.scalars(select(User.id).where(User.username == "siti")).one()
        s.add(
            Terminal(
                store_id=store_id,
                code="T01",
                name="Kasir depan",
                token_hash=token_hash(device_token),
                enrolled_at=utcnow(),
                last_seen_at=utcnow(),
            )
        )
    headers = {"Authorization": f"Bearer {device_token}", "X-Kasir-Protocol": "1"}
    return served, cashier_id, headers


def catalog_products(
    database: Database, query: Select[tuple[Product, TaxRate]]
) -> list[CatalogProduct]:
    """The ``(Product, TaxRate)`` rows ``query`` selects, as event-building products."""
    with database.session() as s:
        rows = s.execute(query).all()
        return [
            CatalogProduct(p.id, p.sku, p.name, p.price, t.rate_bp, t.inclusive) for p, t in rows
        ]
