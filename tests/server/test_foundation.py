"""The app starts on both databases, answers health checks and speaks the one error shape."""

from __future__ import annotations

from fastapi.testclient import TestClient


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
