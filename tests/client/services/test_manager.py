"""The Manager area's service: the server's figures online, this till's own offline, and
people managed only through the server. The server is an ``httpx.MockTransport``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from pos_client.config import ClientSettings
from pos_client.services.manager import (
    ManagerError,
    ManagerOffline,
    ManagerService,
    ManagerSignInNeeded,
    periods,
)
from pos_client.store import LocalStore
from pos_client.sync.manager_client import ManagerClient, SignInRefused
from shared.messages import render
from tests.client.conftest import CASHIER, INDOMIE, PINS, TEH, FakeClock, make_till, seed

JAKARTA = ZoneInfo("Asia/Jakarta")
TOKEN = "manager-token"


class FakeServer:
    """The reports and users routes as the real server answers them (a manager's view)."""

    def __init__(self) -> None:
        self.online = True
        self.token = TOKEN
        self.calls: list[tuple[str, str, dict[str, str]]] = []
        self.bodies: list[dict[str, Any]] = []
        self.users: list[dict[str, Any]] = [
            _user(3, "manager", "Ibu Manager", "manager"),
            _user(1, "cashier", "Ibu Cashier", "cashier"),
        ]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if not self.online:
            raise httpx.ConnectError("network is down", request=request)
        path = request.url.path
        self.calls.append((request.method, path, dict(request.url.params)))
        if path == "/api/v1/auth/login":
            body = json.loads(request.content)
            if body["password"] != "rahasia123":
                return _error(401, "invalid_credentials", "Wrong username or password.")
            return httpx.Response(
                200, json={"access_token": TOKEN, "expires_at": "2025-06-15T15:00:00Z"}
            )
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(401, "invalid_token", "Invalid token.")
        if path == "/api/v1/auth/logout":
            return httpx.Response(204)
        if path == "/api/v1/reports/sales":
            return httpx.Response(200, json=_sales(request.url.params["granularity"]))
        if path == "/api/v1/reports/top-products":
            return httpx.Response(200, json=[_product("Beras 5kg", 3, 225_000)])
        if path == "/api/v1/reports/payment-methods":
            return httpx.Response(200, json=[_method("cash", 40, 900_000)])
        if path == "/api/v1/reports/cashiers":
            row = {"cashier_id": 1, "username": "cashier", "full_name": "Ibu Cashier"}
            return httpx.Response(200, json=[{**row, "sales_count": 40, "net": 900_000}])
        if path == "/api/v1/users" and request.method == "GET":
            return httpx.Response(200, json=self.users)
        if path == "/api/v1/users" and request.method == "POST":
            body = json.loads(request.content)
            self.bodies.append(body)
            made = _user(10 + len(self.users), body["username"], body["full_name"], body["role"])
            made["has_pin"] = "pin" in body
            self.users.append(made)
            return httpx.Response(201, json=made)
        if path.startswith("/api/v1/users/") and request.method == "PATCH":
            body = json.loads(request.content)
            self.bodies.append(body)
            user = next(u for u in self.users if u["id"] == int(path.rsplit("/", 1)[1]))
            user.update(active=body.get("active", user["active"]), has_pin=True)
            return httpx.Response(200, json=user)
        return _error(404, "not_found", "No such route.")


def _error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message}})


def _user(uid: int, username: str, name: str, role: str) -> dict[str, Any]:
    return {
        "id": uid,
        "username": username,
        "full_name": name,
        "role": role,
        "store_id": 7,
        "active": True,
        "has_pin": True,
        "created_at": "2025-01-01T00:00:00Z",
    }


def _product(name: str, quantity: int, revenue: int) -> dict[str, Any]:
    return {
        "product_id": 1,
        "sku": "X",
        "name": name,
        "quantity": quantity,
        "revenue": revenue,
        "refunded_quantity": 0,
        "refunded_amount": 0,
    }


def _method(method: str, count: int, amount: int) -> dict[str, Any]:
    return {
        "method": method,
        "payments_count": count,
        "amount": amount,
        "refunds_count": 0,
        "refunds_amount": 0,
    }


def _sales(granularity: str) -> dict[str, Any]:
    period = {"sales_count": 40, "net": 900_000, "period_start": "2025-06-15"}
    label = {"day": "2025-06-15", "week": "2025-W24", "month": "2025-06", "year": "2025"}
    return {
        "store_id": 7,
        "granularity": granularity,
        "start": "2025-06-02",
        "end": "2025-06-15",
        "periods": [{**period, "period_end": "2025-06-15", "label": label[granularity]}],
        "totals": {"sales_count": 40, "net": 900_000},
    }


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def db_path(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "till.sqlite3"
    seed(LocalStore(path)).close()
    yield path


@pytest.fixture
def service(server: FakeServer, db_path: Path, clock: FakeClock) -> ManagerService:
    def connect() -> ManagerClient:
        http = httpx.Client(transport=httpx.MockTransport(server))
        return ManagerClient(http, base_url="http://kasir.test")

    return ManagerService(lambda: LocalStore(db_path), connect, zone=JAKARTA, now=clock)


def sell_here(db_path: Path, settings: ClientSettings, clock: FakeClock, *codes: str) -> int:
    """Ring up ``codes`` on this till and pay cash; the sale's total."""
    store = LocalStore(db_path)
    try:
        till = make_till(store, settings, clock)
        till.auth.login(CASHIER, PINS[CASHIER])
        if till.shifts.current() is None:
            till.shifts.open(100_000)
        for code in codes:
            till.checkout.scan(code)
        total = till.checkout.totals().total
        till.checkout.checkout_cash(total)
        return total
    finally:
        store.close()


def test_periods_end_with_today() -> None:
    today = date(2025, 6, 15)  # a Sunday
    assert periods(today, "day")[0] == date(2025, 6, 2) and periods(today, "day")[-1] == today
    assert periods(today, "week")[-1] == date(2025, 6, 9) and len(periods(today, "week")) == 8
    assert periods(today, "month")[0] == date(2024, 7, 1)
    assert periods(today, "year") == [date(y, 1, 1) for y in range(2021, 2026)]


def test_signed_in_the_figures_are_the_servers(service: ManagerService, server: FakeServer) -> None:
    service.sign_in("manager", "rahasia123")
    assert service.signed_in
    report = service.report("week")
    assert report.source == "server"
    assert len(report.bars) == 8 and report.bars[-1].label == "W24"
    assert report.bars[-1].net == 900_000 and report.net == 900_000
    assert [p.name for p in report.products] == ["Beras 5kg"]
    assert report.payments[0].amount == 900_000 and report.cashiers[0].sales_count == 40
    sales_call = next(c for c in server.calls if c[1].endswith("/reports/sales"))
    assert sales_call[2] == {"start": "2025-04-21", "end": "2025-06-15", "granularity": "week"}


def test_offline_the_figures_are_this_tills_own(
    service: ManagerService,
    server: FakeServer,
    db_path: Path,
    settings: ClientSettings,
    clock: FakeClock,
) -> None:
    first = sell_here(db_path, settings, clock, INDOMIE, TEH)
    clock.advance(days=1)  # Monday 16 June: a new day and a new week
    second = sell_here(db_path, settings, clock, TEH)
    service.sign_in("manager", "rahasia123")
    server.online = False
    report = service.report("day")
    assert report.source == "local"
    assert [(b.label, b.net, b.sales_count) for b in report.bars[-2:]] == [
        ("15/06", first, 1),
        ("16/06", second, 1),
    ]
    assert report.net == first + second and report.sales_count == 2
    assert [(p.name, p.quantity) for p in report.products] == [
        ("Teh Botol Sosro 450ml", 2),
        ("Indomie Goreng 85g", 1),
    ], "by revenue"
    assert [(p.method, p.payments_count, p.amount) for p in report.payments] == [
        ("cash", 2, first + second)
    ]
    assert [(c.full_name, c.sales_count) for c in report.cashiers] == [("Ibu Cashier", 2)]
    weeks = service.report("week")
    assert [b.net for b in weeks.bars[-2:]] == [first, second]
    assert service.signed_in, "a dropped network does not sign the manager out"


def test_not_signed_in_shows_this_tills_figures_without_calling(
    service: ManagerService, server: FakeServer
) -> None:
    report = service.report("month")
    assert report.source == "local" and report.net == 0 and len(report.bars) == 12
    assert server.calls == []


def test_a_wrong_password_is_a_sentence(service: ManagerService) -> None:
    with pytest.raises(SignInRefused) as caught:
        service.sign_in("manager", "salah")
    assert caught.value.text("id") == "Kata sandi salah."
    assert not service.signed_in


def test_people_are_managed_through_the_server(service: ManagerService, server: FakeServer) -> None:
    with pytest.raises(ManagerSignInNeeded):
        service.staff()
    service.sign_in("manager", "rahasia123")
    assert [u.username for u in service.staff()] == ["cashier", "manager"]
    made = service.add_cashier("rina", "Rina Kasir", "5678")
    assert made.role == "cashier" and made.has_pin
    assert server.bodies[-1] == {
        "username": "rina",
        "full_name": "Rina Kasir",
        "role": "cashier",
        "pin": "5678",
    }
    service.reset_pin(made.id, "8765")
    assert server.bodies[-1] == {"pin": "8765"}
    gone = service.deactivate(made.id)
    assert not gone.active and server.bodies[-1] == {"active": False}
    with pytest.raises(ManagerError) as bad:
        service.reset_pin(made.id, "12")
    assert bad.value.code == "manager_bad_pin"
    service.sign_out()
    assert not service.signed_in
    assert server.calls[-1][1] == "/api/v1/auth/logout"


def test_people_are_refused_offline_with_a_sentence(
    service: ManagerService, server: FakeServer
) -> None:
    service.sign_in("manager", "rahasia123")
    server.online = False
    with pytest.raises(ManagerOffline) as caught:
        service.add_cashier("rina", "Rina Kasir", "5678")
    assert caught.value.text("id").startswith("Server tidak bisa dihubungi")
    assert render("manager_offline", {}, "en").startswith("The server cannot be reached")
    with pytest.raises(ManagerOffline):
        service.sign_in("manager", "rahasia123")


def test_an_expired_token_asks_for_the_password_again(
    service: ManagerService, server: FakeServer
) -> None:
    service.sign_in("manager", "rahasia123")
    server.token = "revoked-meanwhile"
    report = service.report("day")
    assert report.source == "local" and not service.signed_in
    with pytest.raises(ManagerSignInNeeded):
        service.staff()
