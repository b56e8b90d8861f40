"""Terminal enrollment with one-time codes, revocation, and who may do what."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, update

from shared.models import PROTOCOL_HEADER, PROTOCOL_VERSION, EnrollmentCodeRequest
from sync_server.auth import service
from sync_server.auth.models import EnrollmentCode, Terminal
from sync_server.core.database import Database, utcnow
from sync_server.core.errors import AppError
from sync_server.core.security import normalise_code, token_hash
from sync_server.sync.models import RejectedEvent
from tests.server.conftest import World, assert_refused, detached_row
from tests.server.sync_helpers import add_products, push, row_counts, sale_event, statuses

CODES = "/api/v1/terminals/enrollment-codes"
ENROLL = "/api/v1/terminals/enroll"
PROTOCOL = {PROTOCOL_HEADER: str(PROTOCOL_VERSION)}


def _mint(client: TestClient, world: World, code: str = "T09", **extra: Any) -> Any:
    body = {"store_id": world.store_id, "terminal_code": code, **extra}
    return client.post(CODES, json=body, headers=world.manager_headers())


def _enroll(client: TestClient, code: str, headers: dict[str, str] | None = None) -> Any:
    return client.post(
        ENROLL, json={"code": code}, headers=PROTOCOL if headers is None else headers
    )


def _device_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **PROTOCOL}


# ---------------------------------------------------------------- the happy path


def test_code_enrolls_a_new_terminal_which_can_then_call_as_itself(
    client: TestClient, world: World, db: Database
) -> None:
    minted = _mint(client, world, name="Kasir Depan")
    assert minted.status_code == 201, minted.text
    out = minted.json()
    assert out["terminal_code"] == "T09"
    with db.session() as s:
        stored = s.scalars(select(EnrollmentCode.code_hash)).all()
    # The plain code is nowhere in the database; its normalised hash is.
    assert out["code"] not in stored
    assert token_hash(normalise_code(out["code"])) in stored

    # The code survives the way a person types it: lower case, no dashes.
    typed = out["code"].replace("-", "").lower()
    enrolled = _enroll(client, typed)
    assert enrolled.status_code == 200, enrolled.text
    device = enrolled.json()
    assert device["terminal_id"] == out["terminal_id"]
    assert device["store_id"] == world.store_id
    assert device["store_name"] == "Toko Maju Jaya"

    terminal = detached_row(db, Terminal, out["terminal_id"])
    assert terminal.enrolled_at is not None
    assert terminal.token_hash == token_hash(device["device_token"])

    me = client.get("/api/v1/terminals/me", headers=_device_headers(device["device_token"]))
    assert me.status_code == 200
    assert me.json()["terminal"]["code"] == "T09"
    assert me.json()["terminal"]["name"] == "Kasir Depan"
    assert me.json()["store"]["code"] == "S01"


def test_list_shows_sync_health_and_unresolved_rejected_events(
    client: TestClient, world: World, db: Database
) -> None:
    seen = utcnow()
    with db.session() as s:
        s.execute(
            update(Terminal)
            .where(Terminal.id == world.terminal_ids[0])
            .values(last_seen_at=seen, events_waiting=7)
        )
        for resolved in (None, None, utcnow()):
            s.add(
                RejectedEvent(
                    event_id=uuid.uuid4(),
                    terminal_id=world.terminal_ids[0],
                    type="sale",
                    code="totals_mismatch",
                    reason="totals disagree",
                    payload="{}",
                    resolved_at=resolved,
                )
            )
    resp = client.get("/api/v1/terminals", headers=world.manager_headers())
    assert resp.status_code == 200
    by_id = {t["id"]: t for t in resp.json()}
    first = by_id[world.terminal_ids[0]]
    assert first["events_waiting"] == 7
    assert first["rejected_events"] == 2  # the resolved one does not count
    assert first["last_seen_at"] is not None
    assert by_id[world.terminal_ids[1]]["rejected_events"] == 0


# ---------------------------------------------------------------- bad codes change nothing


def test_unknown_code_is_refused(client: TestClient, world: World) -> None:
    resp = _enroll(client, "ABCD-EFGH-JKLM")
    assert_refused(resp, 401, "enrollment_code_invalid")


def test_used_code_is_refused_and_the_first_token_keeps_working(
    client: TestClient, world: World, db: Database
) -> None:
    code = _mint(client, world).json()["code"]
    first = _enroll(client, code)
    assert first.status_code == 200
    again = _enroll(client, code)
    assert_refused(again, 401, "enrollment_code_used")
    token = first.json()["device_token"]
    assert client.get("/api/v1/terminals/me", headers=_device_headers(token)).status_code == 200


def test_expired_code_is_refused_and_changes_nothing(
    client: TestClient, world: World, db: Database
) -> None:
    out = _mint(client, world, ttl_minutes=5).json()
    with db.session() as s:
        s.execute(update(EnrollmentCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    resp = _enroll(client, out["code"])
    assert_refused(resp, 401, "enrollment_code_expired")
    terminal = detached_row(db, Terminal, out["terminal_id"])
    assert terminal.token_hash is None and terminal.enrolled_at is None
    with db.session() as s:
        assert s.scalar(select(EnrollmentCode.used_at)) is None


def test_wrong_protocol_on_enroll_is_426_and_keeps_the_code(
    client: TestClient, world: World
) -> None:
    code = _mint(client, world).json()["code"]
    for headers in ({}, {PROTOCOL_HEADER: "0"}):
        resp = _enroll(client, code, headers=headers)
        assert_refused(resp, 426, "protocol_mismatch")
    assert _enroll(client, code).status_code == 200


def test_one_code_used_concurrently_yields_exactly_one_token(
    client: TestClient, world: World, db: Database
) -> None:
    code = _mint(client, world).json()["code"]
    racers = 8
    barrier = threading.Barrier(racers)
    tokens: list[str] = []
    refusals: list[str] = []
    lock = threading.Lock()

    def race() -> None:
        barrier.wait()
        try:
            out = service.enroll(db=db, code=code)
        except AppError as exc:
            with lock:
                refusals.append(exc.code)
        else:
            with lock:
                tokens.append(out.device_token)

    read_together = threading.Barrier(racers)

    def after_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # Hold every racer right after it read the unused code, so they all try to
        # claim it at once: only the conditional UPDATE can then keep it single-use.
        if statement.lstrip().upper().startswith("SELECT") and "enrollment_codes" in statement:
            read_together.wait(timeout=10)

    # SQLite serialises writers with BEGIN IMMEDIATE, so only MariaDB can interleave.
    if not db.is_sqlite:
        event.listen(db.engine, "after_cursor_execute", after_execute)
    threads = [threading.Thread(target=race) for _ in range(racers)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        if not db.is_sqlite:
            event.remove(db.engine, "after_cursor_execute", after_execute)
    assert len(tokens) == 1
    assert refusals == ["enrollment_code_used"] * (racers - 1)
    with db.session() as s:
        hashes = s.scalars(select(Terminal.token_hash).where(Terminal.code == "T09")).all()
    assert hashes == [token_hash(tokens[0])]


# ---------------------------------------------------------------- revoke and re-enroll


def test_revoked_terminal_token_stops_working_and_it_can_enroll_again(
    client: TestClient, world: World, db: Database
) -> None:
    terminal_id = world.terminal_ids[0]
    old = world.terminal_headers(0)
    assert client.get("/api/v1/terminals/me", headers=old).status_code == 200

    resp = client.post(f"/api/v1/terminals/{terminal_id}/revoke", headers=world.manager_headers())
    assert resp.status_code == 200
    assert resp.json()["revoked_at"] is not None
    assert detached_row(db, Terminal, terminal_id).token_hash is None

    refused = client.get("/api/v1/terminals/me", headers=old)
    assert refused.status_code == 401

    # The same terminal (same row, same code) gets a fresh code and a fresh token.
    minted = _mint(client, world, code="T01")
    assert minted.status_code == 201, minted.text
    assert minted.json()["terminal_id"] == terminal_id
    new = _enroll(client, minted.json()["code"])
    assert new.status_code == 200
    assert new.json()["terminal_id"] == terminal_id
    assert detached_row(db, Terminal, terminal_id).revoked_at is None
    fresh = _device_headers(new.json()["device_token"])
    assert client.get("/api/v1/terminals/me", headers=fresh).status_code == 200
    assert client.get("/api/v1/terminals/me", headers=old).status_code == 401


def test_a_revoked_terminal_with_its_hash_kept_answers_token_revoked(
    client: TestClient, world: World, db: Database
) -> None:
    # A terminal row marked revoked but still holding its hash (e.g. revoked by SQL)
    # is refused with the code that tells the till to enroll again.
    with db.session() as s:
        s.execute(
            update(Terminal).where(Terminal.id == world.terminal_ids[1]).values(revoked_at=utcnow())
        )
    resp = client.get("/api/v1/terminals/me", headers=world.terminal_headers(1))
    assert_refused(resp, 401, "token_revoked")


def test_an_enrolled_terminal_needs_revoking_before_a_new_code(
    client: TestClient, world: World
) -> None:
    resp = _mint(client, world, code="T01")
    assert_refused(resp, 409, "terminal_enrolled")


def test_a_new_code_replaces_an_unused_earlier_one(client: TestClient, world: World) -> None:
    first = _mint(client, world).json()["code"]
    second = _mint(client, world).json()["code"]
    stale = _enroll(client, first)
    assert_refused(stale, 401, "enrollment_code_expired")
    assert _enroll(client, second).status_code == 200


def test_terminal_codes_are_unique_across_stores(client: TestClient, world: World) -> None:
    admin = client.post(
        "/api/v1/auth/login", json={"username": "admin", "password": "password123"}
    ).json()["access_token"]
    resp = client.post(
        CODES,
        json={"store_id": world.other_store_id, "terminal_code": "T01"},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert_refused(resp, 409, "terminal_code_taken")


# ---------------------------------------------------------------- authorisation


MANAGER_ROUTES = [
    ("get", "/api/v1/terminals", None),
    ("get", "/api/v1/users", None),
    ("post", CODES, {"store_id": 1, "terminal_code": "T09"}),
    ("post", "/api/v1/terminals/1/revoke", None),
    ("post", "/api/v1/users", {"username": "x1", "full_name": "X", "role": "cashier"}),
]


@pytest.mark.parametrize(("method", "path", "body"), MANAGER_ROUTES)
def test_cashier_and_terminal_tokens_get_403_on_manager_routes(
    client: TestClient, world: World, db: Database, method: str, path: str, body: Any
) -> None:
    for who, headers, code in (
        ("cashier", world.cashier_headers(), "role_required"),
        ("terminal", world.terminal_headers(), "user_required"),
    ):
        resp = client.request(method, path, json=body, headers=headers)
        assert resp.status_code == 403, (who, resp.text)
        assert resp.json()["error"]["code"] == code
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(EnrollmentCode)) == 0
    assert detached_row(db, Terminal, world.terminal_ids[0]).revoked_at is None


@pytest.mark.parametrize(("method", "path", "body"), MANAGER_ROUTES)
def test_no_token_is_401_on_manager_routes(
    client: TestClient, world: World, method: str, path: str, body: Any
) -> None:
    resp = client.request(method, path, json=body)
    assert_refused(resp, 401, "missing_token")


def test_manager_cannot_mint_codes_or_revoke_for_another_store(
    client: TestClient, world: World, db: Database
) -> None:
    resp = client.post(
        CODES,
        json={"store_id": world.other_store_id, "terminal_code": "T77"},
        headers=world.manager_headers(),
    )
    assert_refused(resp, 403, "other_store")
    with db.session() as s:
        assert s.scalar(select(Terminal).where(Terminal.code == "T77")) is None

    # A terminal of the other store, minted by the admin via the service.
    other = service.create_enrollment_code(
        db=db,
        request=EnrollmentCodeRequest(store_id=world.other_store_id, terminal_code="T77"),
    )
    revoke = client.post(
        f"/api/v1/terminals/{other.terminal_id}/revoke", headers=world.manager_headers()
    )
    assert revoke.status_code == 403
    listed = client.get("/api/v1/terminals", headers=world.manager_headers()).json()
    assert other.terminal_id not in {t["id"] for t in listed}


def test_user_token_is_refused_on_terminal_me(client: TestClient, world: World) -> None:
    resp = client.get("/api/v1/terminals/me", headers={**world.manager_headers(), **PROTOCOL})
    assert_refused(resp, 403, "terminal_required")


def test_terminal_me_needs_the_protocol_header(client: TestClient, world: World) -> None:
    headers = {"Authorization": f"Bearer {world.terminal_tokens[0]}"}
    resp = client.get("/api/v1/terminals/me", headers=headers)
    assert_refused(resp, 426, "protocol_mismatch")


def test_revoking_an_unknown_terminal_is_404(client: TestClient, world: World) -> None:
    resp = client.post("/api/v1/terminals/999999/revoke", headers=world.manager_headers())
    assert_refused(resp, 404, "terminal_not_found")


# ------------------------------------------- a push from a till the server already knows


def _sale(world: World, product: Any) -> dict[str, Any]:
    return sale_event(terminal_code="T01", cashier_id=world.cashier_ids[0], items=[(product, 1)])


def _a_till_that_pushed(client: TestClient, world: World, db: Database) -> tuple[Any, Any]:
    """A product, and the headers of till 0 once one sale of it was applied (so the
    server knows the till from memory on its next push)."""
    product = add_products(db, 1)[0]
    headers = world.terminal_headers(0)
    assert statuses(push(client, headers, [_sale(world, product)])) == ["applied"]
    return product, headers


def test_a_till_that_pushed_is_refused_at_its_next_push_once_revoked(
    client: TestClient, world: World, db: Database
) -> None:
    product, headers = _a_till_that_pushed(client, world, db)
    resp = client.post(
        f"/api/v1/terminals/{world.terminal_ids[0]}/revoke", headers=world.manager_headers()
    )
    assert resp.status_code == 200
    before = row_counts(db)
    for _ in range(2):  # the refusal itself, then the till's retry
        assert_refused(push(client, headers, [_sale(world, product)]), 401, "invalid_token")
    assert row_counts(db) == before


def test_a_till_that_pushed_and_is_revoked_by_sql_gets_token_revoked(
    client: TestClient, world: World, db: Database
) -> None:
    product, headers = _a_till_that_pushed(client, world, db)
    with db.session() as s:
        s.execute(
            update(Terminal).where(Terminal.id == world.terminal_ids[0]).values(revoked_at=utcnow())
        )
    before = row_counts(db)
    assert_refused(push(client, headers, [_sale(world, product)]), 401, "token_revoked")
    assert row_counts(db) == before


def test_the_old_token_of_a_re_enrolled_till_cannot_push(
    client: TestClient, world: World, db: Database
) -> None:
    product, old = _a_till_that_pushed(client, world, db)
    client.post(
        f"/api/v1/terminals/{world.terminal_ids[0]}/revoke", headers=world.manager_headers()
    )
    new = _enroll(client, _mint(client, world, code="T01").json()["code"])
    assert new.status_code == 200, new.text
    fresh = _device_headers(new.json()["device_token"])
    assert_refused(push(client, old, [_sale(world, product)]), 401, "invalid_token")
    assert statuses(push(client, fresh, [_sale(world, product)])) == ["applied"]
