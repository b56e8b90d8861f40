"""The Manager area against the real server: the report figures the till shows are the
server's, a cashier added and a PIN reset from the till reach this till by pull, and
this till's own figures stand in while the server is down."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import httpx
import pytest

from pos_client.services import WrongPin
from pos_client.services.manager import ManagerOffline, ManagerService, periods
from pos_client.store import LocalStore
from pos_client.sync.manager_client import ManagerClient
from sync_server.catalog.demo import demo_items
from tests.e2e.conftest import MANAGER, MANAGER_PIN, Till

ITEMS = demo_items()


def manager_service(till: Till) -> ManagerService:
    """The service as the app wires it, over real HTTP to the live server."""

    def connect() -> ManagerClient:
        return ManagerClient(httpx.Client(timeout=10), base_url=till.server.base_url)

    return ManagerService(
        lambda: LocalStore.open(till.settings), connect, zone=ZoneInfo("Asia/Jakarta")
    )


def server_report(till: Till, path: str, **params: str) -> object:
    """The server's own answer to a report, asked as the manager."""
    response = httpx.get(
        f"{till.server.base_url}/api/v1/reports/{path}",
        params=params,
        headers={"Authorization": f"Bearer {till.server.manager_token()}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def sell(till: Till, *barcodes: str) -> int:
    for code in barcodes:
        till.checkout.scan(code)
    total = till.checkout.totals().total
    till.checkout.checkout_cash(total)
    return total


@pytest.mark.parametrize("granularity", ["day", "month"])
def test_the_figures_are_the_servers(selling_till: Till, granularity: str) -> None:
    till = selling_till
    first = sell(till, ITEMS[0].barcode, ITEMS[1].barcode)
    second = sell(till, ITEMS[1].barcode)
    assert till.worker.run_once().pending == 0
    till.auth.login(till.server.user_id("manager"), MANAGER_PIN)
    service = manager_service(till)
    service.sign_in(*MANAGER)
    report = service.report(granularity)  # type: ignore[arg-type]
    assert report.source == "server"
    assert report.net == first + second and report.sales_count == 2
    start = periods(report.end, granularity)[0]  # type: ignore[arg-type]
    params = {"start": start.isoformat(), "end": report.end.isoformat()}
    sales = server_report(till, "sales", granularity=granularity, **params)
    assert isinstance(sales, dict)
    assert report.net == sales["totals"]["net"]
    assert [b.net for b in report.bars] == [p["net"] for p in sales["periods"]]
    top = server_report(till, "top-products", limit="5", **params)
    assert [(p.name, p.quantity, p.revenue) for p in report.products] == [
        (p["name"], p["quantity"], p["revenue"])
        for p in top  # type: ignore[attr-defined]
    ]
    methods = server_report(till, "payment-methods", **params)
    assert [(p.method, p.amount) for p in report.payments] == [
        (p["method"], p["amount"])
        for p in methods  # type: ignore[attr-defined]
    ]
    cashiers = server_report(till, "cashiers", **params)
    assert [(c.full_name, c.net) for c in report.cashiers] == [
        (c["full_name"], c["net"])
        for c in cashiers  # type: ignore[attr-defined]
    ]
    service.sign_out()


def test_a_cashier_added_on_the_till_logs_in_after_a_pull(selling_till: Till) -> None:
    till = selling_till
    service = manager_service(till)
    service.sign_in(*MANAGER)
    assert {"siti", "manager"} <= {u.username for u in service.staff()}
    made = service.add_cashier("rina", "Rina Kasir", "5678")
    assert made.role == "cashier" and made.active and made.has_pin
    assert till.store.user(made.id) is None, "not on the till before a pull"
    till.worker.run_once()
    assert till.store.user(made.id) is not None
    till.auth.login(made.id, "5678")
    service.reset_pin(made.id, "8765")
    till.worker.run_once()
    with pytest.raises(WrongPin):
        till.auth.login(made.id, "5678")
    till.auth.login(made.id, "8765")
    service.deactivate(made.id)
    till.worker.run_once()
    assert made.id not in {u.id for u in till.auth.users()}
    service.sign_out()


def test_offline_this_tills_figures_and_people_refused(selling_till: Till) -> None:
    till = selling_till
    total = sell(till, ITEMS[2].barcode)
    service = manager_service(till)
    service.sign_in(*MANAGER)
    till.server.stop()
    try:
        report = service.report("day")
        assert report.source == "local"
        assert report.net == total and report.sales_count == 1
        with pytest.raises(ManagerOffline):
            service.add_cashier("rina", "Rina Kasir", "5678")
    finally:
        till.server.start()
    assert service.report("day").source == "server"
    assert isinstance(service.today(), date)
