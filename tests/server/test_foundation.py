"""The app starts on both databases, answers health checks and speaks the one error shape."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from sync_server.core import database
from sync_server.main import create_app
from tests.server.conftest import make_settings, reset_mariadb


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json() == {"status": "ready"}


def test_unknown_route_uses_error_shape(client: TestClient) -> None:
    resp = client.get("/api/v1/nope")
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "not_found"


def test_oversized_body_is_refused(client: TestClient) -> None:
    resp = client.post("/api/v1/auth/login", content=b"x" * (17 * 1024 * 1024))
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "payload_too_large"


def test_streamed_oversized_body_is_refused(client: TestClient) -> None:
    def chunks():  # no Content-Length: the limit must hold while streaming
        for _ in range(17):
            yield b"x" * (1024 * 1024)

    resp = client.post("/api/v1/auth/login", content=chunks())
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "payload_too_large"


def test_request_id_is_echoed(client: TestClient) -> None:
    resp = client.get("/health", headers={"X-Request-ID": "abc123"})
    assert resp.headers["x-request-id"] == "abc123"


def test_metrics_time_requests_by_route(client: TestClient) -> None:
    client.get("/health")
    client.get("/api/v1/nope")
    text = client.get("/metrics").text
    assert (
        'kasir_http_request_duration_seconds_count{method="GET",route="/health",status="200"}'
        in text
    )
    assert 'route="unmatched",status="404"' in text


def test_ready_still_answers_after_a_burst_of_failing_requests(client: TestClient) -> None:
    bad = {"Authorization": "Bearer not-a-token", "X-Kasir-Protocol": "1"}
    for n in range(40):
        assert client.post("/api/v1/sync/push", json={"events": []}, headers=bad).status_code == 401
        assert client.post("/api/v1/sync/push", content=b"{not json").status_code in (401, 422)
        assert client.get(f"/api/v1/nope/{n}").status_code == 404
    answer = client.get("/ready", timeout=10)
    assert answer.status_code == 200
    assert answer.json() == {"status": "ready"}


def test_ready_refuses_a_database_behind_the_code(db_url: str) -> None:
    from sqlalchemy import create_engine, text

    from sync_server.main import create_app
    from tests.server.conftest import make_settings

    engine = create_engine(db_url)
    with engine.begin() as conn:
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    app = create_app(make_settings(db_url))
    try:
        with TestClient(app) as c:
            answer = c.get("/ready")
            assert answer.status_code == 503
            assert answer.json()["error"]["code"] == "not_ready"
            assert c.get("/health").status_code == 200
    finally:
        app.state.db.dispose()
        with engine.begin() as conn:  # the shared test database back at the head
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
        engine.dispose()


def test_a_cash_only_shop_runs_in_production_with_qris_disabled(db_url: str) -> None:
    from sync_server.main import create_app
    from tests.server.conftest import make_settings

    settings = make_settings(db_url, environment="production")
    assert not settings.qris_enabled
    app = create_app(settings)
    try:
        with TestClient(app) as c:
            for method, path in (
                ("GET", "/api/v1/payment/get-payment-channel"),
                ("POST", "/api/v1/payment/create-transaction"),
                ("POST", "/api/v1/payment/callback"),
            ):
                answer = c.request(method, path, json={})
                assert answer.status_code == 503, (path, answer.text)
                error = answer.json()["error"]
                assert error["code"] == "qris_disabled"
                assert "QRIS" in error["message"]
            assert c.get("/ready").status_code == 200
    finally:
        app.state.db.dispose()


def test_production_still_refuses_a_default_secret_or_half_set_tripay_keys() -> None:
    import pytest
    from pydantic import ValidationError

    from shared.messages import render
    from sync_server.core.config import DEFAULT_TRIPAY_PRIVATE_KEY, Settings
    from tests.server.conftest import production_settings

    with pytest.raises(ValidationError, match="KASIR_SECRET_KEY"):
        Settings(environment="production")
    with pytest.raises(ValidationError, match="real Tripay keys"):
        # the private key is still the sandbox's
        production_settings(tripay_private_key=DEFAULT_TRIPAY_PRIVATE_KEY)
    real = production_settings()
    assert real.qris_enabled
    assert render("qris_disabled", language="id").startswith("QRIS belum diaktifkan")


def test_a_connection_the_database_dropped_while_pooled_is_replaced_unseen(
    mariadb_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without a ping on every checkout, a connection that rested in the pool (as all do
    # across a database restart) is pinged before use and a dead one replaced: the
    # request is answered, not refused with 503.
    reset_mariadb(mariadb_url)
    bad = {"Authorization": "Bearer not-a-token", "X-Kasir-Protocol": "1"}
    app = create_app(make_settings(mariadb_url))
    with TestClient(app) as client:
        assert client.post("/api/v1/sync/push", json={"events": []}, headers=bad).status_code == 401
        engine = app.state.db.engine
        with engine.connect() as conn:  # the one pooled connection the request used
            pooled = conn.exec_driver_sql("SELECT CONNECTION_ID()").scalar()
        killer = create_engine(mariadb_url, poolclass=NullPool)
        with killer.connect() as conn:
            conn.exec_driver_sql(f"KILL {int(pooled)}")
        killer.dispose()
        # A restart takes longer than the rest after which a connection is pinged.
        monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)
        answer = client.post("/api/v1/sync/push", json={"events": []}, headers=bad)
        assert answer.status_code == 401, answer.text
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT CONNECTION_ID()").scalar() != pooled
