"""Stores: the one rule of who sees which store, the store API, and the reports registry
that serves both the reports API and the manager's pages (SQLite and MariaDB)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from shared.models import Role
from sync_server.auth.models import User
from sync_server.core.database import Database
from sync_server.core.errors import Forbidden
from sync_server.reports.registry import PERIOD_REPORTS
from sync_server.stores import service as stores_service
from tests.server.conftest import World


def _person(role: Role, store_id: int | None) -> User:
    return User(username="x", full_name="X", role=role.value, store_id=store_id, active=True)


def test_a_manager_is_kept_to_their_own_store_and_an_admin_is_not() -> None:
    manager = _person(Role.MANAGER, 1)
    admin = _person(Role.ADMIN, None)
    stores_service.require_store_access(actor=manager, store_id=1)
    with pytest.raises(Forbidden) as refused:
        stores_service.require_store_access(actor=manager, store_id=2)
    assert refused.value.code == "other_store"
    stores_service.require_store_access(actor=admin, store_id=2)
    stores_service.require_store_access(actor=None, store_id=2)  # the operator at the CLI
    # Lists: a manager's narrow to their store; an admin's to the one named, or none.
    assert stores_service.visible_store_ids(actor=manager) == 1
    assert stores_service.visible_store_ids(actor=admin) is None
    assert stores_service.visible_store_ids(actor=admin, store_id=2) == 2
    with pytest.raises(Forbidden):
        stores_service.visible_store_ids(actor=manager, store_id=2)


def test_the_store_list_and_edit_follow_the_rule(
    client: TestClient, db: Database, world: World
) -> None:
    listed = client.get("/api/v1/stores", headers=world.manager_headers()).json()
    assert [s["id"] for s in listed] == [world.store_id]
    with db.session() as session:
        admin = session.get(User, world.admin_id)
        assert admin is not None
        every = stores_service.list_stores(session, user=admin)
    assert {world.store_id, world.other_store_id} <= {s.id for s in every}
    edited = client.patch(
        f"/api/v1/stores/{world.store_id}",
        json={"receipt_footer": "Sampai jumpa"},
        headers=world.manager_headers(),
    )
    assert edited.status_code == 200 and edited.json()["receipt_footer"] == "Sampai jumpa"
    assert edited.json()["change_no"] > listed[0]["change_no"]


def test_every_registry_report_has_an_api_route_and_a_page(
    client: TestClient, world: World
) -> None:
    for report in PERIOD_REPORTS:
        api = client.get(f"/api/v1/reports/{report.path}", headers=world.manager_headers())
        assert api.status_code == 200, report.path
        csv = client.get(
            f"/api/v1/reports/{report.path}?format=csv", headers=world.manager_headers()
        )
        assert csv.headers["content-type"].startswith("text/csv"), report.path
        client.cookies.set("kasir_session", world.manager_token)
        page = client.get(f"/web/reports/{report.slug}")
        client.cookies.clear()
        assert page.status_code == 200, report.slug
        assert report.chart_caption in page.text
        assert f"/api/v1/reports/{report.path}?" in page.text
