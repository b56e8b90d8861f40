"""Password logins with lockout, tokens, and the users API (on SQLite and MariaDB)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from sync_server.auth.deps import SESSION_COOKIE
from sync_server.auth.models import ApiToken, User
from sync_server.auth.service import lock_seconds
from sync_server.core.database import Database, utcnow
from sync_server.core.security import verify_secret
from tests.server.conftest import World, assert_refused, detached_row

LOGIN = "/api/v1/auth/login"


def _login(client: TestClient, username: str, password: str) -> Any:
    return client.post(LOGIN, json={"username": username, "password": password})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _user(db: Database, user_id: int) -> User:
    return detached_row(db, User, user_id)


def _unlock_clock(db: Database, user_id: int) -> None:
    """Pretend the lock ran out: move ``locked_until`` into the past."""
    with db.session() as s:
        s.execute(
            update(User)
            .where(User.id == user_id)
            .values(locked_until=utcnow() - timedelta(seconds=1))
        )


# ---------------------------------------------------------------- login


def test_login_gives_a_token_that_works_and_expires_per_settings(
    client: TestClient, world: World, db: Database
) -> None:
    before = utcnow()
    resp = _login(client, "manager", "password123")
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "bearer"
    me = client.get("/api/v1/auth/me", headers=_bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["username"] == "manager"
    assert me.json()["role"] == "manager"
    assert "pin_hash" not in me.json() and "password_hash" not in me.json()
    with db.session() as s:
        stored = s.scalars(select(ApiToken).where(ApiToken.user_id == world.manager_id)).all()
    # Only the hash is stored, never the token itself.
    assert body["access_token"] not in {t.token_hash for t in stored}
    newest = max(stored, key=lambda t: t.expires_at)
    hours = client.app.state.settings.session_hours  # type: ignore[attr-defined]
    assert abs((newest.expires_at - before) - timedelta(hours=hours)) < timedelta(minutes=1)


def test_username_is_matched_without_case(client: TestClient, world: World) -> None:
    assert _login(client, "MaNaGeR", "password123").status_code == 200


def test_wrong_password_and_unknown_user_answer_alike(client: TestClient, world: World) -> None:
    wrong = _login(client, "manager", "nope-nope")
    unknown = _login(client, "nobody", "password123")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"]["code"] == unknown.json()["error"]["code"] == "invalid_credentials"


def test_lock_delay_grows_and_is_capped() -> None:
    assert [lock_seconds(n) for n in range(5)] == [None] * 5
    assert [lock_seconds(n) for n in (5, 6, 7, 8)] == [30, 60, 120, 240]
    assert lock_seconds(12) == 3600
    assert lock_seconds(1000) == 3600


def test_five_wrong_passwords_lock_with_growing_delay_and_success_resets(
    client: TestClient, world: World, db: Database
) -> None:
    for attempt in range(1, 5):
        resp = _login(client, "manager", "wrong-password")
        assert resp.status_code == 401, attempt
        assert _user(db, world.manager_id).failed_logins == attempt

    fifth = _login(client, "manager", "wrong-password")
    assert fifth.status_code == 429
    err = fifth.json()["error"]
    assert err["code"] == "locked"
    assert 29 <= err["details"]["retry_after_seconds"] <= 30

    # While locked even the right password is refused, and the refusal is not counted.
    locked = _login(client, "manager", "password123")
    assert_refused(locked, 429, "locked")
    assert _user(db, world.manager_id).failed_logins == 5

    # Once the lock ran out, one more failure locks again for twice as long.
    _unlock_clock(db, world.manager_id)
    sixth = _login(client, "manager", "wrong-password")
    assert sixth.status_code == 429
    assert 59 <= sixth.json()["error"]["details"]["retry_after_seconds"] <= 60

    _unlock_clock(db, world.manager_id)
    ok = _login(client, "manager", "password123")
    assert ok.status_code == 200
    user = _user(db, world.manager_id)
    assert user.failed_logins == 0
    assert user.locked_until is None

    # The count starts over after a success: one wrong password is a plain 401 again.
    assert _login(client, "manager", "wrong-password").status_code == 401


def test_a_success_before_the_fifth_failure_resets_the_count(
    client: TestClient, world: World, db: Database
) -> None:
    for _ in range(4):
        assert _login(client, "manager", "wrong-password").status_code == 401
    assert _login(client, "manager", "password123").status_code == 200
    for _ in range(4):
        assert _login(client, "manager", "wrong-password").status_code == 401
    assert _user(db, world.manager_id).locked_until is None


def test_cashier_may_log_in_but_has_only_cashier_rights(client: TestClient, world: World) -> None:
    resp = _login(client, "kasir1", "password123")
    assert resp.status_code == 200
    headers = _bearer(resp.json()["access_token"])
    assert client.get("/api/v1/auth/me", headers=headers).json()["role"] == "cashier"
    denied = client.get("/api/v1/users", headers=headers)
    assert_refused(denied, 403, "role_required")


def test_deactivated_user_cannot_log_in(client: TestClient, world: World, db: Database) -> None:
    with db.session() as s:
        s.execute(update(User).where(User.id == world.manager_id).values(active=False))
    resp = _login(client, "manager", "password123")
    assert_refused(resp, 401, "invalid_credentials")


def test_logout_revokes_the_token(client: TestClient, world: World) -> None:
    token = _login(client, "manager", "password123").json()["access_token"]
    assert client.post("/api/v1/auth/logout", headers=_bearer(token)).status_code == 204
    after = client.get("/api/v1/auth/me", headers=_bearer(token))
    assert_refused(after, 401, "token_revoked")
    # Other tokens of the same user keep working.
    assert client.get("/api/v1/auth/me", headers=world.manager_headers()).status_code == 200


def test_expired_token_is_refused(client: TestClient, world: World, db: Database) -> None:
    with db.session() as s:
        s.execute(
            update(ApiToken)
            .where(ApiToken.user_id == world.manager_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    resp = client.get("/api/v1/auth/me", headers=world.manager_headers())
    assert_refused(resp, 401, "token_expired")


def test_no_token_and_garbage_token_are_401(client: TestClient, world: World) -> None:
    none = client.get("/api/v1/auth/me")
    assert_refused(none, 401, "missing_token")
    garbage = client.get("/api/v1/auth/me", headers=_bearer("not-a-token"))
    assert_refused(garbage, 401, "invalid_token")


def test_terminal_token_is_not_a_user(client: TestClient, world: World) -> None:
    resp = client.get("/api/v1/auth/me", headers=world.terminal_headers())
    assert_refused(resp, 403, "user_required")


# ---------------------------------------------------------------- users API


def _admin_headers(client: TestClient) -> dict[str, str]:
    resp = _login(client, "admin", "password123")
    assert resp.status_code == 200
    return _bearer(resp.json()["access_token"])


def _new_user(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "username": "kasir9",
        "full_name": "Siti Kasir",
        "role": "cashier",
        "pin": "4321",
    }
    body.update(overrides)
    return body


def _change_counter(db: Database) -> int:
    from sqlalchemy import text

    with db.session() as s:
        return int(s.execute(text("SELECT value FROM change_counter WHERE id = 1")).scalar_one())


def test_manager_creates_a_cashier_of_their_store_with_a_fresh_change_number(
    client: TestClient, world: World, db: Database
) -> None:
    before = _change_counter(db)
    resp = client.post("/api/v1/users", json=_new_user(), headers=world.manager_headers())
    assert resp.status_code == 201, resp.text
    out = resp.json()
    assert out["store_id"] == world.store_id  # defaults to the manager's store
    assert out["has_pin"] is True and out["has_password"] is False
    assert out["change_no"] > before
    stored = _user(db, out["id"])
    assert stored.pin_hash is not None and stored.pin_hash != "4321"
    assert verify_secret(stored.pin_hash, "4321")
    listed = client.get("/api/v1/users", headers=world.manager_headers()).json()
    assert "kasir9" in {u["username"] for u in listed}


def test_duplicate_username_is_409_in_the_one_shape(client: TestClient, world: World) -> None:
    resp = client.post(
        "/api/v1/users", json=_new_user(username="Kasir1"), headers=world.manager_headers()
    )
    assert resp.status_code == 409
    assert set(resp.json()) == {"error"}
    assert resp.json()["error"]["code"] == "username_taken"


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_only_admin_creates_managers_and_admins(
    client: TestClient, world: World, db: Database, role: str
) -> None:
    body = _new_user(username=f"new{role}", role=role, password="s3cret-pass", pin=None)
    if role == "manager":
        body["store_id"] = world.store_id
    denied = client.post("/api/v1/users", json=body, headers=world.manager_headers())
    assert_refused(denied, 403, "role_required")
    created = client.post("/api/v1/users", json=body, headers=_admin_headers(client))
    assert created.status_code == 201, created.text
    # The new user can sign in with the password given.
    assert _login(client, f"new{role}", "s3cret-pass").status_code == 200


def test_manager_cannot_create_or_edit_users_of_another_store(
    client: TestClient, world: World, db: Database
) -> None:
    other = client.post(
        "/api/v1/users",
        json=_new_user(store_id=world.other_store_id),
        headers=world.manager_headers(),
    )
    assert_refused(other, 403, "other_store")
    created = client.post(
        "/api/v1/users",
        json=_new_user(store_id=world.other_store_id),
        headers=_admin_headers(client),
    )
    assert created.status_code == 201
    patch = client.patch(
        f"/api/v1/users/{created.json()['id']}",
        json={"full_name": "Hacked"},
        headers=world.manager_headers(),
    )
    assert patch.status_code == 403
    assert _user(db, created.json()["id"]).full_name == "Siti Kasir"
    listed = client.get("/api/v1/users", headers=world.manager_headers()).json()
    assert all(u["store_id"] == world.store_id for u in listed)
    assert (
        client.get(
            f"/api/v1/users?store_id={world.other_store_id}", headers=world.manager_headers()
        ).status_code
        == 403
    )


def test_admin_lists_every_store(client: TestClient, world: World) -> None:
    client.post(
        "/api/v1/users",
        json=_new_user(store_id=world.other_store_id),
        headers=_admin_headers(client),
    )
    listed = client.get("/api/v1/users", headers=_admin_headers(client)).json()
    assert {world.store_id, world.other_store_id} <= {u["store_id"] for u in listed}


def test_patch_rehashes_pin_and_password_and_bumps_change_no(
    client: TestClient, world: World, db: Database
) -> None:
    cashier_id = world.cashier_ids[0]
    before = _user(db, cashier_id)
    resp = client.patch(
        f"/api/v1/users/{cashier_id}",
        json={"pin": "987654", "password": "brand-new-pass", "full_name": "Budi"},
        headers=world.manager_headers(),
    )
    assert resp.status_code == 200, resp.text
    after = _user(db, cashier_id)
    assert after.full_name == "Budi"
    assert verify_secret(after.pin_hash, "987654")
    assert not verify_secret(after.pin_hash, "1234")
    assert after.change_no > before.change_no
    assert _login(client, "kasir1", "brand-new-pass").status_code == 200
    assert _login(client, "kasir1", "password123").status_code == 401


def test_manager_cannot_promote_to_manager(client: TestClient, world: World, db: Database) -> None:
    resp = client.patch(
        f"/api/v1/users/{world.cashier_ids[0]}",
        json={"role": "manager"},
        headers=world.manager_headers(),
    )
    assert resp.status_code == 403
    assert _user(db, world.cashier_ids[0]).role == "cashier"


def test_nobody_changes_their_own_role(client: TestClient, world: World, db: Database) -> None:
    resp = client.patch(
        f"/api/v1/users/{world.admin_id}", json={"role": "cashier"}, headers=_admin_headers(client)
    )
    assert_refused(resp, 403, "self_change")
    assert _user(db, world.admin_id).role == "admin"


def test_deactivated_user_token_stops_working(
    client: TestClient, world: World, db: Database
) -> None:
    resp = client.patch(
        f"/api/v1/users/{world.cashier_ids[0]}",
        json={"active": False},
        headers=world.manager_headers(),
    )
    assert resp.status_code == 200
    after = client.get("/api/v1/auth/me", headers=world.cashier_headers())
    assert_refused(after, 401, "user_inactive")


def test_patch_unknown_user_is_404(client: TestClient, world: World) -> None:
    resp = client.patch(
        "/api/v1/users/999999", json={"full_name": "X"}, headers=_admin_headers(client)
    )
    assert_refused(resp, 404, "user_not_found")


def test_invalid_user_body_is_422(client: TestClient, world: World) -> None:
    resp = client.post("/api/v1/users", json=_new_user(pin="12"), headers=world.manager_headers())
    assert_refused(resp, 422, "invalid")


def test_session_cookie_reads_the_api_but_never_writes(client: TestClient, world: World) -> None:
    """A browser cookie is sent on cross-site forms: API writes need a bearer token."""
    login = client.post(
        "/api/v1/auth/login", json={"username": "manager", "password": "password123"}
    )
    token = login.json()["access_token"]
    client.cookies.set(SESSION_COOKIE, token)
    assert client.get("/api/v1/auth/me").status_code == 200
    resp = client.post(
        "/api/v1/users",
        json={"username": "csrf", "full_name": "Csrf", "role": "cashier", "pin": "1234"},
    )
    assert_refused(resp, 401, "missing_token")
    client.cookies.clear()
    listed = client.get("/api/v1/users", headers=world.manager_headers()).json()
    assert "csrf" not in str(listed)
