"""Two real tills against a real server (SQLite, then MariaDB): both pull a customer's
points, go offline, and redeem the same points. Both sales are kept, the server flags
one overdraw, the balance goes negative in sight, and both tills see it after a sync.
A re-push of the same events moves no point."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from pos_client.sync.customers_client import create_customer, lookup_phone
from pos_client.sync.http import ServerRejected
from shared.models import OutboxEvent
from shared.models.customers import CustomerIn
from sync_server.customers.models import PointsMove
from sync_server.flags.models import Flag
from sync_server.sync.models import Sale
from tests.e2e.conftest import LiveServer, Till, make_till
from tests.e2e.test_till_server_sync import ITEMS

RULE = {"enabled": True, "earn_points": 1, "earn_per_rupiah": 10_000, "point_value": 100}


def _api(server: LiveServer, method: str, path: str, **kwargs: object) -> httpx.Response:
    # The points rule is the admin's (chain-wide money, like prices).
    token = server.admin_token() if path == "/api/v1/loyalty" else server.manager_token()
    response = httpx.request(
        method,
        f"{server.base_url}{path}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
        **kwargs,  # type: ignore[arg-type]
    )
    assert response.status_code < 300, response.text
    return response


def _ready(server: LiveServer, data_dir: Path, code: str) -> Till:
    till = make_till(server, data_dir, terminal_code=code)
    till.worker.initial_download(lambda done, total: None)
    till.login_cashier()
    till.shifts.open(200_000)
    assert till.worker.run_once().pending == 0
    return till


def test_two_tills_offline_redeem_the_same_points(live_server: LiveServer, tmp_path: Path) -> None:
    server = live_server
    _api(server, "PUT", "/api/v1/loyalty", json=RULE)
    sari = _api(
        server, "POST", "/api/v1/customers", json={"name": "Ibu Sari", "phone": "0812 3456 7890"}
    ).json()
    _api(
        server,
        "POST",
        f"/api/v1/customers/{sari['id']}/points",
        json={"points": 10, "reason": "poin kartu lama"},
    )
    tills = [_ready(server, tmp_path / code, code) for code in ("T01", "T02")]
    try:
        item = next(i for i in ITEMS if 2_000 <= i.price < 10_000)
        sales = []
        for till in tills:  # the customers came with the sync round
            found = till.customers.find("081234567890")
            assert found is not None and found.points == 10
            # Offline from here: the workers do not run until both have sold.
            till.checkout.scan(item.barcode)
            till.customers.attach(found)
            view = till.customers.redeem(10)
            assert view.discount == 1_000
            total = till.checkout.totals().total
            sales.append(till.checkout.checkout_cash(total).sale)
            assert till.customers.available("+6281234567890") == 0
        sent = [
            OutboxEvent.model_validate({**row, "payload": json.loads(row["payload"])})
            for row in tills[1].store._all(
                "SELECT id, type, created_at, payload FROM outbox WHERE type = 'sale'"
            )
        ]
        assert [e.payload["id"] for e in sent] == [str(sales[1].id)]
        for till in tills:
            report = till.worker.run_once()
            assert report.online is True and report.pending == 0 and report.rejected == 0
        for sale in sales:
            assert server.count(Sale, id=sale.id) == 1
        with server.db.session() as session:
            flags = session.execute(select(Flag.kind, Flag.sale_id)).all()
            moved = session.scalar(select(func.count()).select_from(PointsMove))
        assert [kind for kind, _ in flags if kind.startswith("points")] == ["points_overdrawn"]
        assert [sale_id for kind, sale_id in flags if kind == "points_overdrawn"] == [sales[1].id]
        answer = _api(server, "GET", "/api/v1/customers", params={"phone": "+6281234567890"})
        assert answer.json()["items"][0]["points"] == -10
        for till in tills:  # the next round brings the negative balance to both tills
            till.worker.run_once()
            mine = till.customers.find("081234567890")
            assert mine is not None and mine.points == -10
            assert till.customers.available("+6281234567890") == 0
        # The same events pushed again (a lost answer): duplicates, no point moves.
        with tills[1].sync_client() as client:
            again = client.push(sent)
        assert [r.status.value for r in again.results] == ["duplicate"]
        with server.db.session() as session:
            assert session.scalar(select(func.count()).select_from(PointsMove)) == moved
    finally:
        for till in tills:
            till.store.close()


def test_a_redeeming_sale_whose_answer_is_lost_moves_points_once(
    live_server: LiveServer, tmp_path: Path
) -> None:
    """The push reaches the server (which commits it) and the answer is lost; the till
    pushes the same events again: duplicates, the points moved once, and the till stops
    counting its redemption once a pull brings the balance that includes it."""
    from tests.e2e.fault_proxy import FaultProxy

    server = live_server
    _api(server, "PUT", "/api/v1/loyalty", json=RULE)
    sari = _api(
        server, "POST", "/api/v1/customers", json={"name": "Ibu Sari", "phone": "0812 3456 7890"}
    ).json()
    _api(
        server,
        "POST",
        f"/api/v1/customers/{sari['id']}/points",
        json={"points": 20, "reason": "poin kartu lama"},
    )
    proxy = FaultProxy(
        server.port,
        fault_rate=1.0,
        weights={"drop_after_forward": 1.0},
        paths=("/api/v1/sync/push",),
    ).start()
    till = make_till(server, tmp_path / "till", base_url=proxy.url, timeout=5.0)
    try:
        till.worker.initial_download(lambda done, total: None)
        till.login_cashier()
        till.shifts.open(200_000)
        assert till.worker.run_once().pending == 0
        item = next(i for i in ITEMS if 2_000 <= i.price < 10_000)
        till.checkout.scan(item.barcode)
        till.customers.attach(till.customers.find("081234567890"))  # type: ignore[arg-type]
        till.customers.redeem(15)
        sale = till.checkout.checkout_cash(till.checkout.totals().total).sale
        assert till.customers.available("+6281234567890") == 5

        proxy.enabled = True
        lost = till.worker.run_once()
        assert lost.pending == 1  # the server has it; the till never heard
        assert proxy.faults["drop_after_forward"] >= 1
        assert server.count(Sale, id=sale.id) == 1
        proxy.enabled = False
        assert till.worker.run_once().pending == 0
        with server.db.session() as session:
            kinds = session.scalars(
                select(PointsMove.kind).where(PointsMove.sale_id == sale.id)
            ).all()
        assert list(kinds) == ["redeem"]
        answer = _api(server, "GET", "/api/v1/customers", params={"phone": "081234567890"})
        assert answer.json()["items"][0]["points"] == 5
        till.worker.run_once()  # a pull after the acknowledgement: the balance includes it
        mine = till.customers.find("081234567890")
        assert mine is not None and mine.points == 5
        assert till.customers.customers.redeemed_here("+6281234567890") == 0
        assert till.customers.available("+6281234567890") == 5
        # Online, the till also asks the server by phone and may create a customer.
        with till.sync_client() as client:
            found = lookup_phone(client, "+62 812 3456 7890")
            assert found is not None and str(found.id) == sari["id"] and found.points == 5
            assert lookup_phone(client, "0899 1111 2222") is None
            made = create_customer(client, CustomerIn(name="Ani", phone="0899 1111 2222"))
            assert made.phone == "+6289911112222"
            with pytest.raises(ServerRejected) as taken:
                create_customer(client, CustomerIn(name="Ani Lagi", phone="089911112222"))
            assert taken.value.code == "customer_phone_taken"
    finally:
        till.store.close()
        proxy.stop()
