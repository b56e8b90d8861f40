"""The reports API: who may read it, CSV downloads, resolving rejected events, and
reading from the reports replica when one is configured."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shared.ids import new_id
from sync_server.main import create_app
from sync_server.reports.registry import PERIOD_REPORTS
from tests.server.conftest import World, build_world, make_settings
from tests.server.sync_helpers import add_products, push, sale_event, statuses

GET_ROUTES = [
    "/api/v1/reports/sales?granularity=week",
    # Every period report of the registry (new entries are covered as they come).
    *(f"/api/v1/reports/{report.path}" for report in PERIOD_REPORTS),
    "/api/v1/reports/stock",
    "/api/v1/reports/terminal-health",
    "/api/v1/reports/rejected-events",
    "/api/v1/reports/payments",
    "/api/v1/reports/dashboard",
]


def _routes_in_app(client: TestClient) -> set[str]:
    return {
        path
        for path, ops in client.get("/openapi.json").json()["paths"].items()
        if path.startswith("/api/v1/reports")
        for _ in ops
    }


def test_every_route_refuses_cashiers_terminals_and_other_stores(
    client: TestClient, world: World
) -> None:
    # The list above covers every report route the app has.
    listed = {r.split("?")[0] for r in GET_ROUTES} | {
        "/api/v1/reports/rejected-events/{event_id}/resolve"
    }
    assert _routes_in_app(client) == listed
    resolve = f"/api/v1/reports/rejected-events/{new_id()}/resolve"
    for headers in (world.cashier_headers(), world.terminal_headers(0)):
        for route in GET_ROUTES:
            for suffix in ("", "&format=csv" if "?" in route else "?format=csv"):
                resp = client.get(route + suffix, headers=headers)
                assert resp.status_code == 403, (route, resp.text)
        resp = client.post(resolve, json={"note": "x"}, headers=headers)
        assert resp.status_code == 403
    for route in GET_ROUTES:
        sep = "&" if "?" in route else "?"
        assert client.get(route).status_code == 401
        other = client.get(
            f"{route}{sep}store_id={world.other_store_id}", headers=world.manager_headers()
        )
        assert other.status_code == 403, route
        assert other.json()["error"]["code"] == "other_store"
        assert client.get(route, headers=world.manager_headers()).status_code == 200, route


def test_csv_downloads_are_attachments(client: TestClient, db: object, world: World) -> None:
    products = add_products(client.app.state.db, 1)  # type: ignore[attr-defined]
    sale = sale_event(
        terminal_code="T01", cashier_id=world.cashier_ids[0], items=[(products[0], 2)]
    )
    assert statuses(push(client, world.terminal_headers(0), [sale])) == ["applied"]
    for route in GET_ROUTES:
        sep = "&" if "?" in route else "?"
        resp = client.get(f"{route}{sep}format=csv", headers=world.manager_headers())
        assert resp.status_code == 200, route
        assert resp.headers["content-type"].startswith("text/csv")
        assert resp.headers["content-disposition"].startswith("attachment; filename=")
    body = client.get(
        "/api/v1/reports/top-products?format=csv", headers=world.manager_headers()
    ).text.splitlines()
    assert body[0].split(",")[:3] == ["product_id", "sku", "name"]
    assert body[1].split(",")[3] == "2"


def test_admin_reads_any_store_and_must_name_one(client: TestClient, world: World) -> None:
    from sync_server.core.database import Database

    db: Database = client.app.state.db  # type: ignore[attr-defined]
    from tests.server.conftest import _api_token

    with db.session() as s:
        from sync_server.auth.models import User

        admin = s.get(User, world.admin_id)
        assert admin is not None
        token = _api_token(s, admin)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/reports/sales", headers=headers).status_code == 422
    resp = client.get(f"/api/v1/reports/sales?store_id={world.other_store_id}", headers=headers)
    assert resp.status_code == 200
    assert resp.json()["store_id"] == world.other_store_id


def test_rejected_events_show_and_resolve(client: TestClient, world: World) -> None:
    bad = sale_event(terminal_code="T01", cashier_id=world.cashier_ids[0], items=[])
    bad["payload"]["lines"] = []
    assert statuses(push(client, world.terminal_headers(0), [bad])) == ["rejected"]
    health = client.get("/api/v1/reports/terminal-health", headers=world.manager_headers()).json()
    t01 = next(t for t in health if t["code"] == "T01")
    assert t01["unresolved_rejected"] == 1
    assert t01["rejected"][0]["event_id"] == bad["id"]
    dash = client.get("/api/v1/reports/dashboard", headers=world.manager_headers()).json()
    assert dash["alerts"]["unresolved_rejected"] == 1
    resp = client.post(
        f"/api/v1/reports/rejected-events/{bad['id']}/resolve",
        json={"note": "rung up again by hand"},
        headers=world.manager_headers(),
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["resolution"] == "rung up again by hand"
    assert resp.json()["resolved_by"] == world.manager_id
    left = client.get("/api/v1/reports/rejected-events", headers=world.manager_headers()).json()
    assert left == []
    missing = client.post(
        f"/api/v1/reports/rejected-events/{new_id()}/resolve",
        json={"note": "x"},
        headers=world.manager_headers(),
    )
    assert missing.status_code == 404


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a live WAL database (what a replica would hold)."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.close()


def test_reports_read_the_replica_when_configured(tmp_path: Path, sqlite_template: Path) -> None:
    main_path, replica_path = tmp_path / "main.sqlite3", tmp_path / "replica.sqlite3"
    shutil.copy(sqlite_template, main_path)
    app = create_app(
        make_settings(f"sqlite:///{main_path}", reports_database_url=f"sqlite:///{replica_path}")
    )
    assert app.state.reports_db is not app.state.db
    world = build_world(app.state.db)
    products = add_products(app.state.db, 1)
    with TestClient(app) as client:
        first = sale_event(
            terminal_code="T01", cashier_id=world.cashier_ids[0], items=[(products[0], 1)]
        )
        assert statuses(push(client, world.terminal_headers(0), [first])) == ["applied"]
        _copy_sqlite(main_path, replica_path)  # the replica catches up...
        second = sale_event(
            terminal_code="T01", cashier_id=world.cashier_ids[0], items=[(products[0], 1)]
        )
        assert statuses(push(client, world.terminal_headers(0), [second])) == ["applied"]
        # ...and lags behind again: the report shows what the replica holds, not the main.
        resp = client.get("/api/v1/reports/sales", headers=world.manager_headers())
        assert resp.status_code == 200
        assert resp.json()["totals"]["sales_count"] == 1
        from sync_server.reports import service

        today = service.store_today(app.state.db, store_id=world.store_id)
        main_figures = service.sales_summary(
            app.state.db, store_id=world.store_id, start=today, end=today
        )
        assert main_figures.sales_count == 2
    app.state.db.dispose()
    app.state.reports_db.dispose()


@pytest.mark.parametrize("granularity", ["day", "week", "month", "year"])
def test_bad_periods_are_refused(client: TestClient, world: World, granularity: str) -> None:
    resp = client.get(
        f"/api/v1/reports/sales?granularity={granularity}&start=2025-03-02&end=2025-03-01",
        headers=world.manager_headers(),
    )
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "bad_period"
