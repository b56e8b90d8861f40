"""The report pages, the QRIS payments page and the list pages in headless Chromium, at
desktop and phone widths: Indonesian labels, dd/mm/yyyy dates, every table column
reachable on a 390 px phone (the page itself never wider than the screen), and the
Excel download beside the CSV. Screenshots go to ``artifacts/web/``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from sync_server.auth.models import Terminal
from sync_server.payments.models import PaymentOrder
from sync_server.reports.registry import QRIS_STATUS_LABELS
from sync_server.web.views import REPORTS
from tests.e2e.conftest import LiveServer
from tests.server.sync_helpers import push, sale_event, statuses
from tests.web.browser import ARTIFACTS, DESKTOP, PHONE, _by, live_site
from tests.web.conftest import PRODUCTS_WITH_TAX, catalog_products, demo_app_with_till

pytestmark = pytest.mark.browser

ISO_DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
ENGLISH = re.compile(r"\b(UNPAID|PAID|EXPIRED|FAILED|REFUND|ORDER|Order|Event)\b")


@pytest.fixture(scope="module")
def site() -> Iterator[LiveServer]:
    """The demo store: sales at many hours of the last 7 days, QRIS orders of every
    status and a refused transaction, served on a free port."""
    app, cashier_id, headers = demo_app_with_till("kasir-web-reports-")
    db = app.state.db
    products = catalog_products(db, PRODUCTS_WITH_TAX.limit(6))
    now = datetime.now(UTC)
    events = [
        sale_event(
            terminal_code="T01",
            cashier_id=cashier_id,
            items=[(products[(day + k) % 6], 1 + (day + k) % 3)],
            created_at=(now - timedelta(days=day, hours=3 * k + day % 2)).isoformat(),
        )
        for day in range(7)
        for k in range(4)
    ]
    bad = sale_event(terminal_code="T01", cashier_id=cashier_id, items=[])
    bad["payload"]["lines"] = []
    client = TestClient(app)
    assert set(statuses(push(client, headers, events))) == {"applied"}
    assert statuses(push(client, headers, [bad])) == ["rejected"]
    with db.session() as s:
        store_id, terminal_id = s.execute(
            select(Terminal.store_id, Terminal.id).where(Terminal.code == "T01")
        ).one()
        for i, status in enumerate(QRIS_STATUS_LABELS):
            s.add(
                PaymentOrder(
                    order_id=f"DEV-T01-{i:04d}",
                    store_id=store_id,
                    terminal_id=terminal_id,
                    amount=25_000 + 1_000 * i,
                    customer_name="Pelanggan",
                    customer_email="pelanggan@contoh.id",
                    status=status,
                    reference=f"T{i:05d}" if status != "UNPAID" else None,
                    created_at=now - timedelta(hours=i),
                    paid_at=now - timedelta(hours=i) if status in ("PAID", "REFUND") else None,
                )
            )
    with live_site(app) as server:
        yield server


def shot(driver: object, name: str, size: tuple[int, int] = DESKTOP) -> Path:
    """A full-height screenshot ``artifacts/web/<name>.png`` at ``size``'s width (the
    window grows by the browser's own frame, so the page's end is in the picture)."""
    d = driver
    d.set_window_size(*size)  # type: ignore[attr-defined]
    height, frame = d.execute_script(  # type: ignore[attr-defined]
        "return [Math.max(document.body.scrollHeight, document.documentElement.scrollHeight),"
        " window.outerHeight - window.innerHeight]"
    )
    d.set_window_size(size[0], min(max(int(height) + int(frame) + 8, size[1]), 5000))  # type: ignore[attr-defined]
    path = ARTIFACTS / f"{name}.png"
    d.save_screenshot(str(path))  # type: ignore[attr-defined]
    d.set_window_size(*DESKTOP)  # type: ignore[attr-defined]
    return path


def _check_phone_layout(d: object, name: str) -> None:
    """At 390 px the page is no wider than the screen and every table's columns can be
    reached inside its own box (stacked rows or a sideways-scrolling box)."""
    d.set_window_size(*PHONE)  # type: ignore[attr-defined]
    overflow = d.execute_script(  # type: ignore[attr-defined]
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, (name, overflow)
    boxes = d.execute_script(  # type: ignore[attr-defined]
        """return [...document.querySelectorAll('table')].map(t => {
             const box = t.closest('.scroll') || t.parentElement;
             const r = box.getBoundingClientRect();
             const style = getComputedStyle(box);
             return {left: r.left, right: r.right, width: window.innerWidth,
                     fits: t.scrollWidth <= box.clientWidth + 1,
                     scrolls: ['auto', 'scroll'].includes(style.overflowX)};
           })"""
    )
    for box in boxes:
        assert box["left"] >= 0 and box["right"] <= box["width"] + 1, (name, box)
        assert box["fits"] or box["scrolls"], (name, box)


def _text(d: object) -> str:
    return str(d.find_element(_by("css"), "main").text)  # type: ignore[attr-defined]


def test_every_report_page_at_desktop_and_phone(site: LiveServer, manager: object) -> None:
    d = manager
    for slug, title in REPORTS:
        d.get(f"{site.base_url}/web/reports/{slug}?preset=7d")  # type: ignore[attr-defined]
        text = _text(d)
        assert title in text, slug
        assert not ISO_DAY.search(text), (slug, ISO_DAY.findall(text)[:3])
        assert not ENGLISH.search(text), (slug, ENGLISH.findall(text)[:3])
        assert d.find_elements(_by("css"), "table tbody tr")  # type: ignore[attr-defined]
        assert d.find_element(_by("id"), "xlsx-link").text == "Unduh Excel"  # type: ignore[attr-defined]
        shot(d, f"reports-{slug}")
        _check_phone_layout(d, slug)
        shot(d, f"reports-{slug}-phone", PHONE)
    d.get(f"{site.base_url}/web/reports/hours?preset=7d")  # type: ignore[attr-defined]
    bars = d.find_elements(_by("css"), "figure.chart g.point")  # type: ignore[attr-defined]
    assert [b.get_attribute("data-label") for b in bars] == [f"{h:02d}" for h in range(24)]
    assert sum(1 for b in bars if int(b.get_attribute("data-value"))) >= 4
    assert "Jam tersibuk" in _text(d)
    d.get(f"{site.base_url}/web/reports/sales?preset=year&granularity=month")  # type: ignore[attr-defined]
    shot(d, "reports-sales-month-phone", PHONE)
    assert not ISO_DAY.search(_text(d))


def test_the_excel_download_matches_the_page(site: LiveServer, manager: object) -> None:
    d = manager
    d.get(f"{site.base_url}/web/reports/sales?preset=7d")  # type: ignore[attr-defined]
    href = d.find_element(_by("id"), "xlsx-link").get_attribute("href")  # type: ignore[attr-defined]
    cookie = d.get_cookie("kasir_session")["value"]  # type: ignore[attr-defined]
    answer = httpx.get(href, cookies={"kasir_session": cookie}, timeout=10)
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Periode" and rows[0][-1] == "Penjualan bersih"
    page_total = sum(
        int(g.get_attribute("data-value"))
        for g in d.find_elements(_by("css"), "figure.chart g.point")  # type: ignore[attr-defined]
    )
    assert sum(r[-1] for r in rows[1:]) == page_total > 0
    first = next(iter(sheet.iter_rows(min_row=2)))
    assert first[0].number_format == "dd/mm/yyyy" and first[-1].number_format == '"Rp "#,##0'


def test_qris_and_list_pages_at_desktop_and_phone(site: LiveServer, manager: object) -> None:
    d = manager
    d.get(f"{site.base_url}/web/payments?preset=7d")  # type: ignore[attr-defined]
    text = _text(d)
    for label in QRIS_STATUS_LABELS.values():
        assert label in text, label
    assert not ENGLISH.search(text), ENGLISH.findall(text)[:3]
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", text)
    shot(d, "payments")
    _check_phone_layout(d, "payments")
    shot(d, "payments-phone", PHONE)
    for name in ("terminals", "users", "products", ""):
        d.get(f"{site.base_url}/web/{name}")  # type: ignore[attr-defined]
        text = _text(d)
        assert not ISO_DAY.search(text), name
        assert not ENGLISH.search(text), (name, ENGLISH.findall(text)[:3])
        label = name or "dashboard"
        shot(d, f"list-{label}")
        _check_phone_layout(d, label)
        shot(d, f"list-{label}-phone", PHONE)
    d.get(f"{site.base_url}/web/terminals")  # type: ignore[attr-defined]
    assert "Transaksi ditolak" in _text(d)
