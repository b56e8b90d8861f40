"""Web back-office fixtures: signed-in page clients on both databases, and a live browser.

``manager_web`` is a TestClient carrying the world's manager's session cookie and its
CSRF token; ``web_login`` signs in through the real form. ``browser_site`` serves the
app under uvicorn on SQLite (demo store plus a few pushed sales) and ``chrome`` is a
headless Chromium driven by selenium; screenshots go to ``artifacts/web/``.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from sync_server.auth import service as auth_service
from sync_server.web import access as web_access
from tests.server.conftest import (  # noqa: F401 - fixtures reused by name
    TEST_SECRET,
    World,
    app,
    client,
    db,
    db_url,
    mariadb_url,
    sqlite_template,
    world,
)

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "web"

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
    from tests.conftest import missing

    browser = shutil.which("chromium") or "/usr/bin/chromium"
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not (Path(browser).exists() and Path(driver).exists()):
        missing("Chromium")
    return browser, driver
