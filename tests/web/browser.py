"""Headless Chromium helpers shared by the ``test_browser*`` modules: the window sizes,
starting the browser, signing in through the login form, following a link or a button
to the next page, serving a module's ``site``, and full-height screenshots into ``artifacts/web/``.

selenium stays an optional import: it is imported inside the helpers, and the driver is
typed ``object`` here.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import FastAPI

from tests.e2e.conftest import LiveServer, free_port

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "web"

DESKTOP = (1280, 900)
PHONE = (390, 844)


def chromium_binaries() -> tuple[str, str]:
    """The Debian chromium and chromedriver, or skip (fail on CI)."""
    from tests.conftest import missing

    browser = shutil.which("chromium") or "/usr/bin/chromium"
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not (Path(browser).exists() and Path(driver).exists()):
        missing("Chromium")
    return browser, driver


@contextmanager
def chromium() -> Iterator[object]:
    """Headless Chromium driven by chromedriver, with a fresh profile; quit after."""
    browser, driver_path = chromium_binaries()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="kasir-chrome-")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.implicitly_wait(2)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@contextmanager
def live_site(app: FastAPI) -> Iterator[LiveServer]:
    """``app`` served by uvicorn on a free port; stopped, and its database closed, after."""
    server = LiveServer(app, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
        app.state.db.dispose()


def shot(driver: object, name: str, size: tuple[int, int] = DESKTOP) -> Path:
    """Save a full-height screenshot of the current page as ``artifacts/web/<name>.png``."""
    d = driver  # selenium's WebDriver, untyped here to keep selenium an optional import
    d.set_window_size(size[0], size[1])  # type: ignore[attr-defined]
    height = d.execute_script(  # type: ignore[attr-defined]
        "return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)"
    )
    d.set_window_size(size[0], min(max(int(height) + 20, size[1]), 4000))  # type: ignore[attr-defined]
    path = ARTIFACTS / f"{name}.png"
    d.save_screenshot(str(path))  # type: ignore[attr-defined]
    d.set_window_size(*DESKTOP)  # type: ignore[attr-defined]
    return path


def _by(kind: str) -> str:
    from selenium.webdriver.common.by import By

    return {"css": By.CSS_SELECTOR, "id": By.ID, "link": By.LINK_TEXT}[kind]


def go(driver: object, element: object) -> None:
    """Click ``element`` and wait until the browser has loaded the next page."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(_by("css"), "html")  # type: ignore[attr-defined]
    element.click()  # type: ignore[attr-defined]

    def replaced(_: object) -> bool:
        # The old page's root is gone once the next page loaded. Chromium reports a root
        # that left the document either as a stale element or as an inspector error.
        try:
            old.is_enabled()  # type: ignore[attr-defined]
        except WebDriverException:
            return True
        return False

    WebDriverWait(driver, 10).until(replaced)  # type: ignore[arg-type]


def sign_in(driver: object, base_url: str, username: str, password: str) -> None:
    """Open the login page at ``base_url`` and sign in through its form."""
    d = driver
    d.get(f"{base_url}/web/login")  # type: ignore[attr-defined]
    d.find_element(_by("id"), "username").send_keys(username)  # type: ignore[attr-defined]
    d.find_element(_by("id"), "password").send_keys(password)  # type: ignore[attr-defined]
    go(d, d.find_element(_by("css"), "button[type=submit]"))  # type: ignore[attr-defined]
